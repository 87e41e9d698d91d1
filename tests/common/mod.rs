//! Helpers shared by the integration tests: the built binary, the project venv's
//! Python, and the reference data that tests/reference/hf_reference.py generates.
#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::sync::Mutex;

pub fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

pub fn python() -> PathBuf {
    option_env!("MEMSCAN_PYTHON")
        .map(PathBuf::from)
        .unwrap_or_else(|| root().join(".venv/bin/python"))
}

pub fn default_model() -> PathBuf {
    root()
        .join("models")
        .join(memscan::model::DEFAULT_MODEL_FILE)
}

pub fn generated() -> PathBuf {
    root().join("tests/data/generated")
}

static GEN: Mutex<()> = Mutex::new(());

/// Runs the reference script once (again when the script changed), returning the folder.
pub fn reference_data() -> PathBuf {
    let _g = GEN.lock().unwrap_or_else(|e| e.into_inner());
    let out = generated();
    let script = root().join("tests/reference/hf_reference.py");
    let stamp = out.join("quants.json");
    let stale = match (std::fs::metadata(&stamp), std::fs::metadata(&script)) {
        (Ok(s), Ok(sc)) => s.modified().unwrap() < sc.modified().unwrap(),
        _ => true,
    };
    if stale {
        let st = Command::new(python())
            .arg(&script)
            .arg(&out)
            .arg(default_model())
            .env("HF_HUB_OFFLINE", "1")
            .env("TRANSFORMERS_VERBOSITY", "error")
            .status()
            .expect("run the reference script (did scripts/setup.sh run?)");
        assert!(st.success(), "reference script failed");
    }
    out
}

pub fn memscan(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_memscan"))
        .args(args)
        .output()
        .expect("run memscan")
}

pub fn memscan_env(args: &[&str], env: &[(&str, &Path)]) -> Output {
    let mut c = Command::new(env!("CARGO_BIN_EXE_memscan"));
    c.args(args);
    for (k, v) in env {
        c.env(k, v);
    }
    c.output().expect("run memscan")
}

pub fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).to_string()
}

/// Asserts: exit code 2, exactly one error line mentioning `needle`, no panic.
pub fn assert_input_error(o: &Output, needle: &str) {
    let err = stderr(o);
    assert_eq!(
        o.status.code(),
        Some(2),
        "expected exit 2, got {:?}; stderr: {err}",
        o.status.code()
    );
    let lines: Vec<&str> = err
        .lines()
        .filter(|l| l.starts_with("memscan: error:"))
        .collect();
    assert_eq!(lines.len(), 1, "expected one error line: {err}");
    assert!(
        lines[0].contains(needle),
        "error line should mention {needle:?}: {err}"
    );
    assert!(
        !err.contains("panicked") && !err.contains("internal error"),
        "{err}"
    );
}

pub fn read_jsonl(p: &Path) -> Vec<serde_json::Value> {
    std::fs::read_to_string(p)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect()
}
