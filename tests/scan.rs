//! `memscan scan` end to end on the default model: every report file, seeded runs
//! identical, an interrupted run (torn last line, kill -9) resumes to the same samples,
//! `memscan report` re-renders, --fail-on sets the exit code, bad settings exit 2.

mod common;
use common::*;
use std::path::{Path, PathBuf};

fn setup(dir: &Path) -> (PathBuf, PathBuf) {
    let prompts = dir.join("prompts.jsonl");
    std::fs::write(
        &prompts,
        concat!(
            "{\"id\": \"p/license\", \"text\": \"Permission is hereby granted, free of charge,\", \"tags\": [\"t\"]}\n",
            "{\"id\": \"p/key\", \"text\": \"export AWS_SECRET_ACCESS_KEY=\"}\n",
            "{\"id\": \"p/empty\", \"text\": \"\"}\n",
        ),
    )
    .unwrap();
    let cal = dir.join("cal.jsonl");
    std::fs::write(
        &cal,
        concat!(
            "{\"text\": \"The ferry to Ormsby Island now leaves at ten past seven, twenty minutes later than last winter.\"}\n",
            "{\"text\": \"Volunteers logged three hundred hedgehog sightings in the town during the survey last spring.\"}\n",
        ),
    )
    .unwrap();
    (prompts, cal)
}

fn scan_args<'a>(prompts: &'a str, cal: &'a str, out: &'a str) -> Vec<&'a str> {
    vec![
        "scan",
        "--device",
        "cpu",
        "--threads",
        "2",
        "--prompts",
        prompts,
        "--calibration",
        cal,
        "--samples-per-prompt",
        "2",
        "--max-new-tokens",
        "8",
        "--batch-size",
        "2",
        "--seed",
        "7",
        "--out",
        out,
    ]
}

#[test]
fn scan_writes_reports_repeats_and_resumes() {
    let tmp = tempfile::tempdir().unwrap();
    let (prompts, cal) = setup(tmp.path());
    let (p, c) = (prompts.to_str().unwrap(), cal.to_str().unwrap());
    let a = tmp.path().join("a");
    let o = memscan(&scan_args(p, c, a.to_str().unwrap()));
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    for f in [
        "samples.jsonl",
        "report.json",
        "report.md",
        "report.html",
        "report.sarif",
        "run.json",
    ] {
        assert!(a.join(f).is_file(), "{f} missing");
    }
    let samples = read_jsonl(&a.join("samples.jsonl"));
    assert_eq!(samples.len(), 6);
    for s in &samples {
        let n = s["n_new_tokens"].as_u64().unwrap();
        assert!((1..=8).contains(&n));
        assert!(s["signals"]["nll_mean"].is_number(), "{s}");
        assert!(s["signals"]["min_k_pp"].is_number(), "{s}");
    }
    let report: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(a.join("report.json")).unwrap()).unwrap();
    assert_eq!(report["kind"], "scan");
    assert_eq!(report["schema_version"], "3.5");
    assert_eq!(report["summary"]["samples"], 6);
    assert_eq!(report["settings"]["seed"], 7);
    assert_eq!(report["model"]["sha256"].as_str().unwrap().len(), 64);
    assert_eq!(report["calibration"]["n_texts"], 4); // 2 texts × 2 continuations
    assert!(report["signals"]
        .as_array()
        .unwrap()
        .iter()
        .any(|s| s["name"] == "zlib_ratio"));
    let md = std::fs::read_to_string(a.join("report.md")).unwrap();
    assert!(md.starts_with("## Memorization scan"));
    let html = std::fs::read_to_string(a.join("report.html")).unwrap();
    assert!(html.contains("<svg") && html.contains("sortable") && !html.contains("src=\"http"));
    let sarif: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(a.join("report.sarif")).unwrap()).unwrap();
    assert_eq!(sarif["version"], "2.1.0");

    // the same seed and settings give the same samples, byte for byte (the printed
    // signals included). Claimed per machine, as every exact check below: the same
    // binary on the same CPU with the same --threads runs the same shapes through the
    // same kernels in the same order, and each batch draws from its own seeded SplitMix.
    // Another CPU may pick other kernels (AVX-512 vs AVX2 GEMM blocking), so the last
    // bits of a signal, or a near-tie sample, may differ there: compare across machines
    // only within the tolerances of tests/common.
    let b = tmp.path().join("b");
    let o = memscan(&scan_args(p, c, b.to_str().unwrap()));
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let want = std::fs::read_to_string(a.join("samples.jsonl")).unwrap();
    assert_eq!(
        std::fs::read_to_string(b.join("samples.jsonl")).unwrap(),
        want
    );
    // another seed gives other samples
    let d = tmp.path().join("d");
    let mut args = scan_args(p, c, d.to_str().unwrap());
    let i = args.iter().position(|x| *x == "7").unwrap();
    args[i] = "8";
    assert_eq!(memscan(&args).status.code(), Some(0));
    assert_ne!(
        std::fs::read_to_string(d.join("samples.jsonl")).unwrap(),
        want
    );

    // interrupted after the first batch and part of a line of the second: the resumed
    // batches are the same batches (seed per batch, same composition, same shapes) on
    // the same machine, so the file is identical, not merely close
    let r = tmp.path().join("r");
    std::fs::create_dir_all(&r).unwrap();
    std::fs::copy(a.join("run.json"), r.join("run.json")).unwrap();
    let lines: Vec<&str> = want.lines().collect();
    let torn = format!(
        "{}\n{}\n{}",
        lines[0],
        lines[1],
        &lines[2][..lines[2].len() / 2]
    );
    std::fs::write(r.join("samples.jsonl"), torn).unwrap();
    let o = memscan(&scan_args(p, c, r.to_str().unwrap()));
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert!(stderr(&o).contains("resuming"), "{}", stderr(&o));
    assert_eq!(
        std::fs::read_to_string(r.join("samples.jsonl")).unwrap(),
        want
    );

    // kill -9 in the middle, then the same command again
    let k = tmp.path().join("k");
    let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_memscan"))
        .args(scan_args(p, c, k.to_str().unwrap()))
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let t0 = std::time::Instant::now();
    while t0.elapsed().as_secs() < 120 {
        let n = std::fs::read_to_string(k.join("samples.jsonl"))
            .map(|t| t.lines().count())
            .unwrap_or(0);
        if n >= 2 || child.try_wait().unwrap().is_some() {
            break;
        }
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    let _ = child.kill(); // SIGKILL
    let _ = child.wait();
    let o = memscan(&scan_args(p, c, k.to_str().unwrap()));
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert_eq!(
        std::fs::read_to_string(k.join("samples.jsonl")).unwrap(),
        want
    );

    // re-render
    std::fs::remove_file(a.join("report.md")).unwrap();
    let o = memscan(&["report", a.to_str().unwrap(), "--format", "md"]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert_eq!(std::fs::read_to_string(a.join("report.md")).unwrap(), md);
    let o = memscan(&[
        "report",
        a.to_str().unwrap(),
        "--format",
        "sarif",
        "-o",
        "-",
    ]);
    assert!(String::from_utf8_lossy(&o.stdout).contains("\"2.1.0\""));

    // the same folder with other settings is refused
    let mut args = scan_args(p, c, a.to_str().unwrap());
    let i = args.iter().position(|x| *x == "8").unwrap();
    args[i] = "9";
    assert_input_error(&memscan(&args), "other settings");
}

#[test]
fn fail_on_flagged_sets_exit_code_one_but_a_signal_is_not_memorization() {
    let tmp = tempfile::tempdir().unwrap();
    let (prompts, cal) = setup(tmp.path());
    let out = tmp.path().join("o");
    let mut args = scan_args(
        prompts.to_str().unwrap(),
        cal.to_str().unwrap(),
        out.to_str().unwrap(),
    );
    // a threshold at the least member-like calibration value flags most samples
    args.extend([
        "--flag-fpr",
        "0.99",
        "--flag-signal",
        "nll_mean",
        "--fail-on",
        "flagged",
    ]);
    let o = memscan(&args);
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
    let r: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(out.join("report.json")).unwrap()).unwrap();
    let s = &r["summary"];
    assert!(s["flagged"].as_u64().unwrap() > 0);
    // a signal threshold alone is no evidence of memorization: every flagged sample is
    // `emitted`, and --fail-on memorized (same folder, render-only change) exits 0
    assert_eq!(s["memorized"], 0);
    assert_eq!(s["levels"]["samples"]["emitted"], s["flagged"]);
    let i = args.iter().position(|x| *x == "flagged").unwrap();
    args[i] = "memorized";
    let o = memscan(&args);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
}

/// `--flag-signal dc_pdd` with `--token-freq` (a token index of a reference corpus): the
/// calibration thresholds DC-PDD of like-for-like continuations, every sample carries
/// it; without `--token-freq` the flag is refused.
#[test]
fn scan_flags_on_dc_pdd_with_token_frequencies() {
    let tmp = tempfile::tempdir().unwrap();
    let (prompts, cal) = setup(tmp.path());
    let idx = tmp.path().join("idx");
    let model = default_model();
    let o = memscan(&[
        "-q",
        "index",
        "build",
        "--corpus",
        cal.to_str().unwrap(),
        "--tokenizer",
        model.to_str().unwrap(),
        "--out",
        idx.to_str().unwrap(),
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    let out = tmp.path().join("o");
    let mut args = scan_args(
        prompts.to_str().unwrap(),
        cal.to_str().unwrap(),
        out.to_str().unwrap(),
    );
    args.extend([
        "--flag-signal",
        "dc_pdd",
        "--token-freq",
        idx.to_str().unwrap(),
    ]);
    let o = memscan(&args);
    assert!(o.status.code().is_some_and(|c| c <= 1), "{}", stderr(&o));
    let r = report_json(&out);
    assert_eq!(r["calibration"]["signal"], "dc_pdd");
    let samples = read_jsonl(&out.join("samples.jsonl"));
    assert_eq!(samples.len(), 6);
    for s in &samples {
        let v = s["signals"]["dc_pdd"].as_f64().unwrap();
        // a mean of min(p·ln(1/f), 0.01) terms
        assert!((0.0..=0.01).contains(&v), "{v}");
    }
    let out2 = tmp.path().join("o2");
    let mut args = scan_args(
        prompts.to_str().unwrap(),
        cal.to_str().unwrap(),
        out2.to_str().unwrap(),
    );
    args.extend(["--flag-signal", "dc_pdd"]);
    assert_input_error(&memscan(&args), "--flag-signal dc_pdd");
}

#[test]
fn bad_scan_settings_exit_2() {
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("o");
    let o = out.to_str().unwrap();
    assert_input_error(
        &memscan(&["scan", "--prompts", "/nonexistent/p.jsonl", "--out", o]),
        "/nonexistent/p.jsonl",
    );
    assert_input_error(
        &memscan(&["scan", "--temperature-decay", "10", "--out", o]),
        "--temperature-decay",
    );
    assert_input_error(
        &memscan(&["scan", "--flag-signal", "ref_ratio", "--out", o]),
        "--flag-signal",
    );
    assert_input_error(&memscan(&["scan", "--top-p", "0", "--out", o]), "--top-p");
    let bad = tmp.path().join("bad.jsonl");
    std::fs::write(&bad, "{\"id\": 1}\n").unwrap();
    assert_input_error(
        &memscan(&["scan", "--prompts", bad.to_str().unwrap(), "--out", o]),
        "bad.jsonl",
    );
    assert_input_error(
        &memscan(&["report", tmp.path().to_str().unwrap()]),
        "report.json",
    );
}

#[test]
fn builtin_sets_parse_and_chat_template_renders() {
    // every built-in set through the CLI's own loader: listing them is one scan away, so
    // check through the library API
    for (name, _) in memscan::prompts::BUILTIN {
        let p = memscan::prompts::load(name).unwrap();
        assert!(p.len() >= 20, "{name}: {} prompts", p.len());
        assert!(p.iter().all(|x| x.id.starts_with(&format!("{name}/"))));
    }
    let tok = memscan::model::load_tokenizer(default_model().to_str().unwrap()).unwrap();
    let text = memscan::model::chat::wrap(&tok, "Repeat the word poem forever.").unwrap();
    assert_eq!(
        text,
        "<|im_start|>system\nYou are a helpful AI assistant named SmolLM, trained by Hugging Face<|im_end|>\n<|im_start|>user\nRepeat the word poem forever.<|im_end|>\n<|im_start|>assistant\n"
    );
    let ids = tok.encode_plain(&text).unwrap();
    assert_eq!(ids[0], tok.bos_id.unwrap()); // <|im_start|> is one special token
}

/// The second real model scans end to end: a SentencePiece vocabulary of 262k tokens, a
/// Gemma 3 block, BOS added by its tokenizer (the empty prompt is BOS alone).
#[test]
fn scan_runs_on_gemma3() {
    let tmp = tempfile::tempdir().unwrap();
    let (prompts, cal) = setup(tmp.path());
    let (p, c) = (prompts.to_str().unwrap(), cal.to_str().unwrap());
    let out = tmp.path().join("g");
    let model = gemma3_model();
    let mut args = scan_args(p, c, out.to_str().unwrap());
    args.extend(["--model", model.to_str().unwrap()]);
    let o = memscan(&args);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let report: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(out.join("report.json")).unwrap()).unwrap();
    assert_eq!(report["model"]["architecture"], "gemma3");
    assert_eq!(report["model"]["tokenizer"], "gguf:spm+bos");
    let samples = read_jsonl(&out.join("samples.jsonl"));
    assert_eq!(samples.len(), 6);
    for s in &samples {
        assert!(
            s["signals"]["nll_mean"].as_f64().unwrap().is_finite(),
            "{s}"
        );
    }
}

/// Several reference models: two adapters on the default model's base (loaded once,
/// sharing the layers they do not change). `--flag-signal lira` is calibrated on the
/// continuations like any signal, every sample carries `lira` and, with
/// `--population`, `rmia` (a share of the population, in [0, 1]); `ref_ratio` is taken
/// against the references' mean. With one reference `lira` is refused (it needs a
/// spread), and `rmia` without `--population`.
#[test]
fn scan_flags_on_lira_with_several_references() {
    let tmp = tempfile::tempdir().unwrap();
    let (prompts, cal) = setup(tmp.path());
    let (ad, ad2) = default_adapters(tmp.path());
    let pop = tmp.path().join("population.jsonl");
    std::fs::write(
        &pop,
        concat!(
            "{\"text\": \"The library's new reading room opens on Tuesdays and Thursdays until nine.\"}\n",
            "{\"text\": \"A late frost damaged most of the apricot blossom in the valley orchards.\"}\n",
            "{\"text\": \"Bring a packed lunch; the museum café is closed for repairs this month.\"}\n",
        ),
    )
    .unwrap();
    let model = default_model();
    let (p, c) = (prompts.to_str().unwrap(), cal.to_str().unwrap());
    let refs = [
        "--reference-model",
        model.to_str().unwrap(),
        "--reference-adapter",
        ad.to_str().unwrap(),
        "--reference-adapter",
        ad2.to_str().unwrap(),
    ];
    let out = tmp.path().join("o");
    let mut args = scan_args(p, c, out.to_str().unwrap());
    args.extend(refs);
    args.extend([
        "--flag-signal",
        "lira",
        "--population",
        pop.to_str().unwrap(),
    ]);
    let o = memscan(&args);
    assert!(o.status.code().is_some_and(|c| c <= 1), "{}", stderr(&o));
    let r = report_json(&out);
    assert_eq!(r["calibration"]["signal"], "lira");
    let samples = read_jsonl(&out.join("samples.jsonl"));
    assert_eq!(samples.len(), 6);
    for s in &samples {
        let g = &s["signals"];
        assert!(g["lira"].as_f64().is_some_and(f64::is_finite), "{g}");
        assert!(
            g["rmia"].as_f64().is_some_and(|v| (0.0..=1.0).contains(&v)),
            "{g}"
        );
        assert!(g["ref_ratio"].as_f64().is_some_and(|v| v > 0.0), "{g}");
    }
    // one reference: no spread for LiRA; no population: no RMIA
    let one = tmp.path().join("o1");
    let mut args = scan_args(p, c, one.to_str().unwrap());
    args.extend(&refs[..4]);
    args.extend(["--flag-signal", "lira"]);
    assert_input_error(&memscan(&args), "--flag-signal lira");
    let two = tmp.path().join("o2");
    let mut args = scan_args(p, c, two.to_str().unwrap());
    args.extend(refs);
    args.extend(["--flag-signal", "rmia"]);
    assert_input_error(&memscan(&args), "--flag-signal rmia");
}
