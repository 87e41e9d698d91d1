//! Regression tests for the bugs a code review found (issue 13, section 4). Each
//! failed before its fix: crafted input wrapped or panicked, or a closed pipe
//! ended the run with an error message.

mod common;
use common::*;
use memscan::verbatim::{self, Index};
use std::io::Read;
use std::process::{Command, Stdio};

/// A GGUF v3 file with one F32 tensor `w` of 2 elements whose data offset is `offset`.
fn gguf_with_offset(offset: u64) -> Vec<u8> {
    let mut b = b"GGUF".to_vec();
    b.extend(3u32.to_le_bytes());
    b.extend(1u64.to_le_bytes()); // tensors
    b.extend(1u64.to_le_bytes()); // metadata pairs
    let key = b"general.architecture";
    b.extend((key.len() as u64).to_le_bytes());
    b.extend(key);
    b.extend(8u32.to_le_bytes()); // string
    b.extend(5u64.to_le_bytes());
    b.extend(b"llama");
    b.extend(1u64.to_le_bytes());
    b.push(b'w');
    b.extend(1u32.to_le_bytes());
    b.extend(2u64.to_le_bytes());
    b.extend(0u32.to_le_bytes()); // F32
    b.extend(offset.to_le_bytes());
    while !b.len().is_multiple_of(32) {
        b.push(0);
    }
    b.extend([0u8; 8]);
    b
}

/// `data_start + offset` wrapped in release builds: an offset near 2^64 passed the
/// bounds check. Now: exit 2 naming the file and the tensor.
#[test]
fn gguf_offset_that_wraps_exits_2() {
    let d = tempfile::tempdir().unwrap();
    let p = d.path().join("wrap.gguf");
    std::fs::write(&p, gguf_with_offset(u64::MAX - 40)).unwrap();
    let input = d.path().join("t.txt");
    std::fs::write(&input, "hello world\n").unwrap();
    let o = memscan(&[
        "score",
        "--model",
        p.to_str().unwrap(),
        "-i",
        input.to_str().unwrap(),
    ]);
    assert_input_error(&o, "wrap.gguf");
    assert!(stderr(&o).contains("tensor w"), "{}", stderr(&o));
}

/// A rule's `window` had no upper bound: the streaming scan overlapped its chunks by
/// twice the window, so a huge one overflowed or aborted on allocation.
#[test]
fn rule_window_is_bounded() {
    let d = tempfile::tempdir().unwrap();
    let input = d.path().join("in.txt");
    std::fs::write(&input, "token = abc\n").unwrap();
    for (key, value) in [("window", "18446744073709551615"), ("before", "1073741824")] {
        std::fs::write(
            d.path().join("big.toml"),
            format!(
                "[[rules]]\nid = \"huge-window\"\ndescription = \"x\"\ncategory = \"secret\"\n\
                 regex = 'token = ([a-z]+)'\nkeywords = [\"token\"]\n{key} = {value}\n"
            ),
        )
        .unwrap();
        let o = memscan(&[
            "detect",
            "--patterns",
            d.path().to_str().unwrap(),
            input.to_str().unwrap(),
        ]);
        assert_input_error(&o, "big.toml: rule huge-window");
        assert!(stderr(&o).contains(key), "{}", stderr(&o));
    }
}

/// A change to a docs table's bytes.
type Corruption = Box<dyn Fn(&mut Vec<u8>)>;

fn small_index(dir: &std::path::Path) -> std::path::PathBuf {
    let corpus = dir.join("c.txt");
    std::fs::write(&corpus, "the quick brown fox jumps over the lazy dog").unwrap();
    let out = dir.join("idx");
    // 16-byte shards: several documents per file, several shards
    verbatim::build(std::slice::from_ref(&corpus), &out, 16, None, |_| {}).unwrap();
    out
}

fn query_cli(idx: &std::path::Path, dir: &std::path::Path) -> std::process::Output {
    let q = dir.join("q.txt");
    std::fs::write(&q, "a quick brown fox\n").unwrap();
    memscan(&[
        "index",
        "query",
        idx.to_str().unwrap(),
        "-i",
        q.to_str().unwrap(),
    ])
}

/// An index whose files have the right lengths but a corrupt docs table panicked in
/// `query` (an empty table was indexed; a start past the match position underflowed).
#[test]
fn corrupt_docs_table_exits_2() {
    let d = tempfile::tempdir().unwrap();
    let idx = small_index(d.path());
    assert!(query_cli(&idx, d.path()).status.success());
    let docs = idx.join("shard-0000.docs");
    let good = std::fs::read(&docs).unwrap();
    let corruptions: Vec<(&str, Corruption)> = vec![
        (
            "start beyond the text",
            Box::new(|b| b[..8].copy_from_slice(&u64::MAX.to_le_bytes())),
        ),
        (
            "file index out of range",
            Box::new(|b| b[8..16].copy_from_slice(&7u64.to_le_bytes())),
        ),
        (
            "starts out of order",
            Box::new(|b| {
                if b.len() >= 48 {
                    b[24..32].copy_from_slice(&0u64.to_le_bytes());
                } else {
                    b[..8].copy_from_slice(&3u64.to_le_bytes());
                }
            }),
        ),
    ];
    for (what, corrupt) in corruptions {
        let mut b = good.clone();
        corrupt(&mut b);
        std::fs::write(&docs, &b).unwrap();
        let o = query_cli(&idx, d.path());
        assert_input_error(&o, "shard-0000.docs: corrupt index");
        assert!(Index::open(&idx).is_err(), "{what}");
    }
    // no documents at all for a shard that has text
    std::fs::write(&docs, b"").unwrap();
    let m = idx.join("manifest.json");
    let mut v: serde_json::Value = serde_json::from_slice(&std::fs::read(&m).unwrap()).unwrap();
    v["shards"][0]["documents"] = 0.into();
    std::fs::write(&m, v.to_string()).unwrap();
    assert_input_error(&query_cli(&idx, d.path()), "shard-0000.docs: corrupt index");
    // a document count whose size overflows u64
    v["shards"][0]["documents"] = (u64::MAX / 8).into();
    std::fs::write(&m, v.to_string()).unwrap();
    assert_input_error(&query_cli(&idx, d.path()), "impossible document count");
}

/// `memscan detect … --format jsonl | head -1`: the reader goes away after one line;
/// memscan ends quietly (no error line, no panic message).
#[test]
fn closed_pipe_ends_quietly() {
    let d = tempfile::tempdir().unwrap();
    let input = d.path().join("many.txt");
    let text: String = (0..20_000)
        .map(|i| format!("Email: john.smith{i}@acme-corp.com\n"))
        .collect();
    std::fs::write(&input, text).unwrap();
    let mut child = Command::new(env!("CARGO_BIN_EXE_memscan"))
        .args(["detect", "--format", "jsonl", input.to_str().unwrap()])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut out = child.stdout.take().unwrap();
    let mut first = [0u8; 64];
    out.read_exact(&mut first).unwrap();
    drop(out); // the reader closes the pipe, as `head -1` does
    let o = child.wait_with_output().unwrap();
    let err = stderr(&o);
    assert!(
        !err.contains("error") && !err.contains("panicked"),
        "stderr: {err}"
    );
    use std::os::unix::process::ExitStatusExt;
    assert!(
        o.status.success() || o.status.signal() == Some(13),
        "ended by {:?}",
        o.status
    );
}
