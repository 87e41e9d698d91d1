//! The teacher-forced pass: tokenizes texts, batches them by length (right
//! padding, which a causal model never sees), runs the model once per batch and
//! returns, for tokens 2..n of each text, the log-probability of the true token and
//! (when asked) statistics of the model's whole predictive distribution at that
//! position; optionally attention entropy per layer, and gradient norms. Every
//! command that scores goes through here; the formulas on top live in `signals.rs`.
//!
//! The output projection is applied in vocabulary chunks with an online (rescaled)
//! log-sum-exp, so a [B, T, V] logits tensor never exists and each chunk's logits
//! stay in cache while every statistic is read from them.

use tch::{Device, Kind, Tensor};

use crate::error::{Error, Result};
use crate::model::LanguageModel;

/// What to compute besides the per-token log-probabilities.
#[derive(Debug, Clone, Default)]
pub struct ScoreOptions {
    pub batch_size: usize,
    /// Longest token sequence scored (default and cap: the model's context).
    pub max_tokens: Option<usize>,
    /// Per-position statistics of the predictive distribution (for Min-K%++,
    /// entropy, confidence, margin).
    pub vocab_stats: bool,
    /// Attention entropy per layer (explicit-softmax attention).
    pub attention: bool,
}

/// Statistics of the predictive distribution p at each scored position.
#[derive(Debug, Clone, Default)]
pub struct TokenStats {
    /// μ = E_{z~p}[log p(z)] (= −entropy).
    pub mean_logp: Vec<f32>,
    /// σ = sd_{z~p}[log p(z)].
    pub std_logp: Vec<f32>,
    /// max_z p(z).
    pub confidence: Vec<f32>,
    /// p(true token) − max over other tokens of p.
    pub margin: Vec<f32>,
}

impl TokenStats {
    /// The statistics as the signal functions take them.
    pub fn view(&self) -> crate::signals::DistStats<'_> {
        crate::signals::DistStats {
            mu: &self.mean_logp,
            sigma: &self.std_logp,
            confidence: &self.confidence,
            margin: &self.margin,
        }
    }
}

/// One text after the pass.
#[derive(Debug, Clone)]
pub struct ScoredText {
    /// The token ids, BOS included where the tokenizer adds one (after truncation).
    pub token_ids: Vec<u32>,
    /// log p(token_i | tokens_<i) for i = 2..n (n − 1 values).
    pub token_logprobs: Vec<f32>,
    /// The text was longer than the model's context and was cut to it.
    pub truncated: bool,
    pub stats: Option<TokenStats>,
    /// Mean attention entropy of each layer (over heads and the text's query positions).
    pub attn_entropy_layers: Option<Vec<f64>>,
}

impl ScoredText {
    /// What the signal formulas take from this pass over `text`.
    pub fn pass_values<'a>(
        &'a self,
        text: &'a str,
        min_k_percent: f64,
    ) -> crate::signals::PassValues<'a> {
        crate::signals::PassValues {
            logprobs: &self.token_logprobs,
            stats: self.stats.as_ref().map(|st| st.view()),
            text,
            min_k_percent,
        }
    }
}

/// Logits elements (rows × vocabulary chunk) processed at once.
fn chunk_budget(device: Device) -> i64 {
    if device.is_cuda() {
        1 << 27
    } else {
        1 << 21
    }
}

pub struct Scorer<'m> {
    model: &'m dyn LanguageModel,
    opts: ScoreOptions,
    max_tokens: usize,
}

/// Indices of sequences of these lengths, longest first (ties in index order), in
/// chunks of `batch_size`.
fn plan_by_len(lens: &[usize], batch_size: usize) -> Vec<Vec<usize>> {
    let mut order: Vec<usize> = (0..lens.len()).collect();
    order.sort_by_key(|&i| std::cmp::Reverse(lens[i]));
    order
        .chunks(batch_size.max(1))
        .map(<[usize]>::to_vec)
        .collect()
}

impl<'m> Scorer<'m> {
    pub fn new(model: &'m dyn LanguageModel, opts: ScoreOptions) -> Result<Self> {
        if opts.batch_size == 0 {
            return Err(Error::input("the scoring batch size must be at least 1"));
        }
        let ctx = model.info().max_positions.max(2) as usize;
        let max_tokens = opts.max_tokens.unwrap_or(ctx).min(ctx).max(2);
        Ok(Scorer {
            model,
            opts,
            max_tokens,
        })
    }

    /// Longest token sequence scored.
    pub fn max_tokens(&self) -> usize {
        self.max_tokens
    }

    /// The model's tokenizer.
    pub fn tokenizer(&self) -> &crate::model::tokenizer::Tokenizer {
        self.model.tokenizer()
    }

    /// Tokenizes and truncates; `(ids, truncated)`.
    pub fn encode(&self, text: &str) -> Result<(Vec<u32>, bool)> {
        let mut ids = self.model.tokenizer().encode(text)?;
        let truncated = ids.len() > self.max_tokens;
        ids.truncate(self.max_tokens);
        Ok((ids, truncated))
    }

    /// Scores `texts`; `progress(texts_done, tokens_done)` is called after each batch.
    /// Results are in the order of `texts`.
    pub fn score(
        &self,
        texts: &[&str],
        progress: impl FnMut(usize, usize),
    ) -> Result<Vec<ScoredText>> {
        let encoded: Vec<(Vec<u32>, bool)> = texts
            .iter()
            .map(|t| self.encode(t))
            .collect::<Result<_>>()?;
        self.score_encoded(encoded, progress)
    }

    /// Scores sequences of token ids (truncated to the context like texts).
    pub fn score_ids(
        &self,
        seqs: &[Vec<u32>],
        progress: impl FnMut(usize, usize),
    ) -> Result<Vec<ScoredText>> {
        let encoded = seqs
            .iter()
            .map(|s| {
                let n = s.len().min(self.max_tokens);
                (s[..n].to_vec(), s.len() > n)
            })
            .collect();
        self.score_encoded(encoded, progress)
    }

    fn score_encoded(
        &self,
        encoded: Vec<(Vec<u32>, bool)>,
        progress: impl FnMut(usize, usize),
    ) -> Result<Vec<ScoredText>> {
        let lens: Vec<usize> = encoded.iter().map(|e| e.0.len()).collect();
        let plan = plan_by_len(&lens, self.opts.batch_size);
        self.run_batches(&encoded, &plan, progress)?
            .into_iter()
            .map(|r| r.ok_or_else(|| Error::internal("a text was left unscored")))
            .collect()
    }

    /// The batches `score` runs `texts` in: their indices, longest first (so padding
    /// within a batch is small), `batch_size` to a batch.
    pub fn plan(&self, texts: &[&str]) -> Result<Vec<Vec<usize>>> {
        let lens: Vec<usize> = texts
            .iter()
            .map(|t| self.encode(t).map(|e| e.0.len()))
            .collect::<Result<_>>()?;
        Ok(plan_by_len(&lens, self.opts.batch_size))
    }

    /// Scores `texts` as one batch, in their order (part of another pass's `plan`, so
    /// that a text has the same batch neighbours in both).
    pub fn score_batch(&self, texts: &[&str]) -> Result<Vec<ScoredText>> {
        let encoded: Vec<(Vec<u32>, bool)> = texts
            .iter()
            .map(|t| self.encode(t))
            .collect::<Result<_>>()?;
        let all: Vec<usize> = (0..texts.len()).collect();
        self.run_batches(&encoded, &[all], |_, _| {})?
            .into_iter()
            .map(|r| r.ok_or_else(|| Error::internal("a text was left unscored")))
            .collect()
    }

    fn run_batches(
        &self,
        encoded: &[(Vec<u32>, bool)],
        batches: &[Vec<usize>],
        mut progress: impl FnMut(usize, usize),
    ) -> Result<Vec<Option<ScoredText>>> {
        let mut results: Vec<Option<ScoredText>> = vec![None; encoded.len()];
        let _guard = tch::no_grad_guard();
        for batch in batches {
            let seqs: Vec<&[u32]> = batch.iter().map(|&i| encoded[i].0.as_slice()).collect();
            let scored = self.batch(&seqs)?;
            let mut n_tok = 0;
            for (&i, mut s) in batch.iter().zip(scored) {
                n_tok += encoded[i].0.len();
                s.truncated = encoded[i].1;
                results[i] = Some(s);
            }
            progress(batch.len(), n_tok);
        }
        Ok(results)
    }

    /// One right-padded batch through the model.
    fn batch(&self, seqs: &[&[u32]]) -> Result<Vec<ScoredText>> {
        let t = seqs.iter().map(|s| s.len()).max().unwrap_or(0);
        let empty = |s: &[u32]| ScoredText {
            token_ids: s.to_vec(),
            token_logprobs: Vec::new(),
            truncated: false,
            stats: self.opts.vocab_stats.then(TokenStats::default),
            attn_entropy_layers: None,
        };
        if t < 2 {
            return Ok(seqs.iter().map(|s| empty(s)).collect());
        }
        let b = seqs.len();
        let mut flat = vec![0i64; b * t];
        // Rows of the flattened [B, T-1] positions that belong to real tokens.
        let mut rows = Vec::new();
        for (r, s) in seqs.iter().enumerate() {
            for (j, &id) in s.iter().enumerate() {
                flat[r * t + j] = id as i64;
            }
            rows.extend((0..s.len().saturating_sub(1)).map(|j| (r * (t - 1) + j) as i64));
        }
        let device = self.model.device();
        let ids = Tensor::f_from_slice(&flat)?
            .f_view([b as i64, t as i64])?
            .f_to_device(device)?;
        let out = self.model.forward(&ids, None, self.opts.attention)?;
        let d = out.hidden.size()[2];
        let rows_t = Tensor::f_from_slice(&rows)?.f_to_device(device)?;
        let hidden = out
            .hidden
            .f_narrow(1, 0, t as i64 - 1)?
            .f_reshape([-1, d])?
            .f_index_select(0, &rows_t)?;
        let targets = ids
            .f_narrow(1, 1, t as i64 - 1)?
            .f_reshape([-1])?
            .f_index_select(0, &rows_t)?;
        let pos = position_stats(self.model, &hidden, &targets, self.opts.vocab_stats)?;
        let to_vec = |x: &Tensor| -> Result<Vec<f32>> {
            Ok(Vec::<f32>::try_from(
                x.f_to_kind(Kind::Float)?
                    .f_to_device(Device::Cpu)?
                    .f_flatten(0, -1)?,
            )?)
        };
        let lp = to_vec(&pos.logprob)?;
        let extra = match &pos.extra {
            Some(e) => Some([to_vec(&e.0)?, to_vec(&e.1)?, to_vec(&e.2)?, to_vec(&e.3)?]),
            None => None,
        };
        // Attention entropy: mean over each text's query positions, per layer.
        let attn: Option<Vec<Vec<f32>>> = if self.opts.attention {
            Some(out.attn_entropy.iter().map(to_vec).collect::<Result<_>>()?)
        } else {
            None
        };
        let mut res = Vec::with_capacity(b);
        let mut at = 0;
        for (r, s) in seqs.iter().enumerate() {
            let n = s.len().saturating_sub(1);
            let range = at..at + n;
            at += n;
            let stats = extra.as_ref().map(|e| TokenStats {
                mean_logp: e[0][range.clone()].to_vec(),
                std_logp: e[1][range.clone()].to_vec(),
                confidence: e[2][range.clone()].to_vec(),
                margin: e[3][range.clone()].to_vec(),
            });
            let attn_entropy_layers = attn.as_ref().map(|layers| {
                layers
                    .iter()
                    .map(|l| {
                        let q = &l[r * t..r * t + s.len()];
                        q.iter().map(|&v| v as f64).sum::<f64>() / q.len().max(1) as f64
                    })
                    .collect()
            });
            res.push(ScoredText {
                token_ids: s.to_vec(),
                token_logprobs: lp[range].to_vec(),
                truncated: false,
                stats,
                attn_entropy_layers,
            });
        }
        Ok(res)
    }

    /// ‖∇θ mean NLL(text)‖₂ over all parameters, and per transformer layer: one
    /// forward and backward pass per text (gradients are per text, so they cannot
    /// share a backward pass). Needs `prepare_gradients` first.
    pub fn grad_norms(
        &self,
        text: &str,
        params: &[(Option<usize>, Tensor)],
    ) -> Result<Option<(f64, Vec<f64>)>> {
        let (ids, _) = self.encode(text)?;
        if ids.len() < 2 {
            return Ok(None);
        }
        let n_layers = self.model.info().n_layers as usize;
        for (_, p) in params {
            let mut g = p.grad();
            if g.defined() {
                let _ = g.f_zero_()?;
            }
        }
        let flat: Vec<i64> = ids.iter().map(|&i| i as i64).collect();
        let ids_t = Tensor::f_from_slice(&flat)?
            .f_view([1, flat.len() as i64])?
            .f_to_device(self.model.device())?;
        let out = self.model.forward(&ids_t, None, false)?;
        let t = flat.len() as i64;
        let logits = self
            .model
            .logits(&out.hidden.f_narrow(1, 0, t - 1)?)?
            .f_to_kind(Kind::Float)?;
        let lp = logits.f_log_softmax(-1, Kind::Float)?;
        let tgt = ids_t.f_narrow(1, 1, t - 1)?.f_unsqueeze(-1)?;
        let loss = lp.f_gather(2, &tgt, false)?.f_mean(Kind::Float)?.f_neg()?;
        loss.f_backward()?;
        let mut layers = vec![0f64; n_layers];
        let mut total = 0f64;
        for (layer, p) in params {
            let g = p.grad();
            if !g.defined() {
                continue;
            }
            let sq = g
                .f_to_kind(Kind::Double)?
                .f_square()?
                .f_sum(Kind::Double)?
                .f_double_value(&[])?;
            total += sq;
            if let Some(l) = layer.filter(|&l| l < n_layers) {
                layers[l] += sq;
            }
        }
        Ok(Some((
            total.sqrt(),
            layers.into_iter().map(f64::sqrt).collect(),
        )))
    }
}

impl Scorer<'_> {
    /// For each sequence and each position p in its `positions` (1 ≤ p < len), the token
    /// the model ranks first at p given tokens 0..p, the true token at p excluded: the
    /// neighbourhood attack's substitutions. One forward pass per sequence (truncated to
    /// the context like every sequence scored).
    pub fn alternatives(
        &self,
        seqs: &[Vec<u32>],
        positions: &[Vec<usize>],
    ) -> Result<Vec<Vec<u32>>> {
        let _guard = tch::no_grad_guard();
        let device = self.model.device();
        let mut out = Vec::with_capacity(seqs.len());
        for (s, pos) in seqs.iter().zip(positions) {
            let s = &s[..s.len().min(self.max_tokens)];
            let pos: Vec<usize> = pos
                .iter()
                .copied()
                .filter(|&p| p >= 1 && p < s.len())
                .collect();
            if pos.is_empty() {
                out.push(Vec::new());
                continue;
            }
            let flat: Vec<i64> = s.iter().map(|&i| i as i64).collect();
            let ids = Tensor::f_from_slice(&flat)?
                .f_view([1, flat.len() as i64])?
                .f_to_device(device)?;
            let hidden = self.model.forward(&ids, None, false)?.hidden;
            let rows: Vec<i64> = pos.iter().map(|&p| p as i64 - 1).collect();
            let rows_t = Tensor::f_from_slice(&rows)?.f_to_device(device)?;
            let logits = self
                .model
                .logits(&hidden.f_index_select(1, &rows_t)?)?
                .f_to_kind(Kind::Float)?
                .f_squeeze_dim(0)?;
            let truth: Vec<i64> = pos.iter().map(|&p| s[p] as i64).collect();
            let truth_t = Tensor::f_from_slice(&truth)?
                .f_to_device(device)?
                .f_unsqueeze(1)?;
            let masked = logits.f_scatter_value(1, &truth_t, f64::NEG_INFINITY)?;
            let best = Vec::<i64>::try_from(masked.f_argmax(1, false)?.f_to_device(Device::Cpu)?)?;
            out.push(best.into_iter().map(|v| v as u32).collect());
        }
        Ok(out)
    }
}

/// Marks every parameter as requiring gradients (for `--gradients`) and returns them.
pub fn prepare_gradients(model: &dyn LanguageModel) -> Vec<(Option<usize>, Tensor)> {
    let params = model.parameters();
    for (_, p) in &params {
        let _ = p.set_requires_grad(true);
    }
    params
}

/// Per-position results of the vocabulary pass, each [N].
struct PositionStats {
    logprob: Tensor,
    /// (μ, σ, confidence, margin) when asked for.
    extra: Option<(Tensor, Tensor, Tensor, Tensor)>,
}

/// Projects `hidden` [N, D] onto the vocabulary chunk by chunk and reduces each
/// position's logits l to: log p(target), and optionally μ = E_p[log p], σ = sd_p[log p],
/// max p and the margin p(target) − max_{z≠target} p(z).
///
/// Per chunk: the p-weighted mean and centred second moment of l, merged across chunks
/// with Chan et al.'s parallel-variance formula (weights rescaled to the running max),
/// so no large, nearly equal terms are ever subtracted. Var_p(log p) = Var_p(l)
/// because log p = l − logsumexp(l).
fn position_stats(
    model: &dyn LanguageModel,
    hidden: &Tensor,
    targets: &Tensor,
    full: bool,
) -> Result<PositionStats> {
    let head = model.lm_head();
    let vocab = head.size()[0];
    let n = hidden.size()[0];
    let device = hidden.device();
    let opts = (Kind::Float, device);
    let chunk = (chunk_budget(device) / n.max(1)).clamp(256, vocab);
    let neg_inf = || Tensor::f_full([n], f64::NEG_INFINITY, opts);
    // running max m, Σ e^{l−m}, p-weighted mean of l, Σ e^{l−m}(l − mean)²
    let (mut m, mut z, mut mean, mut m2) = (
        neg_inf()?,
        Tensor::f_zeros([n], opts)?,
        Tensor::f_zeros([n], opts)?,
        Tensor::f_zeros([n], opts)?,
    );
    let (mut top1, mut top2) = (neg_inf()?, neg_inf()?);
    let mut tgt = Tensor::f_zeros([n], opts)?;
    let targets2 = targets.f_unsqueeze(1)?;
    let mut start = 0;
    while start < vocab {
        let len = chunk.min(vocab - start);
        let l = crate::model::softcap(
            hidden
                .f_linear::<Tensor>(&head.f_narrow(0, start, len)?, None)?
                .f_to_kind(Kind::Float)?,
            model.logit_softcap(),
        )?;
        // target logit, where the target falls in this chunk
        let local = (&targets2 - start).f_clamp(0, len - 1)?;
        let picked = l.f_gather(1, &local, false)?.f_squeeze_dim(1)?;
        let inside = targets
            .f_ge(start)?
            .f_logical_and(&targets.f_lt(start + len)?)?;
        tgt = picked.f_where_self(&inside, &tgt)?;
        let (cm, _) = l.f_max_dim(1, false)?;
        let new_m = m.f_maximum(&cm)?;
        // e^{m − new_m} is 0 while nothing has been accumulated (m = −∞)
        let a_old = (&m - &new_m).f_exp()?;
        let a_new = (&cm - &new_m).f_exp()?;
        let shifted = l.f_sub(&cm.f_unsqueeze(1)?)?; // ≤ 0
        let e = shifted.f_exp()?;
        let cz = e.f_sum_dim_intlist(1, false, Kind::Float)?;
        if full {
            let cmean_s = e
                .f_mul(&shifted)?
                .f_sum_dim_intlist(1, false, Kind::Float)?
                .f_div(&cz)?;
            let dev = shifted.f_sub(&cmean_s.f_unsqueeze(1)?)?;
            let cm2 = e
                .f_mul(&dev)?
                .f_mul_(&dev)?
                .f_sum_dim_intlist(1, false, Kind::Float)?;
            let cmean = cmean_s + &cm;
            // Chan et al.: merge (z·a_old, mean, m2·a_old) with (cz·a_new, cmean, cm2·a_new)
            let wa = &z * &a_old;
            let wb = &cz * &a_new;
            let w = &wa + &wb;
            let delta = &cmean - &mean;
            m2 = &m2 * &a_old + cm2 * &a_new + delta.f_square()? * &wa * &wb / &w;
            mean = &mean + &delta * &wb / &w;
            z = w;
            // running top-2 of the logits
            let (tk, _) = l.f_topk(2.min(len), 1, true, true)?;
            let c1 = tk.f_select(1, 0)?;
            let c2 = if len > 1 {
                tk.f_select(1, 1)?
            } else {
                neg_inf()?
            };
            let hi = top1.f_maximum(&c1)?;
            let lo = top1.f_minimum(&c1)?.f_maximum(&top2.f_maximum(&c2)?)?;
            top1 = hi;
            top2 = lo;
        } else {
            z = &z * &a_old + cz * &a_new;
        }
        m = new_m;
        start += len;
    }
    let lse = &m + z.f_log()?;
    let logprob = &tgt - &lse;
    if !full {
        return Ok(PositionStats {
            logprob,
            extra: None,
        });
    }
    let mu = &mean - &lse; // E_p[log p] = E_p[l] − logsumexp
    let sigma = (&m2 / &z).f_clamp_min(0.0)?.f_sqrt()?;
    let confidence = (&top1 - &lse).f_exp()?;
    // the largest other token: top2 when the target is the argmax, else top1
    let other = top2.f_where_self(&tgt.f_ge_tensor(&top1)?, &top1)?;
    let margin = logprob.f_exp()? - (&other - &lse).f_exp()?;
    Ok(PositionStats {
        logprob,
        extra: Some((mu, sigma, confidence, margin)),
    })
}
