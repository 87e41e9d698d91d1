//! Bad input of every kind: exit code 2, one line naming the file and the cause,
//! never a panic.

mod common;
use common::*;
use std::path::{Path, PathBuf};

fn texts(dir: &Path) -> PathBuf {
    let p = dir.join("texts.jsonl");
    std::fs::write(&p, "{\"text\": \"hello world\"}\n").unwrap();
    p
}

fn copy_model(dir: &Path) -> PathBuf {
    copy_tiny(dir, "tiny-llama")
}

fn copy_tiny(dir: &Path, name: &str) -> PathBuf {
    let src = reference_data().join(name);
    let dst = dir.join("model");
    std::fs::create_dir_all(&dst).unwrap();
    for e in std::fs::read_dir(&src).unwrap() {
        let e = e.unwrap();
        std::fs::copy(e.path(), dst.join(e.file_name())).unwrap();
    }
    dst
}

fn score(model: &Path, input: &Path) -> std::process::Output {
    memscan(&[
        "score",
        "--device",
        "cpu",
        "-m",
        model.to_str().unwrap(),
        "-i",
        input.to_str().unwrap(),
    ])
}

#[test]
fn missing_input_file() {
    let o = memscan(&["score", "-i", "/nonexistent/texts.jsonl"]);
    assert_input_error(&o, "/nonexistent/texts.jsonl: no such file");
}

#[test]
fn missing_model() {
    let d = tempfile::tempdir().unwrap();
    let o = score(Path::new("/nonexistent/model.gguf"), &texts(d.path()));
    assert_input_error(&o, "/nonexistent/model.gguf: no such file");
}

#[test]
fn truncated_safetensors() {
    let d = tempfile::tempdir().unwrap();
    let m = copy_model(d.path());
    let f = m.join("model.safetensors");
    let bytes = std::fs::read(&f).unwrap();
    std::fs::write(&f, &bytes[..bytes.len() / 2]).unwrap();
    assert_input_error(
        &score(&m, &texts(d.path())),
        "model.safetensors: corrupt or truncated safetensors",
    );
}

#[test]
fn corrupt_safetensors_header() {
    let d = tempfile::tempdir().unwrap();
    let m = copy_model(d.path());
    let f = m.join("model.safetensors");
    let mut bytes = std::fs::read(&f).unwrap();
    for b in bytes.iter_mut().skip(8).take(40) {
        *b = b'#';
    }
    std::fs::write(&f, &bytes).unwrap();
    assert_input_error(
        &score(&m, &texts(d.path())),
        "model.safetensors: corrupt or truncated safetensors",
    );
}

#[test]
fn truncated_gguf() {
    let d = tempfile::tempdir().unwrap();
    let f = d.path().join("cut.gguf");
    let bytes = std::fs::read(default_model()).unwrap();
    std::fs::write(&f, &bytes[..bytes.len() / 3]).unwrap();
    assert_input_error(
        &score(&f, &texts(d.path())),
        "cut.gguf: corrupt or truncated GGUF",
    );
    // cut inside the metadata
    std::fs::write(&f, &bytes[..5000]).unwrap();
    assert_input_error(
        &score(&f, &texts(d.path())),
        "cut.gguf: corrupt or truncated GGUF",
    );
}

#[test]
fn corrupt_gguf() {
    let d = tempfile::tempdir().unwrap();
    let f = d.path().join("bad.gguf");
    std::fs::write(&f, b"GGUX\x03\x00\x00\x00 this is not a model").unwrap();
    assert_input_error(&score(&f, &texts(d.path())), "bad.gguf: not a GGUF file");
}

#[test]
fn unknown_architecture() {
    let d = tempfile::tempdir().unwrap();
    let m = copy_model(d.path());
    let cfg = m.join("config.json");
    let text = std::fs::read_to_string(&cfg)
        .unwrap()
        .replace("\"llama\"", "\"bert\"");
    std::fs::write(&cfg, text).unwrap();
    assert_input_error(
        &score(&m, &texts(d.path())),
        "unknown architecture (model_type \"bert\"",
    );
}

#[test]
fn wrong_tensor_shape() {
    let d = tempfile::tempdir().unwrap();
    let m = copy_model(d.path());
    let cfg = m.join("config.json");
    let text = std::fs::read_to_string(&cfg)
        .unwrap()
        .replace("\"intermediate_size\": 128", "\"intermediate_size\": 96");
    std::fs::write(&cfg, text).unwrap();
    let o = score(&m, &texts(d.path()));
    assert_input_error(&o, "model.safetensors: tensor model.layers.0.mlp.gate_proj.weight has shape [128, 64], expected [96, 64]");
}

#[test]
fn pickle_checkpoint_is_refused() {
    let d = tempfile::tempdir().unwrap();
    let bin = d.path().join("pytorch_model.bin");
    std::fs::write(&bin, b"PK\x03\x04 pickled").unwrap();
    assert_input_error(&score(&bin, &texts(d.path())), "convert it to safetensors");
    // a Hugging Face folder with only a .bin checkpoint
    std::fs::write(d.path().join("config.json"), "{\"model_type\": \"gpt2\"}").unwrap();
    let o = score(d.path(), &texts(d.path()));
    assert_input_error(
        &o,
        "pytorch_model.bin: PyTorch pickle checkpoints are never loaded",
    );
}

#[test]
fn invalid_utf8_input() {
    let d = tempfile::tempdir().unwrap();
    let p = d.path().join("bad.txt");
    std::fs::write(&p, b"good line\nbad \xff\xfe line\n").unwrap();
    assert_input_error(
        &score(&default_model(), &p),
        "bad.txt: line 2: invalid UTF-8",
    );
}

#[test]
fn invalid_json_input() {
    let d = tempfile::tempdir().unwrap();
    let p = d.path().join("bad.jsonl");
    std::fs::write(&p, "{\"text\": \"ok\"}\n{\"text\": oops}\n").unwrap();
    assert_input_error(
        &score(&default_model(), &p),
        "bad.jsonl: line 2: invalid JSON",
    );
    std::fs::write(&p, "{\"txt\": \"no text field\"}\n").unwrap();
    assert_input_error(
        &score(&default_model(), &p),
        "bad.jsonl: line 1: no \"text\" field",
    );
}

#[test]
fn empty_input() {
    let d = tempfile::tempdir().unwrap();
    let p = d.path().join("empty.jsonl");
    std::fs::write(&p, "").unwrap();
    assert_input_error(
        &score(&default_model(), &p),
        "empty.jsonl: no texts in the input",
    );
}

#[test]
fn missing_tokenizer() {
    let d = tempfile::tempdir().unwrap();
    let m = copy_model(d.path());
    std::fs::remove_file(m.join("tokenizer.json")).unwrap();
    assert_input_error(&score(&m, &texts(d.path())), "tokenizer.json: no such file");
}

#[test]
fn bad_device_and_dtype() {
    let d = tempfile::tempdir().unwrap();
    let t = texts(d.path());
    let o = memscan(&["score", "--device", "tpu", "-i", t.to_str().unwrap()]);
    assert_input_error(&o, "--device tpu");
    let o = memscan(&[
        "score",
        "--dtype",
        "f8",
        "--device",
        "cpu",
        "-i",
        t.to_str().unwrap(),
    ]);
    assert_input_error(&o, "--dtype f8");
    if !tch::Cuda::is_available() {
        let o = memscan(&["score", "--device", "cuda", "-i", t.to_str().unwrap()]);
        assert_input_error(&o, "CUDA is not available");
    }
}

/// Edits the copied model's config.json: `key` set to the JSON `value`.
fn set_config(m: &Path, key: &str, value: serde_json::Value) {
    let cfg = m.join("config.json");
    let mut j: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&cfg).unwrap()).unwrap();
    j[key] = value;
    std::fs::write(&cfg, j.to_string()).unwrap();
}

#[test]
fn unsupported_config_keys_of_the_new_families() {
    for (model, key, value, says) in [
        (
            "tiny-gemma3",
            "rope_scaling",
            serde_json::json!({"rope_type": "yarn", "factor": 8.0}),
            "rope_scaling type yarn is not supported for Gemma (linear is)",
        ),
        (
            "tiny-qwen3",
            "use_sliding_window",
            serde_json::json!(true),
            "use_sliding_window = true is not supported for qwen3",
        ),
        (
            "tiny-phi3",
            "rope_scaling",
            serde_json::json!({"type": "longrope", "short_factor": [1.0], "long_factor": [1.0]}),
            "short_factor and long_factor need 8 entries",
        ),
        (
            "tiny-gemma2",
            "layer_types",
            serde_json::json!(["sliding_attention"]),
            "layer_types has 1 entries for 2 layers",
        ),
    ] {
        let d = tempfile::tempdir().unwrap();
        let m = copy_tiny(d.path(), model);
        set_config(&m, key, value);
        let o = score(&m, &texts(d.path()));
        assert_input_error(&o, says);
        assert!(
            stderr(&o).contains("config.json") || stderr(&o).contains("model"),
            "{model}"
        );
    }
}

/// A GGUF of an architecture memscan does not read names it and lists the known ones.
#[test]
fn unknown_gguf_architecture_lists_the_known_ones() {
    let d = tempfile::tempdir().unwrap();
    let mut bytes = std::fs::read(llamacpp_gguf("tiny-llama")).unwrap();
    // general.architecture = "llama" → "mamba" (same length, so the file stays valid)
    let key = b"general.architecture";
    let at = bytes
        .windows(key.len())
        .position(|w| w == key)
        .expect("general.architecture key");
    let value = at + key.len() + 4 + 8; // type u32, string length u64
    assert_eq!(&bytes[value..value + 5], b"llama");
    bytes[value..value + 5].copy_from_slice(b"mamba");
    let f = d.path().join("mamba.gguf");
    std::fs::write(&f, bytes).unwrap();
    let o = score(&f, &texts(d.path()));
    assert_input_error(&o, "mamba.gguf");
    let err = stderr(&o);
    for known in [
        "unknown architecture mamba",
        "llama",
        "qwen3",
        "phi3",
        "olmo2",
        "gemma2",
        "gemma3",
        "gptneox",
    ] {
        assert!(err.contains(known), "{err} does not list {known}");
    }
}
