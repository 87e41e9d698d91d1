//! LoRA adapters (`--adapter`): per-token log-probs through an adapter equal peft's
//! (tests/reference/peft_reference.py: random-weight adapters saved by peft itself, on
//! the tiny safetensors models and on the default GGUF model, within the same parity
//! bounds as the bare models); greedy generation through the adapter (the quantized
//! steps' low-rank side path on the GGUF model) equals peft's; bad adapters exit 2
//! naming the file and the cause.

mod common;
use common::*;
use memscan::generate::{generate, SampleOptions};
use memscan::model::{self, ModelSpec};

use std::path::{Path, PathBuf};

fn reference() -> (PathBuf, serde_json::Value) {
    let dir = adapter_data();
    let r = serde_json::from_str(&std::fs::read_to_string(dir.join("reference.json")).unwrap())
        .unwrap();
    (dir, r)
}

fn base_of(name: &str) -> PathBuf {
    if name == "default-gguf" {
        default_model()
    } else {
        reference_data().join(name)
    }
}

/// memscan's per-token log-probs of texts.jsonl with `adapter` on `base`.
fn score(base: &Path, adapter: &Path) -> Vec<serde_json::Value> {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("scores.jsonl");
    let o = memscan(&[
        "-q",
        "score",
        "--model",
        base.to_str().unwrap(),
        "--adapter",
        adapter.to_str().unwrap(),
        "--device",
        "cpu",
        "--dtype",
        "f32",
        "--input",
        reference_data().join("texts.jsonl").to_str().unwrap(),
        "--output",
        out.to_str().unwrap(),
        "--tokens",
        "--batch-size",
        "4",
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    read_jsonl(&out)
}

/// Parity bound for an adapter on a tiny model. memscan merges the update into the
/// weight (W + sBA, one GEMM: scoring costs nothing extra) where peft adds it beside the
/// base product (x Wᵀ + s (x Aᵀ) Bᵀ), so the f32 sums round differently; the random
/// adapters here (B with std 0.3, far larger updates than trained ones) make that
/// visible. Measured on the tiny Llama (AMD EPYC): max 3.6e-5 (one token), mean 7.5e-7.
/// The slip guarded, an adapter scale wrong in one module (alpha_pattern ignored),
/// moves log p by up to 1.64 and by 0.2 on average. Each 2e-4 (5.6× the measured max,
/// 8000× under the slip), mean 5e-6 as for the bare models (6.6× the measured mean).
const PARITY_ADAPTER_TINY: Parity = Parity {
    each: Tol {
        abs: 2e-4,
        rel: 0.0,
    },
    mean: 5e-6,
    grad_rel: 0.0,
};

fn parity_with_adapter(name: &str) -> Parity {
    if name == "default-gguf" {
        PARITY_DEEP
    } else {
        PARITY_ADAPTER_TINY
    }
}

fn check_parity(name: &str) {
    let (dir, reference) = reference();
    let case = &reference[name];
    let ours = score(&base_of(name), &dir.join(name));
    let theirs = case["rows"].as_array().unwrap();
    assert_eq!(ours.len(), theirs.len());
    let tol = parity_with_adapter(name);
    let (mut sum, mut n, mut max) = (0f64, 0usize, 0f64);
    for (o, t) in ours.iter().zip(theirs) {
        assert_eq!(o["token_ids"], t["ids"], "{name}: tokenization differs");
        let a = o["token_logprobs"].as_array().unwrap();
        let b = t["logprobs"].as_array().unwrap();
        assert_eq!(a.len(), b.len());
        for (x, y) in a.iter().zip(b) {
            let (x, y) = (x.as_f64().unwrap(), y.as_f64().unwrap());
            assert!(
                tol.each.holds(x, y),
                "{name} id {}: log p {x} vs peft {y} (bound {:.1e})",
                o["id"],
                tol.each.bound(y)
            );
            sum += (x - y).abs();
            max = max.max((x - y).abs());
            n += 1;
        }
    }
    let mean = sum / n as f64;
    eprintln!("{name} + LoRA: {n} tokens, mean |Δ log p| vs peft = {mean:.2e}, max = {max:.2e}");
    assert!(mean <= tol.mean, "{name}: mean |Δ log p| {mean}");
}

/// The adapter must change the model: its log-probs differ from the bare base's by far
/// more than the parity bound (else the tests above would pass with the adapter ignored).
fn check_adapter_matters(name: &str) {
    let (dir, _) = reference();
    let bare: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(reference_data().join("reference.json")).unwrap(),
    )
    .unwrap();
    let ours = score(&base_of(name), &dir.join(name));
    let mut moved = 0f64;
    for (o, t) in ours.iter().zip(bare[name].as_array().unwrap()) {
        for (x, y) in o["token_logprobs"]
            .as_array()
            .unwrap()
            .iter()
            .zip(t["logprobs"].as_array().unwrap())
        {
            moved = moved.max((x.as_f64().unwrap() - y.as_f64().unwrap()).abs());
        }
    }
    eprintln!("{name}: the adapter moves log p by up to {moved:.3}");
    assert!(
        moved > 100.0 * parity_for(name).each.bound(1.0),
        "{name}: adapter had no effect"
    );
}

#[test]
fn llama_adapter_matches_peft() {
    // seven target modules, a rank pattern (down_proj r = 2) and an alpha pattern
    check_parity("tiny-llama");
    check_adapter_matters("tiny-llama");
}

#[test]
fn qwen2_rslora_adapter_with_trained_biases_matches_peft() {
    check_parity("tiny-qwen2");
}

#[test]
fn gpt2_conv1d_adapter_with_all_biases_matches_peft() {
    // fan_in_fan_out (Conv1D) and bias = "all": LayerNorm biases replaced too
    check_parity("tiny-gpt2");
    check_adapter_matters("tiny-gpt2");
}

#[test]
fn neox_adapter_matches_peft() {
    check_parity("tiny-neox");
}

#[test]
fn gguf_default_model_adapter_matches_peft() {
    check_parity("default-gguf");
    check_adapter_matters("default-gguf");
}

/// Greedy continuations through the adapter equal peft's `generate`: on the GGUF model
/// the steps run the quantized kernels with the adapter as a side path, so this checks
/// that path against an independent implementation.
#[test]
fn greedy_through_adapter_matches_peft() {
    let (dir, reference) = reference();
    for name in ["tiny-llama", "default-gguf"] {
        let m = model::load(&ModelSpec {
            model: base_of(name).display().to_string(),
            device: model::DeviceChoice::Cpu,
            dtype: Some(model::Precision::F32),
            adapter: Some(dir.join(name)),
        })
        .unwrap();
        let cases = reference[name]["greedy"].as_array().unwrap();
        let ids = |v: &serde_json::Value| -> Vec<u32> {
            v.as_array()
                .unwrap()
                .iter()
                .map(|x| x.as_u64().unwrap() as u32)
                .collect()
        };
        let prompts: Vec<Vec<u32>> = cases.iter().map(|c| ids(&c["prompt"])).collect();
        let opts = SampleOptions {
            max_new_tokens: 10,
            temperature: 0.0,
            temperature_decay: None,
            top_k: None,
            top_p: None,
            seed: 0,
            stop_at_eos: false,
        };
        let got = generate(&m, &prompts, &opts).unwrap();
        for (g, c) in got.iter().zip(cases) {
            assert_eq!(g.tokens, ids(&c["new"]), "{name}: prompt {:?}", c["prompt"]);
        }
    }
}

/// Copies adapter `name` into a temp folder, applies `edit` to it, and runs `score`
/// with it on `base`: the one-line error (exit 2) must name `names` and say `cause`.
fn bad(name: &str, base: &Path, edit: impl Fn(&Path), names: &str, cause: &str) {
    let (dir, _) = reference();
    let tmp = tempfile::tempdir().unwrap();
    let ad = tmp.path().join("ad");
    std::fs::create_dir(&ad).unwrap();
    for f in ["adapter_config.json", "adapter_model.safetensors"] {
        std::fs::copy(dir.join(name).join(f), ad.join(f)).unwrap();
    }
    edit(&ad);
    let o = memscan(&[
        "-q",
        "score",
        "--model",
        base.to_str().unwrap(),
        "--adapter",
        ad.to_str().unwrap(),
        "--device",
        "cpu",
        "--input",
        reference_data().join("texts.jsonl").to_str().unwrap(),
    ]);
    let err = stderr(&o);
    assert_eq!(o.status.code(), Some(2), "{err}");
    assert_eq!(err.trim().lines().count(), 1, "one line: {err}");
    assert!(!err.contains("panicked"), "{err}");
    assert!(err.contains(names), "names {names}: {err}");
    assert!(err.contains(cause), "says {cause}: {err}");
}

fn edit_config(ad: &Path, f: impl Fn(&mut serde_json::Value)) {
    let p = ad.join("adapter_config.json");
    let mut j: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&p).unwrap()).unwrap();
    f(&mut j);
    std::fs::write(&p, j.to_string()).unwrap();
}

#[test]
fn bad_adapters_exit_2_naming_file_and_cause() {
    let llama = reference_data().join("tiny-llama");
    // an adapter for another architecture: GPT-2 module names on a Llama model
    bad(
        "tiny-gpt2",
        &llama,
        |_| {},
        "adapter_model.safetensors",
        "match no layer of the base model",
    );
    // same module names, other shapes: the default model's adapter on the tiny Llama
    bad(
        "default-gguf",
        &llama,
        |_| {},
        "adapter_model.safetensors",
        "but the base layer is",
    );
    // unsupported PEFT types and variants
    bad(
        "tiny-llama",
        &llama,
        |ad| edit_config(ad, |j| j["peft_type"] = "IA3".into()),
        "adapter_config.json",
        "peft_type \"IA3\" is not supported (supported: LORA)",
    );
    bad(
        "tiny-llama",
        &llama,
        |ad| edit_config(ad, |j| j["use_dora"] = true.into()),
        "adapter_config.json",
        "DoRA",
    );
    // a rank that disagrees with the tensors
    bad(
        "tiny-llama",
        &llama,
        |ad| edit_config(ad, |j| j["r"] = 16.into()),
        "adapter_model.safetensors",
        "the config says r = 16",
    );
    // missing files
    bad(
        "tiny-llama",
        &llama,
        |ad| std::fs::remove_file(ad.join("adapter_model.safetensors")).unwrap(),
        "adapter_model.safetensors",
        "no such file",
    );
    bad(
        "tiny-llama",
        &llama,
        |ad| std::fs::remove_file(ad.join("adapter_config.json")).unwrap(),
        "adapter_config.json",
        "no such file",
    );
    bad(
        "tiny-llama",
        &llama,
        |ad| std::fs::write(ad.join("adapter_config.json"), "{not json").unwrap(),
        "adapter_config.json",
        "invalid JSON",
    );
    bad(
        "tiny-llama",
        &llama,
        |ad| std::fs::write(ad.join("adapter_model.safetensors"), b"garbage").unwrap(),
        "adapter_model.safetensors",
        "",
    );
}

#[test]
fn missing_adapter_folder_and_reference_adapter_without_reference() {
    let o = memscan(&[
        "-q",
        "score",
        "--model",
        reference_data().join("tiny-llama").to_str().unwrap(),
        "--adapter",
        "/nonexistent/adapter",
        "--input",
        reference_data().join("texts.jsonl").to_str().unwrap(),
    ]);
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    assert!(stderr(&o).contains("/nonexistent/adapter: no such adapter folder"));
    let o = memscan(&[
        "-q",
        "score",
        "--reference-adapter",
        "/x",
        "--input",
        reference_data().join("texts.jsonl").to_str().unwrap(),
    ]);
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
}

/// `base` with `adapter` on the CPU in f32, loaded in the caller's sharing scope if any.
fn load_f32(base: &Path, adapter: Option<PathBuf>) -> model::Model {
    model::load(&ModelSpec {
        model: base.display().to_string(),
        device: "cpu".parse().unwrap(),
        dtype: Some("f32".parse().unwrap()),
        adapter,
    })
    .unwrap()
}

/// The first four reference texts.
fn four_texts() -> Vec<String> {
    read_jsonl(&reference_data().join("texts.jsonl"))
        .iter()
        .take(4)
        .map(|t| t["text"].as_str().unwrap().to_string())
        .collect()
}

/// Per-token log-probs of `texts` under `m`.
fn logprobs(m: &model::Model, texts: &[String]) -> Vec<Vec<f32>> {
    use memscan::scorer::{ScoreOptions, Scorer};
    let texts: Vec<&str> = texts.iter().map(String::as_str).collect();
    let opts = ScoreOptions {
        batch_size: 4,
        max_tokens: None,
        vocab_stats: false,
        attention: false,
    };
    Scorer::new(m, opts)
        .unwrap()
        .score(&texts, |_, _| {})
        .unwrap()
        .into_iter()
        .map(|s| s.token_logprobs)
        .collect()
}

/// Models on one base in a sharing scope (`model::weights::share`, as `score`/`eval`/
/// `scan`/`forget-check` load a target and its references): the base alone, its peft
/// adapter, and the same adapter at twice the scale. Each scores exactly as when loaded
/// alone, and they hold one copy of every layer no adapter changes: the adapter targets
/// q/k/v and down_proj (peft's config), so per layer the fused qkv and down_proj are the
/// model's own and the norms, o_proj and the fused gate/up are one tensor for all three.
#[test]
fn models_on_one_base_share_the_layers_no_adapter_changes() {
    use memscan::model::LanguageModel;
    let tmp = tempfile::tempdir().unwrap();
    let (ad, ad2) = default_adapters(tmp.path());
    let specs = [None, Some(ad.clone()), Some(ad2.clone())];
    let load = |a: &Option<PathBuf>| load_f32(&default_model(), a.clone());
    let texts = four_texts();
    let alone: Vec<Vec<Vec<f32>>> = specs.iter().map(|a| logprobs(&load(a), &texts)).collect();
    assert_ne!(
        alone[1], alone[2],
        "the doubled adapter must change the scores"
    );
    let shared: Vec<model::Model> = {
        let _g = model::weights::share();
        specs.iter().map(load).collect()
    };
    assert_eq!(shared[0].info().shared, 0);
    for (i, m) in shared.iter().enumerate() {
        assert_eq!(
            logprobs(m, &texts),
            alone[i],
            "model {i}: shared weights change its scores"
        );
    }
    let ptrs = |m: &model::Model| -> Vec<(Option<usize>, usize)> {
        m.parameters()
            .iter()
            .map(|(l, t)| (*l, t.data_ptr() as usize))
            .collect()
    };
    let base = ptrs(&shared[0]);
    let n_layers = shared[0].info().n_layers as usize;
    for m in &shared[1..] {
        assert!(m.info().shared > 0);
        let own: Vec<_> = ptrs(m)
            .into_iter()
            .filter(|(_, p)| !base.iter().any(|(_, q)| q == p))
            .collect();
        assert_eq!(own.len(), 2 * n_layers, "own tensors: {own:?}");
        assert!(own.iter().all(|(l, _)| l.is_some()));
    }
    // outside the scope nothing is shared
    let again = load(&specs[1]);
    assert_eq!(again.info().shared, 0);
    assert!(ptrs(&again)
        .iter()
        .all(|(_, p)| !base.iter().any(|(_, q)| q == p)));
}

/// The same sharing on the tiny safetensors models with their peft adapters (GPT-2's
/// Conv1D layers and NeoX's fused qkv go through `Weights::layer` too): scores bit-equal
/// to separate loads, and the adapted model holds fewer own tensors than the base has.
#[test]
fn tiny_models_on_one_base_share_too() {
    use memscan::model::LanguageModel;
    let (dir, _) = reference();
    let texts = four_texts();
    for name in ["tiny-gpt2", "tiny-neox", "tiny-llama"] {
        let load = |a: Option<PathBuf>| load_f32(&base_of(name), a);
        let ad = dir.join(name);
        let alone = [
            logprobs(&load(None), &texts),
            logprobs(&load(Some(ad.clone())), &texts),
        ];
        let (base, adapted) = {
            let _g = model::weights::share();
            (load(None), load(Some(ad.clone())))
        };
        assert_eq!(logprobs(&base, &texts), alone[0], "{name}: base");
        assert_eq!(logprobs(&adapted, &texts), alone[1], "{name}: adapted");
        assert!(adapted.info().shared > 0, "{name}: nothing shared");
        let ptrs: Vec<usize> = base
            .parameters()
            .iter()
            .map(|(_, t)| t.data_ptr() as usize)
            .collect();
        let all = adapted.parameters();
        let own = all
            .iter()
            .filter(|(_, t)| !ptrs.contains(&(t.data_ptr() as usize)))
            .count();
        assert!(
            own > 0 && own < all.len(),
            "{name}: {own} of {} own",
            all.len()
        );
    }
}
