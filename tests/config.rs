//! memscan.toml: settings from the file reach the command, the command line overrides
//! them (long and short flags), `config --show` prints where each value comes from, and
//! a typo or a bad file exits 2 naming the file and the key.

mod common;
use common::*;
use std::process::Command;

fn run_in(dir: &std::path::Path, args: &[&str]) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_memscan"))
        .current_dir(dir)
        .env_remove("MEMSCAN_CONFIG")
        .args(args)
        .output()
        .unwrap()
}

#[test]
fn config_file_settings_and_overrides() {
    let tmp = tempfile::tempdir().unwrap();
    let t = tmp.path();
    let model = root().join("tests/fixture/model");
    std::fs::write(
        t.join("memscan.toml"),
        format!(
            "quiet = true\n[scan]\nmodel = {:?}\ndevice = \"cpu\"\nsamples_per_prompt = 3\nmax-new-tokens = 16\nseed = 5\nprompts = [\"pii\", \"secrets\"]\n",
            model.display().to_string()
        ),
    )
    .unwrap();
    std::fs::write(
        t.join("p.jsonl"),
        "{\"id\": \"p\", \"text\": \"Ines Dahl from\"}\n",
    )
    .unwrap();
    // the command line's --max-new-tokens and --prompts win; the rest from the file
    let o = run_in(
        t,
        &[
            "scan",
            "--prompts",
            "p.jsonl",
            "--max-new-tokens",
            "4",
            "--out",
            "a",
        ],
    );
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert!(o.stderr.is_empty(), "quiet = true: {}", stderr(&o));
    let r = report_json(&t.join("a"));
    let s = &r["settings"];
    assert_eq!(s["samples_per_prompt"], 3, "{s}");
    assert_eq!(s["max_new_tokens"], 4, "{s}");
    assert_eq!(s["seed"], 5, "{s}");
    // the command line's --prompts replaces the file's list (one prompt × 3 samples)
    assert_eq!(r["summary"]["samples"], 3, "{}", r["summary"]);
    assert!(r["model"]["path"]
        .as_str()
        .unwrap()
        .ends_with("tests/fixture/model"));
    // a short flag overrides the file's long one (-m for model): a missing model exits 2
    let o = run_in(
        t,
        &[
            "scan",
            "--prompts",
            "p.jsonl",
            "-m",
            "no-such-model",
            "--out",
            "b",
        ],
    );
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    assert!(stderr(&o).contains("no-such-model"), "{}", stderr(&o));
    // --no-config: the default model and settings again; config --show tells the sources
    let o = run_in(t, &["config", "--show", "scan"]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let show = String::from_utf8_lossy(&o.stdout);
    assert!(
        show.contains("samples_per_prompt = 3  # config file"),
        "{show}"
    );
    assert!(
        show.contains("max_new_tokens = 16  # config file"),
        "{show}"
    );
    assert!(show.contains("top_k = 40  # default"), "{show}");
    assert!(show.contains("quiet = true  # config file"), "{show}");
    let o = run_in(t, &["--no-config", "config", "--show", "scan"]);
    let show = String::from_utf8_lossy(&o.stdout);
    assert!(
        show.contains("no config file") && show.contains("max_new_tokens = 64  # default"),
        "{show}"
    );
    // mistakes: an unknown key, an unknown command table, a switch given a string, bad TOML
    for (body, needle) in [
        (
            "[scan]\nmax_new_tokns = 1\n",
            "unknown setting `max_new_tokns` in [scan]",
        ),
        ("[scna]\nseed = 1\n", "[scna]"),
        ("[scan]\ngreedy = \"yes\"\n", "is a switch"),
        ("[scan\n", "not a valid TOML config"),
        ("quiett = true\n", "unknown setting `quiett` at the top"),
    ] {
        std::fs::write(t.join("bad.toml"), body).unwrap();
        let o = run_in(t, &["--config", "bad.toml", "scan", "--prompts", "p.jsonl"]);
        assert_input_error(&o, needle);
        assert!(stderr(&o).contains("bad.toml"), "{}", stderr(&o));
    }
}
