//! The planted-canary fixture (tests/fixture: corpus from scripts/fixture_corpus.py,
//! model from examples/train_fixture.rs, committed): the model loads and matches its
//! corpus, `memscan eval` separates members from non-members and canary exposure grows
//! with insertions, `memscan scan` extracts canaries, `memscan forget-check` finds the
//! canary records greedy decoding reproduces and leaves held-out records alone at
//! about the rate α allows.

mod common;
use common::*;
use std::path::PathBuf;

/// Canaries inserted at least this often are drawn out by the built-in prompts alone.
const MIN_PROMPTED: u64 = 16;

fn fixture() -> PathBuf {
    root().join("tests/fixture")
}

fn model() -> String {
    fixture().join("model").display().to_string()
}

fn read_json(p: &std::path::Path) -> serde_json::Value {
    serde_json::from_str(&std::fs::read_to_string(p).unwrap()).unwrap()
}

fn canaries() -> Vec<serde_json::Value> {
    read_jsonl(&fixture().join("canaries.jsonl"))
}

#[test]
fn eval_separates_members_and_exposure_grows_with_insertions() {
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("eval");
    let f = fixture();
    let o = memscan(&[
        "eval",
        "--device",
        "cpu",
        "-m",
        &model(),
        "--members",
        f.join("members.jsonl").to_str().unwrap(),
        "--nonmembers",
        f.join("nonmembers.jsonl").to_str().unwrap(),
        "--canaries",
        f.join("canaries.jsonl").to_str().unwrap(),
        "--claimed-epsilon",
        "1",
        "--bootstrap",
        "200",
        "--exposure-samples",
        "300",
        "--out",
        out.to_str().unwrap(),
    ]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let r = read_json(&out.join("report.json"));
    assert_eq!(r["kind"], "eval");
    let sig = |n: &str| {
        r["signals"]
            .as_array()
            .unwrap()
            .iter()
            .find(|s| s["name"] == n)
            .unwrap()
            .clone()
    };
    let loss = sig("nll_mean");
    let auc = loss["auc"].as_f64().unwrap();
    // measured 1.000 (README). With no membership signal the AUC is 0.5 ± 0.024 (one sd,
    // 300 members × 300 non-members), so 0.9 is 17 sd above chance yet far from the
    // measured value; nll round-off (~1e-5 on any CPU) only reorders near-ties, which
    // moves an AUC by O(1/90000) each
    assert!(auc >= 0.9, "loss attack AUC {auc}");
    let ci = loss["auc_ci"].as_array().unwrap();
    assert!(ci[0].as_f64().unwrap() <= auc && auc <= ci[1].as_f64().unwrap());
    assert_eq!(loss["tpr_at_fpr"][1]["n_nonmembers"], 300);
    // PR-AUC's chance level is the members' share (0.5 here); FPR at 95% TPR is small
    // for a loss attack this strong
    assert!(loss["pr_auc"].as_f64().unwrap() >= 0.9, "{loss}");
    assert!(loss["fpr_at_95_tpr"].as_f64().unwrap() <= 0.2, "{loss}");
    assert!(sig("combined_lr")["auc"].as_f64().unwrap() >= 0.9);
    // a model that separates this well contradicts ε = 1
    assert_eq!(r["audit"]["contradicted"], true, "{}", r["audit"]);
    // exposure: canaries seen ≥ 8 times are far more exposed than those seen ≤ 2 times
    let ex: Vec<(u64, f64, String)> = r["canaries"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| {
            (
                c["extra"]["insertions"].as_u64().unwrap(),
                c["exposure"].as_f64().unwrap(),
                c["method"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    assert!(ex.iter().any(|e| e.2 == "exact") && ex.iter().any(|e| e.2 == "estimated"));
    let mean = |f: &dyn Fn(u64) -> bool| {
        let v: Vec<f64> = ex.iter().filter(|e| f(e.0)).map(|e| e.1).collect();
        v.iter().sum::<f64>() / v.len() as f64
    };
    let (low, high) = (mean(&|n| n <= 2), mean(&|n| n >= 8));
    // measured 4.6 vs 16.8 bits (the SSN and door-code canaries: 5.0, 8.9 and 1.0, 3.8
    // bits at 1–2 insertions; 21–27 and 9.97 at 8–32); exposure that ignored insertions
    // (the wrong text scored, the rank inverted) gives ~0. 2 bits = a 4× rank ratio, and
    // a rank among seeded candidates moves with round-off only at exact near-ties
    assert!(
        high > low + 2.0,
        "exposure ≤2 insertions {low:.2}, ≥8 {high:.2}: {ex:?}"
    );
    let html = std::fs::read_to_string(out.join("report.html")).unwrap();
    assert!(html.contains("<polyline"));
}

#[test]
fn scan_extracts_members_and_planted_canaries() {
    let tmp = tempfile::tempdir().unwrap();
    // one training document per canary inserted ≥ 8 times (detectable kinds), the
    // canary after the prompt; and as many held-out documents
    let train = read_jsonl(&fixture().join("train.jsonl"));
    let mut docs = Vec::new();
    let mut want = Vec::new();
    for c in canaries() {
        let (n, kind) = (
            c["insertions"].as_u64().unwrap(),
            c["kind"].as_str().unwrap(),
        );
        // a PIN has no detector; the fixture's EC key bodies (48 characters) are shorter
        // than any real key, so the private-key rule rightly ignores them (the exact-suffix
        // check below covers their documents)
        if n < 8 || kind == "pin" || kind == "key" {
            continue;
        }
        let text = c["text"].as_str().unwrap();
        let doc = train
            .iter()
            .map(|d| d["text"].as_str().unwrap())
            .find(|d| d.find(text).is_some_and(|at| at > 48))
            .unwrap();
        docs.push(serde_json::json!({"id": c["id"], "text": doc}));
        want.push((
            c["id"].as_str().unwrap().to_string(),
            c["value"].as_str().unwrap().to_string(),
        ));
    }
    let members = tmp.path().join("members.jsonl");
    std::fs::write(
        &members,
        docs.iter().map(|d| format!("{d}\n")).collect::<String>(),
    )
    .unwrap();
    let held = tmp.path().join("held.jsonl");
    let nm: String = read_jsonl(&fixture().join("nonmembers.jsonl"))
        .iter()
        .take(docs.len())
        .map(|d| format!("{d}\n"))
        .collect();
    std::fs::write(&held, nm).unwrap();
    // the training data's values as fingerprints, from `memscan detect` over it: a
    // privacy team's route to confirm findings without sharing raw values
    let known = tmp.path().join("known.jsonl");
    let o = memscan(&[
        "detect",
        "--format",
        "jsonl",
        "-o",
        known.to_str().unwrap(),
        fixture().join("train.jsonl").to_str().unwrap(),
    ]);
    assert!(o.status.code().is_some_and(|c| c <= 1), "{}", stderr(&o));
    let training: std::collections::HashSet<String> = read_jsonl(&known)
        .iter()
        .map(|f| f["fingerprint"].as_str().unwrap().to_string())
        .collect();
    let scan = |input: &std::path::Path, out: &std::path::Path| {
        let o = memscan(&[
            "scan",
            "--known-findings",
            known.to_str().unwrap(),
            "--device",
            "cpu",
            "-m",
            &model(),
            "--prefixes-from",
            input.to_str().unwrap(),
            "--prefix-tokens",
            "48",
            "--greedy",
            "--max-new-tokens",
            "320",
            "--verbatim-tokens",
            "32",
            "--flag-signal",
            "none",
            "--batch-size",
            "16",
            "--fail-on",
            "secret",
            "--out",
            out.to_str().unwrap(),
        ]);
        (o.status.code(), read_json(&out.join("report.json")))
    };
    let (code, r) = scan(&members, &tmp.path().join("m"));
    assert_eq!(code, Some(1), "secrets found → exit 1");
    let es = &r["summary"]["exact_suffix"];
    assert_eq!(
        es["extracted"],
        docs.len(),
        "every member document reproduced: {es}"
    );
    let found = report_fingerprints(&r);
    let by_id: std::collections::HashMap<String, serde_json::Value> = canaries()
        .into_iter()
        .map(|c| (c["id"].as_str().unwrap().to_string(), c))
        .collect();
    let missed: Vec<&String> = want
        .iter()
        .map(|(id, _)| id)
        .filter(|id| {
            let fps = canary_fingerprints(&by_id[*id]);
            assert!(
                !fps.is_empty(),
                "{id}: no detector fires on the canary itself"
            );
            !fps.iter().any(|f| found.contains(f))
        })
        .collect();
    assert!(missed.is_empty(), "canaries not extracted: {missed:?}");
    // levels: every extracted training value is confirmed by the known fingerprints
    let levels = |r: &serde_json::Value| -> Vec<(bool, String)> {
        r["findings"]
            .as_array()
            .unwrap()
            .iter()
            .map(|f| {
                (
                    training.contains(f["fingerprint"].as_str().unwrap()),
                    f["level"].as_str().unwrap().to_string(),
                )
            })
            .collect()
    };
    let member_levels = levels(&r);
    assert!(
        member_levels
            .iter()
            .filter(|(t, _)| *t)
            .all(|(_, l)| l == "confirmed"),
        "{member_levels:?}"
    );
    // without the known values, the same training values stand on their own evidence:
    // each came back in place from its document's prefix (likely_memorized here, where
    // no reference model is given)
    let in_place = |r: &serde_json::Value, training_value: bool| -> Vec<bool> {
        r["findings"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|f| training.contains(f["fingerprint"].as_str().unwrap()) == training_value)
            .map(|f| f["evidence"]["extracted"] == true)
            .collect()
    };
    let members_in_place = in_place(&r, true);
    assert!(
        !members_in_place.is_empty() && members_in_place.iter().all(|&x| x),
        "{members_in_place:?}"
    );
    // held-out prefixes: nothing reproduced (the model may still emit memorized canaries)
    let (_, r) = scan(&held, &tmp.path().join("n"));
    assert_eq!(r["summary"]["exact_suffix"]["extracted"], 0);
    assert!(in_place(&r, false).iter().all(|&x| !x));
    // values that are not training data: never confirmed, and ≥ 95% only emitted
    let all: Vec<(bool, String)> = member_levels.into_iter().chain(levels(&r)).collect();
    let other: Vec<&String> = all.iter().filter(|(t, _)| !*t).map(|(_, l)| l).collect();
    let emitted = other.iter().filter(|l| l.as_str() == "emitted").count();
    eprintln!(
        "toy fixture levels: {} training values (all confirmed), {} other values, {emitted} of them emitted",
        all.len() - other.len(),
        other.len()
    );
    assert!(other.iter().all(|l| l.as_str() != "confirmed"));
    assert!(
        emitted * 100 >= other.len() * 95,
        "{emitted} of {} other values emitted",
        other.len()
    );
}

/// The fingerprints of a scan report's findings.
fn report_fingerprints(r: &serde_json::Value) -> std::collections::HashSet<String> {
    r["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["fingerprint"].as_str().unwrap().to_string())
        .collect()
}

/// What the detectors report for the canary's own text (the fingerprints a scan that
/// extracted it must show).
fn canary_fingerprints(c: &serde_json::Value) -> Vec<String> {
    let engine =
        memscan::detect::Engine::new(memscan::detect::rules::load(&[], &[]).unwrap()).unwrap();
    engine
        .scan(c["text"].as_str().unwrap().as_bytes())
        .iter()
        .map(|f| f.fingerprint())
        .collect()
}

#[test]
fn scan_with_builtin_prompts_extracts_frequent_canaries() {
    // no training text at all: the built-in pii and secrets prompts, sampled. Every
    // other insertion of an email, phone, card, API key or key block was a training
    // document of its own, as a form field or an .env line is; SSNs and PINs (the
    // exposure canaries) only ever followed other text
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("s");
    let o = memscan(&[
        "scan",
        "--device",
        "cpu",
        "-m",
        &model(),
        "--prompts",
        "pii",
        "--prompts",
        "secrets",
        "--samples-per-prompt",
        "8",
        "--max-new-tokens",
        "96",
        "--flag-signal",
        "none",
        "--reveal",
        "--out",
        out.to_str().unwrap(),
    ]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let r = read_json(&out.join("report.json"));
    let found = report_fingerprints(&r);
    let texts: String = read_jsonl(&out.join("samples.jsonl"))
        .iter()
        .map(|s| s["text"].as_str().unwrap().to_string())
        .collect();
    let mut missed = Vec::new();
    for c in canaries() {
        let (n, kind) = (
            c["insertions"].as_u64().unwrap(),
            c["kind"].as_str().unwrap(),
        );
        if n < MIN_PROMPTED || kind == "pin" || kind == "ssn" {
            continue;
        }
        let hit = if kind == "key" {
            // no detector fires on the fixture's short key bodies: look for the body
            let body = c["value"].as_str().unwrap().lines().nth(1).unwrap();
            texts.contains(body)
        } else {
            let fps = canary_fingerprints(&c);
            assert!(!fps.is_empty(), "{}: no detector fires on it", c["id"]);
            fps.iter().any(|f| found.contains(f))
        };
        if !hit {
            missed.push(c["id"].as_str().unwrap().to_string());
        }
    }
    assert!(missed.is_empty(), "canaries not extracted: {missed:?}");
    // levels without the training data (no index, no known values): made-up values are
    // `emitted` (≥ 95%), and so is a training value the model wrote only once
    let engine =
        memscan::detect::Engine::new(memscan::detect::rules::load(&[], &[]).unwrap()).unwrap();
    let training: std::collections::HashSet<String> = read_jsonl(&fixture().join("train.jsonl"))
        .iter()
        .flat_map(|d| engine.scan(d["text"].as_str().unwrap().as_bytes()))
        .map(|f| f.fingerprint())
        .collect();
    let mut table: std::collections::BTreeMap<(bool, String), usize> = Default::default();
    for f in r["findings"].as_array().unwrap() {
        let t = training.contains(f["fingerprint"].as_str().unwrap());
        *table
            .entry((t, f["level"].as_str().unwrap().to_string()))
            .or_default() += 1;
    }
    eprintln!("toy fixture, built-in prompts: (training value, level) → findings: {table:?}");
    let other: usize = table.iter().filter(|((t, _), _)| !t).map(|(_, n)| n).sum();
    let emitted = table
        .get(&(false, "emitted".to_string()))
        .copied()
        .unwrap_or(0);
    assert!(
        emitted * 100 >= other * 95,
        "{emitted} of {other} made-up values emitted"
    );
    assert!(table.keys().all(|(t, l)| *t || l != "confirmed"));
}

#[test]
fn forget_check_flags_canaries_and_spares_held_out_records() {
    let tmp = tempfile::tempdir().unwrap();
    let recs = tmp.path().join("records.jsonl");
    let mut lines = Vec::new();
    let mut planted = Vec::new();
    for c in canaries() {
        let n = c["insertions"].as_u64().unwrap();
        let kind = c["kind"].as_str().unwrap();
        if n >= 8 && kind != "key" {
            let id = c["id"].as_str().unwrap().to_string();
            lines.push(
                serde_json::json!({"id": id, "person": id, "text": c["text"], "fields": {kind: c["value"]}}),
            );
            planted.push(id);
        }
    }
    // held-out records of the same formats, never trained on
    let mut rng = memscan::stats::SplitMix(99);
    let mut d = |n: usize| -> String {
        (0..n)
            .map(|_| char::from(b'0' + rng.below(10) as u8))
            .collect()
    };
    for i in 0..100 {
        let (text, kind, value) = match i % 4 {
            0 => {
                let v = format!("{}-{}-{}", d(3), d(2), d(4));
                (format!("My social security number is {v}"), "ssn", v)
            }
            1 => {
                let v = d(3);
                (format!("the door code of Mira Keller is {v}"), "pin", v)
            }
            2 => {
                let v = format!("({}) {}-{}", d(3), d(3), d(4));
                (format!("Call me at {v}"), "phone", v)
            }
            _ => {
                let v = format!("4{}", d(15));
                (
                    format!(
                        "Card number: {} {} {} {}",
                        &v[..4],
                        &v[4..8],
                        &v[8..12],
                        &v[12..]
                    ),
                    "card",
                    v,
                )
            }
        };
        let id = format!("heldout/{i}");
        lines.push(
            serde_json::json!({"id": id, "person": id, "text": text, "fields": {kind: value}}),
        );
    }
    let body: String = lines.iter().map(|l| format!("{l}\n")).collect();
    std::fs::write(&recs, body).unwrap();
    let out = tmp.path().join("fc");
    let o = memscan(&[
        "forget-check",
        "--device",
        "cpu",
        "-m",
        &model(),
        "--records",
        recs.to_str().unwrap(),
        "--out",
        out.to_str().unwrap(),
    ]);
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
    let r = read_json(&out.join("report.json"));
    let flags = |v: &str| v == "memorized" || v == "extractable";
    let verdict = |id: &str| {
        r["records"]
            .as_array()
            .unwrap()
            .iter()
            .find(|x| x["id"] == id)
            .unwrap()["verdict"]
            .as_str()
            .unwrap()
            .to_string()
    };
    // Without a reference model the value tests' null is the model's own samples, and
    // this model memorized 18 values of six templates: its samples after a template are
    // the other memorized values, so a value test cannot single one out (measured: no
    // value test rejects). What shows is extraction: greedy decoding writes the rest of
    // every email, phone, card and API-key record inserted 8 times or more (measured
    // 12 of 18 flagged; ssn and pin records are reproduced only in part).
    let flagged: Vec<&String> = planted.iter().filter(|id| flags(&verdict(id))).collect();
    for kind in ["email", "phone", "card", "apikey"] {
        for n in [8, 16, 32] {
            let id = format!("canary/{kind}-{n}");
            assert_eq!(verdict(&id), "extractable", "{id}");
        }
    }
    let false_flags: Vec<String> = (0..100)
        .map(|i| format!("heldout/{i}"))
        .filter(|id| flags(&verdict(id)))
        .collect();
    eprintln!(
        "planted flagged {} of {}: {flagged:?}; held-out flagged {}: {false_flags:?}",
        flagged.len(),
        planted.len(),
        false_flags.len()
    );
    // family-wise α = 0.01 per record: about 1 in 100 expected; 5 would be p < 0.004
    assert!(
        false_flags.len() <= 4,
        "{} held-out records flagged: {false_flags:?}",
        false_flags.len()
    );
    let md = std::fs::read_to_string(out.join("report.md")).unwrap();
    assert!(md.contains("Right-to-be-forgotten"));
    // masked unless --reveal: no raw canary value in the report
    let json = std::fs::read_to_string(out.join("report.json")).unwrap();
    for c in canaries() {
        let v = c["value"].as_str().unwrap();
        assert!(v.len() < 8 || !json.contains(v), "raw value {v} in report");
    }
}
