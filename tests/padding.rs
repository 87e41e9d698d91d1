//! Batching must not change any number: a text scored alone and inside a mixed
//! batch of longer and shorter texts agrees within `SAME_MATH` (CPU, f32): another
//! batch shape takes another GEMM blocking, so the sums differ in their last bits, while
//! a pad that leaks into a real position moves log-probs by ≥ 0.1.

mod common;
use common::*;
use memscan::model::{self, ModelSpec};
use memscan::scorer::{ScoreOptions, Scorer};

fn opts(batch_size: usize) -> ScoreOptions {
    ScoreOptions {
        batch_size,
        max_tokens: None,
        vocab_stats: true,
        attention: false,
    }
}

fn check(model_path: &std::path::Path) {
    let m = model::load(&ModelSpec {
        model: model_path.display().to_string(),
        device: memscan::model::DeviceChoice::Cpu,
        dtype: Some(memscan::model::Precision::F32),
        adapter: None,
    })
    .unwrap();
    let texts = [
        "A short one.",
        "A much longer text that will force padding on every other member of the batch, because it goes \
         on and on with more words than the rest, and then some more words after that.",
        "Medium length text about a kettle and a ferry.",
        "x",
        "Numbers 1 2 3 and an email jane@example.com.",
    ];
    let alone = Scorer::new(&m, opts(1)).unwrap();
    let batched = Scorer::new(&m, opts(5)).unwrap();
    let together = batched.score(&texts, |_, _| {}).unwrap();
    for (i, t) in texts.iter().enumerate() {
        let single = alone.score(&[t], |_, _| {}).unwrap().remove(0);
        assert_eq!(single.token_ids, together[i].token_ids);
        assert_eq!(
            single.token_logprobs.len(),
            together[i].token_logprobs.len()
        );
        for (a, b) in single
            .token_logprobs
            .iter()
            .zip(&together[i].token_logprobs)
        {
            // was 1e-5 absolute, which a Xeon (AVX-512/AMX) broke with round-off alone
            // (-10.280493 vs -10.280504): see SAME_MATH for the noise and the fault
            let (a, b) = (*a as f64, *b as f64);
            assert!(
                SAME_MATH.holds(a, b),
                "text {i}: {a} vs {b} (bound {:.1e})",
                SAME_MATH.bound(b)
            );
        }
    }
}

#[test]
fn padding_does_not_change_scores_default_model() {
    check(&default_model());
}

#[test]
fn padding_does_not_change_scores_gpt2() {
    check(&reference_data().join("tiny-gpt2"));
}

/// Left padding with a mask (what generation uses) gives the same log-probs as no padding.
#[test]
fn left_padding_with_mask_matches() {
    use memscan::model::LanguageModel;
    use tch::{Kind, Tensor};
    let m = model::load(&ModelSpec {
        model: reference_data().join("tiny-llama").display().to_string(),
        device: memscan::model::DeviceChoice::Cpu,
        dtype: Some(memscan::model::Precision::F32),
        adapter: None,
    })
    .unwrap();
    let _g = tch::no_grad_guard();
    let ids: Vec<i64> = m
        .tokenizer()
        .encode("The quick brown fox")
        .unwrap()
        .iter()
        .map(|&i| i as i64)
        .collect();
    let n = ids.len() as i64;
    let plain = Tensor::from_slice(&ids).view([1, n]);
    let a = m
        .logits(&m.forward(&plain, None, false).unwrap().hidden)
        .unwrap();
    let mut padded = vec![0i64; 3];
    padded.extend(&ids);
    let mut mask = vec![0i64; 3];
    mask.extend(vec![1i64; ids.len()]);
    let pt = Tensor::from_slice(&padded).view([1, n + 3]);
    let mt = Tensor::from_slice(&mask).view([1, n + 3]);
    let b = m
        .logits(&m.forward(&pt, Some(&mt), false).unwrap().hidden)
        .unwrap()
        .narrow(1, 3, n);
    let scale = a.abs().max().to_kind(Kind::Double).double_value(&[]);
    let diff = (a - b).abs().max().to_kind(Kind::Double).double_value(&[]);
    // another sequence length and a masked SDPA: round-off only (≤ 1e-6 on this 2-layer
    // model, logits ≤ 2 in size), while the 3 pads, attended, move the logits by 1.97
    // (0.95–1.97 over the tiny models); see SAME_MATH
    assert!(
        diff <= SAME_MATH.bound(scale),
        "max |Δ logit| = {diff} (max |logit| {scale})"
    );
}

/// The explicit-softmax attention path gives the same logits as fused SDPA.
#[test]
fn attention_paths_agree() {
    use memscan::model::LanguageModel;
    use tch::{Kind, Tensor};
    for name in ["tiny-llama", "tiny-gpt2", "tiny-neox"] {
        let m = model::load(&ModelSpec {
            model: reference_data().join(name).display().to_string(),
            device: memscan::model::DeviceChoice::Cpu,
            dtype: Some(memscan::model::Precision::F32),
            adapter: None,
        })
        .unwrap();
        let _g = tch::no_grad_guard();
        let ids: Vec<i64> = m
            .tokenizer()
            .encode("Hello there, general attention")
            .unwrap()
            .iter()
            .map(|&i| i as i64)
            .collect();
        let t = Tensor::from_slice(&ids).view([1, ids.len() as i64]);
        let fast = m.forward(&t, None, false).unwrap();
        let slow = m.forward(&t, None, true).unwrap();
        assert_eq!(slow.attn_entropy.len() as i64, m.info().n_layers);
        let (fast, slow) = (
            m.logits(&fast.hidden).unwrap(),
            m.logits(&slow.hidden).unwrap(),
        );
        let scale = fast.abs().max().to_kind(Kind::Double).double_value(&[]);
        let diff = (fast - slow)
            .abs()
            .max()
            .to_kind(Kind::Double)
            .double_value(&[]);
        // the same attention through other kernels: round-off only (≤ 1.4e-6 measured on
        // log-probs), while a slip in the explicit path changes the attention weights:
        // dropping the 1/√d scale moves these logits by 0.32–1.19; see SAME_MATH
        assert!(
            diff <= SAME_MATH.bound(scale),
            "{name}: max |Δ logit| = {diff} (max |logit| {scale})"
        );
    }
}
