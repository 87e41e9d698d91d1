//! `memscan compare A B` on reports the commands wrote (the tiny fixture model): an eval
//! whose members were trained on against one whose "members" are held-out texts (a
//! null split) is a regression and exits 1 with --fail-on-regression; a report against
//! itself shows no change (every p = 1); a scan whose copy gains a memorized finding and
//! loses another, and a forget-check whose copy has a record newly memorized, show them;
//! reports of two kinds, or a bad --alpha, exit 2. The tests' p-values are checked
//! against scipy in src/stats.rs (tests/data/rate_tests.json).

mod common;
use common::*;
use std::path::Path;

fn fixture() -> std::path::PathBuf {
    root().join("tests/fixture")
}

fn eval(members: &Path, nonmembers: &Path, out: &Path) {
    let o = memscan(&[
        "-q",
        "eval",
        "--device",
        "cpu",
        "--threads",
        "2",
        "-m",
        fixture().join("model").to_str().unwrap(),
        "--members",
        members.to_str().unwrap(),
        "--nonmembers",
        nonmembers.to_str().unwrap(),
        "--bootstrap",
        "0",
        "--out",
        out.to_str().unwrap(),
    ]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
}

fn compare(a: &Path, b: &Path, out: &Path) -> (i32, serde_json::Value) {
    let o = memscan(&[
        "compare",
        a.to_str().unwrap(),
        b.to_str().unwrap(),
        "--fail-on-regression",
        "--out",
        out.to_str().unwrap(),
    ]);
    let code = o.status.code().unwrap();
    assert!(code == 0 || code == 1, "{}", stderr(&o));
    for f in ["compare.json", "compare.md", "compare.html"] {
        assert!(out.join(f).is_file(), "{f} missing");
    }
    let v =
        serde_json::from_str(&std::fs::read_to_string(out.join("compare.json")).unwrap()).unwrap();
    (code, v)
}

/// Writes the first `n` lines of `src` from line `skip` on to `dst`.
fn lines(src: &Path, skip: usize, n: usize, dst: &Path) {
    let body = std::fs::read_to_string(src).unwrap();
    let part: Vec<&str> = body.lines().skip(skip).take(n).collect();
    std::fs::write(dst, part.join("\n") + "\n").unwrap();
}

#[test]
fn eval_null_split_against_members_is_a_regression() {
    let tmp = tempfile::tempdir().unwrap();
    let t = tmp.path();
    let (m, n1, n2) = (t.join("m.jsonl"), t.join("n1.jsonl"), t.join("n2.jsonl"));
    lines(&fixture().join("members.jsonl"), 0, 100, &m);
    lines(&fixture().join("nonmembers.jsonl"), 0, 100, &n1);
    lines(&fixture().join("nonmembers.jsonl"), 100, 100, &n2);
    let (null, real) = (t.join("null"), t.join("real"));
    eval(&n1, &n2, &null); // neither half was trained on
    eval(&m, &n2, &real);

    let (code, c) = compare(&null, &real, &t.join("c1"));
    assert_eq!(c["kind"], "compare");
    assert_eq!(c["compared"], "eval");
    let regs = c["regressions"].as_array().unwrap();
    assert_eq!(code, 1, "{c}");
    assert!(
        regs.iter().any(|r| r.as_str().unwrap().contains("AUC")),
        "{regs:?}"
    );
    let sig = |name: &str| {
        c["signals"]
            .as_array()
            .unwrap()
            .iter()
            .find(|s| s["name"] == name)
            .unwrap()
            .clone()
    };
    let nll = sig("nll_mean");
    assert!(nll["b"].as_f64().unwrap() > nll["a"].as_f64().unwrap());
    assert_eq!(nll["significant"], true, "{nll}");
    // Holm: every adjusted p is at least the raw one
    for s in c["signals"].as_array().unwrap() {
        if let (Some(p), Some(q)) = (s["p_value"].as_f64(), s["p_adjusted"].as_f64()) {
            assert!(q >= p, "{s}");
        }
    }
    // the other way round: leakage fell, which is no regression
    let (code, back) = compare(&real, &null, &t.join("c2"));
    assert_eq!(code, 0, "{back}");
    assert_eq!(back["regressions"], serde_json::json!([]));
    // a report against itself: no change, p = 1 everywhere
    let (code, same) = compare(&real, &real, &t.join("c3"));
    assert_eq!(code, 0);
    for row in same["rates"]
        .as_array()
        .unwrap()
        .iter()
        .chain(same["signals"].as_array().unwrap())
    {
        if let Some(p) = row["p_value"].as_f64() {
            assert!(p > 0.999, "{row}");
        }
    }
    // without --out: the Markdown on stdout
    let o = memscan(&["compare", null.to_str().unwrap(), real.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let md = String::from_utf8_lossy(&o.stdout);
    assert!(
        md.starts_with("## Memorization: comparison of two eval reports"),
        "{md}"
    );
    assert!(md.contains("| nll_mean |"), "{md}");
    // bad input
    let fc = t.join("fc");
    let recs = t.join("recs.jsonl");
    lines(&fixture().join("nonmembers.jsonl"), 0, 2, &recs);
    let o = memscan(&[
        "-q",
        "forget-check",
        "--device",
        "cpu",
        "-m",
        fixture().join("model").to_str().unwrap(),
        "--records",
        recs.to_str().unwrap(),
        "--out",
        fc.to_str().unwrap(),
    ]);
    assert!(matches!(o.status.code(), Some(0 | 1)), "{}", stderr(&o));
    let o = memscan(&["compare", real.to_str().unwrap(), fc.to_str().unwrap()]);
    assert_input_error(&o, "compare reports of one kind");
    let o = memscan(&[
        "compare",
        real.to_str().unwrap(),
        real.to_str().unwrap(),
        "--alpha",
        "1.5",
    ]);
    assert_input_error(&o, "--alpha");
    let o = memscan(&[
        "compare",
        real.to_str().unwrap(),
        t.join("missing").to_str().unwrap(),
    ]);
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));

    // forget-check: a copy with one record newly memorized
    let mut r = report_json(&fc);
    let first = r["records"][0]["id"].as_str().unwrap().to_string();
    let was = r["records"][0]["verdict"].as_str().unwrap().to_string();
    assert!(was == "not_detected" || was == "inconclusive", "{was}");
    r["records"][0]["verdict"] = "memorized".into();
    let fc2 = t.join("fc2");
    std::fs::create_dir_all(&fc2).unwrap();
    std::fs::write(fc2.join("report.json"), r.to_string()).unwrap();
    let (code, c) = compare(&fc, &fc2, &t.join("c4"));
    assert_eq!(code, 1, "{c}");
    let changed = c["changed"].as_array().unwrap();
    assert_eq!(changed.len(), 1, "{c}");
    assert_eq!(changed[0]["id"], first.as_str());
    assert_eq!(changed[0]["a"], was.as_str());
    assert_eq!(changed[0]["regression"], true);
}

#[test]
fn scan_findings_new_gone_and_kept() {
    let tmp = tempfile::tempdir().unwrap();
    let t = tmp.path();
    let prompts = t.join("p.jsonl");
    std::fs::write(
        &prompts,
        "{\"id\": \"p/1\", \"text\": \"Ines Dahl from Pinecrest\"}\n{\"id\": \"p/2\", \"text\": \"export AWS_SECRET_ACCESS_KEY=\"}\n",
    )
    .unwrap();
    let a = t.join("a");
    let o = memscan(&[
        "-q",
        "scan",
        "--device",
        "cpu",
        "-m",
        fixture().join("model").to_str().unwrap(),
        "--prompts",
        prompts.to_str().unwrap(),
        "--samples-per-prompt",
        "2",
        "--max-new-tokens",
        "8",
        "--seed",
        "1",
        "--out",
        a.to_str().unwrap(),
    ]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    // B: A's report with two findings of its own: one kept from A (same value), one new
    // at level likely_memorized; A gets a finding B lacks
    let mut ra = report_json(&a);
    let sample = ra["items"][0]["id"].clone();
    let finding = |fp: &str, level: &str| {
        serde_json::json!({
            "sample_id": sample, "rule_id": "email", "category": "pii",
            "description": "an email address", "start": 0, "end": 5, "masked": "a***@x.org",
            "fingerprint": fp, "confidence": 0.9, "evidence": {"recurrence": 1,
            "recurrence_prompts": 1, "greedy_prompts": 0}, "level": level
        })
    };
    let mut rb = ra.clone();
    ra["findings"] = serde_json::json!([finding("aa", "emitted"), finding("gone", "emitted")]);
    rb["findings"] =
        serde_json::json!([finding("aa", "emitted"), finding("new", "likely_memorized")]);
    let b = t.join("b");
    std::fs::create_dir_all(&b).unwrap();
    std::fs::write(a.join("report.json"), ra.to_string()).unwrap();
    std::fs::write(b.join("report.json"), rb.to_string()).unwrap();
    let (code, c) = compare(&a, &b, &t.join("c"));
    assert_eq!(code, 1, "{c}");
    let f = &c["findings"];
    let fps = |k: &str| -> Vec<String> {
        f[k].as_array()
            .unwrap()
            .iter()
            .map(|x| x["fingerprint"].as_str().unwrap().to_string())
            .collect()
    };
    assert_eq!(fps("new_in_b"), ["new"]);
    assert_eq!(fps("gone_from_b"), ["gone"]);
    assert_eq!(fps("in_both"), ["aa"]);
    assert_eq!(c["regressions"].as_array().unwrap().len(), 1, "{c}");
    assert!(c["rates"]
        .as_array()
        .unwrap()
        .iter()
        .any(|r| r["name"] == "flagged samples"));
    // the same samples: no verdict changed
    assert_eq!(c["changed"], serde_json::json!([]));
    let html = std::fs::read_to_string(t.join("c/compare.html")).unwrap();
    assert!(html.contains("New in B (1)") && !html.contains("src=\"http"));
}
