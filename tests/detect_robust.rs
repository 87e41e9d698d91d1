//! `memscan detect` on hostile input: a 100 MB single line, invalid UTF-8, a binary
//! file, an empty file, a 10 GB sparse file, a secret straddling a chunk edge, JSONL
//! records, stdin, SARIF output and exit codes.

mod common;
use common::*;
use serde_json::Value;
use std::io::Write;

const KEY: &str = "ghp_C3J27XDCG2LmlZGEONYlgCtjfIZ4SOcMz9CP";

fn detect_jsonl(args: &[&str]) -> (Vec<Value>, std::process::Output) {
    let mut a = vec!["-q", "detect", "--format", "jsonl"];
    a.extend_from_slice(args);
    let o = memscan(&a);
    let v = String::from_utf8_lossy(&o.stdout)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    (v, o)
}

#[test]
fn hundred_mb_single_line_and_chunk_edges() {
    let d = tempfile::tempdir().unwrap();
    let p = d.path().join("line.txt");
    let mut f = std::io::BufWriter::new(std::fs::File::create(&p).unwrap());
    let chunk = 8usize << 20;
    let filler = b"lorem ipsum dolor sit amet ";
    let mut written = 0usize;
    let mut planted = Vec::new();
    // a key straddling each of the first chunk edges, and one at the very end
    for edge in [chunk, 2 * chunk, 5 * chunk] {
        let at = edge - KEY.len() / 2;
        while written + filler.len() <= at {
            f.write_all(filler).unwrap();
            written += filler.len();
        }
        f.write_all(&b"x".repeat(at - written)).unwrap();
        f.write_all(b" ").unwrap();
        written = at + 1;
        planted.push(written);
        f.write_all(KEY.as_bytes()).unwrap();
        f.write_all(b" ").unwrap();
        written += KEY.len() + 1;
    }
    while written < 100_000_000 {
        f.write_all(filler).unwrap();
        written += filler.len();
    }
    f.write_all(b" ").unwrap();
    planted.push(written + 1);
    f.write_all(KEY.as_bytes()).unwrap();
    drop(f);
    let (found, o) = detect_jsonl(&[p.to_str().unwrap()]);
    assert!(o.status.success(), "{}", stderr(&o));
    let starts: Vec<u64> = found
        .iter()
        .filter(|f| f["rule_id"] == "github-pat")
        .map(|f| f["start"].as_u64().unwrap())
        .collect();
    assert_eq!(
        starts,
        planted.iter().map(|&x| x as u64).collect::<Vec<_>>(),
        "each key once, at its offset"
    );
    assert!(found.iter().all(|f| f["line"] == 1));
}

#[test]
fn invalid_utf8_binary_empty_and_sparse() {
    let d = tempfile::tempdir().unwrap();
    let bad = d.path().join("bad.txt");
    let mut bytes = b"junk \xff\xfe\xfd token ".to_vec();
    bytes.extend_from_slice(KEY.as_bytes());
    bytes.extend_from_slice(b" \xc3\x28 more");
    std::fs::write(&bad, &bytes).unwrap();
    std::fs::write(d.path().join("empty.txt"), b"").unwrap();
    let mut bin = vec![0u8, 1, 2, 3, 0, 0];
    bin.extend_from_slice(KEY.as_bytes());
    std::fs::write(d.path().join("blob.bin"), &bin).unwrap();
    // 10 GB sparse file: all zeros, must be skipped without reading it all
    let sparse = d.path().join("sparse.img");
    std::fs::File::create(&sparse)
        .unwrap()
        .set_len(10 << 30)
        .unwrap();
    let t0 = std::time::Instant::now();
    let (found, o) = detect_jsonl(&[d.path().to_str().unwrap()]);
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(t0.elapsed().as_secs() < 60);
    assert_eq!(found.len(), 1, "{found:?}");
    assert!(found[0]["path"].as_str().unwrap().ends_with("bad.txt"));
    assert_eq!(
        found[0]["start"].as_u64().unwrap(),
        bytes.windows(4).position(|w| w == b"ghp_").unwrap() as u64
    );
}

#[test]
fn jsonl_records_stdin_masking_and_exit_codes() {
    let d = tempfile::tempdir().unwrap();
    let p = d.path().join("records.jsonl");
    std::fs::write(
        &p,
        format!("{{\"id\": \"r1\", \"text\": \"nothing here\"}}\n{{\"id\": \"r2\", \"text\": \"mail maria.lopez88@gmail.com\\nkey {KEY}\"}}\n"),
    )
    .unwrap();
    let (found, o) = detect_jsonl(&["--fail-on", "secret", p.to_str().unwrap()]);
    assert_eq!(
        o.status.code(),
        Some(1),
        "secret found with --fail-on secret"
    );
    assert_eq!(found.len(), 2);
    let key = found.iter().find(|f| f["category"] == "secret").unwrap();
    assert_eq!(key["id"], "r2");
    assert_eq!(key["line"], 2);
    assert_eq!(key["column"], 5);
    assert!(
        !key["masked"].as_str().unwrap().contains(&KEY[6..30]),
        "masked"
    );
    let stdout = String::from_utf8_lossy(&o.stdout);
    assert!(
        !stdout.contains(KEY) && !stdout.contains("maria.lopez88"),
        "raw values leaked: {stdout}"
    );
    assert_eq!(key["fingerprint"].as_str().unwrap().len(), 64);
    // --reveal writes the raw value; --fail-on none exits 0
    let (found, o) = detect_jsonl(&["--reveal", p.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(0));
    assert!(found.iter().any(|f| f["value"] == KEY));
    // stdin
    let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_memscan"))
        .args(["-q", "detect", "--format", "json", "--fail-on", "any", "-"])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(format!("export TOKEN={KEY}\n").as_bytes())
        .unwrap();
    let out = child.wait_with_output().unwrap();
    assert_eq!(out.status.code(), Some(1));
    let doc: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(doc["schema_version"], "3.5");
    assert_eq!(doc["summary"]["findings"]["secret"], 1);
    // missing path: exit 2
    assert_input_error(
        &memscan(&["detect", "/nonexistent/dir"]),
        "/nonexistent/dir: no such file",
    );
}

/// A folder is scanned whole: its JSONL files that are not records of the text field are
/// read as text, its Parquet files without a readable text column are skipped as binary;
/// named on the command line, the same files are input errors.
#[test]
fn folder_files_that_are_not_records() {
    let dir = tempfile::tempdir().unwrap();
    let labels = dir.path().join("labels.jsonl");
    std::fs::write(
        &labels,
        format!("{{\"file\": \"a.py\", \"value\": \"{KEY}\"}}\n"),
    )
    .unwrap();
    let parquet = dir.path().join("table.parquet");
    std::fs::write(&parquet, b"PAR1 not really parquet PAR1").unwrap();
    let (found, o) = detect_jsonl(&[dir.path().to_str().unwrap()]);
    assert!(o.status.success(), "{}", stderr(&o));
    assert_eq!(found.len(), 1, "{found:?}");
    assert_eq!(found[0]["rule_id"], "github-pat");
    assert_eq!(found[0]["line"], 1);
    let o = memscan(&["-q", "detect", labels.to_str().unwrap()]);
    assert_input_error(&o, "labels.jsonl: line 1: no \"text\" field");
    let o = memscan(&["-q", "detect", parquet.to_str().unwrap()]);
    assert_input_error(&o, "table.parquet");
}

/// A CSV cell is read under its column's header: a national phone number, a 13-digit
/// card and a spaced SSN need a context word that only the header holds.
#[test]
fn table_cells_read_under_their_headers() {
    let dir = tempfile::tempdir().unwrap();
    let csv = dir.path().join("customers.csv");
    std::fs::write(
        &csv,
        "# export\nid,name,phone,card_number,ssn\r\n1,\"Hale, M\",07384 559 120,4335460179381,274 76 8698\r\n",
    )
    .unwrap();
    let (found, o) = detect_jsonl(&["--reveal", csv.to_str().unwrap()]);
    assert!(o.status.success(), "{}", stderr(&o));
    let got: Vec<(String, u64, u64, String)> = found
        .iter()
        .map(|f| {
            (
                f["rule_id"].as_str().unwrap().to_string(),
                f["line"].as_u64().unwrap(),
                f["column"].as_u64().unwrap(),
                f["value"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    let line = "1,\"Hale, M\",07384 559 120,4335460179381,274 76 8698";
    let col = |v: &str| line.find(v).unwrap() as u64 + 1;
    assert_eq!(
        got,
        vec![
            (
                "phone-national".into(),
                3,
                col("07384"),
                "07384 559 120".into()
            ),
            (
                "payment-card".into(),
                3,
                col("4335"),
                "4335460179381".into()
            ),
            (
                "us-ssn-spaced".into(),
                3,
                col("274 76"),
                "274 76 8698".into()
            ),
        ]
    );
    // a quoted cell that runs onto the next line: that line is no row of the table
    let multi = dir.path().join("notes.csv");
    std::fs::write(
        &multi,
        "ssn,notes\n536-22-8014,\"first line\n536 22 8015 was the order\"\n",
    )
    .unwrap();
    let (found, _) = detect_jsonl(&["--reveal", multi.to_str().unwrap()]);
    let values: Vec<&str> = found.iter().map(|f| f["value"].as_str().unwrap()).collect();
    assert_eq!(values, vec!["536-22-8014"]);
    // the same values in prose without their words are not reported
    let txt = dir.path().join("notes.txt");
    std::fs::write(&txt, format!("{line}\n")).unwrap();
    let (found, _) = detect_jsonl(&[txt.to_str().unwrap()]);
    assert!(found.is_empty(), "{found:?}");
}

/// One 4 MB line of dash-joined digit groups with a card at its end: the card is found
/// (the shape scanner once re-read the numeric run from every group, which took minutes
/// on such a line).
#[test]
fn long_line_of_digit_groups() {
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("groups.txt");
    let mut text = "1234-5678-9012-3456-7890 ".repeat(160_000);
    text.push_str("card 4372 1590 1092 8154\n");
    std::fs::write(&p, &text).unwrap();
    let (found, o) = detect_jsonl(&["--reveal", p.to_str().unwrap()]);
    assert!(o.status.success(), "{}", stderr(&o));
    let values: Vec<&str> = found.iter().map(|f| f["value"].as_str().unwrap()).collect();
    assert_eq!(values, vec!["4372 1590 1092 8154"]);
}

#[test]
fn sarif_is_valid_2_1_0() {
    let d = tempfile::tempdir().unwrap();
    let p = d.path().join("app.py");
    std::fs::write(
        &p,
        format!("import os\nTOKEN = \"{KEY}\"\nSSN = \"536-22-8014\"\n"),
    )
    .unwrap();
    let o = memscan(&["-q", "detect", "--format", "sarif", p.to_str().unwrap()]);
    assert!(o.status.success());
    let s: Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(s["version"], "2.1.0");
    let run = &s["runs"][0];
    assert_eq!(run["tool"]["driver"]["name"], "memscan");
    let rules = run["tool"]["driver"]["rules"].as_array().unwrap();
    let results = run["results"].as_array().unwrap();
    assert_eq!(results.len(), 2);
    for r in results {
        let idx = r["ruleIndex"].as_u64().unwrap() as usize;
        assert_eq!(rules[idx]["id"], r["ruleId"]);
        let region = &r["locations"][0]["physicalLocation"]["region"];
        assert!(region["startLine"].as_u64().unwrap() >= 2);
        assert!(r["partialFingerprints"].as_object().unwrap().len() == 1);
        assert!(!r["message"]["text"].as_str().unwrap().contains(KEY));
    }
}

#[test]
fn completions_cover_every_subcommand_and_bash_parses_them() {
    let o = memscan(&["completions", "bash"]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let script = String::from_utf8(o.stdout).unwrap();
    for sub in [
        "score",
        "detect",
        "index",
        "scan",
        "eval",
        "forget-check",
        "report",
    ] {
        assert!(script.contains(sub), "no {sub} in the bash completions");
    }
    assert!(script.contains("--known-findings"));
    let dir = tempfile::tempdir().unwrap();
    let f = dir.path().join("memscan.bash");
    std::fs::write(&f, &script).unwrap();
    let check = std::process::Command::new("bash")
        .arg("-n")
        .arg(&f)
        .output()
        .unwrap();
    assert!(
        check.status.success(),
        "{}",
        String::from_utf8_lossy(&check.stderr)
    );
    let zsh = memscan(&["completions", "zsh"]);
    assert!(String::from_utf8_lossy(&zsh.stdout).starts_with("#compdef memscan"));
    assert_eq!(memscan(&["completions", "tcsh"]).status.code(), Some(2));
}

/// GitHub tokens carry a CRC-32 checksum in their last six characters: one GitHub's
/// format makes (CredSweeper's test sample; one whose checksum Python's zlib wrote) keeps
/// the rule's confidence, one made up in the shape drops to 0.38, below
/// `--min-confidence 0.5` (after a key such as `TOKEN=` the generic-token rule still
/// reports it, at its own 0.65).
#[test]
fn github_token_checksum_sets_confidence() {
    let tmp = tempfile::tempdir().unwrap();
    let f = tmp.path().join("tokens.txt");
    std::fs::write(
        &f,
        "GITHUB_TOKEN=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\nsee ghp_F1LlqsajAIxNKu8iS2G8NPRVdD53X83RZJzz in the docs\n",
    )
    .unwrap();
    let run = |min: &str| -> Vec<Value> {
        let (v, o) = detect_jsonl(&["--reveal", "--min-confidence", min, f.to_str().unwrap()]);
        assert!(matches!(o.status.code(), Some(0 | 1)), "{}", stderr(&o));
        v
    };
    let all = run("0");
    assert_eq!(all.len(), 2, "{all:?}");
    for x in &all {
        let c = x["confidence"].as_f64().unwrap();
        let valid = x["value"].as_str().unwrap().ends_with("m1IL");
        assert!((c - if valid { 0.95 } else { 0.38 }).abs() < 1e-9, "{x}");
    }
    let sure = run("0.5");
    assert_eq!(sure.len(), 1, "{sure:?}");
    assert!(sure[0]["value"].as_str().unwrap().ends_with("m1IL"));
}

/// npm's tokens took GitHub's format (checksum included): one whose checksum Python's
/// zlib wrote keeps the rule's confidence, the rule's old example (made up) drops to
/// 0.38. An unsecured JWT (RFC 7519 §6: `alg` "none", empty signature; written with
/// Python's json + base64) is found by `jwt-unsigned` where a signed one is found by
/// `jwt` alone, and a signed header with its signature cut off by neither.
#[test]
fn npm_checksums_and_unsigned_jwts() {
    let tmp = tempfile::tempdir().unwrap();
    let f = tmp.path().join("mixed.txt");
    std::fs::write(
        &f,
        concat!(
            "//registry.npmjs.org/:_authToken=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\n",
            "old: npm_NLeK6kjcbhgN7kwjSbbciSPOcSeVce2LWxm0\n",
            "GET /api/me HTTP/1.1\nAuthorization: Bearer eyJhbGciOiJub25lIiwidHlwIjoiSldUIn0.eyJzdWIiOiI4ODQxMjAzIiwicm9sZSI6ImFkbWluIiwiaWF0IjoxNzE2MjM5MDIyfQ.\n",
            "const t = 'eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiI4ODQxMjAzIn0.c2lnbmF0dXJlLWJ5dGVzLWhlcmU';\n",
            "cut: eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiI4ODQxMjAzIn0.\n",
            "2024-05-20 21:03:42 issued eyJhbGciOiJub25lIn0.eyJ1c2VyX2lkIjo0MjExNywiZW1haWwiOiJyLm9rYWZvckBrZXN0cmVsbWFpbC5uZXQiLCJleHAiOjE4OTM0NTYwMDB9. to client 7\n",
        ),
    )
    .unwrap();
    let (v, o) = detect_jsonl(&["--reveal", "--min-confidence", "0", f.to_str().unwrap()]);
    assert!(matches!(o.status.code(), Some(0 | 1)), "{}", stderr(&o));
    let of = |line: u64| -> Vec<(&str, f64)> {
        v.iter()
            .filter(|x| x["line"] == line)
            .map(|x| {
                (
                    x["rule_id"].as_str().unwrap(),
                    x["confidence"].as_f64().unwrap(),
                )
            })
            .collect()
    };
    assert_eq!(of(1), vec![("npm-token", 0.95)]);
    let old = of(2);
    assert!(
        old.iter()
            .any(|&(r, c)| r == "npm-token" && (c - 0.38).abs() < 1e-9),
        "{old:?}"
    );
    // after `Authorization: Bearer` the header rule's finding (0.8) covers it
    assert_eq!(of(4).len(), 1, "{:?}", of(4));
    assert_eq!(of(7), vec![("jwt-unsigned", 0.6)]);
    assert_eq!(of(5).iter().map(|x| x.0).collect::<Vec<_>>(), vec!["jwt"]);
    assert!(of(6).iter().all(|x| !x.0.starts_with("jwt")), "{:?}", of(6));
}
