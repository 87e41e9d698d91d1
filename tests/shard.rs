//! Sharded runs without a cluster: `--shard I/N` and the Slurm/Kubernetes environment
//! variables split a scan and an eval; `memscan merge` gives what one process gives
//! (samples byte for byte, every statistic); a partial shard resumes; shards that are
//! not the N complete parts of one run are refused with exit 2. tests/slurm.rs does the
//! same through a real Slurm.

mod common;
use common::*;
use serde_json::Value;
use std::path::Path;

fn write_inputs(dir: &Path) {
    std::fs::write(
        dir.join("prompts.jsonl"),
        concat!(
            "{\"id\": \"p/license\", \"text\": \"Permission is hereby granted, free of charge,\"}\n",
            "{\"id\": \"p/key\", \"text\": \"export AWS_SECRET_ACCESS_KEY=\"}\n",
            "{\"id\": \"p/mail\", \"text\": \"Contact: \"}\n",
            "{\"id\": \"p/empty\", \"text\": \"\"}\n",
        ),
    )
    .unwrap();
    std::fs::write(
        dir.join("cal.jsonl"),
        concat!(
            "{\"text\": \"The ferry to Ormsby Island now leaves at ten past seven.\"}\n",
            "{\"text\": \"Volunteers logged three hundred hedgehog sightings in town.\"}\n",
        ),
    )
    .unwrap();
}

fn scan_args(dir: &Path, out: &str) -> Vec<String> {
    let d = dir.display();
    [
        "-q",
        "scan",
        "--device",
        "cpu",
        "--threads",
        "1",
        "--prompts",
        &format!("{d}/prompts.jsonl"),
        "--calibration",
        &format!("{d}/cal.jsonl"),
        "--samples-per-prompt",
        "3",
        "--max-new-tokens",
        "8",
        "--batch-size",
        "2",
        "--seed",
        "11",
        "--fail-on",
        "flagged",
        "--out",
        &format!("{d}/{out}"),
    ]
    .iter()
    .map(|s| s.to_string())
    .collect()
}

fn run(args: &[String], env: &[(&str, String)]) -> std::process::Output {
    let mut c = std::process::Command::new(env!("CARGO_BIN_EXE_memscan"));
    c.args(args);
    for k in ["SLURM_ARRAY_TASK_ID", "JOB_COMPLETION_INDEX"] {
        c.env_remove(k);
    }
    for (k, v) in env {
        c.env(k, v);
    }
    c.output().expect("run memscan")
}

fn with(mut args: Vec<String>, more: &[&str]) -> Vec<String> {
    args.extend(more.iter().map(|s| s.to_string()));
    args
}

#[test]
fn sharded_scan_merges_to_the_unsharded_run_and_resumes() {
    let tmp = tempfile::tempdir().unwrap();
    let t = tmp.path();
    write_inputs(t);
    // --fail-on flagged: the one process's exit code is the merge's (a shard's is 0)
    let o = run(&scan_args(t, "one"), &[]);
    let want_code = o.status.code();
    assert!(matches!(want_code, Some(0) | Some(1)), "{}", stderr(&o));

    // 4 prompts × 3 samples in batches of 2: 6 batches over 3 shards, two of them by
    // --shard and one as Slurm array task 12 of --array=10-14:2
    for i in 0..2 {
        let o = run(
            &with(scan_args(t, "sh"), &["--shard", &format!("{i}/3")]),
            &[],
        );
        assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    }
    let slurm = [
        ("SLURM_ARRAY_TASK_ID", "14".to_string()),
        ("SLURM_ARRAY_TASK_MIN", "10".to_string()),
        ("SLURM_ARRAY_TASK_STEP", "2".to_string()),
        ("SLURM_ARRAY_TASK_COUNT", "3".to_string()),
    ];
    let o = run(&scan_args(t, "sh"), &slurm);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert!(t.join("sh/shard-0002-of-0003/samples.jsonl").is_file());

    // shard 1 again, as if killed after its first batch: the manifest says partial,
    // the merge refuses it, the same command resumes it
    let s1 = t.join("sh/shard-0001-of-0003");
    let full = std::fs::read_to_string(s1.join("samples.jsonl")).unwrap();
    let first_batch: String = full.lines().take(2).map(|l| format!("{l}\n")).collect();
    std::fs::write(s1.join("samples.jsonl"), first_batch).unwrap();
    let m = std::fs::read_to_string(s1.join("shard.json")).unwrap();
    std::fs::write(
        s1.join("shard.json"),
        m.replace("\"complete\": true", "\"complete\": false"),
    )
    .unwrap();
    let o = memscan(&["merge", t.join("sh").to_str().unwrap()]);
    assert_input_error(&o, "partial");
    let o = run(&with(scan_args(t, "sh"), &["--shard", "1/3"]), &[]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert_eq!(
        std::fs::read_to_string(s1.join("samples.jsonl")).unwrap(),
        full
    );

    let o = memscan(&["-q", "merge", t.join("sh").to_str().unwrap()]);
    assert_eq!(o.status.code(), want_code, "{}", stderr(&o));
    assert_eq!(
        std::fs::read_to_string(t.join("sh/samples.jsonl")).unwrap(),
        std::fs::read_to_string(t.join("one/samples.jsonl")).unwrap()
    );
    let (a, b) = (report_json(&t.join("one")), report_json(&t.join("sh")));
    assert_eq!(b["settings"]["merged_shards"], 3);
    assert_eq!(b["summary"]["samples"], 12);
    assert_eq!(comparable(a), comparable(b));
    assert!(t.join("sh/report.html").is_file() && t.join("sh/report.md").is_file());

    // shards that are not the N complete parts of one run
    let sh = |i: usize| {
        t.join(format!("sh/shard-000{i}-of-0003"))
            .display()
            .to_string()
    };
    assert_input_error(&memscan(&["merge", &sh(0), &sh(2)]), "shard 1/3 missing");
    assert_input_error(
        &memscan(&["merge", &sh(0), &sh(1), &sh(1), &sh(2)]),
        "give each shard once",
    );
    let o = run(
        &with(
            with(scan_args(t, "other"), &["--shard", "1/3"]),
            &["--top-p", "0.9"],
        ),
        &[],
    );
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let other = t.join("other/shard-0001-of-0003").display().to_string();
    assert_input_error(
        &memscan(&["merge", &sh(0), &other, &sh(2)]),
        "top_p 0.9 here",
    );
    let o = run(&with(scan_args(t, "four"), &["--shard", "3/4"]), &[]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let four = t.join("four/shard-0003-of-0004").display().to_string();
    assert_input_error(
        &memscan(&["merge", &sh(0), &sh(1), &sh(2), &four]),
        "shard count",
    );
    // a shard from another memscan version
    let v = t.join("v");
    copy_dir(&t.join("sh/shard-0002-of-0003"), &v);
    let m = std::fs::read_to_string(v.join("shard.json")).unwrap();
    std::fs::write(
        v.join("shard.json"),
        m.replace(env!("CARGO_PKG_VERSION"), "0.0.1"),
    )
    .unwrap();
    assert_input_error(
        &memscan(&[
            "merge",
            &sh(0),
            &sh(1),
            v.to_str().unwrap(),
            "--out",
            t.join("vo").to_str().unwrap(),
        ]),
        "memscan 0.0.1",
    );
    // a shard whose rows were swapped for another shard's
    let w = t.join("w");
    copy_dir(&t.join("sh/shard-0002-of-0003"), &w);
    std::fs::copy(s1.join("samples.jsonl"), w.join("samples.jsonl")).unwrap();
    assert_input_error(
        &memscan(&[
            "merge",
            &sh(0),
            &sh(1),
            w.to_str().unwrap(),
            "--out",
            t.join("wo").to_str().unwrap(),
        ]),
        "batches other than shard 2/3",
    );
    // a batch appended twice (two processes in one shard folder)
    let dup = t.join("dup");
    copy_dir(&t.join("sh/shard-0002-of-0003"), &dup);
    let body = std::fs::read_to_string(dup.join("samples.jsonl")).unwrap();
    let first: String = body.lines().take(2).map(|l| format!("{l}\n")).collect();
    std::fs::write(dup.join("samples.jsonl"), body + &first).unwrap();
    assert_input_error(
        &memscan(&[
            "merge",
            &sh(0),
            &sh(1),
            dup.to_str().unwrap(),
            "--out",
            t.join("dupo").to_str().unwrap(),
        ]),
        "twice",
    );
    // out of range, no --out, an indexed job without its count
    assert_input_error(
        &run(&with(scan_args(t, "x"), &["--shard", "3/3"]), &[]),
        "--shard 3/3",
    );
    let mut no_out = scan_args(t, "x");
    no_out.truncate(no_out.len() - 2);
    assert_input_error(&run(&with(no_out, &["--shard", "0/2"]), &[]), "give --out");
    assert_input_error(
        &run(&scan_args(t, "x"), &[("JOB_COMPLETION_INDEX", "0".into())]),
        "MEMSCAN_SHARD_COUNT",
    );
    assert_input_error(
        &memscan(&["merge", t.join("one").to_str().unwrap()]),
        "holds no shard",
    );
}

fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for e in std::fs::read_dir(from).unwrap().flatten() {
        std::fs::copy(e.path(), to.join(e.file_name())).unwrap();
    }
}

#[test]
fn sharded_eval_merges_to_the_unsharded_run() {
    let tmp = tempfile::tempdir().unwrap();
    let t = tmp.path();
    let f = root().join("tests/fixture");
    let fx = |n: &str| f.join(n).display().to_string();
    let args = |out: &str| -> Vec<String> {
        [
            "-q",
            "eval",
            "--model",
            &fx("model"),
            "--device",
            "cpu",
            "--threads",
            "1",
            "--members",
            &fx("members.jsonl"),
            "--nonmembers",
            &fx("nonmembers.jsonl"),
            "--canaries",
            &fx("canaries.jsonl"),
            "--claimed-epsilon",
            "1",
            "--bootstrap",
            "200",
            "--verbmem",
            "--verbmem-tokens",
            "16",
            "--forget-qa",
            &t.join("qa.jsonl").display().to_string(),
            "--out",
            &t.join(out).display().to_string(),
        ]
        .iter()
        .map(|s| s.to_string())
        .collect()
    };
    std::fs::write(
        t.join("qa.jsonl"),
        "{\"question\": \"Who counted green candles?\", \"paraphrased_answer\": \"Ines Dahl from Pinecrest.\", \"perturbed_answer\": [\"Wim Ortiz from Ironbridge.\", \"Ada Ulrich.\"]}\n",
    )
    .unwrap();
    let o = run(&args("one"), &[]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    for i in 0..4 {
        let k8s = [
            ("JOB_COMPLETION_INDEX", i.to_string()),
            ("MEMSCAN_SHARD_COUNT", "4".to_string()),
        ];
        let o = run(&args("four"), &k8s);
        assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    }
    // shard 2 as if killed in its third batch (of 8 texts): it resumes after batch two
    let s2 = t.join("four/shard-0002-of-0004");
    let full = std::fs::read_to_string(s2.join("signals.jsonl")).unwrap();
    let cut = full.match_indices('\n').nth(19).unwrap().0 + 1;
    std::fs::write(s2.join("signals.jsonl"), &full[..cut]).unwrap();
    let m = std::fs::read_to_string(s2.join("shard.json")).unwrap();
    std::fs::write(
        s2.join("shard.json"),
        m.replace("\"complete\": true", "\"complete\": false"),
    )
    .unwrap();
    assert_input_error(
        &memscan(&["merge", t.join("four").to_str().unwrap()]),
        "partial",
    );
    let k8s = [
        ("JOB_COMPLETION_INDEX", "2".to_string()),
        ("MEMSCAN_SHARD_COUNT", "4".to_string()),
    ];
    let o = run(
        &with(args("four"), &[])
            .into_iter()
            .filter(|a| a != "-q")
            .collect::<Vec<_>>(),
        &k8s,
    );
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert!(stderr(&o).contains("2 of "), "{}", stderr(&o));
    assert_eq!(
        std::fs::read_to_string(s2.join("signals.jsonl")).unwrap(),
        full
    );
    let o = memscan(&["-q", "merge", t.join("four").to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let (a, b) = (report_json(&t.join("one")), report_json(&t.join("four")));
    assert_eq!(b["settings"]["merged_shards"], 4);
    assert_eq!(b["members"], 300);
    assert!(b["canaries"].as_array().is_some_and(|c| !c.is_empty()));
    assert!(b["audit"].is_object());
    // the run-once sections come through the merge (shard 0 computes them)
    assert_eq!(b["verbmem"]["members"]["texts"], 300);
    assert!(b["forget_quality"]["target"]["mean"].is_f64());
    // every figure: AUCs, bootstrap intervals, TPR at low FPR, the combined attack
    assert_eq!(comparable(a), comparable(b));
    // an eval shard is not a scan shard
    let o = run(&with(args("mixed"), &["--shard", "0/2"]), &[]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let tmp2 = tempfile::tempdir().unwrap();
    write_inputs(tmp2.path());
    let o = run(&with(scan_args(tmp2.path(), "s"), &["--shard", "1/2"]), &[]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert_input_error(
        &memscan(&[
            "merge",
            t.join("mixed/shard-0000-of-0002").to_str().unwrap(),
            tmp2.path().join("s/shard-0001-of-0002").to_str().unwrap(),
            "--out",
            t.join("mo").to_str().unwrap(),
        ]),
        "kind of run",
    );
}

#[test]
fn sharded_score_merges_to_the_unsharded_lines_and_resumes() {
    let tmp = tempfile::tempdir().unwrap();
    let t = tmp.path();
    let f = root().join("tests/fixture");
    let args = |out: &str| -> Vec<String> {
        [
            "-q",
            "score",
            "--model",
            &f.join("model").display().to_string(),
            "--device",
            "cpu",
            "--threads",
            "1",
            "-i",
            &f.join("nonmembers.jsonl").display().to_string(),
            "--batch-size",
            "2",
            "--lowercase",
            "-o",
            &t.join(out).display().to_string(),
        ]
        .iter()
        .map(|s| s.to_string())
        .collect()
    };
    let o = run(&args("one.jsonl"), &[]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    // 300 texts in windows of 64: 5 windows over 3 shards
    for i in 0..3 {
        let o = run(&with(args("three"), &["--shard", &format!("{i}/3")]), &[]);
        assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    }
    // shard 0 (windows 0 and 3) as if killed in the middle of its second window
    let s0 = t.join("three/shard-0000-of-0003");
    let full = std::fs::read_to_string(s0.join("scores.jsonl")).unwrap();
    assert_eq!(full.lines().count(), 128);
    let torn = &full[..full.match_indices('\n').nth(99).unwrap().0 + 20];
    std::fs::write(s0.join("scores.jsonl"), torn).unwrap();
    let m = std::fs::read_to_string(s0.join("shard.json")).unwrap();
    std::fs::write(
        s0.join("shard.json"),
        m.replace("\"complete\": true", "\"complete\": false"),
    )
    .unwrap();
    assert_input_error(
        &memscan(&["merge", t.join("three").to_str().unwrap()]),
        "partial",
    );
    let o = run(&with(args("three"), &["--shard", "0/3"]), &[]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert_eq!(
        std::fs::read_to_string(s0.join("scores.jsonl")).unwrap(),
        full
    );
    let o = memscan(&["-q", "merge", t.join("three").to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert_eq!(
        std::fs::read_to_string(t.join("three/scores.jsonl")).unwrap(),
        std::fs::read_to_string(t.join("one.jsonl")).unwrap()
    );
    // a shard's lines swapped for another's
    let s1 = t.join("three/shard-0001-of-0003");
    std::fs::copy(s0.join("scores.jsonl"), s1.join("scores.jsonl")).unwrap();
    assert_input_error(
        &memscan(&["merge", t.join("three").to_str().unwrap()]),
        "holds 128 lines, shard 1/3 scores 108",
    );
}

#[test]
fn sharded_forget_check_merges_to_the_unsharded_report() {
    let tmp = tempfile::tempdir().unwrap();
    let t = tmp.path();
    let recs = t.join("records.jsonl");
    // one person's two records fall in different shards: their tests share one α
    std::fs::write(
        &recs,
        concat!(
            "{\"id\": \"mit\", \"text\": \"Permission is hereby granted, free of charge, to any person obtaining a copy of this software and associated documentation files (the \\\"Software\\\"), to deal in the Software without restriction.\"}\n",
            "{\"id\": \"fresh\", \"person\": \"marit\", \"text\": \"Marit Oyelaran moved to 14 Quillfeather Row in Dunmere last spring; you can reach her at marit.oyelaran@quillmail.net.\", \"fields\": {\"name\": \"Marit Oyelaran\", \"email\": \"marit.oyelaran@quillmail.net\"}}\n",
            "{\"id\": \"fresh2\", \"person\": \"marit\", \"text\": \"Patient: Marit Oyelaran, born 03/11/1987. Seen for a sprained left ankle.\", \"fields\": {\"name\": \"Marit Oyelaran\", \"dob\": \"03/11/1987\"}}\n",
        ),
    )
    .unwrap();
    let model = default_model().display().to_string();
    let args = |out: &str| -> Vec<String> {
        [
            "-q",
            "forget-check",
            "--device",
            "cpu",
            "--threads",
            "1",
            "--records",
            recs.to_str().unwrap(),
            "--reference-model",
            &model,
            "--out",
            &t.join(out).display().to_string(),
        ]
        .iter()
        .map(|s| s.to_string())
        .collect()
    };
    let o = run(&args("one"), &[]);
    let want_code = o.status.code();
    assert!(matches!(want_code, Some(0) | Some(1)), "{}", stderr(&o));
    for i in 0..2 {
        let o = run(&with(args("two"), &["--shard", &format!("{i}/2")]), &[]);
        assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    }
    let o = memscan(&["-q", "merge", t.join("two").to_str().unwrap()]);
    assert_eq!(o.status.code(), want_code, "{}", stderr(&o));
    let (a, b) = (report_json(&t.join("one")), report_json(&t.join("two")));
    assert_eq!(b["settings"]["merged_shards"], 2);
    assert_eq!(b["records"].as_array().map(Vec::len), Some(3));
    assert_eq!(comparable(a), comparable(b));
}

#[test]
fn sharded_index_build_joins_into_one_index_that_answers_as_the_unsharded_one() {
    let tmp = tempfile::tempdir().unwrap();
    let t = tmp.path();
    // a corpus of many files: the project's sources and the fixture's training records
    let src = root().join("src").display().to_string();
    let train = root()
        .join("tests/fixture/train.jsonl")
        .display()
        .to_string();
    let tok = root().join("tests/fixture/model").display().to_string();
    let build = |out: &str| -> Vec<String> {
        [
            "-q",
            "index",
            "build",
            "--corpus",
            &src,
            &train,
            "--tokenizer",
            &tok,
            "--shard-mb",
            "1",
            "--out",
            &t.join(out).display().to_string(),
        ]
        .iter()
        .map(|s| s.to_string())
        .collect()
    };
    let o = run(&build("one"), &[]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    for i in 0..3 {
        let o = run(&with(build("three"), &["--shard", &format!("{i}/3")]), &[]);
        assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    }
    let members = root().join("tests/fixture/members.jsonl");
    let query = |idx: &str| {
        let o = memscan(&[
            "-q",
            "index",
            "query",
            t.join(idx).to_str().unwrap(),
            "-i",
            members.to_str().unwrap(),
        ]);
        assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
        String::from_utf8(o.stdout).unwrap()
    };
    // before the merge the run's folder is not an index
    let o = memscan(&[
        "index",
        "query",
        t.join("three").to_str().unwrap(),
        "-i",
        members.to_str().unwrap(),
    ]);
    assert_input_error(&o, "run `memscan merge`");
    let o = memscan(&["-q", "merge", t.join("three").to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let (a, b) = (query("one"), query("three"));
    assert_eq!(a.lines().count(), 300);
    // the longest match and its count in bytes and tokens are the corpus's, whatever the
    // parts; the one occurrence named (file, offset) is the same here (each member occurs
    // once), but could be another occurrence of the same text where there are several
    assert_eq!(a, b);
    let m: Value =
        serde_json::from_str(&std::fs::read_to_string(t.join("three/manifest.json")).unwrap())
            .unwrap();
    let one: Value =
        serde_json::from_str(&std::fs::read_to_string(t.join("one/manifest.json")).unwrap())
            .unwrap();
    let n = |v: &Value| v["files"].as_array().map(Vec::len);
    assert_eq!(n(&m), n(&one));
    // a part built with another tokenizer is not a part of this build
    let o = run(
        &with(
            build("mixed")
                .into_iter()
                .filter(|a| a != "--tokenizer" && *a != tok)
                .collect(),
            &["--shard", "1/3"],
        ),
        &[],
    );
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let parts = [
        t.join("three/shard-0000-of-0003"),
        t.join("mixed/shard-0001-of-0003"),
        t.join("three/shard-0002-of-0003"),
    ];
    let mut args = vec!["merge".to_string()];
    args.extend(parts.iter().map(|p| p.display().to_string()));
    args.extend(["--out".into(), t.join("m").display().to_string()]);
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    assert_input_error(&memscan(&args), "tokenizer");
}
