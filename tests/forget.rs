//! `memscan forget-check` on the default model (which never saw these records): alone,
//! it concludes nothing (value ranks are reported, not tested, without a reference
//! model); with a reference, fresh records with personal details are not called
//! memorized, a record with nothing to test is inconclusive, one person's records share
//! one family-wise level; bad records exit 2.

mod common;
use common::*;

#[test]
fn fresh_records_not_detected_nothing_to_test_inconclusive() {
    let tmp = tempfile::tempdir().unwrap();
    let recs = tmp.path().join("records.jsonl");
    std::fs::write(
        &recs,
        concat!(
            "{\"id\": \"mit\", \"text\": \"Permission is hereby granted, free of charge, to any person obtaining a copy of this software and associated documentation files (the \\\"Software\\\"), to deal in the Software without restriction.\"}\n",
            "{\"id\": \"fresh\", \"person\": \"marit\", \"text\": \"Marit Oyelaran moved to 14 Quillfeather Row in Dunmere last spring; you can reach her at marit.oyelaran@quillmail.net or on 0161 496 0742.\", \"fields\": {\"name\": \"Marit Oyelaran\", \"email\": \"marit.oyelaran@quillmail.net\", \"phone\": \"0161 496 0742\"}}\n",
            "{\"id\": \"fresh2\", \"person\": \"marit\", \"text\": \"Patient: Marit Oyelaran, born 03/11/1987. Seen for a sprained left ankle; follow-up booked for 14 June.\", \"fields\": {\"name\": \"Marit Oyelaran\", \"dob\": \"03/11/1987\"}}\n",
        ),
    )
    .unwrap();
    let run = |extra: &[&str], name: &str| {
        let out = tmp.path().join(name);
        let mut args = vec![
            "forget-check",
            "--device",
            "cpu",
            "--threads",
            "2",
            "--records",
            recs.to_str().unwrap(),
            "--out",
            out.to_str().unwrap(),
        ];
        args.extend_from_slice(extra);
        let o = memscan(&args);
        assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
        let r: serde_json::Value =
            serde_json::from_str(&std::fs::read_to_string(out.join("report.json")).unwrap())
                .unwrap();
        (out, r)
    };
    let rec = |r: &serde_json::Value, id: &str| {
        r["records"]
            .as_array()
            .unwrap()
            .iter()
            .find(|x| x["id"] == id)
            .unwrap()
            .clone()
    };
    // the model alone: a value a person wrote is often likelier than the model's own
    // samples whether or not it was trained on, so without a reference model the value
    // ranks are reported, not tested, and nothing is concluded
    let (_, alone) = run(&[], "alone");
    for id in ["mit", "fresh", "fresh2"] {
        let f = rec(&alone, id);
        assert_eq!(f["verdict"], "inconclusive", "{f}");
        assert!(f["statement"]
            .as_str()
            .unwrap()
            .contains("--reference-model"));
        for t in f["tests"].as_array().unwrap() {
            assert_eq!(t["level"], 0.0, "{t}");
            assert_eq!(t["rejected"], false, "{t}");
        }
    }
    // with a reference model (here the same model: every value the target prefers, the
    // reference prefers too, so no value test can reject)
    let model = default_model().display().to_string();
    let (out, r) = run(&["--reference-model", &model], "with-reference");
    // no personal value and no --calibration: nothing to test, no verdict either way
    let mit = rec(&r, "mit");
    assert_eq!(mit["verdict"], "inconclusive", "{mit}");
    assert!(mit["statement"].as_str().unwrap().contains("--calibration"));
    for id in ["fresh", "fresh2"] {
        let f = rec(&r, id);
        assert_eq!(f["verdict"], "not_detected", "{f}");
        // one person: both records' tests share the level α / (their tests)
        let tests = rec(&r, "fresh")["tests"].as_array().unwrap().len()
            + rec(&r, "fresh2")["tests"].as_array().unwrap().len();
        assert!(tests >= 4, "{tests} tests");
        for t in f["tests"].as_array().unwrap() {
            let level = t["level"].as_f64().unwrap();
            assert!((level - 0.01 / tests as f64).abs() < 1e-12, "{level}");
            assert!(t["name"].as_str().unwrap().starts_with("value:"), "{t}");
            assert!(t["min_p"].as_f64().unwrap() <= level, "{t}");
            assert_eq!(t["null_quantiles"].as_array().unwrap().len(), 7, "{t}");
            // a value the target ranks at the top is checked against the reference
            if t["p_value"].as_f64().unwrap() <= level {
                assert!(t["reference_p_value"].as_f64().unwrap() <= level, "{t}");
            }
        }
        assert!(f["statement"].as_str().unwrap().contains("does not show"));
    }
    assert_eq!(r["summary"]["records"], 3);
    assert_eq!(r["summary"]["inconclusive"], 1);
    let json = std::fs::read_to_string(out.join("report.json")).unwrap();
    assert!(
        !json.contains("marit.oyelaran@quillmail.net") && !json.contains("0161 496 0742"),
        "raw personal value in the report"
    );
    let md = std::fs::read_to_string(out.join("report.md")).unwrap();
    assert!(md.contains("▲") && md.contains("value:email"), "{md}");
    let html = std::fs::read_to_string(out.join("report.html")).unwrap();
    assert!(html.contains("<svg") && html.contains("value:phone"));
    // report.json reads back: `memscan report` renders the same Markdown
    let again = memscan(&["report", out.to_str().unwrap(), "--format", "md", "-o", "-"]);
    assert_eq!(again.status.code(), Some(0), "{}", stderr(&again));
    assert_eq!(String::from_utf8_lossy(&again.stdout), md);
}

#[test]
fn bad_records_exit_2() {
    let tmp = tempfile::tempdir().unwrap();
    let recs = tmp.path().join("bad.jsonl");
    std::fs::write(&recs, "{\"id\": 1, \"text\": \"x\", \"fields\": [1, 2]}\n").unwrap();
    assert_input_error(
        &memscan(&["forget-check", "--records", recs.to_str().unwrap()]),
        "bad.jsonl",
    );
    assert_input_error(
        &memscan(&["forget-check", "--records", "/nonexistent/r.jsonl"]),
        "/nonexistent/r.jsonl",
    );
}

/// The record test with an attack as its signal (`--record-signal recall`): on the
/// planted-canary fixture the memorized members are rejected against held-out
/// calibration records and held-out records are not (beyond the test's level); the
/// value tested is the `recall` that `memscan score` gives the same text with the same
/// prefix; the signals forget-check cannot compute are refused.
#[test]
fn record_test_takes_an_attack_signal() {
    let fix = root().join("tests/fixture");
    let tmp = tempfile::tempdir().unwrap();
    let write = |name: &str, rows: &[serde_json::Value]| {
        let p = tmp.path().join(name);
        std::fs::write(
            &p,
            rows.iter().map(|r| format!("{r}\n")).collect::<String>(),
        )
        .unwrap();
        p
    };
    let mem = read_jsonl(&fix.join("members.jsonl"));
    let non = read_jsonl(&fix.join("nonmembers.jsonl"));
    // each record its own person, so each record test is held to α itself
    let own = |rs: &[serde_json::Value]| -> Vec<serde_json::Value> {
        rs.iter()
            .map(|r| {
                let mut r = r.clone();
                r["person"] = r["id"].clone();
                r
            })
            .collect()
    };
    let members = write("members.jsonl", &own(&mem[..20]));
    let heldout = write("heldout.jsonl", &own(&non[..20]));
    let cal = write("cal.jsonl", &non[20..100]);
    let prefix = write("prefix.jsonl", &non[100..110]);
    let model = fix.join("model");
    let check = |records: &std::path::Path, extra: &[&str], name: &str| {
        let out = tmp.path().join(name);
        let mut a = vec![
            "-q",
            "forget-check",
            "--device",
            "cpu",
            "-m",
            model.to_str().unwrap(),
            "--records",
            records.to_str().unwrap(),
            "--calibration",
            cal.to_str().unwrap(),
            "--alpha",
            "0.05",
            "--out",
            out.to_str().unwrap(),
        ];
        a.extend_from_slice(extra);
        memscan(&a)
    };
    // one shot: it fits the context beside every text, so the prefix does not depend
    // on the judged texts' mean length (which differs between the two commands' inputs)
    let attack = [
        "--record-signal",
        "recall",
        "--recall-prefix",
        prefix.to_str().unwrap(),
        "--recall-shots",
        "1",
    ];
    let mut rejected = Vec::new();
    for (records, name) in [(&members, "m"), (&heldout, "h")] {
        let o = check(records, &attack, name);
        assert!(o.status.code().is_some_and(|c| c <= 1), "{}", stderr(&o));
        let r = report_json(&tmp.path().join(name));
        let tests: Vec<serde_json::Value> = r["records"]
            .as_array()
            .unwrap()
            .iter()
            .map(|x| x["tests"][0].clone())
            .collect();
        assert!(
            tests.iter().all(|t| t["name"] == "record:recall"),
            "{:?}",
            tests[0]
        );
        rejected.push(tests.iter().filter(|t| t["rejected"] == true).count());
        if name == "m" {
            // the same value as memscan score's recall with the same shot
            let out = tmp.path().join("score.jsonl");
            let s = memscan(&[
                "-q",
                "score",
                "--device",
                "cpu",
                "-m",
                model.to_str().unwrap(),
                "-i",
                members.to_str().unwrap(),
                "--recall-prefix",
                prefix.to_str().unwrap(),
                "--recall-shots",
                "1",
                "-o",
                out.to_str().unwrap(),
            ]);
            assert!(s.status.success(), "{}", stderr(&s));
            for (t, line) in tests.iter().zip(read_jsonl(&out)) {
                let (a, b) = (
                    t["value"].as_f64().unwrap(),
                    line["recall"].as_f64().unwrap(),
                );
                assert!((a - b).abs() < 1e-9, "{a} vs {b}");
            }
        }
    }
    // members memorized outright: nearly all rejected; held-out: about α of 20
    assert!(rejected[0] >= 18, "members rejected {}", rejected[0]);
    assert!(rejected[1] <= 3, "held-out rejected {}", rejected[1]);
    // what forget-check cannot compute is refused, naming the flag
    assert_input_error(
        &check(&members, &["--record-signal", "lira"], "x1"),
        "--record-signal lira",
    );
    assert_input_error(
        &check(&members, &["--record-signal", "recall"], "x2"),
        "--record-signal recall",
    );
    assert_input_error(
        &check(
            &members,
            &[
                "--population",
                prefix.to_str().unwrap(),
                "--reference-model",
                model.to_str().unwrap(),
            ],
            "x3",
        ),
        "--population",
    );
    let o = memscan(&[
        "-q",
        "forget-check",
        "--device",
        "cpu",
        "-m",
        model.to_str().unwrap(),
        "--records",
        members.to_str().unwrap(),
        "--token-freq",
        prefix.to_str().unwrap(),
        "--out",
        tmp.path().join("x4").to_str().unwrap(),
    ]);
    assert_input_error(&o, "needs --calibration");
}

/// Several reference models in forget-check: the record test on `lira` (two
/// references) and on `rmia` (with `--population`) takes the value `memscan score`
/// gives the same record with the same references and population (score's LiRA and
/// RMIA are checked against the published formulas in tests/attacks.rs). One
/// reference refuses `lira`.
#[test]
fn record_test_with_several_references() {
    let fix = root().join("tests/fixture");
    let data = reference_data();
    let tmp = tempfile::tempdir().unwrap();
    let write = |name: &str, rows: &[serde_json::Value]| {
        let p = tmp.path().join(name);
        std::fs::write(
            &p,
            rows.iter().map(|r| format!("{r}\n")).collect::<String>(),
        )
        .unwrap();
        p
    };
    let mem = read_jsonl(&fix.join("members.jsonl"));
    let non = read_jsonl(&fix.join("nonmembers.jsonl"));
    let records = write("records.jsonl", &mem[..6]);
    let cal = write("cal.jsonl", &non[20..60]);
    let pop = write("pop.jsonl", &non[100..130]);
    let model = fix.join("model");
    let (r1, r2) = (data.join("tiny-gpt2"), data.join("tiny-qwen2"));
    let refs = [
        "--reference-model",
        r1.to_str().unwrap(),
        "--reference-model",
        r2.to_str().unwrap(),
    ];
    for (signal, extra) in [
        ("lira", vec![]),
        ("rmia", vec!["--population", pop.to_str().unwrap()]),
    ] {
        let out = tmp.path().join(signal);
        let mut a = vec![
            "-q",
            "forget-check",
            "--device",
            "cpu",
            "-m",
            model.to_str().unwrap(),
            "--records",
            records.to_str().unwrap(),
            "--calibration",
            cal.to_str().unwrap(),
            "--record-signal",
            signal,
            "--out",
            out.to_str().unwrap(),
        ];
        a.extend(refs);
        a.extend(extra.iter().copied());
        let o = memscan(&a);
        assert!(o.status.code().is_some_and(|c| c <= 1), "{}", stderr(&o));
        let r = report_json(&out);
        let scores = tmp.path().join(format!("{signal}.jsonl"));
        let mut s = vec![
            "-q",
            "score",
            "--device",
            "cpu",
            "-m",
            model.to_str().unwrap(),
            "-i",
            records.to_str().unwrap(),
            "-o",
            scores.to_str().unwrap(),
        ];
        s.extend(refs);
        s.extend(extra.iter().copied());
        let o = memscan(&s);
        assert!(o.status.success(), "{}", stderr(&o));
        let want = read_jsonl(&scores);
        let got = r["records"].as_array().unwrap();
        assert_eq!(got.len(), want.len());
        for (g, w) in got.iter().zip(&want) {
            let t = g["tests"]
                .as_array()
                .unwrap()
                .iter()
                .find(|t| t["name"] == format!("record:{signal}"))
                .unwrap_or_else(|| panic!("no record:{signal} test in {g}"));
            let (a, b) = (t["value"].as_f64().unwrap(), w[signal].as_f64().unwrap());
            assert!(
                (a - b).abs() <= 1e-9 * b.abs().max(1.0),
                "{signal}: {a} vs {b}"
            );
            assert_eq!(t["n_null"], 40);
        }
    }
    let mut a = vec![
        "-q",
        "forget-check",
        "--device",
        "cpu",
        "-m",
        model.to_str().unwrap(),
        "--records",
        records.to_str().unwrap(),
        "--calibration",
        cal.to_str().unwrap(),
        "--record-signal",
        "lira",
        "--out",
    ];
    let x = tmp.path().join("x");
    a.push(x.to_str().unwrap());
    a.extend(&refs[..2]);
    assert_input_error(&memscan(&a), "--record-signal lira");
}
