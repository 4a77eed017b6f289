//! The fuzz targets of `fuzz/` (run for long with `cargo fuzz`, which needs nightly) driven on
//! stable, so CI exercises the same checks on every run:
//!
//! - every seed in `fuzz/seeds/<target>/` and every input kept in `tests/fixtures/fuzz/<target>/`
//!   (what a fuzzer once found: each file is a regression test);
//! - a fixed number of inputs mutated from the seeds by a deterministic generator (byte-level
//!   edits, splices, JSON tokens), the same inputs on every run;
//! - for flows, structured edits of valid flows (random values, removed and added fields),
//!   with one extra check: a value placed in a node's config never appears in a diagnostic
//!   (it could be a secret pasted into the wrong field).
//!
//! A failing input is printed (escaped) so it can be saved under `tests/fixtures/fuzz/`.

#[path = "../fuzz/src/targets.rs"]
mod targets;

use std::panic::{AssertUnwindSafe, catch_unwind, resume_unwind};
use std::path::{Path, PathBuf};

use serde_json::{Map, Value, json};

/// A fuzz target: checks one input, panicking on a failed check.
type Target = fn(&[u8]);

const TARGETS: &[(&str, Target)] = &[
    ("flow_parse", targets::flow_parse),
    ("message_json", targets::message_json),
    ("payload_v2", targets::payload_v2),
];

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn files_in(dir: &Path) -> Vec<(PathBuf, Vec<u8>)> {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return Vec::new();
    };
    let mut files: Vec<(PathBuf, Vec<u8>)> = entries
        .map(|e| e.expect("readable dir entry").path())
        .filter(|p| p.is_file() && p.file_name().is_some_and(|n| n != "README.md"))
        .map(|p| {
            let bytes = std::fs::read(&p).unwrap_or_else(|e| panic!("{}: {e}", p.display()));
            (p, bytes)
        })
        .collect();
    files.sort();
    files
}

fn seeds(target: &str) -> Vec<Vec<u8>> {
    let dir = root().join("fuzz/seeds").join(target);
    let seeds: Vec<Vec<u8>> = files_in(&dir).into_iter().map(|(_, b)| b).collect();
    assert!(!seeds.is_empty(), "no seeds in {}", dir.display());
    seeds
}

/// Runs `target` on `input`; on a panic, says which input it was, then panics on.
fn check(name: &str, target: Target, input: &[u8], origin: &str) {
    if let Err(panic) = catch_unwind(AssertUnwindSafe(|| target(input))) {
        eprintln!(
            "fuzz target {name} failed on {origin}; save this input under \
             tests/fixtures/fuzz/{name}/ (escaped):\n{}",
            input.escape_ascii()
        );
        resume_unwind(panic);
    }
}

#[test]
fn seeds_and_kept_regression_inputs_pass_every_check() {
    for (name, target) in TARGETS {
        for (i, seed) in seeds(name).iter().enumerate() {
            check(name, *target, seed, &format!("seed #{i}"));
        }
        for (path, input) in files_in(&root().join("tests/fixtures/fuzz").join(name)) {
            check(name, *target, &input, &path.display().to_string());
        }
    }
    // The flow fixtures of the validation tests are seeds too.
    for (path, input) in files_in(&root().join("tests/fixtures/flows")) {
        check(
            "flow_parse",
            targets::flow_parse,
            &input,
            &path.display().to_string(),
        );
    }
}

/// A small deterministic PRNG (xorshift64*), so every run sees the same inputs.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        let mut x = self.0;
        x ^= x >> 12;
        x ^= x << 25;
        x ^= x >> 27;
        self.0 = x;
        x.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }

    fn below(&mut self, n: usize) -> usize {
        (self.next() % n.max(1) as u64) as usize
    }

    fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        &items[self.below(items.len())]
    }
}

/// Tokens worth inserting into JSON-ish inputs.
const TOKENS: &[&str] = &[
    "{",
    "}",
    "[",
    "]",
    "\"",
    ":",
    ",",
    "\\",
    "null",
    "true",
    "-0",
    "1e999",
    "18446744073709551616",
    "0.1",
    "\"\\ud800\"",
    "\"\\u0000\"",
    "\"id\":",
    "\"nodes\":[",
    "\"edges\":[",
    "\"type\":\"lambda\"",
    "\"type\":\"feeder\"",
    "\"config\":{}",
    "\"port\":\"error\"",
    "\"from\":{\"node\":\"a\",\"port\":\"out\"}",
    "\"body\":\"",
    "\"bodyEncoding\":\"base64\"",
    "\"properties\":{\"a\":[1]}",
    "\"timestamp\":\"2026-02-30T25:00:00Z\"",
    "\"maxMessages\":-1",
    "\"messages\":[{\"body\":\"x\"}]",
    "\u{feff}",
    "é",
    "\u{10ffff}",
];

fn mutate(rng: &mut Rng, input: &mut Vec<u8>, pool: &[Vec<u8>]) {
    for _ in 0..1 + rng.below(4) {
        let len = input.len();
        match rng.below(6) {
            0 if len > 0 => {
                let i = rng.below(len);
                input[i] ^= 1 << rng.below(8);
            }
            1 if len > 0 => {
                let i = rng.below(len);
                input[i] = *rng.pick(b"{}[]\":,\\0 \xff\x80az9-.eE");
            }
            2 => {
                let at = rng.below(len + 1);
                let token = rng.pick(TOKENS).as_bytes();
                input.splice(at..at, token.iter().copied());
            }
            3 if len > 0 => {
                let from = rng.below(len);
                let to = (from + 1 + rng.below(16)).min(len);
                input.drain(from..to);
            }
            4 if len > 0 => {
                let from = rng.below(len);
                let to = (from + 1 + rng.below(32)).min(len);
                let piece: Vec<u8> = input[from..to].to_vec();
                let at = rng.below(len + 1);
                input.splice(at..at, piece);
            }
            _ => {
                let other = rng.pick(pool);
                if !other.is_empty() {
                    let from = rng.below(other.len());
                    let to = (from + 1 + rng.below(64)).min(other.len());
                    let at = rng.below(len + 1);
                    input.splice(at..at, other[from..to].iter().copied());
                }
            }
        }
    }
}

#[test]
fn mutated_seeds_pass_every_check() {
    const PER_TARGET: usize = 3_000;
    for (name, target) in TARGETS {
        let pool = seeds(name);
        let mut rng = Rng(0x9e37_79b9_7f4a_7c15 ^ name.len() as u64);
        for i in 0..PER_TARGET {
            let mut input = rng.pick(&pool).clone();
            mutate(&mut rng, &mut input, &pool);
            check(name, *target, &input, &format!("mutation #{i}"));
        }
    }
}

/// Values a structured edit puts into a flow.
fn random_value(rng: &mut Rng, canary: &str) -> Value {
    match rng.below(12) {
        0 => Value::Null,
        1 => json!(rng.below(2) == 0),
        2 => json!(rng.next() as i64),
        3 => json!(-(rng.below(1000) as i64)),
        4 => json!(0.5),
        5 => json!(""),
        6 => json!(canary),
        7 => json!([canary, 1]),
        8 => json!({"body": canary}),
        9 => json!({"note": canary}),
        10 => json!(rng.pick(&[
            "in", "out", "error", "feeder", "display", "lambda", "base64"
        ])),
        _ => json!(u64::MAX),
    }
}

const FIELDS: &[&str] = &[
    "id",
    "name",
    "type",
    "config",
    "position",
    "nodes",
    "edges",
    "from",
    "to",
    "node",
    "port",
    "messages",
    "body",
    "bodyEncoding",
    "properties",
    "sendOnStart",
    "repeat",
    "intervalMs",
    "historySize",
    "maxMessages",
    "errorHandling",
    "functionName",
    "maxConcurrency",
];

/// All pointers into `v` (objects and arrays included).
fn pointers(v: &Value, at: String, out: &mut Vec<String>) {
    match v {
        Value::Object(m) => {
            for (k, sub) in m {
                pointers(
                    sub,
                    format!("{at}/{}", k.replace('~', "~0").replace('/', "~1")),
                    out,
                );
            }
        }
        Value::Array(a) => {
            for (i, sub) in a.iter().enumerate() {
                pointers(sub, format!("{at}/{i}"), out);
            }
        }
        _ => {}
    }
    out.push(at);
}

fn edit(rng: &mut Rng, doc: &mut Value, canary: &str) {
    let mut all = Vec::new();
    pointers(doc, String::new(), &mut all);
    let at = rng.pick(&all).clone();
    let value = random_value(rng, canary);
    let target = doc.pointer_mut(&at).expect("pointer from the walk");
    match (rng.below(3), target) {
        (0, Value::Object(m)) if !m.is_empty() => {
            let key = m
                .keys()
                .nth(rng.below(m.len()))
                .cloned()
                .expect("non-empty");
            m.remove(&key);
        }
        (1, Value::Object(m)) => {
            m.insert(rng.pick(FIELDS).to_string(), value);
        }
        (1, Value::Array(a)) if !a.is_empty() => {
            let copy = a[rng.below(a.len())].clone();
            a.push(copy);
        }
        (_, slot) => *slot = value,
    }
}

/// Strings under `/nodes/*/config` that are the canary.
fn canary_in_config(doc: &Value, canary: &str) -> bool {
    doc.get("nodes")
        .and_then(Value::as_array)
        .is_some_and(|nodes| {
            nodes
                .iter()
                .filter_map(|n| n.get("config"))
                .any(|c| c.to_string().contains(canary))
        })
}

fn only_in_config(doc: &Value, canary: &str) -> bool {
    let mut outside = doc.clone();
    if let Some(nodes) = outside.get_mut("nodes").and_then(Value::as_array_mut) {
        for n in nodes {
            if let Some(obj) = n.as_object_mut() {
                obj.insert("config".into(), Value::Object(Map::new()));
            }
        }
    }
    !outside.to_string().contains(canary)
}

#[test]
fn structured_flow_edits_pass_every_check_and_never_echo_config_values() {
    const EDITS: usize = 1_500;
    let valid: Vec<Value> = seeds("flow_parse")
        .iter()
        .filter_map(|s| serde_json::from_slice::<Value>(s).ok())
        .filter(|v| lambdaflow::components::registry().validate_value(v).is_ok())
        .collect();
    assert!(valid.len() >= 2, "need valid seed flows to edit");
    let mut rng = Rng(0x0123_4567_89ab_cdef);
    let mut refused_with_canary = 0;
    for i in 0..EDITS {
        let canary = format!("S3cret-{:08x}", rng.next() as u32);
        let mut doc = rng.pick(&valid).clone();
        for _ in 0..1 + rng.below(3) {
            edit(&mut rng, &mut doc, &canary);
        }
        let text = doc.to_string();
        check(
            "flow_parse",
            targets::flow_parse,
            text.as_bytes(),
            &format!("edit #{i}"),
        );
        if canary_in_config(&doc, &canary)
            && only_in_config(&doc, &canary)
            && let Err(diagnostics) = lambdaflow::components::registry().parse_flow(&text)
        {
            refused_with_canary += 1;
            for d in &diagnostics {
                assert!(
                    !d.message.contains(&canary) && !d.pointer.contains(&canary),
                    "a diagnostic echoes a config value: {d:?}\n{text}"
                );
            }
        }
    }
    assert!(
        refused_with_canary > 50,
        "the generator should often refuse flows carrying the canary in a config (got \
         {refused_with_canary})"
    );
}
