//! Corpora as they are shipped: gzip (Dolma's `.json.gz`), zstd (The Pile's
//! `.jsonl.zst`) and xz files, written by Python's own compressors (gzip and lzma from
//! the standard library, `zstandard`), read by `detect`, `index build`, `index query`
//! and `score` exactly as their plain versions; a damaged archive is exit 2 naming the
//! file and the cause.

mod common;
use common::*;
use serde_json::Value;
use std::path::Path;

/// Writes `name` plain and as NAME.gz (two gzip members), NAME.xz and NAME.zst.
fn write_all(dir: &Path, name: &str, body: &str) {
    std::fs::write(dir.join(name), body).unwrap();
    let script = r#"
import gzip, lzma, sys, zstandard
p = sys.argv[1]
data = open(p, "rb").read()
half = len(data) // 2
open(p + ".gz", "wb").write(gzip.compress(data[:half]) + gzip.compress(data[half:]))
open(p + ".xz", "wb").write(lzma.compress(data))
open(p + ".zst", "wb").write(zstandard.ZstdCompressor(level=3).compress(data))
"#;
    let st = std::process::Command::new(python())
        .args(["-c", script])
        .arg(dir.join(name))
        .status()
        .unwrap();
    assert!(
        st.success(),
        "python compressors (zstandard is installed by scripts/setup.sh)"
    );
}

fn records() -> String {
    (0..40)
        .map(|i| {
            serde_json::json!({
                "id": format!("r{i}"),
                "text": format!(
                    "Record {i}. Write to j.smith{i}@fastmail.fm or call +44 20 7946 0{:03}. \
                     deploy key ghp_C3J27XDCG2LmlZGEONYlgCtjfIZ4SOcMz9{:02}. The quick brown \
                     fox jumps over the lazy dog number {i}.",
                    i, i
                )
            })
            .to_string()
        })
        .collect::<Vec<_>>()
        .join("\n")
        + "\n"
}

fn findings(o: &std::process::Output) -> Vec<(String, Value, u64, u64)> {
    let mut v: Vec<_> = String::from_utf8_lossy(&o.stdout)
        .lines()
        .map(|l| serde_json::from_str::<Value>(l).unwrap())
        .map(|f| {
            (
                f["rule_id"].as_str().unwrap().to_string(),
                f["id"].clone(),
                f["start"].as_u64().unwrap(),
                f["end"].as_u64().unwrap(),
            )
        })
        .collect();
    v.sort_by(|a, b| format!("{a:?}").cmp(&format!("{b:?}")));
    v
}

/// `memscan score` of `input` (with `extra` flags) on the default model: each record's
/// id and mean NLL, in order.
fn nll_by_id(input: &Path, extra: &[&str], dir: &Path) -> Vec<(Value, f64)> {
    let out = dir.join("scores.jsonl");
    let model = default_model();
    let mut args = vec!["-q", "score", "--device", "cpu"];
    args.extend(extra);
    args.extend(["-m", model.to_str().unwrap(), "-i", input.to_str().unwrap()]);
    args.extend(["-o", out.to_str().unwrap()]);
    let o = memscan(&args);
    assert!(o.status.success(), "{}: {}", input.display(), stderr(&o));
    read_jsonl(&out)
        .iter()
        .map(|r| (r["id"].clone(), r["nll_mean"].as_f64().unwrap()))
        .collect()
}

#[test]
fn detect_reads_gzip_zstd_and_xz_like_plain() {
    let d = tempfile::tempdir().unwrap();
    write_all(d.path(), "c.jsonl", &records());
    let plain = memscan(&[
        "-q",
        "detect",
        "--format",
        "jsonl",
        d.path().join("c.jsonl").to_str().unwrap(),
    ]);
    assert!(plain.status.success(), "{}", stderr(&plain));
    let want = findings(&plain);
    assert!(want.len() >= 80, "{}", want.len());
    for ext in ["gz", "xz", "zst"] {
        let p = d.path().join(format!("c.jsonl.{ext}"));
        let o = memscan(&["-q", "detect", "--format", "jsonl", p.to_str().unwrap()]);
        assert!(o.status.success(), "{ext}: {}", stderr(&o));
        assert_eq!(findings(&o), want, "{ext}");
    }
    // a folder holding the compressed files: none is skipped as binary
    let o = memscan(&[
        "-q",
        "detect",
        "--format",
        "json",
        d.path().to_str().unwrap(),
    ]);
    let r: Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(r["summary"]["files_scanned"], 4, "{r}");
    assert_eq!(
        r["findings"].as_array().unwrap().len(),
        4 * want.len(),
        "{}",
        r["summary"]
    );
}

#[test]
fn index_and_score_read_compressed_corpora() {
    let d = tempfile::tempdir().unwrap();
    write_all(d.path(), "corpus.jsonl", &records());
    let q = d.path().join("q.jsonl");
    std::fs::write(
        &q,
        "{\"id\": \"a\", \"text\": \"The quick brown fox jumps over the lazy dog number 7.\"}\n",
    )
    .unwrap();
    let mut answers = Vec::new();
    for name in [
        "corpus.jsonl",
        "corpus.jsonl.gz",
        "corpus.jsonl.xz",
        "corpus.jsonl.zst",
    ] {
        let idx = d.path().join(format!("{name}.idx"));
        let o = memscan(&[
            "-q",
            "index",
            "build",
            "--corpus",
            d.path().join(name).to_str().unwrap(),
            "--out",
            idx.to_str().unwrap(),
        ]);
        assert!(o.status.success(), "{name}: {}", stderr(&o));
        let o = memscan(&[
            "-q",
            "index",
            "query",
            "--input",
            q.to_str().unwrap(),
            idx.to_str().unwrap(),
        ]);
        assert!(o.status.success(), "{name}: {}", stderr(&o));
        let v: Value =
            serde_json::from_slice(o.stdout.split(|&b| b == b'\n').next().unwrap()).unwrap();
        answers.push(v["longest_match_bytes"].clone());
    }
    assert!(answers[0].as_u64().unwrap() >= 50, "{answers:?}");
    // the manifest records each input's format and compression
    let m: Value = serde_json::from_slice(
        &std::fs::read(d.path().join("corpus.jsonl.zst.idx").join("manifest.json")).unwrap(),
    )
    .unwrap();
    assert_eq!(m["files"][0]["format"], "jsonl", "{m}");
    assert_eq!(m["files"][0]["compression"], "zstd", "{m}");
    assert!(answers.iter().all(|a| *a == answers[0]), "{answers:?}");
    // score: the same texts, the same numbers
    let scores: Vec<_> = ["corpus.jsonl", "corpus.jsonl.zst"]
        .iter()
        .map(|name| nll_by_id(&d.path().join(name), &[], d.path()))
        .collect();
    assert_eq!(scores[0].len(), 40);
    assert_eq!(scores[0], scores[1]);
}

#[test]
fn damaged_archives_exit_2_naming_the_file() {
    let d = tempfile::tempdir().unwrap();
    write_all(d.path(), "c.jsonl", &records());
    for ext in ["gz", "xz", "zst"] {
        let p = d.path().join(format!("c.jsonl.{ext}"));
        let bytes = std::fs::read(&p).unwrap();
        // truncated
        let t = d.path().join(format!("t.jsonl.{ext}"));
        std::fs::write(&t, &bytes[..bytes.len() / 2]).unwrap();
        // corrupted in the middle
        let c = d.path().join(format!("x.jsonl.{ext}"));
        let mut b = bytes.clone();
        let mid = b.len() / 2;
        for x in &mut b[mid..mid + 16] {
            *x ^= 0x5a;
        }
        std::fs::write(&c, &b).unwrap();
        for bad in [&t, &c] {
            for cmd in [
                vec!["-q", "detect", "--format", "jsonl", bad.to_str().unwrap()],
                vec![
                    "-q",
                    "index",
                    "build",
                    "--corpus",
                    bad.to_str().unwrap(),
                    "--out",
                    d.path().join("i").to_str().unwrap(),
                ],
            ] {
                let o = memscan(&cmd);
                let err = stderr(&o);
                assert_eq!(o.status.code(), Some(2), "{cmd:?}: {err}");
                assert!(err.contains(bad.to_str().unwrap()), "{cmd:?}: {err}");
                // JSON Lines: the line the damage stopped the reading in
                assert!(err.contains(": line "), "{cmd:?}: {err}");
                assert_eq!(err.trim().lines().count(), 1, "{cmd:?}: {err}");
                assert!(!err.contains("panick"), "{err}");
            }
        }
    }
}

#[test]
fn chosen_text_and_id_fields() {
    // The Stack's shape: the text in `content`, the id in `hexsha`
    let d = tempfile::tempdir().unwrap();
    let body: String = (0..5)
        .map(|i| {
            serde_json::json!({
                "hexsha": format!("h{i}"),
                "content": format!("key = \"ghp_C3J27XDCG2LmlZGEONYlgCtjfIZ4SOcMz9{i:02}\"\n"),
                "text": "not this one",
            })
            .to_string()
                + "\n"
        })
        .collect();
    write_all(d.path(), "stack.jsonl", &body);
    let p = d.path().join("stack.jsonl.gz");
    let o = memscan(&[
        "-q",
        "detect",
        "--format",
        "jsonl",
        "--text-field",
        "content",
        "--id-field",
        "hexsha",
        p.to_str().unwrap(),
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    let ids: Vec<Value> = findings(&o).into_iter().map(|f| f.1).collect();
    assert_eq!(
        ids,
        (0..5)
            .map(|i| Value::from(format!("h{i}")))
            .collect::<Vec<_>>()
    );
    // the index reads the same field
    let idx = d.path().join("i");
    let o = memscan(&[
        "-q",
        "index",
        "build",
        "--text-field",
        "content",
        "--corpus",
        p.to_str().unwrap(),
        "--out",
        idx.to_str().unwrap(),
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    // a field the records lack, and an empty name: exit 2, one line naming file and line
    let o = memscan(&["-q", "detect", "--text-field", "body", p.to_str().unwrap()]);
    let err = stderr(&o);
    assert_eq!(o.status.code(), Some(2), "{err}");
    assert!(
        err.contains("stack.jsonl.gz") && err.contains("line 1") && err.contains("\"body\""),
        "{err}"
    );
    let o = memscan(&["-q", "detect", "--text-field", "", p.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
}

/// The records as Parquet written by pyarrow (row groups of 7 rows), with the given page
/// compression; `hexsha` the id, `content` the text, `stars` an integer column.
fn write_parquet(jsonl: &Path, out: &Path, compression: &str) {
    let script = r#"
import json, sys
import pyarrow as pa, pyarrow.parquet as pq
rows = [json.loads(l) for l in open(sys.argv[1]) if l.strip()]
t = pa.table({"hexsha": [r["id"] for r in rows], "content": [r["text"] for r in rows],
              "stars": list(range(len(rows)))})
pq.write_table(t, sys.argv[2], row_group_size=7, compression=sys.argv[3])
"#;
    let st = std::process::Command::new(python())
        .args(["-c", script])
        .arg(jsonl)
        .arg(out)
        .arg(compression)
        .status()
        .unwrap();
    assert!(st.success(), "pyarrow (installed by scripts/setup.sh)");
}

#[test]
fn parquet_rows_read_like_jsonl_records() {
    let d = tempfile::tempdir().unwrap();
    let jsonl = d.path().join("c.jsonl");
    std::fs::write(&jsonl, records()).unwrap();
    let plain = memscan(&["-q", "detect", "--format", "jsonl", jsonl.to_str().unwrap()]);
    let want: Vec<_> = findings(&plain);
    assert!(want.len() >= 80);
    let fields = ["--text-field", "content", "--id-field", "hexsha"];
    for comp in ["snappy", "zstd", "gzip", "none"] {
        let p = d.path().join(format!("c-{comp}.parquet"));
        write_parquet(&jsonl, &p, comp);
        let mut args = vec!["-q", "detect", "--format", "jsonl"];
        args.extend(fields);
        args.push(p.to_str().unwrap());
        let o = memscan(&args);
        assert!(o.status.success(), "{comp}: {}", stderr(&o));
        assert_eq!(findings(&o), want, "{comp}");
    }
    let p = d.path().join("c-snappy.parquet");
    // score: the same numbers as from the JSONL
    let scores = [
        nll_by_id(&jsonl, &[], d.path()),
        nll_by_id(&p, &fields, d.path()),
    ];
    assert_eq!(scores[0].len(), 40);
    assert_eq!(scores[0], scores[1]);
    // the index: every row a document; the manifest says parquet
    let idx = d.path().join("pi");
    let mut args = vec!["-q", "index", "build"];
    args.extend(fields);
    args.extend([
        "--corpus",
        p.to_str().unwrap(),
        "--out",
        idx.to_str().unwrap(),
    ]);
    let o = memscan(&args);
    assert!(o.status.success(), "{}", stderr(&o));
    let m: Value =
        serde_json::from_slice(&std::fs::read(idx.join("manifest.json")).unwrap()).unwrap();
    assert_eq!(m["files"][0]["format"], "parquet", "{m}");
    assert_eq!(m["shards"][0]["documents"], 40, "{m}");
    // bad input: a missing column, a column that is not text, a truncated file
    let o = memscan(&["-q", "detect", p.to_str().unwrap()]);
    let err = stderr(&o);
    assert_eq!(o.status.code(), Some(2), "{err}");
    assert!(
        err.contains("no column \"text\"") && err.contains("content"),
        "{err}"
    );
    let o = memscan(&["-q", "detect", "--text-field", "stars", p.to_str().unwrap()]);
    let err = stderr(&o);
    assert_eq!(o.status.code(), Some(2), "{err}");
    assert!(err.contains("\"stars\" is not text"), "{err}");
    let bytes = std::fs::read(&p).unwrap();
    let t = d.path().join("t.parquet");
    std::fs::write(&t, &bytes[..bytes.len() / 2]).unwrap();
    let o = memscan(&[
        "-q",
        "detect",
        "--text-field",
        "content",
        t.to_str().unwrap(),
    ]);
    let err = stderr(&o);
    assert_eq!(o.status.code(), Some(2), "{err}");
    assert!(
        err.contains("t.parquet") && err.trim().lines().count() == 1,
        "{err}"
    );
}

/// A dataset as the hub stores it: a folder of shards (Parquet and zstd JSONL here, with
/// a README and a hidden cache folder beside them), given as the folder or as
/// `hf://datasets/OWNER/NAME` resolved in the Hugging Face cache, offline.
#[test]
fn dataset_folders_and_cached_hub_datasets() {
    let d = tempfile::tempdir().unwrap();
    let body = records();
    let lines: Vec<&str> = body.lines().collect();
    let (first, second) = lines.split_at(20);
    // a hub cache: datasets--acme--shards/{refs/main, snapshots/<commit>/…}
    let commit = "0123456789abcdef0123456789abcdef01234567";
    let repo = d.path().join("hub/datasets--acme--shards");
    let snap = repo.join("snapshots").join(commit);
    std::fs::create_dir_all(snap.join("data")).unwrap();
    std::fs::create_dir_all(snap.join(".cache")).unwrap();
    std::fs::create_dir_all(repo.join("refs")).unwrap();
    std::fs::write(repo.join("refs/main"), commit).unwrap();
    std::fs::write(snap.join("README.md"), "# shards\nnot a record\n").unwrap();
    std::fs::write(snap.join(".cache/junk.jsonl"), "not json\n").unwrap();
    let a = d.path().join("a.jsonl");
    std::fs::write(&a, first.join("\n") + "\n").unwrap();
    write_parquet(&a, &snap.join("data/train-00000-of-00002.parquet"), "zstd");
    let b = snap.join("data/train-00001-of-00002.jsonl");
    write_all(
        &snap.join("data"),
        "train-00001-of-00002.jsonl",
        &(second.join("\n") + "\n"),
    );
    std::fs::remove_file(&b).unwrap(); // keep only its .gz, .xz and .zst twins
    std::fs::remove_file(snap.join("data/train-00001-of-00002.jsonl.gz")).unwrap();
    std::fs::remove_file(snap.join("data/train-00001-of-00002.jsonl.xz")).unwrap();

    // the Parquet shard names its columns hexsha/content; the JSONL one id/text: one
    // --text-field cannot read both, and the error names the shard
    let model = default_model();
    let o = memscan(&[
        "-q",
        "score",
        "--device",
        "cpu",
        "-m",
        model.to_str().unwrap(),
        "-i",
        snap.to_str().unwrap(),
        "-o",
        d.path().join("x.jsonl").to_str().unwrap(),
    ]);
    assert_input_error(&o, "train-00000-of-00002.parquet: no column \"text\"");

    // one schema: both shards as JSONL, ids unique across them → kept as they are
    std::fs::remove_file(snap.join("data/train-00000-of-00002.parquet")).unwrap();
    write_all(
        &snap.join("data"),
        "train-00000-of-00002.jsonl",
        &(first.join("\n") + "\n"),
    );
    for ext in ["", ".gz", ".xz"] {
        std::fs::remove_file(snap.join(format!("data/train-00000-of-00002.jsonl{ext}"))).unwrap();
    }
    let all = d.path().join("all.jsonl");
    std::fs::write(&all, &body).unwrap();
    let plain = nll_by_id(&all, &[], d.path());
    let folder = nll_by_id(&snap, &[], d.path());
    assert_eq!(folder.len(), 40);
    for ((ia, xa), (ib, xb)) in plain.iter().zip(&folder) {
        assert_eq!(ia, ib);
        assert!(SAME_MATH.holds(*xb, *xa), "{ia}: {xb} vs {xa}");
    }
    // the same through the cache, offline
    let hub = memscan_env(
        &[
            "-q",
            "score",
            "--device",
            "cpu",
            "-m",
            model.to_str().unwrap(),
            "-i",
            "hf://datasets/acme/shards",
            "-o",
            d.path().join("hub.jsonl").to_str().unwrap(),
        ],
        &[("HF_HUB_CACHE", &d.path().join("hub"))],
    );
    assert!(hub.status.success(), "{}", stderr(&hub));
    let ids: Vec<Value> = read_jsonl(&d.path().join("hub.jsonl"))
        .iter()
        .map(|r| r["id"].clone())
        .collect();
    assert_eq!(
        ids,
        folder.iter().map(|(i, _)| i.clone()).collect::<Vec<_>>()
    );
    // a dataset that is not cached: exit 2, saying how to fetch it
    let missing = memscan_env(
        &[
            "-q",
            "score",
            "-i",
            "hf://datasets/acme/absent",
            "-o",
            d.path().join("m.jsonl").to_str().unwrap(),
        ],
        &[("HF_HUB_CACHE", &d.path().join("hub"))],
    );
    assert_input_error(
        &missing,
        "dataset acme/absent@main is not in the Hugging Face cache",
    );
    // detect reads the cached snapshot too
    let o = memscan_env(
        &[
            "-q",
            "detect",
            "--format",
            "jsonl",
            "hf://datasets/acme/shards",
        ],
        &[("HF_HUB_CACHE", &d.path().join("hub"))],
    );
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let found = findings(&o);
    assert_eq!(
        found.iter().filter(|f| f.0.contains("email")).count(),
        40,
        "{found:?}"
    );
}

/// Two shards whose row numbers repeat: each id is prefixed by its shard's path.
#[test]
fn repeated_ids_across_shards_are_prefixed_by_the_shard() {
    let d = tempfile::tempdir().unwrap();
    let dir = d.path().join("ds");
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(dir.join("a.txt"), "first line of a\nsecond line of a\n").unwrap();
    std::fs::write(dir.join("b.txt"), "first line of b\n").unwrap();
    let got: Vec<Value> = nll_by_id(&dir, &[], d.path())
        .into_iter()
        .map(|(i, _)| i)
        .collect();
    assert_eq!(got, ["a.txt:1", "a.txt:2", "b.txt:1"].map(Value::from));
}
