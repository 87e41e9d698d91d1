//! The verbatim index against a naive search on random corpora and queries (empty,
//! one byte, non-UTF-8, longer than the corpus, matches at the very start and end),
//! across shards, with token ids; and corrupt or mismatched indexes.

mod common;
use common::*;
use memscan::verbatim::{self, search, Index};

/// xorshift64*: a small seeded generator (no dependency needed).
struct Rng(u64);
impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545F4914F6CDD1D)
    }
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n.max(1) as u64) as usize
    }
    /// Bytes from a small alphabet (so repeats are common) or any byte but 0xFF.
    fn bytes(&mut self, n: usize) -> Vec<u8> {
        let wide = self.below(3) == 0;
        (0..n)
            .map(|_| {
                if wide {
                    self.below(255) as u8
                } else {
                    b"abcd"[self.below(4)]
                }
            })
            .collect()
    }
}

/// Longest substring of `q` inside any one document, and how often it occurs.
fn naive(docs: &[Vec<u8>], q: &[u8]) -> (usize, u64) {
    let mut best = 0;
    let mut best_sub: &[u8] = &[];
    for i in 0..q.len() {
        for j in (i + best + 1)..=q.len() {
            let sub = &q[i..j];
            if docs.iter().any(|d| d.windows(sub.len()).any(|w| w == sub)) {
                best = j - i;
                best_sub = sub;
            } else {
                break;
            }
        }
    }
    if best == 0 {
        return (0, 0);
    }
    let count = docs
        .iter()
        .map(|d| d.windows(best).filter(|w| *w == best_sub).count() as u64)
        .sum();
    (best, count)
}

#[test]
fn search_matches_naive_on_random_inputs() {
    let mut rng = Rng(0x9E3779B97F4A7C15);
    for trial in 0..300 {
        let n_docs = 1 + rng.below(4);
        let docs: Vec<Vec<u8>> = (0..n_docs)
            .map(|_| {
                let n = rng.below(120);
                rng.bytes(n)
            })
            .collect();
        let mut text = Vec::new();
        for d in &docs {
            text.extend_from_slice(d);
            text.push(verbatim::SEP);
        }
        let sa: Vec<u32> = {
            let mut idx: Vec<u32> = (0..text.len() as u32).collect();
            idx.sort_by(|&a, &b| text[a as usize..].cmp(&text[b as usize..]));
            idx
        };
        let (short, long) = (1 + rng.below(30), text.len() + 10);
        let queries: Vec<Vec<u8>> = vec![
            Vec::new(),
            vec![b'a'],
            rng.bytes(short),
            docs[0].clone(),                      // the whole first document
            [docs[0].as_slice(), b"zz"].concat(), // match at the very start
            [b"zz".as_slice(), docs[n_docs - 1].as_slice()].concat(), // … and at the very end
            rng.bytes(long),                      // longer than the corpus
        ];
        for q in queries {
            let (want_len, want_count) = naive(&docs, &q);
            let got = search::longest(&text, &sa, &q, 0);
            let got_len = got.map_or(0, |g| g.0);
            assert_eq!(got_len, want_len, "trial {trial}: query {q:?}");
            if let Some((len, qs, rank)) = got {
                let pat = &q[qs..qs + len];
                let (lo, hi) = search::range(&text, &sa, pat);
                assert!(lo <= rank as usize && (rank as usize) < hi);
                assert_eq!(
                    (hi - lo) as u64,
                    want_count,
                    "trial {trial}: count of {pat:?}"
                );
            }
        }
    }
}

#[test]
fn index_build_query_across_shards_and_files() {
    let d = tempfile::tempdir().unwrap();
    let corpus = d.path().join("corpus");
    std::fs::create_dir_all(&corpus).unwrap();
    let mut rng = Rng(42);
    let mut docs = Vec::new();
    for i in 0..12 {
        let body: Vec<u8> = (0..400)
            .map(|_| b"the cat sat on a mat and "[rng.below(25)])
            .collect();
        let text = format!("doc {i}: {} END{i}", String::from_utf8_lossy(&body));
        std::fs::write(corpus.join(format!("f{i:02}.txt")), &text).unwrap();
        docs.push(text.into_bytes());
    }
    std::fs::write(
        corpus.join("recs.jsonl"),
        "{\"text\": \"MIT License Permission is hereby granted\"}\n",
    )
    .unwrap();
    docs.push(b"MIT License Permission is hereby granted".to_vec());
    let out = d.path().join("idx");
    // 1 KB shards: the corpus spans many
    let m = verbatim::build(std::slice::from_ref(&corpus), &out, 1024, None, |_| {}).unwrap();
    assert!(m.shards.len() > 3);
    assert!(m.shards.iter().all(|s| s.pointer_bytes == 4));
    let idx = Index::open(&out).unwrap();
    for q in [
        b"xx doc 7: ".to_vec(),
        b"END11".to_vec(),
        b"Permission is hereby granted, free".to_vec(),
        docs[3][50..120].to_vec(),
    ] {
        let r = idx.query(&q, None);
        let (want, count) = naive(&docs, &q);
        assert_eq!(
            r.longest_match_bytes,
            want,
            "{:?}",
            String::from_utf8_lossy(&q)
        );
        assert_eq!(r.count, count);
        // the reported place holds the matched bytes
        let file = std::fs::read(r.file.as_ref().unwrap()).unwrap();
        let off = r.offset.unwrap() as usize;
        if !r.file.as_ref().unwrap().ends_with(".jsonl") {
            assert_eq!(
                &file[off..off + want],
                &q[r.query_start..r.query_start + want]
            );
        }
    }
    // the CLI on the same index
    let qf = d.path().join("q.jsonl");
    std::fs::write(
        &qf,
        "{\"id\": \"x\", \"text\": \"Permission is hereby granted\"}\n",
    )
    .unwrap();
    let o = memscan(&[
        "-q",
        "index",
        "query",
        out.to_str().unwrap(),
        "-i",
        qf.to_str().unwrap(),
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(v["id"], "x");
    assert_eq!(v["longest_match_bytes"], 28);
}

#[test]
fn token_index_and_errors() {
    let d = tempfile::tempdir().unwrap();
    let corpus = d.path().join("c.txt");
    std::fs::write(
        &corpus,
        "The quick brown fox jumps over the lazy dog.\nAnother line of text here.\n",
    )
    .unwrap();
    let out = d.path().join("idx");
    let model = default_model();
    let o = memscan(&[
        "-q",
        "index",
        "build",
        "--corpus",
        corpus.to_str().unwrap(),
        "--out",
        out.to_str().unwrap(),
        "--tokenizer",
        model.to_str().unwrap(),
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    let qf = d.path().join("q.txt");
    std::fs::write(&qf, "he said the quick brown fox jumps high\n").unwrap();
    let o = memscan(&[
        "-q",
        "index",
        "query",
        out.to_str().unwrap(),
        "-i",
        qf.to_str().unwrap(),
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    // "he quick brown fox jumps " (25 bytes: the corpus has "The"), and as tokens
    // " quick", " brown", " fox", " jumps" (the query's " the" is not the corpus's "The")
    assert_eq!(v["longest_match_bytes"], 25);
    assert_eq!(v["longest_match_tokens"], 4, "{v}");
    // another tokenizer than the index's: exit 2
    let other = reference_data().join("tiny-gpt2");
    let o = memscan(&[
        "index",
        "query",
        out.to_str().unwrap(),
        "-i",
        qf.to_str().unwrap(),
        "--tokenizer",
        other.to_str().unwrap(),
    ]);
    assert_input_error(&o, "built with another tokenizer");
    // a truncated shard: exit 2 naming the file
    let sa = out.join("shard-0000.sa");
    let bytes = std::fs::read(&sa).unwrap();
    std::fs::write(&sa, &bytes[..bytes.len() - 4]).unwrap();
    let o = memscan(&[
        "index",
        "query",
        out.to_str().unwrap(),
        "-i",
        qf.to_str().unwrap(),
    ]);
    assert_input_error(&o, "shard-0000.sa: corrupt index");
    // a corrupt manifest
    std::fs::write(out.join("manifest.json"), "{not json").unwrap();
    let o = memscan(&[
        "index",
        "query",
        out.to_str().unwrap(),
        "-i",
        qf.to_str().unwrap(),
    ]);
    assert_input_error(&o, "manifest.json: corrupt index manifest");
}

/// `score --reference-corpus`: the verbatim fields beside the signals, flagged at the threshold.
#[test]
fn score_with_reference_corpus() {
    let d = tempfile::tempdir().unwrap();
    let corpus = d.path().join("c.txt");
    let famous = "Permission is hereby granted, free of charge, to any person obtaining a copy of this software and associated documentation files";
    std::fs::write(&corpus, format!("{famous}\n")).unwrap();
    let out = d.path().join("idx");
    let model = default_model();
    let o = memscan(&[
        "-q",
        "index",
        "build",
        "--corpus",
        corpus.to_str().unwrap(),
        "--out",
        out.to_str().unwrap(),
        "--tokenizer",
        model.to_str().unwrap(),
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    let input = d.path().join("t.jsonl");
    std::fs::write(
        &input,
        format!(
            "{}\n{}\n",
            serde_json::json!({"text": famous}),
            serde_json::json!({"text": "a fresh sentence about turnips"})
        ),
    )
    .unwrap();
    let o = memscan(&[
        "-q",
        "score",
        "--basic",
        "-i",
        input.to_str().unwrap(),
        "--reference-corpus",
        out.to_str().unwrap(),
        "--verbatim-tokens",
        "20",
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    let rows: Vec<serde_json::Value> = String::from_utf8_lossy(&o.stdout)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(rows[0]["longest_match_bytes"], famous.len());
    assert!(rows[0]["longest_match_tokens"].as_u64().unwrap() >= 20);
    assert_eq!(rows[0]["verbatim"], true);
    assert_eq!(rows[1]["verbatim"], false);
    assert!(rows[0]["nll_mean"].as_f64().is_some());
}

/// 8-byte suffix-array entries (what shards of 2 GiB and more get) answer the same.
#[test]
fn wide_pointers_answer_the_same() {
    let d = tempfile::tempdir().unwrap();
    let corpus = d.path().join("c.txt");
    let mut rng = Rng(5);
    let text: Vec<u8> = (0..5000).map(|_| b"abcdefgh "[rng.below(9)]).collect();
    std::fs::write(&corpus, &text).unwrap();
    let narrow = d.path().join("narrow");
    let wide = d.path().join("wide");
    verbatim::build_with(
        std::slice::from_ref(&corpus),
        &narrow,
        2048,
        None,
        |_| {},
        usize::MAX,
    )
    .unwrap();
    let m =
        verbatim::build_with(std::slice::from_ref(&corpus), &wide, 2048, None, |_| {}, 0).unwrap();
    assert!(m.shards.iter().all(|s| s.pointer_bytes == 8));
    let (a, b) = (Index::open(&narrow).unwrap(), Index::open(&wide).unwrap());
    for i in 0..50 {
        let start = rng.below(4900);
        let mut q = text[start..start + 1 + rng.below(90)].to_vec();
        if i % 2 == 0 {
            q.extend_from_slice(b"zz");
        }
        assert_eq!(a.query(&q, None), b.query(&q, None));
    }
}
