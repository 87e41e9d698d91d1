//! The teacher-forced pass: tokenizes texts, batches them by length (right
//! padding, which a causal model never sees), runs the model once per batch and
//! returns each text's per-token log-probabilities for tokens 2..n. Every command
//! that scores goes through here; the formulas on top live in `signals.rs`.

use tch::{Kind, Tensor};

use crate::error::{Error, Result};
use crate::model::LanguageModel;

/// One text after the pass.
#[derive(Debug, Clone)]
pub struct ScoredText {
    /// The token ids, BOS included where the tokenizer adds one (after truncation).
    pub token_ids: Vec<u32>,
    /// log p(token_i | tokens_<i) for i = 2..n (n − 1 values).
    pub token_logprobs: Vec<f32>,
    /// The text was longer than the model's context and was cut to it.
    pub truncated: bool,
}

pub struct Scorer<'m> {
    model: &'m dyn LanguageModel,
    batch_size: usize,
    max_tokens: usize,
}

impl<'m> Scorer<'m> {
    /// `max_tokens`: the longest sequence scored (default: the model's context).
    pub fn new(
        model: &'m dyn LanguageModel,
        batch_size: usize,
        max_tokens: Option<usize>,
    ) -> Result<Self> {
        if batch_size == 0 {
            return Err(Error::input("--batch-size must be at least 1"));
        }
        let ctx = model.info().max_positions.max(2) as usize;
        let max_tokens = max_tokens.unwrap_or(ctx).min(ctx).max(2);
        Ok(Scorer {
            model,
            batch_size,
            max_tokens,
        })
    }

    /// Scores `texts`; `progress(texts_done, tokens_done)` is called after each batch.
    /// Results are in the order of `texts`.
    pub fn score(
        &self,
        texts: &[&str],
        mut progress: impl FnMut(usize, usize),
    ) -> Result<Vec<ScoredText>> {
        let tok = self.model.tokenizer();
        let mut encoded: Vec<(Vec<u32>, bool)> = Vec::with_capacity(texts.len());
        for t in texts {
            let mut ids = tok.encode(t)?;
            let truncated = ids.len() > self.max_tokens;
            ids.truncate(self.max_tokens);
            encoded.push((ids, truncated));
        }
        // Longest first, so padding within a batch is small.
        let mut order: Vec<usize> = (0..texts.len()).collect();
        order.sort_by_key(|&i| std::cmp::Reverse(encoded[i].0.len()));
        let mut results: Vec<Option<ScoredText>> = vec![None; texts.len()];
        let _guard = tch::no_grad_guard();
        for batch in order.chunks(self.batch_size) {
            let seqs: Vec<&[u32]> = batch.iter().map(|&i| encoded[i].0.as_slice()).collect();
            let lps = self.batch_logprobs(&seqs)?;
            let mut n_tok = 0;
            for (&i, lp) in batch.iter().zip(lps) {
                n_tok += encoded[i].0.len();
                results[i] = Some(ScoredText {
                    token_ids: encoded[i].0.clone(),
                    token_logprobs: lp,
                    truncated: encoded[i].1,
                });
            }
            progress(batch.len(), n_tok);
        }
        results
            .into_iter()
            .map(|r| r.ok_or_else(|| Error::internal("a text was left unscored")))
            .collect()
    }

    /// Per-token log-probs of each sequence (right-padded into one batch).
    fn batch_logprobs(&self, seqs: &[&[u32]]) -> Result<Vec<Vec<f32>>> {
        let t = seqs.iter().map(|s| s.len()).max().unwrap_or(0);
        if t < 2 {
            return Ok(vec![Vec::new(); seqs.len()]);
        }
        let b = seqs.len();
        let mut flat = vec![0i64; b * t];
        for (row, s) in seqs.iter().enumerate() {
            for (j, &id) in s.iter().enumerate() {
                flat[row * t + j] = id as i64;
            }
        }
        let device = self.model.device();
        let ids = Tensor::f_from_slice(&flat)?
            .f_view([b as i64, t as i64])?
            .f_to_device(device)?;
        let out = self.model.forward(&ids, None, false)?;
        // The last position predicts nothing we score: project only the first T-1.
        let logits = self.model.logits(&out.hidden.f_narrow(1, 0, t as i64 - 1)?);
        let lp = token_logprobs(&logits, &ids)?.f_to_device(tch::Device::Cpu)?;
        let all: Vec<f32> = Vec::<f32>::try_from(lp.f_flatten(0, -1)?)?;
        Ok(seqs
            .iter()
            .enumerate()
            .map(|(row, s)| {
                let n = s.len().saturating_sub(1);
                all[row * (t - 1)..row * (t - 1) + n].to_vec()
            })
            .collect())
    }
}

/// log p(ids[:, i+1] | ids[:, ..=i]) from the logits of positions 0..T-1
/// ([B, T-1, V]) and the ids [B, T]: [B, T-1] in f32.
pub fn token_logprobs(logits: &Tensor, ids: &Tensor) -> Result<Tensor> {
    let n = logits.size()[1];
    let logits = logits.f_to_kind(Kind::Float)?;
    let targets = ids.f_narrow(1, 1, n)?.f_unsqueeze(-1)?;
    let picked = logits.f_gather(2, &targets, false)?.f_squeeze_dim(-1)?;
    let lse = logits.f_logsumexp([-1i64], false)?;
    Ok(picked - lse)
}
