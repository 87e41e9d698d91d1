//! Unlearning figures in `memscan eval`: MUSE's PrivLeak against the same quantity
//! recomputed by tests/reference/privleak.py (transformers and numpy), with a
//! "retrained" model given as a model or as its AUC, and the flags' refusals.

mod common;
use common::*;
use serde_json::Value;
use std::path::Path;
use std::process::Command;

fn write(path: &Path, rows: &[Value]) {
    std::fs::write(
        path,
        rows.iter().map(|r| format!("{r}\n")).collect::<String>(),
    )
    .unwrap();
}

#[test]
fn privleak_matches_muse_formula() {
    let data = reference_data();
    let fix = root().join("tests/fixture");
    let dir = tempfile::tempdir().unwrap();
    let (m, n) = (dir.path().join("m.jsonl"), dir.path().join("n.jsonl"));
    write(&m, &read_jsonl(&fix.join("members.jsonl"))[..40]);
    let non = read_jsonl(&fix.join("nonmembers.jsonl"));
    let odd: Vec<Value> = non.iter().step_by(2).take(40).cloned().collect();
    write(&n, &odd);
    // any other model stands in for the retrained one: the formula is what is checked
    let retrain = data.join("tiny-gpt2");
    let py = Command::new(python())
        .arg(root().join("tests/reference/privleak.py"))
        .args([fix.join("model"), retrain.clone(), m.clone(), n.clone()])
        .env("HF_HUB_OFFLINE", "1")
        .env("TRANSFORMERS_VERBOSITY", "error")
        .output()
        .unwrap();
    assert!(
        py.status.success(),
        "{}",
        String::from_utf8_lossy(&py.stderr)
    );
    let want: Value = serde_json::from_slice(&py.stdout).unwrap();
    let eval = |extra: &[&str], out: &Path| {
        let model = fix.join("model");
        let mut a: Vec<&str> = vec!["-q", "eval", "--device", "cpu", "--bootstrap", "20"];
        a.extend(["-m", model.to_str().unwrap()]);
        a.extend(["--members", m.to_str().unwrap()]);
        a.extend(["--nonmembers", n.to_str().unwrap()]);
        a.extend(["--out", out.to_str().unwrap()]);
        a.extend_from_slice(extra);
        memscan(&a)
    };
    let out = dir.path().join("a");
    let o = eval(&["--retrain-model", retrain.to_str().unwrap()], &out);
    assert!(o.status.success(), "{}", stderr(&o));
    let p = report_json(&out)["privleak"].clone();
    // AUCs count pairs: the same per-text order gives the same AUC exactly, and one
    // pair flipped by round-off would move it by 1/1600
    for (ours, theirs) in [
        ("auc", "auc"),
        ("auc_retrain", "auc_retrain"),
        ("privleak_percent", "privleak"),
    ] {
        let (a, b) = (p[ours].as_f64().unwrap(), want[theirs].as_f64().unwrap());
        assert!((a - b).abs() < 1e-9, "{ours}: {a} vs {b}");
    }
    // the retrained model's column is PrivLeak's, not an attack: not in the combined attack
    let r = report_json(&out);
    assert!(r["signals"]
        .as_array()
        .unwrap()
        .iter()
        .any(|s| s["name"] == "retrain_min_k"));
    assert!(!r["dataset_inference"]["features"]
        .as_array()
        .unwrap()
        .iter()
        .any(|f| f == "retrain_min_k"));

    // a published AUC instead of the model
    let out = dir.path().join("b");
    let o = eval(&["--retrain-auc", "0.5"], &out);
    assert!(o.status.success(), "{}", stderr(&o));
    let p = report_json(&out)["privleak"].clone();
    let auc = p["auc"].as_f64().unwrap();
    assert!((p["privleak_percent"].as_f64().unwrap() - (auc - 0.5) / 0.5 * 100.0).abs() < 1e-9);

    assert_input_error(
        &eval(&["--retrain-auc", "0"], &dir.path().join("c")),
        "--retrain-auc",
    );
}
