//! Credentials: the `writeOnly` fields of node configs (design §3), kept out of flow files and
//! encrypted at rest in `<flows>/.credentials.json`.
//!
//! Each value is sealed on its own with XChaCha20-Poly1305 (a random 192-bit nonce per value)
//! and bound, as associated data, to its flow, node and JSON pointer, so a value cannot be moved
//! to another field by editing the file. The key is derived with HKDF-SHA256 from
//! `LAMBDAFLOW_CREDENTIAL_SECRET` when that is set; otherwise it is 32 random bytes kept in
//! `<flows>/.credential-key` (created with mode 0600). The file records a key id (a hash of the
//! key, not the key), so starting with a different key fails loudly instead of losing
//! credentials. Values are never logged: errors name the flow, node and pointer only.

use std::collections::BTreeMap;
use std::fs;
use std::path::{Path, PathBuf};
use std::sync::Mutex;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as BASE64;
use chacha20poly1305::aead::{Aead as _, Generate, KeyInit as _, Payload};
use chacha20poly1305::{Key, XChaCha20Poly1305, XNonce};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use sha2::{Digest as _, Sha256};

use crate::flow::store::{Staged, StoreError};

/// The encrypted credentials file, in the flows directory.
pub const CREDENTIALS_FILE: &str = ".credentials.json";
/// The generated key file, in the flows directory, used when no secret is configured.
pub const KEY_FILE: &str = ".credential-key";
/// The environment variable a key is derived from.
pub const SECRET_ENV: &str = "LAMBDAFLOW_CREDENTIAL_SECRET";

/// A node's secrets: JSON pointer (into its `config`) → value.
pub type NodeSecrets = BTreeMap<String, String>;
/// A flow's secrets: node id → its secrets.
pub type FlowSecrets = BTreeMap<String, NodeSecrets>;

/// Errors of the credential store. None of them carries a secret value.
#[derive(Debug, thiserror::Error)]
pub enum SecretsError {
    /// Reading or writing the credentials or key file failed.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// A file is not what it should be.
    #[error("{path}: {message}")]
    Corrupt {
        /// The file.
        path: String,
        /// What is wrong.
        message: String,
    },
    /// The credentials were sealed with another key.
    #[error(
        "{path} was encrypted with a different key; set {SECRET_ENV} to the secret used before \
         (or restore {KEY_FILE}), or remove {path} and enter the credentials again"
    )]
    WrongKey {
        /// The credentials file.
        path: String,
    },
    /// One stored value does not decrypt.
    #[error("stored credential {pointer} of node {node} in flow {flow} cannot be decrypted")]
    Undecryptable {
        /// Flow id.
        flow: String,
        /// Node id.
        node: String,
        /// Pointer into the node's config.
        pointer: String,
    },
    /// Encryption failed.
    #[error("encrypting a credential failed")]
    Seal,
}

/// A staged change of one flow's secrets (see [`CredentialStore::stage`]).
#[derive(Debug)]
pub struct Pending<'a> {
    store: &'a CredentialStore,
    flow: String,
    entry: Option<BTreeMap<String, BTreeMap<String, Sealed>>>,
    staged: Staged,
}

impl Pending<'_> {
    /// Puts the new credentials file in place and the new secrets in use.
    pub fn commit(self) -> Result<(), SecretsError> {
        let mut data = self.store.lock();
        self.staged.commit()?;
        match self.entry {
            Some(nodes) => data.flows.insert(self.flow, nodes),
            None => data.flows.remove(&self.flow),
        };
        Ok(())
    }
}

/// Where the key came from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum KeySource {
    /// Derived from `LAMBDAFLOW_CREDENTIAL_SECRET`.
    Environment,
    /// Read from (or generated into) this key file.
    KeyFile(PathBuf),
}

#[derive(Debug, Clone, Serialize, Deserialize)]
struct Sealed {
    nonce: String,
    data: String,
}

#[derive(Debug, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
struct CredentialsFile {
    version: u32,
    key_id: String,
    #[serde(default)]
    flows: BTreeMap<String, BTreeMap<String, BTreeMap<String, Sealed>>>,
}

/// The encrypted credential store of a flows directory.
pub struct CredentialStore {
    path: PathBuf,
    cipher: XChaCha20Poly1305,
    key_id: String,
    source: KeySource,
    data: Mutex<CredentialsFile>,
}

impl std::fmt::Debug for CredentialStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CredentialStore")
            .field("path", &self.path)
            .field("source", &self.source)
            .finish_non_exhaustive()
    }
}

impl CredentialStore {
    /// Opens the credential store of `dir`, with a key derived from `secret` when given (and
    /// non-empty), else from the key file (generated on first use).
    pub fn open(dir: &Path, secret: Option<&str>) -> Result<Self, SecretsError> {
        let (key, source) = match secret.filter(|s| !s.is_empty()) {
            Some(secret) => (derive_key(secret), KeySource::Environment),
            None => {
                let path = dir.join(KEY_FILE);
                (load_or_create_key(&path)?, KeySource::KeyFile(path))
            }
        };
        let key_id = key_id(&key);
        let path = dir.join(CREDENTIALS_FILE);
        let data = match fs::read(&path) {
            Ok(bytes) => {
                let data: CredentialsFile =
                    serde_json::from_slice(&bytes).map_err(|e| SecretsError::Corrupt {
                        path: path.display().to_string(),
                        message: format!("not a credentials file: {e}"),
                    })?;
                if data.key_id != key_id {
                    return Err(SecretsError::WrongKey {
                        path: path.display().to_string(),
                    });
                }
                data
            }
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => CredentialsFile {
                version: 1,
                key_id: key_id.clone(),
                flows: BTreeMap::new(),
            },
            Err(source) => {
                return Err(StoreError::Io {
                    path: path.display().to_string(),
                    source,
                }
                .into());
            }
        };
        Ok(CredentialStore {
            path,
            cipher: XChaCha20Poly1305::new(&Key::from(key)),
            key_id,
            source,
            data: Mutex::new(data),
        })
    }

    /// Where the key came from.
    pub fn key_source(&self) -> &KeySource {
        &self.source
    }

    /// The credentials file.
    pub fn path(&self) -> &Path {
        &self.path
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, CredentialsFile> {
        self.data.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// The pointers of the values stored for each node of a flow (never the values).
    pub fn pointers_set(&self, flow: &str) -> BTreeMap<String, Vec<String>> {
        self.lock()
            .flows
            .get(flow)
            .map(|nodes| {
                nodes
                    .iter()
                    .map(|(node, values)| (node.clone(), values.keys().cloned().collect()))
                    .collect()
            })
            .unwrap_or_default()
    }

    /// Decrypts the secrets stored for a flow.
    pub fn get(&self, flow: &str) -> Result<FlowSecrets, SecretsError> {
        let data = self.lock();
        let mut out = FlowSecrets::new();
        if let Some(nodes) = data.flows.get(flow) {
            for (node, values) in nodes {
                let mut secrets = NodeSecrets::new();
                for (pointer, sealed) in values {
                    let value = self
                        .open_value(flow, node, pointer, sealed)
                        .ok_or_else(|| SecretsError::Undecryptable {
                            flow: flow.to_owned(),
                            node: node.clone(),
                            pointer: pointer.clone(),
                        })?;
                    secrets.insert(pointer.clone(), value);
                }
                out.insert(node.clone(), secrets);
            }
        }
        Ok(out)
    }

    /// Replaces every secret of a flow (none left: the flow's entry goes) and writes the file.
    pub fn replace(&self, flow: &str, secrets: &FlowSecrets) -> Result<(), SecretsError> {
        match self.stage(flow, secrets)? {
            Some(pending) => pending.commit(),
            None => Ok(()),
        }
    }

    /// Prepares replacing every secret of a flow: the new credentials file is written and
    /// fsynced beside the current one, but nothing changes until [`Pending::commit`] (dropping
    /// the [`Pending`] leaves everything as it was). `None` when nothing would change. Stage and
    /// commit within the flow store's transaction, so no other change comes in between.
    pub fn stage(
        &self,
        flow: &str,
        secrets: &FlowSecrets,
    ) -> Result<Option<Pending<'_>>, SecretsError> {
        let mut sealed_nodes = BTreeMap::new();
        for (node, values) in secrets {
            let mut sealed = BTreeMap::new();
            for (pointer, value) in values {
                sealed.insert(pointer.clone(), self.seal(flow, node, pointer, value)?);
            }
            if !sealed.is_empty() {
                sealed_nodes.insert(node.clone(), sealed);
            }
        }
        let data = self.lock();
        let before = data.flows.get(flow).is_some_and(|n| !n.is_empty());
        if sealed_nodes.is_empty() && !before {
            return Ok(None);
        }
        let entry = (!sealed_nodes.is_empty()).then_some(sealed_nodes);
        let mut next = CredentialsFile {
            version: data.version,
            key_id: data.key_id.clone(),
            flows: data.flows.clone(),
        };
        drop(data);
        match &entry {
            Some(nodes) => next.flows.insert(flow.to_owned(), nodes.clone()),
            None => next.flows.remove(flow),
        };
        let mut text = serde_json::to_string_pretty(&next).expect("credentials serialise");
        text.push('\n');
        let staged = Staged::write(&self.path, text.as_bytes(), Some(0o600))?;
        Ok(Some(Pending {
            store: self,
            flow: flow.to_owned(),
            entry,
            staged,
        }))
    }

    /// Forgets every secret of a flow.
    pub fn remove(&self, flow: &str) -> Result<(), SecretsError> {
        self.replace(flow, &FlowSecrets::new())
    }

    /// A fingerprint of a flow's stored secrets (of their sealed form, never of the values),
    /// which changes whenever they are replaced; `None` when the flow has none. It goes into
    /// the flow's revision, so a change to secrets alone is a new revision.
    pub fn stamp(&self, flow: &str) -> Option<String> {
        let data = self.lock();
        let nodes = data.flows.get(flow).filter(|n| !n.is_empty())?;
        let text = serde_json::to_string(nodes).expect("sealed values serialise");
        Some(
            Sha256::digest(text.as_bytes())[..8]
                .iter()
                .map(|b| format!("{b:02x}"))
                .collect(),
        )
    }

    fn seal(
        &self,
        flow: &str,
        node: &str,
        pointer: &str,
        value: &str,
    ) -> Result<Sealed, SecretsError> {
        let nonce = XNonce::generate();
        let aad = associated_data(&self.key_id, flow, node, pointer);
        let data = self
            .cipher
            .encrypt(
                &nonce,
                Payload {
                    msg: value.as_bytes(),
                    aad: &aad,
                },
            )
            .map_err(|_| SecretsError::Seal)?;
        Ok(Sealed {
            nonce: BASE64.encode(nonce),
            data: BASE64.encode(data),
        })
    }

    fn open_value(&self, flow: &str, node: &str, pointer: &str, sealed: &Sealed) -> Option<String> {
        let nonce = BASE64.decode(&sealed.nonce).ok()?;
        let nonce = XNonce::try_from(nonce.as_slice()).ok()?;
        let data = BASE64.decode(&sealed.data).ok()?;
        let aad = associated_data(&self.key_id, flow, node, pointer);
        let plain = self
            .cipher
            .decrypt(
                &nonce,
                Payload {
                    msg: &data,
                    aad: &aad,
                },
            )
            .ok()?;
        String::from_utf8(plain).ok()
    }
}

fn associated_data(key_id: &str, flow: &str, node: &str, pointer: &str) -> Vec<u8> {
    format!("lambdaflow-credential-v1\0{key_id}\0{flow}\0{node}\0{pointer}").into_bytes()
}

fn derive_key(secret: &str) -> [u8; 32] {
    let hk = hkdf::Hkdf::<Sha256>::new(Some(b"lambdaflow credentials"), secret.as_bytes());
    let mut key = [0u8; 32];
    hk.expand(b"xchacha20poly1305 key v1", &mut key)
        .expect("32 bytes is a valid HKDF-SHA256 output length");
    key
}

fn key_id(key: &[u8; 32]) -> String {
    let mut h = Sha256::new();
    h.update(b"lambdaflow credential key id\0");
    h.update(key);
    h.finalize()[..8]
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// Generates a key file atomically: the key is written to a temporary file (mode 0600) and
/// fsynced, then linked to its name, which fails if another process created one first (then
/// theirs is used). A crash or a full disk leaves no key file, or a whole one; never an empty
/// one that would block every later start.
fn create_key(path: &Path) -> Result<[u8; 32], SecretsError> {
    let key: [u8; 32] = Generate::generate();
    let staged = Staged::write(
        path,
        format!("{}\n", BASE64.encode(key)).as_bytes(),
        Some(0o600),
    )?;
    match staged.link() {
        Ok(()) => {
            tracing::info!(file = %path.display(), "Generated a credential key file.");
            Ok(key)
        }
        Err(StoreError::Io { source, .. })
            if source.kind() == std::io::ErrorKind::AlreadyExists =>
        {
            load_or_create_key(path)
        }
        Err(e) => Err(e.into()),
    }
}

fn load_or_create_key(path: &Path) -> Result<[u8; 32], SecretsError> {
    let corrupt = |message: &str| SecretsError::Corrupt {
        path: path.display().to_string(),
        message: message.to_owned(),
    };
    match fs::read_to_string(path) {
        // Left by an earlier version's interrupted first start: nothing was ever sealed with
        // it, so a new key loses nothing.
        Ok(text) if text.trim().is_empty() && !path.with_file_name(CREDENTIALS_FILE).exists() => {
            tracing::warn!(file = %path.display(), "Replacing an empty credential key file.");
            fs::remove_file(path).map_err(|source| StoreError::Io {
                path: path.display().to_string(),
                source,
            })?;
            create_key(path)
        }
        Ok(text) => {
            #[cfg(unix)]
            {
                use std::os::unix::fs::PermissionsExt as _;
                if let Ok(meta) = fs::metadata(path)
                    && meta.permissions().mode() & 0o077 != 0
                {
                    tracing::warn!(file = %path.display(),
                        "The credential key file is readable by other users; chmod 600 it.");
                }
            }
            let bytes = BASE64
                .decode(text.trim())
                .map_err(|_| corrupt("not a base64 key"))?;
            bytes
                .try_into()
                .map_err(|_| corrupt("the key must be 32 bytes"))
        }
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => create_key(path),
        Err(source) => Err(StoreError::Io {
            path: path.display().to_string(),
            source,
        }
        .into()),
    }
}

/// Takes the secrets out of a node config: each `writeOnly` pointer holding a non-empty string is
/// removed and returned; an empty string or `null` there is removed ("keep the stored value").
/// Other values stay, so validation reports them (without echoing them).
pub fn take_secrets(config: &mut Value, pointers: &[String]) -> NodeSecrets {
    let mut taken = NodeSecrets::new();
    for pointer in pointers {
        let keep_in_place = match config.pointer(pointer) {
            Some(Value::String(s)) if !s.is_empty() => {
                taken.insert(pointer.clone(), s.clone());
                false
            }
            Some(Value::String(_)) | Some(Value::Null) => false,
            _ => true,
        };
        if !keep_in_place {
            remove_at(config, pointer);
        }
    }
    taken
}

/// The config fields a node's stored secrets are bound to: the secrets are used only while
/// these hold what they held when the secrets were stored (absent, `null` and `""` being the
/// same), so they never travel to another endpoint, region, role or key id than the one they
/// were entered for. For a type without a declared binding, the whole config (`""`).
pub fn binding_pointers(component_type: &str) -> &'static [&'static str] {
    match crate::components::registry().get(component_type) {
        Some(c) if !c.descriptor.secret_binding.is_empty() => c.descriptor.secret_binding,
        _ => &[""],
    }
}

/// The first field of [`binding_pointers`] whose value differs between two configs of a
/// component type (secrets left out of the comparison), or `None` when the binding holds.
pub fn changed_binding(component_type: &str, a: &Value, b: &Value) -> Option<&'static str> {
    let secrets = crate::api::workspace::secret_pointers(component_type);
    let at = |config: &Value, pointer: &str| {
        let mut config = config.clone();
        strip_secrets(&mut config, &secrets);
        match config.pointer(pointer) {
            None | Some(Value::Null) => Value::Null,
            Some(Value::String(s)) if s.is_empty() => Value::Null,
            Some(v) => v.clone(),
        }
    };
    binding_pointers(component_type)
        .iter()
        .copied()
        .find(|p| at(a, p) != at(b, p))
}

/// Removes every value at the given pointers (export without secrets, whatever their type).
pub fn strip_secrets(config: &mut Value, pointers: &[String]) {
    for pointer in pointers {
        remove_at(config, pointer);
    }
}

/// Puts stored secrets back into a config (in memory only) where the config has no value of its
/// own, creating parent objects as needed.
pub fn merge_secrets(config: &mut Value, secrets: &NodeSecrets) {
    for (pointer, value) in secrets {
        insert_if_absent(config, pointer, Value::String(value.clone()));
    }
}

fn tokens(pointer: &str) -> Vec<String> {
    pointer
        .split('/')
        .skip(1)
        .map(|t| t.replace("~1", "/").replace("~0", "~"))
        .collect()
}

fn remove_at(value: &mut Value, pointer: &str) {
    let tokens = tokens(pointer);
    let Some((last, parents)) = tokens.split_last() else {
        return;
    };
    let mut cur = value;
    for t in parents {
        match cur.get_mut(t.as_str()) {
            Some(next) => cur = next,
            None => return,
        }
    }
    if let Some(map) = cur.as_object_mut() {
        map.remove(last);
    }
}

fn insert_if_absent(value: &mut Value, pointer: &str, new: Value) {
    let tokens = tokens(pointer);
    let Some((last, parents)) = tokens.split_last() else {
        return;
    };
    let mut cur = value;
    for t in parents {
        let Some(map) = cur.as_object_mut() else {
            return;
        };
        cur = map
            .entry(t.clone())
            .or_insert_with(|| Value::Object(Map::new()));
    }
    if let Some(map) = cur.as_object_mut() {
        map.entry(last.clone()).or_insert(new);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn pointers() -> Vec<String> {
        vec![
            "/connection/secretKey".into(),
            "/connection/sessionToken".into(),
        ]
    }

    #[test]
    fn secrets_are_taken_out_and_merged_back() {
        let mut config = json!({"connection": {"region": "eu-west-1", "secretKey": "s3cr3t",
                                               "sessionToken": ""}, "functionName": "f"});
        let taken = take_secrets(&mut config, &pointers());
        assert_eq!(taken.len(), 1);
        assert_eq!(taken["/connection/secretKey"], "s3cr3t");
        assert_eq!(
            config,
            json!({"connection": {"region": "eu-west-1"}, "functionName": "f"})
        );
        let mut bare = json!({});
        merge_secrets(&mut bare, &taken);
        assert_eq!(bare, json!({"connection": {"secretKey": "s3cr3t"}}));
        let mut own = json!({"connection": {"secretKey": "sent"}});
        merge_secrets(&mut own, &taken);
        assert_eq!(own, json!({"connection": {"secretKey": "sent"}}));
        let mut wrong_type = json!({"connection": {"secretKey": 42}});
        assert!(take_secrets(&mut wrong_type, &pointers()).is_empty());
        assert_eq!(wrong_type, json!({"connection": {"secretKey": 42}}));
        strip_secrets(&mut wrong_type, &pointers());
        assert_eq!(wrong_type, json!({"connection": {}}));
    }

    #[test]
    fn values_round_trip_encrypted_and_never_in_clear() {
        let dir = tempfile::tempdir().unwrap();
        let store = CredentialStore::open(dir.path(), None).unwrap();
        let mut secrets = FlowSecrets::new();
        secrets.insert(
            "lambda1".into(),
            NodeSecrets::from([("/connection/secretKey".into(), "very-secret-value".into())]),
        );
        store.replace("f1", &secrets).unwrap();
        let text = fs::read_to_string(dir.path().join(CREDENTIALS_FILE)).unwrap();
        assert!(!text.contains("very-secret-value"));
        assert!(text.contains("/connection/secretKey"));
        assert_eq!(store.get("f1").unwrap(), secrets);
        assert_eq!(
            store.pointers_set("f1")["lambda1"],
            ["/connection/secretKey"]
        );
        // Reopened with the same key file, the value is still there.
        let again = CredentialStore::open(dir.path(), None).unwrap();
        assert_eq!(again.get("f1").unwrap(), secrets);
        store.remove("f1").unwrap();
        assert!(store.get("f1").unwrap().is_empty());
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt as _;
            for f in [KEY_FILE, CREDENTIALS_FILE] {
                let mode = fs::metadata(dir.path().join(f))
                    .unwrap()
                    .permissions()
                    .mode();
                assert_eq!(mode & 0o777, 0o600, "{f}");
            }
        }
    }

    #[test]
    fn a_different_key_is_refused_and_moved_values_do_not_decrypt() {
        let dir = tempfile::tempdir().unwrap();
        let store = CredentialStore::open(dir.path(), Some("one secret")).unwrap();
        assert_eq!(store.key_source(), &KeySource::Environment);
        assert!(!dir.path().join(KEY_FILE).exists());
        let mut secrets = FlowSecrets::new();
        secrets.insert(
            "n1".into(),
            NodeSecrets::from([("/a".into(), "value-a".into())]),
        );
        store.replace("f1", &secrets).unwrap();
        assert!(matches!(
            CredentialStore::open(dir.path(), Some("another secret")),
            Err(SecretsError::WrongKey { .. })
        ));
        // Moving a sealed value to another node by editing the file breaks its seal.
        let path = dir.path().join(CREDENTIALS_FILE);
        let text = fs::read_to_string(&path)
            .unwrap()
            .replace("\"n1\"", "\"n2\"");
        fs::write(&path, text).unwrap();
        let reopened = CredentialStore::open(dir.path(), Some("one secret")).unwrap();
        let err = reopened.get("f1").unwrap_err();
        assert!(matches!(err, SecretsError::Undecryptable { .. }));
        assert!(!err.to_string().contains("value-a"));
    }

    #[test]
    fn the_key_file_is_created_whole_and_an_empty_one_is_replaced_when_nothing_used_it() {
        let dir = tempfile::tempdir().unwrap();
        let key = dir.path().join(KEY_FILE);
        CredentialStore::open(dir.path(), None).unwrap();
        let text = fs::read_to_string(&key).unwrap();
        assert_eq!(BASE64.decode(text.trim()).unwrap().len(), 32);
        let names: Vec<String> = fs::read_dir(dir.path())
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        assert_eq!(names, [KEY_FILE], "no temporary file is left");

        // An empty key file (an interrupted first start of an earlier version) blocks nothing
        // when no credential was ever sealed with it.
        fs::write(&key, "").unwrap();
        let store = CredentialStore::open(dir.path(), None).unwrap();
        assert_eq!(
            BASE64
                .decode(fs::read_to_string(&key).unwrap().trim())
                .unwrap()
                .len(),
            32
        );
        let mut secrets = FlowSecrets::new();
        secrets.insert("n".into(), NodeSecrets::from([("/a".into(), "v".into())]));
        store.replace("f", &secrets).unwrap();
        // Once credentials exist, an emptied key file is an error, not silently replaced.
        fs::write(&key, "").unwrap();
        assert!(matches!(
            CredentialStore::open(dir.path(), None),
            Err(SecretsError::Corrupt { .. })
        ));
    }

    #[test]
    fn a_staged_change_is_invisible_until_committed_and_gone_when_dropped() {
        let dir = tempfile::tempdir().unwrap();
        let store = CredentialStore::open(dir.path(), Some("s")).unwrap();
        let mut secrets = FlowSecrets::new();
        secrets.insert("n".into(), NodeSecrets::from([("/a".into(), "one".into())]));
        store.replace("f", &secrets).unwrap();
        let stamp = store.stamp("f").unwrap();
        let file = fs::read(store.path()).unwrap();

        secrets.insert("n".into(), NodeSecrets::from([("/a".into(), "two".into())]));
        let pending = store.stage("f", &secrets).unwrap().unwrap();
        assert_eq!(store.get("f").unwrap()["n"]["/a"], "one");
        assert_eq!(fs::read(store.path()).unwrap(), file);
        drop(pending);
        assert_eq!(fs::read(store.path()).unwrap(), file);
        assert_eq!(store.stamp("f").unwrap(), stamp);
        assert_eq!(
            fs::read_dir(dir.path()).unwrap().count(),
            1,
            "no temporary file"
        );

        store
            .stage("f", &secrets)
            .unwrap()
            .unwrap()
            .commit()
            .unwrap();
        assert_eq!(store.get("f").unwrap()["n"]["/a"], "two");
        assert_ne!(store.stamp("f").unwrap(), stamp);
        let reopened = CredentialStore::open(dir.path(), Some("s")).unwrap();
        assert_eq!(reopened.get("f").unwrap()["n"]["/a"], "two");
        assert!(store.stage("f", &secrets).is_ok());
        assert!(store.stage("g", &FlowSecrets::new()).unwrap().is_none());
    }
}
