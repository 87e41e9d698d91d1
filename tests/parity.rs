//! Parity with Hugging Face transformers: the same token ids and per-token
//! log-probs (CPU f32, within `PARITY_TINY` / `PARITY_DEEP` of tests/common: round-off
//! of two implementations, far under an architecture slip) on random-weight GPT-2,
//! Llama, Qwen2, GPT-NeoX, Qwen3, Phi-3 (LongRoPE), OLMo 2, Gemma 2 and Gemma 3 models
//! saved as safetensors, and on the two real GGUF models (SmolLM2, Gemma 3 270M).

mod common;
use common::*;

fn check(model_name: &str, model_path: &std::path::Path) {
    let data = reference_data();
    let reference: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(data.join("reference.json")).unwrap())
            .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("scores.jsonl");
    let o = memscan(&[
        "-q",
        "score",
        "--model",
        model_path.to_str().unwrap(),
        "--device",
        "cpu",
        "--dtype",
        "f32",
        "--input",
        data.join("texts.jsonl").to_str().unwrap(),
        "--output",
        out.to_str().unwrap(),
        "--tokens",
        "--batch-size",
        "4",
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    let ours = read_jsonl(&out);
    let theirs = reference[model_name].as_array().unwrap();
    assert_eq!(ours.len(), theirs.len());
    let tol = parity_for(model_name);
    let (mut sum, mut n, mut max) = (0f64, 0usize, 0f64);
    for (o, t) in ours.iter().zip(theirs) {
        assert_eq!(
            o["token_ids"], t["ids"],
            "{model_name}: tokenization differs for id {}",
            o["id"]
        );
        let a = o["token_logprobs"].as_array().unwrap();
        let b = t["logprobs"].as_array().unwrap();
        assert_eq!(a.len(), b.len());
        for (x, y) in a.iter().zip(b) {
            let (x, y) = (x.as_f64().unwrap(), y.as_f64().unwrap());
            // one token: round-off of two implementations vs a slip (see Parity)
            assert!(
                tol.each.holds(x, y),
                "{model_name} id {}: log p {x} vs {y} (bound {:.1e})",
                o["id"],
                tol.each.bound(y)
            );
            let d = (x - y).abs();
            sum += d;
            max = max.max(d);
            n += 1;
        }
        // nll_mean is the mean of the same log-probs: a mean of values each within
        // `each`; counting BOS or dividing by n instead of n − 1 moves it by ≥ 1e-2
        if !b.is_empty() {
            let nll = -b.iter().map(|v| v.as_f64().unwrap()).sum::<f64>() / b.len() as f64;
            let got = o["nll_mean"].as_f64().unwrap();
            assert!(
                tol.each.holds(got, nll),
                "{model_name} id {}: nll_mean {got} vs {nll}",
                o["id"]
            );
        }
    }
    let mean = sum / n as f64;
    eprintln!("{model_name}: {n} tokens, mean |Δ log p| = {mean:.2e}, max = {max:.2e}");
    // a systematic slip (activation approximation, norm ε) shows on the mean first
    assert!(
        mean <= tol.mean,
        "{model_name}: mean |Δ log p| = {mean} (bound {:.1e})",
        tol.mean
    );
}

#[test]
fn gpt2_matches_transformers() {
    check("tiny-gpt2", &reference_data().join("tiny-gpt2"));
}

#[test]
fn llama_matches_transformers() {
    check("tiny-llama", &reference_data().join("tiny-llama"));
}

#[test]
fn qwen2_matches_transformers() {
    check("tiny-qwen2", &reference_data().join("tiny-qwen2"));
}

#[test]
fn neox_matches_transformers() {
    check("tiny-neox", &reference_data().join("tiny-neox"));
}

#[test]
fn default_gguf_matches_transformers() {
    check("default-gguf", &default_model());
}

#[test]
fn qwen3_matches_transformers() {
    check("tiny-qwen3", &reference_data().join("tiny-qwen3"));
}

#[test]
fn phi3_matches_transformers() {
    check("tiny-phi3", &reference_data().join("tiny-phi3"));
}

#[test]
fn olmo2_matches_transformers() {
    check("tiny-olmo2", &reference_data().join("tiny-olmo2"));
}

#[test]
fn gemma2_matches_transformers() {
    check("tiny-gemma2", &reference_data().join("tiny-gemma2"));
}

#[test]
fn gemma3_matches_transformers() {
    check("tiny-gemma3", &reference_data().join("tiny-gemma3"));
}

/// Gemma 3 270M, the second real model: transformers' model from the same GGUF, fed the
/// ids of llama.cpp's tokenizer (which memscan's equal, tests/tokenizers.rs).
#[test]
fn gemma3_gguf_matches_transformers() {
    check("gemma3-gguf", &gemma3_model());
}

/// The same weights through llama.cpp's GGUF converter: memscan reads the names,
/// layouts and metadata llama.cpp writes (Llama's permuted q/k rows, GPT-NeoX's qkv
/// regrouped, Gemma's norms stored as 1 + w, Phi-3's LongRoPE factors as tensors, …)
/// and gives transformers' log-probs of the safetensors.
fn check_gguf(name: &str) {
    check(name, &llamacpp_gguf(name));
}

#[test]
fn gpt2_gguf_from_llama_cpp_matches_transformers() {
    check_gguf("tiny-gpt2");
}

#[test]
fn llama_gguf_from_llama_cpp_matches_transformers() {
    check_gguf("tiny-llama");
}

#[test]
fn qwen2_gguf_from_llama_cpp_matches_transformers() {
    check_gguf("tiny-qwen2");
}

#[test]
fn neox_gguf_from_llama_cpp_matches_transformers() {
    check_gguf("tiny-neox");
}

#[test]
fn qwen3_gguf_from_llama_cpp_matches_transformers() {
    check_gguf("tiny-qwen3");
}

#[test]
fn phi3_gguf_from_llama_cpp_matches_transformers() {
    check_gguf("tiny-phi3");
}

#[test]
fn olmo2_gguf_from_llama_cpp_matches_transformers() {
    check_gguf("tiny-olmo2");
}

#[test]
fn gemma2_gguf_from_llama_cpp_matches_transformers() {
    check_gguf("tiny-gemma2");
}

#[test]
fn gemma3_gguf_from_llama_cpp_matches_transformers() {
    check_gguf("tiny-gemma3");
}

/// The llama tokenizer of the fixture adds BOS; memscan must keep it and not score it.
#[test]
fn bos_is_kept_and_not_scored() {
    let data = reference_data();
    let reference: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(data.join("reference.json")).unwrap())
            .unwrap();
    let first = &reference["tiny-llama"][0];
    let ids = first["ids"].as_array().unwrap();
    assert_eq!(first["logprobs"].as_array().unwrap().len(), ids.len() - 1);
    let tok: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(data.join("tiny-llama/tokenizer.json")).unwrap(),
    )
    .unwrap();
    let bos = tok["model"]["vocab"]["<s>"].as_u64().unwrap();
    assert_eq!(ids[0].as_u64().unwrap(), bos);
}
