//! Regressions from the fuzz harness (examples/fuzz.rs) and from review of the
//! tokenizer loaders: every input here once panicked or was silently misread. Each
//! must now come back as an input error (or, where stated, load correctly).
//!
//! `tests/fuzz/<target>/*.bin` are the crashing inputs the harness saved, run through
//! the same public API as its target; inputs of several files are `MSFZ` containers
//! (`unpack`). The GGUF vocabularies of the tokenizer tests are written by `gguf`.

use std::path::{Path, PathBuf};

use memscan::error::Error;
use memscan::model::gguf::Gguf;
use memscan::model::tokenizer::Tokenizer;

// ---------------------------------------------------------------------------------------
// Helpers.

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

type Files = Vec<(String, Vec<u8>)>;

/// Unpacks an `MSFZ` container: u32 count, then per file u32 name length, name,
/// u64 data length, data (little-endian).
fn unpack(b: &[u8]) -> Files {
    assert_eq!(&b[..4], b"MSFZ", "not an MSFZ container");
    let mut pos = 4;
    let mut take = |n: usize| {
        let s = &b[pos..pos + n];
        pos += n;
        s
    };
    let n = u32::from_le_bytes(take(4).try_into().unwrap());
    (0..n)
        .map(|_| {
            let k = u32::from_le_bytes(take(4).try_into().unwrap()) as usize;
            let name = String::from_utf8(take(k).to_vec()).unwrap();
            let d = u64::from_le_bytes(take(8).try_into().unwrap()) as usize;
            assert!(!name.contains('/') && !name.contains(".."), "{name}");
            (name, take(d).to_vec())
        })
        .collect()
}

fn write_files(dir: &Path, files: &Files) {
    for (name, data) in files {
        std::fs::write(dir.join(name), data).unwrap();
    }
}

/// The saved input `tests/fuzz/<target>/<name>`.
fn input(target: &str, name: &str) -> Vec<u8> {
    let p = root().join("tests/fuzz").join(target).join(name);
    std::fs::read(&p).unwrap_or_else(|e| panic!("{}: {e}", p.display()))
}

/// Asserts an input error whose message contains every one of `parts`.
#[track_caller]
fn assert_input_error<T>(r: memscan::error::Result<T>, parts: &[&str]) {
    match r {
        Ok(_) => panic!("accepted; expected an input error mentioning {parts:?}"),
        Err(Error::Internal(m)) => panic!("internal error {m:?}; expected an input error"),
        Err(e @ Error::Input(_)) => {
            let m = e.to_string();
            for p in parts {
                assert!(m.contains(p), "{m:?} does not mention {p:?}");
            }
        }
    }
}

/// GGUF metadata values for `gguf`.
enum V {
    U32(u32),
    I32(i32),
    U64(u64),
    Bool(bool),
    Str(&'static str),
    Strs(Vec<String>),
    F32s(Vec<f32>),
    I32s(Vec<i32>),
}

/// A GGUF v3 file with metadata only.
fn gguf(dir: &Path, name: &str, kvs: &[(&str, V)]) -> PathBuf {
    fn s(b: &mut Vec<u8>, x: &str) {
        b.extend((x.len() as u64).to_le_bytes());
        b.extend(x.as_bytes());
    }
    let mut b = b"GGUF".to_vec();
    b.extend(3u32.to_le_bytes());
    b.extend(0u64.to_le_bytes());
    b.extend((kvs.len() as u64).to_le_bytes());
    for (k, v) in kvs {
        s(&mut b, k);
        match v {
            V::U32(x) => {
                b.extend(4u32.to_le_bytes());
                b.extend(x.to_le_bytes());
            }
            V::I32(x) => {
                b.extend(5u32.to_le_bytes());
                b.extend(x.to_le_bytes());
            }
            V::U64(x) => {
                b.extend(10u32.to_le_bytes());
                b.extend(x.to_le_bytes());
            }
            V::Bool(x) => {
                b.extend(7u32.to_le_bytes());
                b.push(*x as u8);
            }
            V::Str(x) => {
                b.extend(8u32.to_le_bytes());
                s(&mut b, x);
            }
            V::Strs(xs) => {
                b.extend(9u32.to_le_bytes());
                b.extend(8u32.to_le_bytes());
                b.extend((xs.len() as u64).to_le_bytes());
                for x in xs {
                    s(&mut b, x);
                }
            }
            V::F32s(xs) => {
                b.extend(9u32.to_le_bytes());
                b.extend(6u32.to_le_bytes());
                b.extend((xs.len() as u64).to_le_bytes());
                xs.iter().for_each(|x| b.extend(x.to_le_bytes()));
            }
            V::I32s(xs) => {
                b.extend(9u32.to_le_bytes());
                b.extend(5u32.to_le_bytes());
                b.extend((xs.len() as u64).to_le_bytes());
                xs.iter().for_each(|x| b.extend(x.to_le_bytes()));
            }
        }
    }
    let p = dir.join(name);
    std::fs::write(&p, b).unwrap();
    p
}

fn strs(v: &[&str]) -> V {
    V::Strs(v.iter().map(|s| s.to_string()).collect())
}

/// A byte-level vocabulary metadata set: tokens "a", "b", "ab", then `extra`.
fn vocab_kvs(extra: &[&str], merges: &[&str]) -> Vec<(&'static str, V)> {
    let mut tokens = vec!["a", "b", "ab"];
    tokens.extend(extra);
    vec![
        ("tokenizer.ggml.model", V::Str("gpt2")),
        ("tokenizer.ggml.pre", V::Str("gpt2")),
        ("tokenizer.ggml.tokens", strs(&tokens)),
        ("tokenizer.ggml.merges", strs(merges)),
        ("tokenizer.ggml.add_bos_token", V::Bool(false)),
    ]
}

fn gguf_tokenizer(path: &Path) -> memscan::error::Result<Tokenizer> {
    Tokenizer::from_gguf(&Gguf::open(path)?)
}

// ---------------------------------------------------------------------------------------
// GGUF vocabularies (review findings in src/model/tokenizer.rs).

#[test]
fn gguf_merge_without_a_space_is_an_input_error() {
    let d = tempfile::tempdir().unwrap();
    let ok = gguf(d.path(), "ok.gguf", &vocab_kvs(&[], &["a b"]));
    assert_eq!(gguf_tokenizer(&ok).unwrap().encode("ab").unwrap(), vec![2]);
    // used to be dropped silently: "ab" then encoded as two tokens
    let bad = gguf(d.path(), "merges.gguf", &vocab_kvs(&[], &["a b", "ab"]));
    assert_input_error(
        gguf_tokenizer(&bad),
        &["merges.gguf", "tokenizer.ggml.merges", "entry 1"],
    );
}

#[test]
fn gguf_bos_or_eos_out_of_range_is_an_input_error() {
    let d = tempfile::tempdir().unwrap();
    for (key, v, shown) in [
        ("tokenizer.ggml.bos_token_id", V::U32(3), "= 3"),
        ("tokenizer.ggml.eos_token_id", V::U32(99), "= 99"),
        // 2^32 + 1 used to wrap to id 1
        (
            "tokenizer.ggml.bos_token_id",
            V::U64((1 << 32) + 1),
            "= 4294967297",
        ),
        ("tokenizer.ggml.eos_token_id", V::I32(-1), "= -1"),
    ] {
        let mut kvs = vocab_kvs(&[], &["a b"]);
        kvs.push((key, v));
        kvs.push(("tokenizer.ggml.add_bos_token", V::Bool(true)));
        let p = gguf(d.path(), "ids.gguf", &kvs);
        assert_input_error(gguf_tokenizer(&p), &["ids.gguf", key, shown, "3 tokens"]);
    }
    // in range: fine, and BOS is added
    let mut kvs = vocab_kvs(&[], &["a b"]);
    kvs.push(("tokenizer.ggml.bos_token_id", V::U32(1)));
    kvs.push(("tokenizer.ggml.eos_token_id", V::U32(2)));
    kvs.push(("tokenizer.ggml.add_bos_token", V::Bool(true)));
    let t = gguf_tokenizer(&gguf(d.path(), "fine.gguf", &kvs)).unwrap();
    assert_eq!(t.encode("ab").unwrap(), vec![1, 2]);
    assert_eq!(t.eos_token.as_deref(), Some("ab"));
}

#[test]
fn gguf_padding_id_out_of_range_is_dropped_with_a_warning() {
    let d = tempfile::tempdir().unwrap();
    let mut kvs = vocab_kvs(&[], &["a b"]);
    kvs.push(("tokenizer.ggml.padding_token_id", V::U32(3)));
    let t = gguf_tokenizer(&gguf(d.path(), "pad.gguf", &kvs)).unwrap();
    assert_eq!(t.pad_id, None);
    assert!(
        t.warnings.iter().any(|w| w.contains("padding_token_id")),
        "{:?}",
        t.warnings
    );
}

#[test]
fn gguf_bos_token_with_spaces_or_dollar_is_added_whole() {
    // The BOS template used to be parsed from "{bos} $A": a token holding a space, ':'
    // or '$' broke it (an internal error, or a different template).
    let d = tempfile::tempdir().unwrap();
    for bos in ["<s> x", "$B", "a:1"] {
        let mut kvs = vocab_kvs(&[bos], &["a b"]);
        kvs.push(("tokenizer.ggml.bos_token_id", V::U32(3)));
        kvs.push(("tokenizer.ggml.add_bos_token", V::Bool(true)));
        let t = gguf_tokenizer(&gguf(d.path(), "bos.gguf", &kvs)).unwrap();
        assert_eq!(t.encode("ab").unwrap(), vec![3, 2], "{bos}");
        assert_eq!(t.bos_token.as_deref(), Some(bos));
    }
}

#[test]
fn vocab_size_bounds_every_id_of_a_vocabulary_with_repeated_tokens() {
    // tokens "a" "a" "a" "b": three distinct entries, but "b" is id 3. The index uses
    // vocab_size as its separator and the suffix-array alphabet: it must exceed every id.
    let d = tempfile::tempdir().unwrap();
    let kvs = vec![
        ("tokenizer.ggml.model", V::Str("gpt2")),
        ("tokenizer.ggml.tokens", strs(&["a", "a", "a", "b"])),
        ("tokenizer.ggml.merges", strs(&[])),
    ];
    let t = gguf_tokenizer(&gguf(d.path(), "dup.gguf", &kvs)).unwrap();
    let ids = t.encode_plain("ab").unwrap();
    assert_eq!(t.vocab_size(), 4);
    assert!(
        ids.iter().all(|&i| (i as usize) < t.vocab_size()),
        "{ids:?}"
    );
}

// ---------------------------------------------------------------------------------------
// tokenizer.json (review and harness findings in src/model/tokenizer.rs).

fn fixture_json() -> serde_json::Value {
    serde_json::from_str(
        &std::fs::read_to_string(root().join("tests/fixture/tokenizer.json")).unwrap(),
    )
    .unwrap()
}

fn tokenizer_json(dir: &Path, v: &serde_json::Value) -> PathBuf {
    let p = dir.join("tokenizer.json");
    std::fs::write(&p, serde_json::to_vec(v).unwrap()).unwrap();
    p
}

#[test]
fn added_token_ids_count_in_vocab_size() {
    let d = tempfile::tempdir().unwrap();
    // a vocabulary with a hole: ids 0..=256, then 1000
    let mut v = fixture_json();
    v["model"]["vocab"]["<far>"] = serde_json::json!(1000);
    v["added_tokens"]
        .as_array_mut()
        .unwrap()
        .push(serde_json::json!(
            {"id": 1000, "content": "<far>", "single_word": false, "lstrip": false,
             "rstrip": false, "normalized": false, "special": true}
        ));
    let t = Tokenizer::from_file(&tokenizer_json(d.path(), &v)).unwrap();
    assert_eq!(t.encode_plain("<far>").unwrap(), vec![1000]);
    assert_eq!(t.vocab_size(), 1001);
    // an id no vocabulary needs: refused, not a 4-billion-entry walk later
    v["model"]["vocab"]["<far>"] = serde_json::json!(u32::MAX - 1);
    v["added_tokens"][1]["id"] = serde_json::json!(u32::MAX - 1);
    assert_input_error(
        Tokenizer::from_file(&tokenizer_json(d.path(), &v)),
        &["tokenizer.json", "4294967294"],
    );
}

#[test]
fn strip_decoder_with_stop_is_refused() {
    // tokenizers' Strip decoder panicked decoding a token shorter than `stop`
    let d = tempfile::tempdir().unwrap();
    let mut v = fixture_json();
    v["decoder"] = serde_json::json!({"type": "Sequence", "decoders": [
        {"type": "ByteLevel", "add_prefix_space": true, "trim_offsets": true, "use_regex": true},
        {"type": "Strip", "content": "a", "start": 0, "stop": 2}
    ]});
    let p = tokenizer_json(d.path(), &v);
    assert_input_error(Tokenizer::from_file(&p), &["tokenizer.json", "Strip"]);
    // stop 0 (as Llama's tokenizer.json has) is fine
    v["decoder"]["decoders"][1]["stop"] = serde_json::json!(0);
    v["decoder"]["decoders"][1]["start"] = serde_json::json!(1);
    let t = Tokenizer::from_file(&tokenizer_json(d.path(), &v)).unwrap();
    assert_eq!(t.decode(&[97, 98]), "b");
}

#[test]
fn invalid_precompiled_normalizer_is_an_input_error() {
    // tokenizers' normalizer deserializer calls expect("Precompiled")
    let d = tempfile::tempdir().unwrap();
    let mut v = fixture_json();
    v["normalizer"] = serde_json::json!({"type": "Sequence", "normalizers": [
        {"type": "Precompiled", "precompiled_charsmap": null}
    ]});
    let p = tokenizer_json(d.path(), &v);
    assert_input_error(Tokenizer::from_file(&p), &["tokenizer.json", "Precompiled"]);
}

#[test]
fn syntax_error_inside_the_decoder_is_an_input_error() {
    // tokenizers' decoder deserializer calls expect("Helper") on a syntax error
    let d = tempfile::tempdir().unwrap();
    let text = std::fs::read_to_string(root().join("tests/fixture/tokenizer.json")).unwrap();
    let at = text.find("\"decoder\"").unwrap();
    let broken = format!("{}\"decoder\": {{\"type\" \"ByteLevel\"}}}}", &text[..at]);
    let p = d.path().join("tokenizer.json");
    std::fs::write(&p, broken).unwrap();
    assert_input_error(
        Tokenizer::from_file(&p),
        &["tokenizer.json", "invalid JSON"],
    );
}

// ---------------------------------------------------------------------------------------
// Inputs the harness saved (tests/fuzz/<target>/), through its targets' public API.

/// Eleven words: longer than the saved inputs' truncation lengths.
const LONG: &str = "one two three four five six seven eight nine ten eleven";

/// Runs a saved input as the harness's target does; `Ok` when the parser accepted it.
fn run_saved(target: &str, bytes: &[u8]) -> memscan::error::Result<()> {
    let d = tempfile::tempdir().unwrap();
    match target {
        "tokenizer-json" => {
            write_files(d.path(), &unpack(bytes));
            let t = Tokenizer::from_file(&d.path().join("tokenizer.json"))?;
            for text in [
                "",
                "hello world",
                "é中😀 <|endoftext|>",
                "1234567 the and",
                LONG,
            ] {
                let ids = t.encode(text)?;
                assert!(ids.iter().all(|&i| (i as usize) < t.vocab_size()));
                t.decode(&ids);
                t.encode_plain(text)?;
            }
            Ok(())
        }
        "rules" => {
            use memscan::detect::{rules, Engine};
            std::fs::write(d.path().join("fuzz.toml"), bytes).unwrap();
            let engine = Engine::new(rules::load(&[d.path().to_path_buf()], &[])?)?;
            let text = b"0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAeD x xy 0x token = abc\n";
            engine.scan(text);
            engine.scan_stream(&text[..], 4096, |_, _, _| {}).unwrap();
            Ok(())
        }
        "hf-config" | "gguf-model" => {
            use memscan::model::LanguageModel;
            let spec = if target == "hf-config" {
                // the fixture model's weights and tokenizer with the saved config.json
                let fixture = root().join("tests/fixture/model");
                for f in ["model.safetensors", "tokenizer.json"] {
                    std::os::unix::fs::symlink(fixture.join(f), d.path().join(f)).unwrap();
                }
                std::fs::write(d.path().join("config.json"), bytes).unwrap();
                d.path().to_path_buf()
            } else {
                let p = d.path().join("model.gguf");
                std::fs::write(&p, bytes).unwrap();
                p
            };
            let m = memscan::model::load(&memscan::model::ModelSpec {
                model: spec.display().to_string(),
                device: memscan::model::DeviceChoice::Cpu,
                dtype: None,
                adapter: None,
            })?;
            let ids: Vec<i64> = m
                .tokenizer()
                .encode("hello world 12")?
                .iter()
                .map(|&i| i as i64)
                .collect();
            let out = m.forward(&tch::Tensor::from_slice(&ids).view([1, -1]), None, false)?;
            let _ = m.logits(&out.hidden);
            Ok(())
        }
        other => panic!("no runner for target {other}"),
    }
}

/// Every saved input and the error its message must mention (`None`: it must load).
const SAVED: &[(&str, &str, Option<&[&str]>)] = &[
    // tokenizers 0.22 panicked: Helper: Error("expected `:`") (decoders/mod.rs:90)
    (
        "tokenizer-json",
        "decoder-syntax-error.bin",
        Some(&["tokenizer.json", "invalid JSON"]),
    ),
    // tokenizers 0.22 panicked: no entry found for key (processors/template.rs:563)
    (
        "tokenizer-json",
        "template-special-token-missing.bin",
        Some(&[
            "tokenizer.json",
            "TemplateProcessing",
            "special_tokens lacks",
        ]),
    ),
    // tokenizers 0.22 panicked: `stride` must be strictly less than `max_len`
    // (tokenizer/encoding.rs:319); the file's truncation is no longer applied
    ("tokenizer-json", "truncation-stride-too-long.bin", None),
    // tokenizers 0.22 panicked: index out of bounds (tokenizer/normalizer.rs:374), a
    // Replace normalizer with the pattern "" (it matches an empty string)
    (
        "tokenizer-json",
        "replace-pattern-matches-empty.bin",
        Some(&["tokenizer.json", "Replace", "empty string"]),
    ),
    // tokenizers 0.22 panicked: start byte index 12 is out of bounds of `e`
    // (models/bpe/model.rs:186), continuing_subword_prefix "SpecialToken" and merge "h e"
    (
        "tokenizer-json",
        "merge-shorter-than-subword-prefix.bin",
        Some(&["tokenizer.json", "continuing_subword_prefix"]),
    ),
    // tch panicked in a view (invalid shape dimension -128): config.json "n_head": -1
    // divides "n_embd": 128, so src/model/gpt2.rs accepted it
    (
        "hf-config",
        "gpt2-negative-n-head.bin",
        Some(&["config.json", "n_head"]),
    ),
    // src/detect/validate.rs:440 `&s[2..]` panicked: a rule with validator "ethereum"
    // and a regex matching one byte ("x"). The rule is valid: it must run, finding nothing.
    ("rules", "validator-ethereum-short-match.bin", None),
];

fn check_saved(target: &str, name: &str) {
    let (_, _, expect) = SAVED
        .iter()
        .find(|(t, n, _)| *t == target && *n == name)
        .unwrap_or_else(|| panic!("{target}/{name} is not listed in SAVED"));
    let r = run_saved(target, &input(target, name));
    match expect {
        Some(parts) => assert_input_error(r, parts),
        None => r.unwrap_or_else(|e| panic!("{target}/{name}: {e}")),
    }
}

#[test]
fn every_saved_input_is_listed() {
    for entry in std::fs::read_dir(root().join("tests/fuzz")).unwrap() {
        let target = entry.unwrap().file_name().to_string_lossy().to_string();
        for f in std::fs::read_dir(root().join("tests/fuzz").join(&target)).unwrap() {
            let name = f.unwrap().file_name().to_string_lossy().to_string();
            assert!(
                SAVED.iter().any(|(t, n, _)| *t == target && *n == name),
                "tests/fuzz/{target}/{name} has no entry in SAVED"
            );
        }
    }
}

#[test]
fn tokenizer_json_decoder_syntax_error() {
    check_saved("tokenizer-json", "decoder-syntax-error.bin");
}

#[test]
fn tokenizer_json_template_special_token_missing() {
    check_saved("tokenizer-json", "template-special-token-missing.bin");
}

#[test]
fn tokenizer_json_truncation_stride_too_long() {
    check_saved("tokenizer-json", "truncation-stride-too-long.bin");
    // texts are encoded whole: the file's truncation (max_length 8) is not applied
    let d = tempfile::tempdir().unwrap();
    write_files(
        d.path(),
        &unpack(&input("tokenizer-json", "truncation-stride-too-long.bin")),
    );
    let t = Tokenizer::from_file(&d.path().join("tokenizer.json")).unwrap();
    assert_eq!(t.encode(LONG).unwrap().len(), 11);
}

#[test]
fn tokenizer_json_replace_pattern_matches_empty() {
    check_saved("tokenizer-json", "replace-pattern-matches-empty.bin");
}

#[test]
fn rules_validator_ethereum_short_match() {
    check_saved("rules", "validator-ethereum-short-match.bin");
}

#[test]
fn tokenizer_json_merge_shorter_than_subword_prefix() {
    check_saved("tokenizer-json", "merge-shorter-than-subword-prefix.bin");
}

#[test]
fn hf_config_gpt2_negative_n_head() {
    check_saved("hf-config", "gpt2-negative-n-head.bin");
}

// ---------------------------------------------------------------------------------------
// SentencePiece vocabularies (tokenizer.ggml.model = llama, src/model/spm.rs).

/// "<unk>", "<s>", "▁", "a", "b", "▁a", "ab", then `extra` (normal), with scores and types.
fn spm_kvs(extra: &[&str], scores: Option<Vec<f32>>) -> Vec<(&'static str, V)> {
    let mut tokens = vec!["<unk>", "<s>", "\u{2581}", "a", "b", "\u{2581}a", "ab"];
    tokens.extend(extra);
    let mut types = vec![2, 3, 1, 1, 1, 1, 1];
    types.extend(
        extra
            .iter()
            .map(|t| if t.starts_with("<0x") { 6 } else { 1 }),
    );
    let n = tokens.len();
    vec![
        ("tokenizer.ggml.model", V::Str("llama")),
        ("tokenizer.ggml.tokens", strs(&tokens)),
        (
            "tokenizer.ggml.scores",
            V::F32s(scores.unwrap_or_else(|| (0..n).map(|i| -(i as f32)).collect())),
        ),
        ("tokenizer.ggml.token_type", V::I32s(types)),
        ("tokenizer.ggml.bos_token_id", V::U32(1)),
        ("tokenizer.ggml.unknown_token_id", V::U32(0)),
        ("tokenizer.ggml.add_space_prefix", V::Bool(true)),
    ]
}

#[test]
fn spm_vocabulary_encodes_with_bos_and_space_prefix() {
    let d = tempfile::tempdir().unwrap();
    let ok = gguf(d.path(), "spm.gguf", &spm_kvs(&[], None));
    let tok = gguf_tokenizer(&ok).unwrap();
    // BOS, then " a" → "▁a", "b": "ab" would need "a" unmerged from "▁"; "▁a" scores higher
    assert_eq!(tok.encode("ab").unwrap(), vec![1, 5, 4]);
    assert_eq!(tok.identity, "gguf:spm+bos");
    // "c" is in no token and there are no byte tokens: the unknown token
    assert_eq!(tok.encode_plain("c").unwrap(), vec![2, 0]);
}

#[test]
fn unsupported_gguf_tokenizer_model_is_an_input_error() {
    let d = tempfile::tempdir().unwrap();
    let mut kvs = spm_kvs(&[], None);
    kvs[0] = ("tokenizer.ggml.model", V::Str("t5"));
    let p = gguf(d.path(), "t5.gguf", &kvs);
    assert_input_error(
        gguf_tokenizer(&p),
        &[
            "t5.gguf",
            "tokenizer model t5 is not supported",
            "\"llama\"",
        ],
    );
}

#[test]
fn spm_scores_of_another_length_are_an_input_error() {
    let d = tempfile::tempdir().unwrap();
    let p = gguf(d.path(), "scores.gguf", &spm_kvs(&[], Some(vec![0.0; 3])));
    assert_input_error(gguf_tokenizer(&p), &["scores.gguf", "7 tokens, 3 scores"]);
}

#[test]
fn spm_malformed_byte_token_is_an_input_error() {
    let d = tempfile::tempdir().unwrap();
    let p = gguf(d.path(), "bytes.gguf", &spm_kvs(&["<0xZZ>"], None));
    assert_input_error(gguf_tokenizer(&p), &["bytes.gguf", "<0xZZ>", "not <0xXX>"]);
}
