//! The value test of forget-check: does the model prefer a person's true value, given
//! the text before it, to the values it would itself write there?
//!
//! Null distribution: continuations of the value's token length sampled from the
//! target model at temperature 1 given the same context. They are as plausible as the
//! truth in kind (a coherent area code, an email made from the name, a plausible year
//! all come out of the model when the context implies them), which random same-format
//! values are not. Statistic: the log-probability under the target.
//!
//! The test alone is not valid: a value a person wrote follows conventions (an email
//! made from the name) and is far more likely than the model's typical samples, which
//! spread over its whole distribution, whether or not the record was trained on. On
//! the real-model fixture the base model alone rejected for 6 of 200 held-out records
//! at α = 1%, with the full distribution and with top-p 0.95 draws alike. So forget-check
//! counts a rejection only when a reference model that never saw the record, tested
//! the same way, does not reject too (`commands::forget`).
//! (The likelihood ratio against a reference model was tried as the statistic and had no
//! power: the target's own samples carry a high ratio by construction.) p-value: from ranks, with
//! draws that equal the truth or score as high counted against it, so it never
//! extrapolates beyond the draws; sampling stops as soon as the test can no longer
//! reach its level. A value the model writes from its context alone (a predictable
//! email) ties with its own draws and is not called memorized.

use tch::{Kind, Tensor};

use crate::error::Result;
use crate::model::nn::KvCache;
use crate::model::LanguageModel;
use crate::stats::SplitMix;

/// Null draws per batch: a small first batch (most non-member values are beaten often
/// enough in it for the test to stop), then larger ones.
const ROUNDS: [usize; 3] = [15, 63, 127];
/// Scores within this many nats of the truth's count as ties.
const TIE: f64 = 1e-4;

/// The token span [start, end) of the characters `[vs, ve)` of `text` within `ids`
/// (the tokens of `text`): the first token whose encoding differs from that of
/// `text[..vs]` starts it, and a token that merges the value's tail with what follows
/// ends it. None when the value has no token of its own or no context before it.
pub fn locate(
    encode: impl Fn(&str) -> Result<Vec<u32>>,
    text: &str,
    vs: usize,
    ve: usize,
    ids: &[u32],
) -> Result<Option<(usize, usize)>> {
    let common = |other: &[u32]| ids.iter().zip(other).take_while(|(a, b)| a == b).count();
    let before = encode(&text[..vs])?;
    let start = common(&before);
    let upto = encode(&text[..ve])?;
    let c = common(&upto);
    let end = (c + usize::from(upto.len() > c)).min(ids.len());
    Ok((start >= 1 && end > start).then_some((start, end)))
}

/// The outcome of one value test.
#[derive(Debug, Clone)]
pub struct ValueOutcome {
    /// The test statistic of the truth: its log p under the model.
    pub statistic: f64,
    /// The null draws' statistics.
    pub null: Vec<f64>,
    /// Draws scoring at least as high as the truth (ties and identical values included).
    pub at_least: usize,
    /// Greedy decoding from the context writes the true value.
    pub greedy: bool,
    /// Mean entropy (bits) of the target's predictive distribution over the value's tokens.
    pub entropy_bits: f64,
    /// Sampling stopped before `n_max` draws because the test could no longer reject.
    pub stopped_early: bool,
}

impl ValueOutcome {
    /// (1 + draws at least as high) / (draws + 1).
    pub fn p_value(&self) -> f64 {
        rank_p(self.at_least, self.null.len())
    }
}

/// The rank p-value: (1 + null values at least as extreme) / (n + 1). Valid whenever the
/// truth and the null values are exchangeable under the null hypothesis.
pub fn rank_p(at_least: usize, n: usize) -> f64 {
    (1 + at_least) as f64 / (n + 1) as f64
}

/// Tests the value `truth` after `ctx` with up to `n_max` null draws, stopping once
/// `(1 + at_least) / (n_max + 1) > level` (the test can no longer reject at `level`).
pub fn value_test(
    model: &dyn LanguageModel,
    ctx: &[u32],
    truth: &[u32],
    null: &NullDraws,
    rng: &mut SplitMix,
) -> Result<ValueOutcome> {
    let NullDraws { n_max, level } = *null;
    let _guard = tch::no_grad_guard();
    let target = Prefilled::new(model, ctx)?;
    let mut out: Option<ValueOutcome> = None;
    let mut drawn = 0;
    for round in 0.. {
        let rows = 1 + ROUNDS[round.min(ROUNDS.len() - 1)].min(n_max - drawn);
        let batch = target.sample(truth, rows, rng)?;
        let o = out.get_or_insert_with(|| ValueOutcome {
            statistic: batch.logp[0],
            null: Vec::new(),
            at_least: 0,
            greedy: batch.greedy,
            entropy_bits: batch.entropy_bits,
            stopped_early: false,
        });
        for i in 1..rows {
            let s = batch.logp[i];
            if batch.seqs[i] == truth || s >= o.statistic - TIE {
                o.at_least += 1;
            }
            o.null.push(s);
        }
        drawn += rows - 1;
        if drawn >= n_max {
            break;
        }
        if rank_p(o.at_least, n_max) > level {
            o.stopped_early = true;
            break;
        }
    }
    out.ok_or_else(|| crate::error::Error::input("a value test drew nothing"))
}

/// How a value test draws its null values.
#[derive(Debug, Clone, Copy)]
pub struct NullDraws {
    /// Most draws.
    pub n_max: usize,
    /// The test's level: sampling stops once the test can no longer reach it.
    pub level: f64,
}

/// A model with the shared context already run: its cache (one row) and the
/// log-probabilities of the next token.
struct Prefilled<'a> {
    model: &'a dyn LanguageModel,
    cache: KvCache,
    next: Tensor,
    ctx_len: i64,
}

/// Sampled continuations (row 0 forced to the truth) and their log-probabilities.
struct Batch {
    seqs: Vec<Vec<u32>>,
    logp: Vec<f64>,
    greedy: bool,
    entropy_bits: f64,
}

impl<'a> Prefilled<'a> {
    fn new(model: &'a dyn LanguageModel, ctx: &[u32]) -> Result<Self> {
        let dev = model.device();
        let n = ctx.len() as i64;
        let ids: Vec<i64> = ctx.iter().map(|&t| t as i64).collect();
        let ids = Tensor::f_from_slice(&ids)?
            .f_view([1, n])?
            .f_to_device(dev)?;
        let mask = ids.f_ones_like()?;
        let mut cache = model.new_cache();
        let h = model.forward_cached(&ids, &mask, &mut cache)?;
        let next = log_softmax(model, &h.f_select(1, n - 1)?)?;
        Ok(Prefilled {
            model,
            cache,
            next,
            ctx_len: n,
        })
    }

    /// `rows` continuations of `truth.len()` tokens: row 0 is the truth, the others
    /// are drawn from the model at temperature 1.
    fn sample(&self, truth: &[u32], rows: usize, rng: &mut SplitMix) -> Result<Batch> {
        let b = rows as i64;
        let dev = self.model.device();
        let mut cache = self.cache.repeat_rows(b, truth.len() as i64)?;
        let mut lp = self.next.f_expand([b, -1], false)?;
        let mut seqs = vec![Vec::with_capacity(truth.len()); rows];
        let mut logp = vec![0.0; rows];
        let (mut greedy, mut entropy) = (true, 0.0);
        for (j, &t) in truth.iter().enumerate() {
            let mut next = if rows > 1 {
                Vec::<i64>::try_from(
                    crate::generate::draw(&lp, rng)?.f_to_device(tch::Device::Cpu)?,
                )?
            } else {
                vec![0]
            };
            next[0] = t as i64;
            let next_t = Tensor::f_from_slice(&next)?
                .f_view([b, 1])?
                .f_to_device(dev)?;
            let got = Vec::<f32>::try_from(
                lp.f_gather(1, &next_t, false)?
                    .f_flatten(0, -1)?
                    .f_to_device(tch::Device::Cpu)?,
            )?;
            for (r, (&tok, &g)) in next.iter().zip(&got).enumerate() {
                seqs[r].push(tok as u32);
                logp[r] += g as f64;
            }
            let row0 = lp.f_select(0, 0)?;
            greedy &= row0.f_argmax(-1, false)?.f_int64_value(&[])? == t as i64;
            let h = -f64::try_from(row0.f_exp()?.f_mul(&row0)?.f_nansum(
                None::<&[i64]>,
                false,
                Kind::Double,
            )?)?;
            entropy += h / std::f64::consts::LN_2;
            if j + 1 < truth.len() {
                let mask = Tensor::f_ones([b, self.ctx_len + j as i64 + 1], (Kind::Int64, dev))?;
                let h = self.model.forward_cached(&next_t, &mask, &mut cache)?;
                lp = log_softmax(self.model, &h.f_select(1, 0)?)?;
            }
        }
        Ok(Batch {
            seqs,
            logp,
            greedy,
            entropy_bits: entropy / truth.len().max(1) as f64,
        })
    }
}

/// log-softmax of the logits of hidden states [.., D], in f32.
fn log_softmax(model: &dyn LanguageModel, h: &Tensor) -> Result<Tensor> {
    Ok(model
        .logits(h)?
        .f_to_kind(Kind::Float)?
        .f_log_softmax(-1, Kind::Float)?)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rank_p_counts_the_truth() {
        assert_eq!(rank_p(0, 99), 0.01);
        assert_eq!(rank_p(99, 99), 1.0);
    }

    #[test]
    fn locate_finds_the_value_tokens() {
        // one "token" per character: spans are the character offsets
        let enc = |s: &str| -> Result<Vec<u32>> { Ok(s.bytes().map(u32::from).collect()) };
        let text = "call 0161 496";
        let ids = enc(text).unwrap();
        assert_eq!(locate(enc, text, 5, 9, &ids).unwrap(), Some((5, 9)));
        assert_eq!(locate(enc, text, 0, 4, &ids).unwrap(), None);
    }
}
