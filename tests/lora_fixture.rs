//! The real-model ground truth (fixtures/smollm2-lora): SmolLM2-135M-Instruct with a LoRA
//! adapter trained on planted personal records (scripts/lora_fixture/, a generator that
//! shares nothing with memscan's candidate generators), members inserted 1–32 times,
//! held-out records never trained on (generated, and hand-written in seven languages).
//!
//! Positive control: members inserted 32 times separate from held-out records on the
//! likelihood ratio against the base model and on the plain loss. The full tables (every
//! insertion count, extraction, forget-check and scan verdicts) come from
//! benches/lora_fixture.py; this test checks forget-check's verdicts on a few records.

mod common;
use common::*;

use std::path::PathBuf;

fn fixture() -> PathBuf {
    root().join("fixtures/smollm2-lora")
}

fn records(name: &str) -> Vec<serde_json::Value> {
    read_jsonl(&fixture().join(name))
}

fn write_jsonl(p: &std::path::Path, rows: &[serde_json::Value]) {
    let text: String = rows.iter().map(|r| format!("{r}\n")).collect();
    std::fs::write(p, text).unwrap();
}

/// The default model and the fixture's adapter (the base doubles as the reference).
fn adapter_on_base() -> (String, String) {
    (
        default_model().display().to_string(),
        fixture().join("adapter").display().to_string(),
    )
}

#[test]
fn members_inserted_32_times_separate_from_heldout() {
    let dir = tempfile::tempdir().unwrap();
    let members: Vec<serde_json::Value> = records("members.jsonl")
        .into_iter()
        .filter(|m| m["insertions"] == 32)
        .collect();
    assert_eq!(members.len(), 20);
    // held-out records of the members' own distribution (the generated ones): against the
    // hand-written ones the adapter's learned templates alone would separate them
    let heldout: Vec<serde_json::Value> = records("heldout.jsonl").into_iter().take(80).collect();
    let (m, n) = (dir.path().join("m.jsonl"), dir.path().join("n.jsonl"));
    write_jsonl(&m, &members);
    write_jsonl(&n, &heldout);
    let (base, adapter) = adapter_on_base();
    let out = dir.path().join("eval");
    let o = memscan(&[
        "-q",
        "eval",
        "--model",
        &base,
        "--adapter",
        &adapter,
        "--reference-model",
        &base,
        "--device",
        "cpu",
        "--members",
        m.to_str().unwrap(),
        "--nonmembers",
        n.to_str().unwrap(),
        "--bootstrap",
        "100",
        "--out",
        out.to_str().unwrap(),
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    let rep: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(out.join("report.json")).unwrap()).unwrap();
    let auc = |name: &str| -> f64 {
        rep["signals"]
            .as_array()
            .unwrap()
            .iter()
            .find(|s| s["name"] == name)
            .and_then(|s| s["auc"].as_f64())
            .unwrap_or_else(|| panic!("no AUC for {name}"))
    };
    for s in ["nll_mean", "min_k", "min_k_pp", "zlib_ratio", "ref_ratio"] {
        eprintln!(
            "x32 members vs {} held-out: {s} AUC {:.3}",
            heldout.len(),
            auc(s)
        );
    }
    // the adapter learned its members: the likelihood ratio against the base model and
    // the plain loss both separate them (a no-op adapter gives ref_ratio ≈ 0.5)
    assert!(
        auc("ref_ratio") >= 0.95,
        "ref_ratio AUC {}",
        auc("ref_ratio")
    );
    assert!(auc("nll_mean") >= 0.9, "nll_mean AUC {}", auc("nll_mean"));
}

/// forget-check with the base model as reference on two members inserted 32 times and
/// four hand-written held-out records (never trained on), each its own person: the
/// members are flagged, the held-out records are not. The rates over 200 held-out
/// records and by insertion count come from benches/lora_fixture.py (README).
#[test]
fn forget_check_finds_members_and_spares_heldout() {
    let dir = tempfile::tempdir().unwrap();
    let mut pick: Vec<serde_json::Value> = records("members.jsonl")
        .into_iter()
        .filter(|m| m["insertions"] == 32)
        .take(2)
        .collect();
    pick.extend(records("heldout_handwritten.jsonl").into_iter().take(4));
    let rows: Vec<serde_json::Value> = pick
        .iter()
        .map(|r| serde_json::json!({"id": r["id"], "person": r["id"], "text": r["text"], "fields": r["fields"]}))
        .collect();
    let p = dir.path().join("r.jsonl");
    write_jsonl(&p, &rows);
    let out = dir.path().join("fc");
    let (base, adapter) = adapter_on_base();
    let o = memscan(&[
        "-q",
        "forget-check",
        "--model",
        &base,
        "--adapter",
        &adapter,
        "--reference-model",
        &base,
        "--device",
        "cpu",
        "--records",
        p.to_str().unwrap(),
        "--out",
        out.to_str().unwrap(),
    ]);
    assert!(matches!(o.status.code(), Some(0 | 1)), "{}", stderr(&o));
    let rep: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(out.join("report.json")).unwrap()).unwrap();
    for (r, got) in pick.iter().zip(rep["records"].as_array().unwrap()) {
        let v = got["verdict"].as_str().unwrap();
        eprintln!(
            "forget-check {} (insertions {}): {v}",
            r["id"], r["insertions"]
        );
        let flagged = v == "memorized" || v == "extractable";
        if r["insertions"] == 32 {
            assert!(flagged, "a member inserted 32 times was not found: {got}");
        } else {
            assert!(!flagged, "a held-out record was flagged: {got}");
        }
    }
}
