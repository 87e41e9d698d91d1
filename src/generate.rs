//! Batched generation with a key/value cache: prompts of different lengths share a
//! batch through left padding (with a mask, so padding changes nothing), each step
//! feeds only the new tokens; greedy, temperature, top-k and top-p sampling. Draws come
//! from a generator owned by the call (not libtorch's global one, which concurrent
//! callers would reseed), so the same seed and settings give the same samples.

use tch::{Kind, Tensor};

use crate::error::{Error, Result};
use crate::model::LanguageModel;
use crate::stats::SplitMix;

#[derive(Debug, Clone)]
pub struct SampleOptions {
    pub max_new_tokens: usize,
    /// 0 = greedy (argmax).
    pub temperature: f64,
    /// (start, steps): the first tokens are sampled at temperature `start`, decaying
    /// linearly to `temperature` over `steps` tokens (Carlini et al. 2021 use 10 → 1
    /// over 20 tokens). Ignored when greedy.
    pub temperature_decay: Option<(f64, usize)>,
    pub top_k: Option<i64>,
    pub top_p: Option<f64>,
    pub seed: u64,
    /// Stop a row once it emits the tokenizer's EOS.
    pub stop_at_eos: bool,
}

impl SampleOptions {
    /// The sampling temperature at generation step `step` (0-based).
    pub fn temperature_at(&self, step: usize) -> f64 {
        match self.temperature_decay {
            Some((start, n)) if self.temperature > 0.0 && step < n => {
                start + (self.temperature - start) * step as f64 / n as f64
            }
            _ => self.temperature,
        }
    }
}

/// The new tokens of one prompt.
#[derive(Debug, Clone, PartialEq)]
pub struct Generation {
    pub tokens: Vec<u32>,
    /// The row ended with EOS (included in `tokens`).
    pub stopped: bool,
}

/// Generates a continuation of every prompt (token ids; each non-empty) in one batch.
pub fn generate(
    model: &dyn LanguageModel,
    prompts: &[Vec<u32>],
    o: &SampleOptions,
) -> Result<Vec<Generation>> {
    if prompts.iter().any(|p| p.is_empty()) {
        return Err(Error::input(
            "a prompt has no tokens (start empty prompts with BOS)",
        ));
    }
    if let Some(p) = o.top_p {
        if !(p > 0.0 && p <= 1.0) {
            return Err(Error::input(format!(
                "nucleus sampling mass (top-p) {p} must be in (0, 1]"
            )));
        }
    }
    let _guard = tch::no_grad_guard();
    let device = model.device();
    let b = prompts.len();
    let longest = prompts.iter().map(Vec::len).max().unwrap_or(0);
    let mut ids = vec![0i64; b * longest];
    let mut mask = vec![0i64; b * longest];
    for (r, p) in prompts.iter().enumerate() {
        let off = longest - p.len();
        for (j, &t) in p.iter().enumerate() {
            ids[r * longest + off + j] = t as i64;
            mask[r * longest + off + j] = 1;
        }
    }
    let shape = [b as i64, longest as i64];
    let ids = Tensor::f_from_slice(&ids)?
        .f_view(shape)?
        .f_to_device(device)?;
    let mut mask = Tensor::f_from_slice(&mask)?
        .f_view(shape)?
        .f_to_device(device)?;
    let mut rng = SplitMix(o.seed);
    let mut cache = model.new_cache();
    let hidden = model.forward_cached(&ids, &mask, &mut cache)?;
    let mut all_ids = ids;
    // left padding: the last position is a real token in every row
    let mut last = hidden.f_select(1, longest as i64 - 1)?;
    let eos = model.tokenizer().eos_id;
    let mut out: Vec<Generation> = (0..b)
        .map(|_| Generation {
            tokens: Vec::new(),
            stopped: false,
        })
        .collect();
    // the steps' products run in the quantized kernels on rayon's threads
    let _one_thread = model.quantized_steps().then(OneTorchThread::enter);
    for step in 0..o.max_new_tokens {
        let logits = model.step_logits(&last)?.f_to_kind(Kind::Float)?;
        let next = sample(&logits, o, o.temperature_at(step), &mut rng)?;
        let next_v = Vec::<i64>::try_from(next.f_to_device(tch::Device::Cpu)?)?;
        for (g, &t) in out.iter_mut().zip(&next_v) {
            if !g.stopped {
                g.tokens.push(t as u32);
                g.stopped = o.stop_at_eos && eos == Some(t as u32);
            }
        }
        if out.iter().all(|g| g.stopped) || step + 1 == o.max_new_tokens {
            break;
        }
        let step_ids = next.f_view([b as i64, 1])?;
        mask = Tensor::f_cat(&[&mask, &step_ids.f_ones_like()?], 1)?;
        all_ids = Tensor::f_cat(&[&all_ids, &step_ids], 1)?;
        // LongRoPE: once a row reaches the pretraining context its frequencies change,
        // and the cached keys (rotated with the short ones) are recomputed, as
        // transformers' Phi-3 does: the continuation then equals a pass over the whole
        // sequence
        let crosses = match model.rope_switch() {
            Some(s) => {
                let reached = mask.f_sum_dim_intlist(1, false, Kind::Int64)?;
                reached.f_eq(s + 1)?.f_any()?.f_int64_value(&[])? != 0
            }
            None => false,
        };
        last = if crosses {
            cache = model.new_cache();
            let hidden = model.forward_cached(&all_ids, &mask, &mut cache)?;
            hidden.f_select(1, all_ids.size()[1] - 1)?
        } else {
            model.step(&step_ids, &mask, &mut cache)?.f_select(1, 0)?
        };
    }
    Ok(out)
}

/// While alive, libtorch runs its ops on one thread. Generation steps of a quantized
/// model enter it: their products run on rayon's threads, and libtorch's OpenMP
/// workers, spinning between its many small ops, would take the cores from them
/// (measured on 2 cores: ~95 → ~115-130 tokens/s). libtorch's thread count is
/// process-wide; memscan runs one model stream at a time, so nothing else is slowed.
/// Restores the count when dropped.
struct OneTorchThread {
    before: i32,
}

impl OneTorchThread {
    fn enter() -> Self {
        let before = tch::get_num_threads();
        tch::set_num_threads(1);
        OneTorchThread { before }
    }
}

impl Drop for OneTorchThread {
    fn drop(&mut self) {
        tch::set_num_threads(self.before);
    }
}

/// One token per row of `logits` [B, V] (f32), drawn from the full distribution at
/// temperature 1 (no top-k or top-p cut).
pub(crate) fn draw(logits: &Tensor, rng: &mut SplitMix) -> Result<Tensor> {
    let o = SampleOptions {
        max_new_tokens: 1,
        temperature: 1.0,
        temperature_decay: None,
        top_k: None,
        top_p: None,
        seed: 0,
        stop_at_eos: false,
    };
    sample(logits, &o, 1.0, rng)
}

/// One token per row of `logits` [B, V] (f32).
fn sample(
    logits: &Tensor,
    o: &SampleOptions,
    temperature: f64,
    rng: &mut SplitMix,
) -> Result<Tensor> {
    if temperature <= 0.0 {
        return Ok(logits.f_argmax(-1, false)?);
    }
    let (b, vocab) = (logits.size()[0], logits.size()[1]);
    let mut l = logits.f_div_scalar(temperature)?;
    if let Some(k) = o.top_k.filter(|&k| k > 0 && k < vocab) {
        let (top, _) = l.f_topk(k, -1, true, true)?;
        let kth = top.f_narrow(1, k - 1, 1)?;
        l = l.f_masked_fill(&l.f_lt_tensor(&kth)?, f64::NEG_INFINITY)?;
    }
    if let Some(p) = o.top_p.filter(|&p| p < 1.0) {
        let (sorted, idx) = l.f_sort(-1, true)?;
        let probs = sorted.f_softmax(-1, Kind::Float)?;
        // drop a token when the tokens before it already hold mass p (the first always stays)
        let before = probs.f_cumsum(-1, Kind::Float)? - &probs;
        let sorted = sorted.f_masked_fill(&before.f_gt(p)?, f64::NEG_INFINITY)?;
        l = l.f_scatter(-1, &idx, &sorted)?;
    }
    let probs = l
        .f_softmax(-1, Kind::Float)?
        .f_to_device(tch::Device::Cpu)?;
    let p = Vec::<f32>::try_from(probs.f_flatten(0, -1)?)?;
    // inverse CDF per row with a uniform draw in [0, 1)
    let v = vocab as usize;
    let picks: Vec<i64> = p
        .chunks_exact(v)
        .map(|row| {
            let total: f64 = row.iter().map(|&x| x as f64).sum();
            let u = (rng.next_u64() >> 11) as f64 / (1u64 << 53) as f64 * total;
            let mut acc = 0.0;
            let mut last = 0;
            for (i, &x) in row.iter().enumerate() {
                if x > 0.0 {
                    acc += x as f64;
                    last = i;
                    if acc > u {
                        return i as i64;
                    }
                }
            }
            last as i64
        })
        .collect();
    debug_assert_eq!(picks.len(), b as usize);
    Ok(Tensor::f_from_slice(&picks)?.f_to_device(logits.device())?)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn temperature_decays_linearly_to_the_target() {
        let o = SampleOptions {
            max_new_tokens: 30,
            temperature: 1.0,
            temperature_decay: Some((10.0, 20)),
            top_k: None,
            top_p: None,
            seed: 0,
            stop_at_eos: false,
        };
        assert_eq!(o.temperature_at(0), 10.0);
        assert!((o.temperature_at(10) - 5.5).abs() < 1e-12);
        assert_eq!(o.temperature_at(20), 1.0);
        assert_eq!(o.temperature_at(29), 1.0);
        let greedy = SampleOptions {
            temperature: 0.0,
            ..o
        };
        assert_eq!(greedy.temperature_at(0), 0.0);
    }
}
