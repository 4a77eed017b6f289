//! The flow store: one pretty-printed `<id>.json` file per flow in a directory, written
//! atomically, each with a revision (a content hash of its bytes) for optimistic concurrency.
//!
//! Writes go to a temporary file in the same directory, which is fsynced, renamed over the
//! target, and followed by an fsync of the directory, so a crash at any moment leaves either the
//! old or the new file, never a truncated one. Leftover temporary files (a crash between create
//! and rename) are hidden dot-files the listing ignores and [`FlowStore::open`] removes.
//!
//! Ids are checked against the flow-id pattern before any path is built from them, so no
//! request can name a file outside the store. The store knows files and revisions only;
//! validation and credentials are the caller's business.

use std::fs::{self, File, OpenOptions};
use std::io::{self, Write as _};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Mutex, MutexGuard};

use sha2::{Digest as _, Sha256};

use super::model::Flow;

/// Errors of the flow store.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// The id does not match `^[a-z0-9][a-z0-9_-]{0,63}$`.
    #[error(
        "invalid flow id: use 1 to 64 lower-case letters, digits, '-' or '_', starting with a \
         letter or digit"
    )]
    InvalidId(String),
    /// No flow with that id.
    #[error("flow \"{0}\" not found")]
    NotFound(String),
    /// The `rev` given in a request body is not the stored one (HTTP 409).
    #[error(
        "flow \"{id}\" was changed since revision {given}; reload it and apply your changes again"
    )]
    Conflict {
        /// Flow id.
        id: String,
        /// The revision the client based its change on.
        given: String,
    },
    /// The `If-Match` precondition failed (HTTP 412).
    #[error("flow \"{id}\" does not match If-Match; it was changed or deleted since you read it")]
    PreconditionFailed {
        /// Flow id.
        id: String,
    },
    /// Reading or writing a file failed.
    #[error("{path}: {source}")]
    Io {
        /// The file or directory.
        path: String,
        /// What happened.
        source: io::Error,
    },
}

fn io_err(path: &Path) -> impl FnOnce(io::Error) -> StoreError + '_ {
    move |source| StoreError::Io {
        path: path.display().to_string(),
        source,
    }
}

/// Whether `id` is a valid flow id (`^[a-z0-9][a-z0-9_-]{0,63}$`).
pub fn is_valid_id(id: &str) -> bool {
    let bytes = id.as_bytes();
    !bytes.is_empty()
        && bytes.len() <= 64
        && matches!(bytes[0], b'a'..=b'z' | b'0'..=b'9')
        && bytes[1..]
            .iter()
            .all(|b| matches!(b, b'a'..=b'z' | b'0'..=b'9' | b'_' | b'-'))
}

/// Whether `id` is a valid node or edge id (`^[A-Za-z][A-Za-z0-9_-]{0,63}$`).
pub fn is_valid_node_id(id: &str) -> bool {
    let bytes = id.as_bytes();
    !bytes.is_empty()
        && bytes.len() <= 64
        && bytes[0].is_ascii_alphabetic()
        && bytes[1..]
            .iter()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'-'))
}

/// The revision of a file's content: the first 128 bits of its SHA-256, in hex.
pub fn revision(bytes: &[u8]) -> String {
    let digest = Sha256::digest(bytes);
    digest[..16].iter().map(|b| format!("{b:02x}")).collect()
}

/// What a write must find before it may go ahead.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Precondition {
    /// The `If-Match` header: entity tags (unquoted), or `*` for "any existing revision".
    pub if_match: Option<Vec<String>>,
    /// The `rev` of the request body.
    pub rev: Option<String>,
}

impl Precondition {
    /// Parses an `If-Match` header value (`"a", W/"b"` or `*`).
    pub fn parse_if_match(header: &str) -> Vec<String> {
        header
            .split(',')
            .map(str::trim)
            .filter(|t| !t.is_empty())
            .map(|t| {
                let t = t.strip_prefix("W/").unwrap_or(t);
                t.trim_matches('"').to_owned()
            })
            .collect()
    }

    /// Checks the precondition against the current revision (`None`: the flow does not exist).
    pub fn check(&self, id: &str, current: Option<&str>) -> Result<(), StoreError> {
        if let Some(tags) = &self.if_match {
            let ok = match current {
                Some(cur) => tags.iter().any(|t| t == "*" || t == cur),
                None => false,
            };
            if !ok {
                return Err(StoreError::PreconditionFailed { id: id.to_owned() });
            }
        }
        if let Some(given) = &self.rev
            && current != Some(given.as_str())
        {
            return Err(StoreError::Conflict {
                id: id.to_owned(),
                given: given.clone(),
            });
        }
        Ok(())
    }
}

/// One flow file as stored.
#[derive(Debug, Clone)]
pub struct StoredFile {
    /// Flow id (the file's stem).
    pub id: String,
    /// The file's bytes.
    pub bytes: Vec<u8>,
    /// Its revision.
    pub rev: String,
}

/// What a directory listing found.
#[derive(Debug, Default)]
pub struct Listing {
    /// Ids of the `<id>.json` files, sorted.
    pub ids: Vec<String>,
    /// `.json` files whose stem is not a valid flow id (they cannot be addressed by the API).
    pub ignored: Vec<PathBuf>,
}

/// A directory of flow files.
#[derive(Debug)]
pub struct FlowStore {
    dir: PathBuf,
    writes: Mutex<()>,
    fail_next_write: AtomicBool,
}

/// Exclusive write access to a store: checks and writes made through one [`Transaction`] are not
/// interleaved with those of another (within this process).
pub struct Transaction<'a> {
    store: &'a FlowStore,
    _guard: MutexGuard<'a, ()>,
}

impl FlowStore {
    /// Opens (creating it if needed) a store directory and removes temporary files a crash left.
    pub fn open(dir: impl Into<PathBuf>) -> Result<Self, StoreError> {
        let dir = dir.into();
        fs::create_dir_all(&dir).map_err(io_err(&dir))?;
        for entry in fs::read_dir(&dir).map_err(io_err(&dir))? {
            let entry = entry.map_err(io_err(&dir))?;
            let name = entry.file_name();
            let name = name.to_string_lossy();
            if name.starts_with('.') && name.ends_with(".tmp") {
                tracing::info!(file = %entry.path().display(), "Removing a temporary file left by an interrupted write.");
                let _ = fs::remove_file(entry.path());
            }
        }
        Ok(FlowStore {
            dir,
            writes: Mutex::new(()),
            fail_next_write: AtomicBool::new(false),
        })
    }

    /// The store's directory.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// The file of a flow, after checking its id.
    pub fn path_of(&self, id: &str) -> Result<PathBuf, StoreError> {
        if !is_valid_id(id) {
            return Err(StoreError::InvalidId(id.to_owned()));
        }
        Ok(self.dir.join(format!("{id}.json")))
    }

    /// The flow files in the store.
    pub fn list(&self) -> Result<Listing, StoreError> {
        let mut listing = Listing::default();
        for entry in fs::read_dir(&self.dir).map_err(io_err(&self.dir))? {
            let entry = entry.map_err(io_err(&self.dir))?;
            let path = entry.path();
            let name = entry.file_name();
            let name = name.to_string_lossy();
            if name.starts_with('.') || !entry.file_type().is_ok_and(|t| t.is_file()) {
                continue;
            }
            let Some(stem) = name.strip_suffix(".json") else {
                continue;
            };
            if is_valid_id(stem) {
                listing.ids.push(stem.to_owned());
            } else {
                listing.ignored.push(path);
            }
        }
        listing.ids.sort();
        listing.ignored.sort();
        Ok(listing)
    }

    /// Reads a flow file.
    pub fn read(&self, id: &str) -> Result<StoredFile, StoreError> {
        let path = self.path_of(id)?;
        match fs::read(&path) {
            Ok(bytes) => Ok(StoredFile {
                id: id.to_owned(),
                rev: revision(&bytes),
                bytes,
            }),
            Err(e) if e.kind() == io::ErrorKind::NotFound => {
                Err(StoreError::NotFound(id.to_owned()))
            }
            Err(e) => Err(io_err(&path)(e)),
        }
    }

    /// The current revision of a flow, or `None` when it does not exist.
    pub fn current_rev(&self, id: &str) -> Result<Option<String>, StoreError> {
        match self.read(id) {
            Ok(f) => Ok(Some(f.rev)),
            Err(StoreError::NotFound(_)) => Ok(None),
            Err(e) => Err(e),
        }
    }

    /// Fault injection for tests: the next flow file write fails as a full disk would, after
    /// its temporary file was written.
    #[doc(hidden)]
    pub fn fail_next_write(&self) {
        self.fail_next_write.store(true, Ordering::SeqCst);
    }

    /// Starts a transaction: until it is dropped, no other transaction of this store runs.
    pub fn transaction(&self) -> Transaction<'_> {
        Transaction {
            store: self,
            _guard: self.writes.lock().unwrap_or_else(|p| p.into_inner()),
        }
    }
}

impl Transaction<'_> {
    /// The current revision of a flow, or `None` when it does not exist.
    pub fn current_rev(&self, id: &str) -> Result<Option<String>, StoreError> {
        self.store.current_rev(id)
    }

    /// The current file of a flow, or `None` when it does not exist.
    pub fn current(&self, id: &str) -> Result<Option<StoredFile>, StoreError> {
        match self.store.read(id) {
            Ok(f) => Ok(Some(f)),
            Err(StoreError::NotFound(_)) => Ok(None),
            Err(e) => Err(e),
        }
    }

    /// Writes a flow as `<flow.id>.json` (pretty, stable key order) and returns its revision.
    pub fn write(&self, flow: &Flow) -> Result<String, StoreError> {
        let path = self.store.path_of(&flow.id)?;
        let text = flow.to_pretty_json();
        let staged = Staged::write(&path, text.as_bytes(), None)?;
        if self.store.fail_next_write.swap(false, Ordering::SeqCst) {
            return Err(io_err(&path)(io::Error::from(io::ErrorKind::StorageFull)));
        }
        staged.commit()?;
        Ok(revision(text.as_bytes()))
    }

    /// Puts a flow file's previous content back (`None`: it did not exist), undoing a write
    /// whose companion change failed.
    pub fn restore(&self, id: &str, previous: Option<&[u8]>) -> Result<(), StoreError> {
        let path = self.store.path_of(id)?;
        match previous {
            Some(bytes) => write_atomic(&path, bytes, None),
            None => match fs::remove_file(&path) {
                Ok(()) => sync_dir(&self.store.dir),
                Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(()),
                Err(e) => Err(io_err(&path)(e)),
            },
        }
    }

    /// Removes a flow file; `NotFound` when there is none.
    pub fn delete(&self, id: &str) -> Result<(), StoreError> {
        let path = self.store.path_of(id)?;
        match fs::remove_file(&path) {
            Ok(()) => sync_dir(&self.store.dir),
            Err(e) if e.kind() == io::ErrorKind::NotFound => {
                Err(StoreError::NotFound(id.to_owned()))
            }
            Err(e) => Err(io_err(&path)(e)),
        }
    }
}

/// Replaces `path` with `bytes` atomically: a temporary file in the same directory is written,
/// fsynced and renamed over `path`, then the directory is fsynced. `mode` sets the Unix
/// permissions of the new file (e.g. `0o600` for secrets).
pub fn write_atomic(path: &Path, bytes: &[u8], mode: Option<u32>) -> Result<(), StoreError> {
    Staged::write(path, bytes, mode)?.commit()
}

/// A file's new content, written and fsynced beside it but not in place yet: [`Staged::commit`]
/// renames it over the file; dropping it uncommitted removes it. Two files can so be changed
/// together: stage both (where a full disk fails), then commit both (renames).
#[derive(Debug)]
pub struct Staged {
    tmp: PathBuf,
    path: PathBuf,
    committed: bool,
}

impl Staged {
    /// Writes `bytes` to a temporary file beside `path` and fsyncs it.
    pub fn write(path: &Path, bytes: &[u8], mode: Option<u32>) -> Result<Staged, StoreError> {
        static COUNTER: AtomicU64 = AtomicU64::new(0);
        let dir = path.parent().unwrap_or(Path::new("."));
        let name = path
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        let staged = Staged {
            tmp: dir.join(format!(
                ".{}.{}.{}.tmp",
                name.trim_start_matches('.'),
                std::process::id(),
                COUNTER.fetch_add(1, Ordering::Relaxed)
            )),
            path: path.to_owned(),
            committed: false,
        };
        let mut options = OpenOptions::new();
        options.write(true).create_new(true);
        #[cfg(unix)]
        {
            use std::os::unix::fs::OpenOptionsExt as _;
            options.mode(mode.unwrap_or(0o644));
        }
        #[cfg(not(unix))]
        let _ = mode;
        let tmp = &staged.tmp;
        let mut file = options.open(tmp).map_err(io_err(tmp))?;
        file.write_all(bytes).map_err(io_err(tmp))?;
        file.sync_all().map_err(io_err(tmp))?;
        Ok(staged)
    }

    /// Links the staged content to the file's name (failing with `AlreadyExists` when the file
    /// exists) and fsyncs the directory: an atomic create.
    pub fn link(self) -> Result<(), StoreError> {
        fs::hard_link(&self.tmp, &self.path).map_err(io_err(&self.path))?;
        sync_dir(self.path.parent().unwrap_or(Path::new(".")))
        // Dropping `self` removes the temporary name.
    }

    /// Renames the staged content over the file and fsyncs the directory.
    pub fn commit(mut self) -> Result<(), StoreError> {
        fs::rename(&self.tmp, &self.path).map_err(io_err(&self.path))?;
        self.committed = true;
        sync_dir(self.path.parent().unwrap_or(Path::new(".")))
    }
}

impl Drop for Staged {
    fn drop(&mut self) {
        if !self.committed {
            let _ = fs::remove_file(&self.tmp);
        }
    }
}

/// Fsyncs a directory so a rename or removal in it is durable.
fn sync_dir(dir: &Path) -> Result<(), StoreError> {
    #[cfg(unix)]
    {
        File::open(dir)
            .and_then(|d| d.sync_all())
            .map_err(io_err(dir))?;
    }
    #[cfg(not(unix))]
    let _ = dir;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn flow(id: &str, name: &str) -> Flow {
        serde_json::from_str(&format!(
            r#"{{"id": "{id}", "name": "{name}", "nodes": [], "edges": []}}"#
        ))
        .unwrap()
    }

    #[test]
    fn ids_are_checked_before_any_path_is_built() {
        let dir = tempfile::tempdir().unwrap();
        let store = FlowStore::open(dir.path()).unwrap();
        for bad in [
            "",
            "../x",
            "a/b",
            "A",
            "-a",
            ".hidden",
            "a.json",
            "a\0b",
            &"a".repeat(65),
        ] {
            assert!(
                matches!(store.read(bad), Err(StoreError::InvalidId(_))),
                "{bad:?}"
            );
        }
        assert!(is_valid_id("a"));
        assert!(is_valid_id("0-flow_x"));
        assert!(is_valid_id(&"a".repeat(64)));
    }

    #[test]
    fn writes_are_pretty_and_revisions_follow_content() {
        let dir = tempfile::tempdir().unwrap();
        let store = FlowStore::open(dir.path()).unwrap();
        let tx = store.transaction();
        let rev1 = tx.write(&flow("f1", "one")).unwrap();
        assert_eq!(tx.write(&flow("f1", "one")).unwrap(), rev1);
        let rev2 = tx.write(&flow("f1", "two")).unwrap();
        assert_ne!(rev1, rev2);
        drop(tx);
        let file = store.read("f1").unwrap();
        assert_eq!(file.rev, rev2);
        let text = String::from_utf8(file.bytes).unwrap();
        assert!(text.starts_with("{\n  \"id\": \"f1\""));
        assert!(text.ends_with("}\n"));
        let leftovers: Vec<_> = fs::read_dir(dir.path())
            .unwrap()
            .map(|e| e.unwrap().file_name())
            .collect();
        assert_eq!(leftovers, vec![std::ffi::OsString::from("f1.json")]);
    }

    #[test]
    fn listing_skips_hidden_files_and_reports_bad_names() {
        let dir = tempfile::tempdir().unwrap();
        fs::write(dir.path().join("b.json"), "{}").unwrap();
        fs::write(dir.path().join("a.json"), "{}").unwrap();
        fs::write(dir.path().join("Bad Name.json"), "{}").unwrap();
        fs::write(dir.path().join(".credentials.json"), "{}").unwrap();
        fs::write(dir.path().join(".a.json.1.2.tmp"), "{").unwrap();
        fs::write(dir.path().join("notes.txt"), "").unwrap();
        let store = FlowStore::open(dir.path()).unwrap();
        let listing = store.list().unwrap();
        assert_eq!(listing.ids, ["a", "b"]);
        assert_eq!(listing.ignored, [dir.path().join("Bad Name.json")]);
        assert!(!dir.path().join(".a.json.1.2.tmp").exists());
    }

    #[test]
    fn preconditions_refuse_stale_revisions() {
        let header = Precondition {
            if_match: Some(Precondition::parse_if_match(r#""r1", W/"r2""#)),
            rev: None,
        };
        assert!(header.check("f", Some("r1")).is_ok());
        assert!(header.check("f", Some("r2")).is_ok());
        assert!(matches!(
            header.check("f", Some("r3")),
            Err(StoreError::PreconditionFailed { .. })
        ));
        assert!(matches!(
            header.check("f", None),
            Err(StoreError::PreconditionFailed { .. })
        ));
        let any = Precondition {
            if_match: Some(vec!["*".into()]),
            rev: None,
        };
        assert!(any.check("f", Some("x")).is_ok());
        assert!(any.check("f", None).is_err());
        let body = Precondition {
            if_match: None,
            rev: Some("r1".into()),
        };
        assert!(body.check("f", Some("r1")).is_ok());
        assert!(matches!(
            body.check("f", Some("r2")),
            Err(StoreError::Conflict { .. })
        ));
        assert!(Precondition::default().check("f", None).is_ok());
    }

    #[test]
    fn delete_reports_missing_flows() {
        let dir = tempfile::tempdir().unwrap();
        let store = FlowStore::open(dir.path()).unwrap();
        let tx = store.transaction();
        tx.write(&flow("f1", "one")).unwrap();
        tx.delete("f1").unwrap();
        assert!(matches!(tx.delete("f1"), Err(StoreError::NotFound(_))));
        drop(tx);
        assert!(matches!(store.read("f1"), Err(StoreError::NotFound(_))));
    }
}
