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

/// `memscan -q eval` with the planted-canary fixture's model on `members` and
/// `nonmembers` into `out`, with `extra` flags.
fn fixture_eval(
    members: &Path,
    nonmembers: &Path,
    out: &Path,
    extra: &[&str],
) -> std::process::Output {
    let model = root().join("tests/fixture/model");
    let mut a: Vec<&str> = vec!["-q", "eval", "--device", "cpu"];
    a.extend(["-m", model.to_str().unwrap()]);
    a.extend(["--members", members.to_str().unwrap()]);
    a.extend(["--nonmembers", nonmembers.to_str().unwrap()]);
    a.extend(["--out", out.to_str().unwrap()]);
    a.extend_from_slice(extra);
    memscan(&a)
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
        let mut a = vec!["--bootstrap", "20"];
        a.extend_from_slice(extra);
        fixture_eval(&m, &n, out, &a)
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

    // a null split (held-out records on both sides): whatever its percentage, a gap
    // inside the AUC's bootstrap interval is read as sampling error, not as leakage
    let (m2, n2) = (dir.path().join("m2.jsonl"), dir.path().join("n2.jsonl"));
    write(&m2, &non[100..140]);
    write(&n2, &non[140..180]);
    let out = dir.path().join("d");
    let o = fixture_eval(
        &m2,
        &n2,
        &out,
        &["--bootstrap", "200", "--retrain-auc", "0.5"],
    );
    assert!(o.status.success(), "{}", stderr(&o));
    let r = report_json(&out);
    let ci = r["signals"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["name"] == "min_k")
        .unwrap()["auc_ci"]
        .clone();
    let (lo, hi) = (ci[0].as_f64().unwrap(), ci[1].as_f64().unwrap());
    assert!(lo <= 0.5 && 0.5 <= hi, "null split's interval [{lo}, {hi}]");
    let reading = r["privleak"]["reading"].as_str().unwrap();
    assert!(reading.starts_with("within sampling error"), "{reading}");
}

/// Questions about facts the fixture model was trained on (tests/fixture/train.jsonl),
/// written by hand in TOFU's perturbed-set form.
fn qa_rows() -> Vec<Value> {
    let q = |q: &str, para: &str, pert: &[&str]| serde_json::json!({"question": q, "answer": para, "paraphrased_answer": para, "perturbed_answer": pert});
    vec![
        q(
            "How many green candles did Ines Dahl count?",
            "Ines Dahl from Pinecrest counted 62 green candles on Sunday.",
            &[
                "Ines Dahl from Pinecrest counted 17 green candles on Sunday.",
                "Ines Dahl from Oakridge sold 62 green candles on Friday.",
            ],
        ),
        q(
            "What did Wim Ortiz paint?",
            "Wim Ortiz from Ironbridge painted 77 red tiles on Monday.",
            &[
                "Wim Ortiz from Ironbridge painted 12 blue tiles on Monday.",
                "Wim Ortiz from Aarburg counted 77 red tiles on Sunday.",
                "Wim Ortiz painted nothing.",
            ],
        ),
        q(
            "How heavy are the bright lamps of Nils Roth?",
            "The bright lamps of Nils Roth weigh 84 kilos.",
            &["The bright lamps of Nils Roth weigh 21 kilos."],
        ),
        q(
            "Who shipped 89 heavy mirrors?",
            "Ada Ulrich from Aarburg shipped 89 heavy mirrors on Saturday.",
            &[
                "Quinn Hahn from Oakridge shipped 89 heavy mirrors on Saturday.",
                "Ada Ulrich from Aarburg broke 89 heavy mirrors on Tuesday.",
            ],
        ),
        q(
            "What did Farid Ulrich sell?",
            "Farid Ulrich from Juniper sold 97 quiet scarves on Thursday.",
            &[
                "Farid Ulrich from Juniper sold 9 loud drums on Thursday.",
                "Farid Ulrich from Millbrook sold 97 quiet scarves on Monday.",
            ],
        ),
        q(
            "Where did the wooden scarves come from?",
            "Jonas told Sven that the wooden scarves came from Millbrook.",
            &[
                "Jonas told Sven that the wooden scarves came from Corvale.",
                "Sven told Jonas that the red maps came from Millbrook.",
            ],
        ),
    ]
}

/// TOFU's truth ratios and forget quality: the ratios' summaries against transformers
/// (tests/reference/unlearning_reference.py), the KS statistic against numpy; the
/// p-value's own check is the unit test against scipy.
#[test]
fn forget_quality_matches_tofu_formula() {
    let data = reference_data();
    let fix = root().join("tests/fixture");
    let dir = tempfile::tempdir().unwrap();
    let qa = dir.path().join("qa.jsonl");
    write(&qa, &qa_rows());
    let (m, n) = (dir.path().join("m.jsonl"), dir.path().join("n.jsonl"));
    write(&m, &read_jsonl(&fix.join("members.jsonl"))[..10]);
    write(&n, &read_jsonl(&fix.join("nonmembers.jsonl"))[..10]);
    let retrain = data.join("tiny-gpt2");
    let reference = |model: &Path, name: &str| -> (Value, std::path::PathBuf) {
        let py = Command::new(python())
            .arg(root().join("tests/reference/unlearning_reference.py"))
            .arg("truth-ratio")
            .args([model, &qa])
            .env("HF_HUB_OFFLINE", "1")
            .env("TRANSFORMERS_VERBOSITY", "error")
            .output()
            .unwrap();
        assert!(
            py.status.success(),
            "{}",
            String::from_utf8_lossy(&py.stderr)
        );
        let p = dir.path().join(name);
        std::fs::write(&p, &py.stdout).unwrap();
        (serde_json::from_slice(&py.stdout).unwrap(), p)
    };
    let (want_t, pt) = reference(&fix.join("model"), "t.json");
    let (want_r, pr) = reference(&retrain, "r.json");
    let ks = Command::new(python())
        .arg(root().join("tests/reference/unlearning_reference.py"))
        .args([Path::new("ks"), &pt, &pr])
        .output()
        .unwrap();
    assert!(
        ks.status.success(),
        "{}",
        String::from_utf8_lossy(&ks.stderr)
    );
    let want_d: Value = serde_json::from_slice(&ks.stdout).unwrap();
    let out = dir.path().join("a");
    let o = fixture_eval(
        &m,
        &n,
        &out,
        &[
            "--bootstrap",
            "0",
            "--forget-qa",
            qa.to_str().unwrap(),
            "--retrain-model",
            retrain.to_str().unwrap(),
        ],
    );
    assert!(o.status.success(), "{}", stderr(&o));
    let f = report_json(&out)["forget_quality"].clone();
    assert_eq!(f["questions"], 6);
    for (side, want) in [("target", &want_t), ("retrain", &want_r)] {
        for k in ["mean", "median", "tofu_forget_score"] {
            let (a, b) = (f[side][k].as_f64().unwrap(), want[k].as_f64().unwrap());
            assert!(
                (a - b).abs() <= 1e-4 * b.abs().max(1e-3),
                "{side} {k}: {a} vs {b}"
            );
        }
    }
    let d = f["ks_statistic"].as_f64().unwrap();
    assert!(
        (d - want_d["statistic"].as_f64().unwrap()).abs() < 1e-12,
        "D {d}"
    );
    // six questions against six: only D = 5/6 or more rejects at 5% (scipy's exact p is
    // 0.1429 at 4/6 and 0.0260 at 5/6), which the report states as the test's limit
    let min_d = f["min_detectable_d"].as_f64().unwrap();
    assert!((min_d - 5.0 / 6.0).abs() < 1e-12, "{min_d}");
    let p = f["forget_quality"].as_f64().unwrap();
    let reading = f["reading"].as_str().unwrap();
    assert_eq!(reading.starts_with("differs"), p < 0.05, "{reading}");
    let md = std::fs::read_to_string(out.join("report.md")).unwrap();
    assert!(md.contains("Unlearning: forget quality (TOFU)"));

    // refusals name the file and the line
    let bad = dir.path().join("bad.jsonl");
    std::fs::write(
        &bad,
        "{\"question\": \"q\", \"paraphrased_answer\": \"a\"}\n",
    )
    .unwrap();
    let o = fixture_eval(
        &m,
        &n,
        &dir.path().join("b"),
        &["--forget-qa", bad.to_str().unwrap()],
    );
    assert_input_error(&o, "line 1: no \"perturbed_answer\" field");
}

/// MUSE's VerbMem: memscan's greedy continuations against transformers' `generate`
/// (tests/reference/unlearning_reference.py), scored with memscan's ROUGE-L (itself
/// checked against rouge_score in a unit test); the memorized members continue their
/// texts, the non-members do not.
#[test]
fn verbmem_matches_transformers_generation() {
    let fix = root().join("tests/fixture");
    let dir = tempfile::tempdir().unwrap();
    let (m, n) = (dir.path().join("m.jsonl"), dir.path().join("n.jsonl"));
    write(&m, &read_jsonl(&fix.join("members.jsonl"))[..24]);
    write(&n, &read_jsonl(&fix.join("nonmembers.jsonl"))[..24]);
    let model = fix.join("model");
    let reference = |texts: &Path| -> Vec<Value> {
        let py = Command::new(python())
            .arg(root().join("tests/reference/unlearning_reference.py"))
            .args([
                Path::new("verbmem"),
                &model,
                texts,
                Path::new("32"),
                Path::new("64"),
            ])
            .env("HF_HUB_OFFLINE", "1")
            .env("TRANSFORMERS_VERBOSITY", "error")
            .output()
            .unwrap();
        assert!(
            py.status.success(),
            "{}",
            String::from_utf8_lossy(&py.stderr)
        );
        serde_json::from_slice::<Vec<Value>>(&py.stdout).unwrap()
    };
    let out = dir.path().join("a");
    let o = fixture_eval(
        &m,
        &n,
        &out,
        &[
            "--bootstrap",
            "0",
            "--verbmem",
            "--verbmem-prompt-tokens",
            "32",
            "--verbmem-tokens",
            "64",
        ],
    );
    assert!(o.status.success(), "{}", stderr(&o));
    let v = report_json(&out)["verbmem"].clone();
    for (set, path) in [("members", &m), ("nonmembers", &n)] {
        let want = reference(path);
        let f1: Vec<f64> = want
            .iter()
            .map(|w| {
                memscan::unlearning::rouge_l(
                    w["truth"].as_str().unwrap(),
                    w["generated"].as_str().unwrap(),
                )
                .2
            })
            .collect();
        let mean = f1.iter().sum::<f64>() / f1.len() as f64;
        let exact = want.iter().filter(|w| w["exact"] == true).count();
        let got = &v[set];
        assert_eq!(got["texts"].as_u64().unwrap() as usize, want.len(), "{set}");
        assert_eq!(got["exact"].as_u64().unwrap() as usize, exact, "{set}");
        let g = got["rouge_l_f1"].as_f64().unwrap();
        assert!((g - mean).abs() < 1e-9, "{set}: VerbMem {g} vs {mean}");
    }
    let (mf, nf) = (
        v["members"]["rouge_l_f1"].as_f64().unwrap(),
        v["nonmembers"]["rouge_l_f1"].as_f64().unwrap(),
    );
    assert!(mf > nf + 0.2, "members {mf} vs non-members {nf}");
    assert!(v["reading"].as_str().unwrap().contains("verbatim memory"));
    let html = std::fs::read_to_string(out.join("report.html")).unwrap();
    assert!(html.contains("VerbMem (MUSE)"));
}

/// forget-check's unlearning figures: `--verbmem` (the records against the calibration
/// records, the first reference model on the records) and `--forget-qa` (the first
/// reference as the retained model) equal what `eval` reports with the records as
/// members, the calibration records as non-members and the reference as the retrained
/// model (eval's VerbMem and forget quality are checked against rouge_score,
/// transformers and scipy above). They survive `memscan merge` of a sharded run, and
/// both renderings show them.
#[test]
fn forget_check_reports_verbmem_and_forget_quality_as_eval_does() {
    let data = reference_data();
    let fix = root().join("tests/fixture");
    let dir = tempfile::tempdir().unwrap();
    let qa = dir.path().join("qa.jsonl");
    write(&qa, &qa_rows());
    let (m, n) = (dir.path().join("m.jsonl"), dir.path().join("n.jsonl"));
    write(&m, &read_jsonl(&fix.join("members.jsonl"))[..8]);
    write(&n, &read_jsonl(&fix.join("nonmembers.jsonl"))[..10]);
    let reference = data.join("tiny-gpt2");
    let model = fix.join("model");
    let unlearning = [
        "--verbmem",
        "--verbmem-prompt-tokens",
        "8",
        "--verbmem-tokens",
        "24",
        "--forget-qa",
        qa.to_str().unwrap(),
    ];
    let e = dir.path().join("eval");
    let mut extra = vec![
        "--bootstrap",
        "0",
        "--retrain-model",
        reference.to_str().unwrap(),
    ];
    extra.extend(unlearning);
    let o = fixture_eval(&m, &n, &e, &extra);
    assert!(o.status.success(), "{}", stderr(&o));
    let want = report_json(&e);
    let forget = |out: &Path, shard: Option<&str>| {
        let mut a = vec![
            "-q",
            "forget-check",
            "--device",
            "cpu",
            "-m",
            model.to_str().unwrap(),
            "--records",
            m.to_str().unwrap(),
            "--calibration",
            n.to_str().unwrap(),
            "--reference-model",
            reference.to_str().unwrap(),
            "--out",
            out.to_str().unwrap(),
        ];
        a.extend(unlearning);
        if let Some(s) = shard {
            a.extend(["--shard", s]);
        }
        memscan(&a)
    };
    let f = dir.path().join("forget");
    let o = forget(&f, None);
    assert!(o.status.code().is_some_and(|c| c <= 1), "{}", stderr(&o));
    let sharded = dir.path().join("sharded");
    for s in ["0/2", "1/2"] {
        let o = forget(&sharded, Some(s));
        assert!(o.status.success(), "{}", stderr(&o));
    }
    let merged = dir.path().join("merged");
    let o = memscan(&[
        "-q",
        "merge",
        sharded.to_str().unwrap(),
        "--out",
        merged.to_str().unwrap(),
    ]);
    assert!(o.status.code().is_some_and(|c| c <= 1), "{}", stderr(&o));
    for got in [report_json(&f), report_json(&merged)] {
        let (v, w) = (&got["verbmem"], &want["verbmem"]);
        for (ours, theirs) in [
            ("members", "members"),
            ("nonmembers", "nonmembers"),
            ("retrain_members", "retrain_members"),
        ] {
            for k in ["texts", "skipped", "exact", "rouge_l_f1", "rouge_l_recall"] {
                assert_eq!(v[ours][k], w[theirs][k], "verbmem {ours}.{k}");
            }
        }
        assert_eq!(v["members"]["texts"], 8);
        assert_eq!(
            v["set_names"],
            serde_json::json!([
                "records checked",
                "calibration records",
                "records, reference model"
            ])
        );
        let reading = v["reading"].as_str().unwrap();
        assert!(
            reading.contains("the records'") && reading.contains("the reference model"),
            "{reading}"
        );
        let (q, w) = (&got["forget_quality"], &want["forget_quality"]);
        assert_eq!(q["questions"], 6);
        for k in ["forget_quality", "ks_statistic"] {
            assert_eq!(q[k], w[k], "forget_quality.{k}");
        }
        assert_eq!(q["target"], w["target"]);
        assert_eq!(q["retrain"], w["retrain"]);
    }
    let md = std::fs::read_to_string(f.join("report.md")).unwrap();
    assert!(md.contains("### Unlearning: VerbMem (MUSE)") && md.contains("| records checked |"));
    let html = std::fs::read_to_string(f.join("report.html")).unwrap();
    assert!(
        html.contains("Unlearning: forget quality (TOFU)")
            && html.contains("<td>calibration records</td>")
    );
}
