//! Building blocks shared by the architectures: linear layers, norms, rotary
//! position embeddings and causal self-attention (fused SDPA, or the explicit
//! softmax when the attention probabilities are wanted). Every op is a fallible
//! (`f_`) one: a user's checkpoint can make shapes disagree, and that must be an
//! error, not a panic.

use tch::{Kind, Tensor};

use super::quant::QuantMatrix;
use super::weights::Weights;
use crate::error::{Error, Result};

/// How a forward pass multiplies by its linear layers' weights.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Products {
    /// libtorch's GEMM on the dense weights: scoring and prompt prefill, where a text
    /// must get the same numbers alone as in a batch.
    Gemm,
    /// Few-row generation steps stream GGUF's quantized blocks where a layer has them
    /// (see `quant`); other layers, and inputs of more rows, take the GEMM.
    QuantBlocks,
}

/// A low-rank update x ↦ (x Aᵀ) Bᵀ with A [r, in] and B [out, r] (a LoRA adapter's,
/// its scale folded into B).
pub struct LowRank {
    pub a: Tensor,
    pub b: Tensor,
}

impl LowRank {
    /// The same update, its tensors shared.
    pub fn share(&self) -> LowRank {
        LowRank {
            a: self.a.shallow_clone(),
            b: self.b.shallow_clone(),
        }
    }

    pub fn forward(&self, x: &Tensor) -> Result<Tensor> {
        Ok(x.f_linear::<Tensor>(&self.a, None)?
            .f_linear::<Tensor>(&self.b, None)?)
    }

    /// The [out, in] matrix B A this update adds to a weight.
    pub fn delta(&self) -> Result<Tensor> {
        Ok(self.b.f_matmul(&self.a)?)
    }

    /// Updates of layers that read the same input, stacked as `Linear::fuse` stacks the
    /// layers: A rows concatenated, B block-diagonal (a layer without an update gets
    /// zero rows).
    fn stack(parts: &[(i64, Option<&LowRank>)]) -> Result<Option<LowRank>> {
        if parts.iter().all(|(_, u)| u.is_none()) {
            return Ok(None);
        }
        let rank: i64 = parts
            .iter()
            .filter_map(|(_, u)| u.map(|u| u.a.size()[0]))
            .sum();
        let template = parts.iter().find_map(|(_, u)| *u).map(|u| &u.a);
        let Some(template) = template else {
            return Ok(None);
        };
        let opts = (template.kind(), template.device());
        let mut a_rows = Vec::new();
        let mut b_rows = Vec::new();
        let mut at = 0;
        for (out, u) in parts {
            match u {
                Some(u) => {
                    let r = u.a.size()[0];
                    a_rows.push(u.a.shallow_clone());
                    let left = Tensor::f_zeros([*out, at], opts)?;
                    let right = Tensor::f_zeros([*out, rank - at - r], opts)?;
                    b_rows.push(Tensor::f_cat(&[&left, &u.b, &right], 1)?);
                    at += r;
                }
                None => b_rows.push(Tensor::f_zeros([*out, rank], opts)?),
            }
        }
        Ok(Some(LowRank {
            a: Tensor::f_cat(&a_rows, 0)?,
            b: Tensor::f_cat(&b_rows, 0)?,
        }))
    }
}

/// The weight of a linear layer, in the forms its products read.
pub enum LinearWeight {
    /// A dense [out, in] matrix on the model's device, in its dtype.
    Dense(Tensor),
    /// A GGUF matrix in its quantized blocks and their f32 expansion: the GEMM reads the
    /// expansion, few-row steps the blocks. An adapter is merged into the expansion
    /// and kept beside the blocks as a low-rank side path (`side`), so both read the
    /// same adapted weight.
    Quantized {
        dense: Tensor,
        blocks: QuantMatrix,
        side: Option<LowRank>,
    },
}

impl LinearWeight {
    fn dense(&self) -> &Tensor {
        match self {
            LinearWeight::Dense(w) | LinearWeight::Quantized { dense: w, .. } => w,
        }
    }
}

/// y = x Wᵀ + b, with W stored [out, in] as in `torch.nn.Linear`.
pub struct Linear {
    pub weight: LinearWeight,
    pub bias: Option<Tensor>,
}

impl Linear {
    /// The same layer, its tensors and blocks shared (not copied).
    pub fn share(&self) -> Linear {
        let weight = match &self.weight {
            LinearWeight::Dense(d) => LinearWeight::Dense(d.shallow_clone()),
            LinearWeight::Quantized {
                dense,
                blocks,
                side,
            } => LinearWeight::Quantized {
                dense: dense.shallow_clone(),
                blocks: blocks.clone(),
                side: side.as_ref().map(LowRank::share),
            },
        };
        Linear {
            weight,
            bias: self.bias.as_ref().map(Tensor::shallow_clone),
        }
    }

    /// Loads `{prefix}.weight` [out, in] and, when `bias`, `{prefix}.bias` [out], with
    /// the adapter's update for `prefix` where the weights carry one (shared with an
    /// earlier model of the same checkpoint where it carries none, see `Weights::layer`).
    pub fn load(w: &Weights, prefix: &str, in_dim: i64, out_dim: i64, bias: bool) -> Result<Self> {
        w.layer(prefix, &[prefix], || {
            Self::load_own(w, prefix, in_dim, out_dim, bias)
        })
    }

    fn load_own(w: &Weights, prefix: &str, in_dim: i64, out_dim: i64, bias: bool) -> Result<Self> {
        let weight = w.get_cpu(&format!("{prefix}.weight"), &[out_dim, in_dim])?;
        let bias = if bias {
            Some(w.get_cpu(&format!("{prefix}.bias"), &[out_dim])?)
        } else {
            None
        };
        let blocks = w.get_quant(&format!("{prefix}.weight"), out_dim, in_dim);
        w.linear(prefix, weight, bias, blocks)
    }

    pub fn forward(&self, x: &Tensor, ctx: &Context) -> Result<Tensor> {
        if let LinearWeight::Quantized { blocks, side, .. } = &self.weight {
            if ctx.products == Products::QuantBlocks {
                if let Some(mut y) = blocks.forward(x) {
                    if let Some(s) = side {
                        y = y.f_add(&s.forward(x)?)?;
                    }
                    return Ok(match &self.bias {
                        Some(b) => y.f_add(b)?,
                        None => y,
                    });
                }
            }
        }
        Ok(x.f_linear(self.weight.dense(), self.bias.as_ref())?)
    }

    pub fn params(&self) -> Vec<Tensor> {
        std::iter::once(self.weight.dense().shallow_clone())
            .chain(self.bias.iter().map(Tensor::shallow_clone))
            .collect()
    }

    /// Stacks layers that read the same input into one (one larger GEMM instead of
    /// several small ones); split the output with `out_dims`.
    pub fn fuse(parts: Vec<Linear>) -> Result<Linear> {
        let dense: Vec<&Tensor> = parts.iter().map(|l| l.weight.dense()).collect();
        let weight = Tensor::f_cat(&dense, 0)?;
        let bias = if parts.iter().any(|l| l.bias.is_some()) {
            let bs = parts
                .iter()
                .map(|l| match &l.bias {
                    Some(b) => Ok(b.shallow_clone()),
                    None => {
                        let w = l.weight.dense();
                        Ok(Tensor::f_zeros([w.size()[0]], (w.kind(), w.device()))?)
                    }
                })
                .collect::<Result<Vec<Tensor>>>()?;
            Some(Tensor::f_cat(&bs, 0)?)
        } else {
            None
        };
        let all_blocks = parts
            .iter()
            .all(|l| matches!(l.weight, LinearWeight::Quantized { .. }));
        let weight = if all_blocks {
            let sides: Vec<(i64, Option<&LowRank>)> = parts
                .iter()
                .map(|l| match &l.weight {
                    LinearWeight::Quantized { dense, side, .. } => (dense.size()[0], side.as_ref()),
                    LinearWeight::Dense(d) => (d.size()[0], None),
                })
                .collect();
            let side = LowRank::stack(&sides)?;
            let blocks = parts
                .into_iter()
                .filter_map(|l| match l.weight {
                    LinearWeight::Quantized { blocks, .. } => Some(blocks),
                    LinearWeight::Dense(_) => None,
                })
                .collect();
            match QuantMatrix::stack(blocks) {
                Some(blocks) => LinearWeight::Quantized {
                    dense: weight,
                    blocks,
                    side,
                },
                None => LinearWeight::Dense(weight),
            }
        } else {
            LinearWeight::Dense(weight)
        };
        Ok(Linear { weight, bias })
    }
}

pub struct LayerNorm {
    weight: Tensor,
    bias: Tensor,
    eps: f64,
}

impl LayerNorm {
    pub fn load(w: &Weights, prefix: &str, dim: i64, eps: f64) -> Result<Self> {
        Ok(LayerNorm {
            weight: w.get(&format!("{prefix}.weight"), &[dim])?,
            bias: w.get(&format!("{prefix}.bias"), &[dim])?,
            eps,
        })
    }

    pub fn params(&self) -> Vec<Tensor> {
        vec![self.weight.shallow_clone(), self.bias.shallow_clone()]
    }

    pub fn forward(&self, x: &Tensor) -> Result<Tensor> {
        let dim = *x.size().last().unwrap_or(&0);
        Ok(x.f_layer_norm([dim], Some(&self.weight), Some(&self.bias), self.eps, true)?)
    }
}

/// RMSNorm as in Llama: computed in f32, then scaled by the weight. Gemma's variant
/// scales by (1 + w) in f32 before casting back (`load_gemma`).
pub struct RmsNorm {
    weight: Tensor,
    eps: f64,
    /// Multiply by the weight in f32, then cast (Gemma); else cast, then multiply.
    scale_in_f32: bool,
}

impl RmsNorm {
    pub fn load(w: &Weights, name: &str, dim: i64, eps: f64) -> Result<Self> {
        Ok(RmsNorm {
            weight: w.get(name, &[dim])?,
            eps,
            scale_in_f32: false,
        })
    }

    /// Gemma's norm, x̂·(1 + w): checkpoints store w, GGUF files store 1 + w already
    /// (llama.cpp's converter adds the one).
    pub fn load_gemma(w: &Weights, name: &str, dim: i64, eps: f64) -> Result<Self> {
        let mut weight = w.get(name, &[dim])?;
        if !w.is_gguf() {
            weight = weight.f_add_scalar(1.0)?;
        }
        Ok(RmsNorm {
            weight,
            eps,
            scale_in_f32: true,
        })
    }

    pub fn params(&self) -> Vec<Tensor> {
        vec![self.weight.shallow_clone()]
    }

    pub fn forward(&self, x: &Tensor) -> Result<Tensor> {
        let kind = x.kind();
        let xf = x.f_to_kind(Kind::Float)?;
        let var = xf.f_square()?.f_mean_dim(-1, true, Kind::Float)?;
        let normed = xf.f_mul(&var.f_add_scalar(self.eps)?.f_rsqrt()?)?;
        if self.scale_in_f32 {
            let w = self.weight.f_to_kind(Kind::Float)?;
            return Ok(normed.f_mul(&w)?.f_to_kind(kind)?);
        }
        Ok(self.weight.f_mul(&normed.f_to_kind(kind)?)?)
    }
}

/// Rotary position embedding over the first `dim` channels of each head
/// (half-split layout, `rotate_half`), as in Llama and GPT-NeoX.
pub struct Rotary {
    inv_freq: Vec<f32>,
    /// Multiplies cos and sin (LongRoPE's attention factor); 1 elsewhere.
    attention_factor: f64,
    /// LongRoPE: the frequencies used once a pass reaches past this many positions.
    long: Option<(Vec<f32>, i64)>,
}

impl Rotary {
    pub fn new(inv_freq: Vec<f32>) -> Self {
        Rotary {
            inv_freq,
            attention_factor: 1.0,
            long: None,
        }
    }

    /// With `inv_long` in place of the frequencies for a row whose positions reach
    /// `original` or beyond (transformers' dynamic LongRoPE update, applied per row).
    pub fn with_long(mut self, inv_long: Vec<f32>, original: i64) -> Self {
        self.long = Some((inv_long, original));
        self
    }

    /// With cos and sin scaled by `factor`.
    pub fn with_attention_factor(mut self, factor: f64) -> Self {
        self.attention_factor = factor;
        self
    }

    /// inv_freq[i] = 1 / base^(2i/dim)
    pub fn inv_freq(base: f64, dim: i64) -> Vec<f32> {
        (0..dim / 2)
            .map(|i| {
                // Matches the f32 computation of the reference: base ** (2i/dim) in f32.
                let e = ((2 * i) as f32) / dim as f32;
                1.0f32 / (base as f32).powf(e)
            })
            .collect()
    }

    pub fn dim(&self) -> i64 {
        2 * self.inv_freq.len() as i64
    }

    /// (cos, sin), each [B, 1, T, dim] in f32, for positions [B, T].
    pub fn cos_sin(&self, positions: &Tensor) -> Result<(Tensor, Tensor)> {
        let device = positions.device();
        let pos = positions.f_to_kind(Kind::Float)?.f_unsqueeze(-1)?;
        let short = Tensor::f_from_slice(&self.inv_freq)?.f_to_device(device)?;
        // [B, T, dim/2]
        let freqs = match &self.long {
            // LongRoPE: a row whose positions reach the pretraining context takes the long
            // frequencies (per row, so a text's numbers do not depend on its batch)
            Some((long, original)) if positions.numel() > 0 => {
                let long = Tensor::f_from_slice(long)?.f_to_device(device)?;
                let (row_max, _) = positions.f_max_dim(-1, true)?;
                let use_long = row_max.f_add_scalar(1)?.f_gt(*original)?.f_unsqueeze(-1)?;
                pos.f_mul(&long.f_where_self(&use_long, &short)?)?
            }
            _ => pos.f_mul(&short)?,
        };
        let emb = Tensor::f_cat(&[&freqs, &freqs], -1)?.f_unsqueeze(1)?;
        if self.attention_factor != 1.0 {
            let f = self.attention_factor;
            return Ok((emb.f_cos()?.f_mul_scalar(f)?, emb.f_sin()?.f_mul_scalar(f)?));
        }
        Ok((emb.f_cos()?, emb.f_sin()?))
    }

    /// Applies the rotation to x [B, H, T, head_dim]; channels past `dim` pass through.
    pub fn apply(&self, x: &Tensor, cos: &Tensor, sin: &Tensor) -> Result<Tensor> {
        let kind = x.kind();
        let head_dim = *x.size().last().unwrap_or(&0);
        let d = self.dim();
        let (cos, sin) = (cos.f_to_kind(kind)?, sin.f_to_kind(kind)?);
        let rotate = |r: &Tensor| -> Result<Tensor> {
            Ok(r.f_mul(&cos)?.f_add(&rotate_half(r)?.f_mul(&sin)?)?)
        };
        if d == head_dim {
            rotate(x)
        } else {
            let rot = rotate(&x.f_narrow(-1, 0, d)?)?;
            let pass = x.f_narrow(-1, d, head_dim - d)?;
            Ok(Tensor::f_cat(&[&rot, &pass], -1)?)
        }
    }
}

fn rotate_half(x: &Tensor) -> Result<Tensor> {
    let half = *x.size().last().unwrap_or(&0) / 2;
    let x1 = x.f_narrow(-1, 0, half)?;
    let x2 = x.f_narrow(-1, half, half)?;
    Ok(Tensor::f_cat(&[&x2.f_neg()?, &x1], -1)?)
}

/// What a forward pass is given besides the token ids.
pub struct Context {
    /// [B, T] position of each token (0-based, per row).
    pub positions: Tensor,
    /// Boolean [B, 1, T, T] mask (true = may attend); `None` = plain causal.
    pub mask: Option<Tensor>,
    /// Compute each layer's attention entropy (explicit softmax path).
    pub want_attention: bool,
    /// How the linear layers multiply.
    pub products: Products,
}

/// [B, T] → (B, T), zero for a tensor of another rank (whose ops then fail cleanly).
fn batch_len(ids: &Tensor) -> (i64, i64) {
    match ids.size()[..] {
        [b, t] => (b, t),
        _ => (0, 0),
    }
}

impl Context {
    /// For token ids [B, T] and an optional [B, T] mask of real (1) vs padding (0) tokens.
    /// Positions count real tokens only, so left padding does not shift them.
    pub fn new(
        ids: &Tensor,
        padding_mask: Option<&Tensor>,
        sliding_window: Option<i64>,
    ) -> Result<Self> {
        let (b, t) = batch_len(ids);
        let device = ids.device();
        let causal =
            || -> Result<Tensor> { Ok(Tensor::f_ones([t, t], (Kind::Bool, device))?.f_tril(0)?) };
        let (positions, mask) = match padding_mask {
            None => {
                let positions = Tensor::f_arange(t, (Kind::Int64, device))?
                    .f_unsqueeze(0)?
                    .f_expand([b, t], true)?;
                let mask = match sliding_window {
                    Some(w) if w < t => Some(window(causal()?, w)?.f_view([1, 1, t, t])?),
                    _ => None,
                };
                (positions, mask)
            }
            Some(pm) => {
                let pm = pm.f_to_kind(Kind::Int64)?;
                let positions = pm
                    .f_cumsum(1, Kind::Int64)?
                    .f_sub_scalar(1)?
                    .f_clamp_min(0)?;
                let keys = pm.f_to_kind(Kind::Bool)?.f_view([b, 1, 1, t])?;
                let mut c = causal()?;
                if let Some(w) = sliding_window.filter(|&w| w < t) {
                    c = window(c, w)?;
                }
                // A padding query may attend to itself, so no row is empty (no NaN).
                let eye = Tensor::f_eye(t, (Kind::Bool, device))?.f_view([1, 1, t, t])?;
                let mask = c
                    .f_view([1, 1, t, t])?
                    .f_logical_and(&keys)?
                    .f_logical_or(&eye)?;
                (positions, Some(mask))
            }
        };
        Ok(Context {
            positions,
            mask,
            want_attention: false,
            products: Products::Gemm,
        })
    }
}

/// One layer's keys and values: buffers [B, KV, capacity, D] whose first `len`
/// positions are filled, so that a step writes one position instead of copying all.
pub struct LayerCache {
    k: Tensor,
    v: Tensor,
    len: i64,
}

impl LayerCache {
    /// Appends `k`, `v` [B, KV, T, D] to the slot; views of every cached position.
    fn append(slot: &mut Option<LayerCache>, k: &Tensor, v: &Tensor) -> Result<(Tensor, Tensor)> {
        let t = k.size()[2];
        let mut c = match slot.take() {
            Some(c) if c.len + t <= c.k.size()[2] => c,
            old => {
                let len = old.as_ref().map_or(0, |c| c.len);
                // room for this many more steps before the next copy
                let cap = (len + t) * 2 + 64;
                let mut shape = k.size();
                shape[2] = cap;
                let c = LayerCache {
                    k: Tensor::f_zeros(shape.as_slice(), (k.kind(), k.device()))?,
                    v: Tensor::f_zeros(shape.as_slice(), (v.kind(), v.device()))?,
                    len,
                };
                if let Some(o) = old {
                    c.k.f_narrow(2, 0, len)?
                        .f_copy_(&o.k.f_narrow(2, 0, len)?)?;
                    c.v.f_narrow(2, 0, len)?
                        .f_copy_(&o.v.f_narrow(2, 0, len)?)?;
                }
                c
            }
        };
        c.k.f_narrow(2, c.len, t)?.f_copy_(k)?;
        c.v.f_narrow(2, c.len, t)?.f_copy_(v)?;
        c.len += t;
        let views = (c.k.f_narrow(2, 0, c.len)?, c.v.f_narrow(2, 0, c.len)?);
        *slot = Some(c);
        Ok(views)
    }
}

/// Keys and values of the positions seen so far, per layer, so generation feeds only
/// the new token through the model.
pub struct KvCache {
    pub layers: Vec<Option<LayerCache>>,
}

impl KvCache {
    pub fn new(n_layers: usize) -> Self {
        KvCache {
            layers: (0..n_layers).map(|_| None).collect(),
        }
    }

    /// Positions cached.
    pub fn len(&self) -> i64 {
        self.layers
            .first()
            .and_then(|l| l.as_ref())
            .map_or(0, |c| c.len)
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// A cache of `n` rows, each a copy of this one-row cache, with room for `room`
    /// more positions: a shared prompt is prefilled once and then continued `n` ways.
    pub fn repeat_rows(&self, n: i64, room: i64) -> Result<KvCache> {
        let copy = |t: &Tensor, len: i64| -> Result<Tensor> {
            let mut shape = t.size();
            shape[0] = n;
            shape[2] = len + room.max(1);
            let out = Tensor::f_zeros(shape.as_slice(), (t.kind(), t.device()))?;
            out.f_narrow(2, 0, len)?
                .f_copy_(&t.f_narrow(2, 0, len)?.f_expand([n, -1, -1, -1], false)?)?;
            Ok(out)
        };
        let layers = self
            .layers
            .iter()
            .map(|l| -> Result<Option<LayerCache>> {
                Ok(match l {
                    Some(c) => Some(LayerCache {
                        k: copy(&c.k, c.len)?,
                        v: copy(&c.v, c.len)?,
                        len: c.len,
                    }),
                    None => None,
                })
            })
            .collect::<Result<_>>()?;
        Ok(KvCache { layers })
    }
}

impl Context {
    /// For `ids` [B, T] that follow `past` cached positions; `full_mask` [B, past + T]
    /// marks real (1) and padding (0) tokens over all of them. Positions count real
    /// tokens; each new query sees the real keys up to itself (and itself, so a padding
    /// row is never empty).
    pub fn with_cache(
        ids: &Tensor,
        full_mask: &Tensor,
        past: i64,
        sliding_window: Option<i64>,
        products: Products,
    ) -> Result<Self> {
        let (b, t) = batch_len(ids);
        let s = past + t;
        let device = ids.device();
        let pm = full_mask.f_to_kind(Kind::Int64)?;
        let positions = pm
            .f_cumsum(1, Kind::Int64)?
            .f_sub_scalar(1)?
            .f_clamp_min(0)?
            .f_narrow(1, past, t)?;
        let q_idx = Tensor::f_arange_start(past, s, (Kind::Int64, device))?.f_unsqueeze(1)?;
        let k_idx = Tensor::f_arange(s, (Kind::Int64, device))?.f_unsqueeze(0)?;
        let mut allowed = k_idx.f_le_tensor(&q_idx)?;
        if let Some(w) = sliding_window {
            allowed = allowed.f_logical_and(&k_idx.f_gt_tensor(&q_idx.f_sub_scalar(w)?)?)?;
        }
        let keys = pm.f_to_kind(Kind::Bool)?.f_view([b, 1, 1, s])?;
        let own = k_idx.f_eq_tensor(&q_idx)?.f_view([1, 1, t, s])?;
        let mask = allowed
            .f_view([1, 1, t, s])?
            .f_logical_and(&keys)?
            .f_logical_or(&own)?;
        Ok(Context {
            positions,
            mask: Some(mask),
            want_attention: false,
            products,
        })
    }
}

/// Restricts a causal [T, T] mask to the last `w` keys of each query (Mistral).
fn window(causal: Tensor, w: i64) -> Result<Tensor> {
    let t = causal.size()[0];
    let band = Tensor::f_ones([t, t], (Kind::Bool, causal.device()))?.f_triu(-(w - 1))?;
    Ok(causal.f_logical_and(&band)?)
}

/// The mask of a layer that sees only the last `w` keys (Gemma's local layers) in a
/// model whose context masks are global: `ctx.mask` (or the plain causal mask) for
/// `t` queries over `s` keys, the queries being the last `t` of the `s` positions.
pub fn windowed_mask(ctx: &Context, t: i64, s: i64, w: i64) -> Result<Option<Tensor>> {
    if s <= w {
        return Ok(ctx.mask.as_ref().map(|m| m.shallow_clone()));
    }
    let device = ctx.positions.device();
    let q_idx = Tensor::f_arange_start(s - t, s, (Kind::Int64, device))?.f_unsqueeze(1)?;
    let k_idx = Tensor::f_arange(s, (Kind::Int64, device))?.f_unsqueeze(0)?;
    let band = k_idx
        .f_gt_tensor(&q_idx.f_sub_scalar(w)?)?
        .f_logical_and(&k_idx.f_le_tensor(&q_idx)?)?
        .f_view([1, 1, t, s])?;
    Ok(Some(match &ctx.mask {
        Some(m) => {
            // a padding query keeps its own key, as in `Context` (no empty row)
            let own = k_idx.f_eq_tensor(&q_idx)?.f_view([1, 1, t, s])?;
            m.f_logical_and(&band)?.f_logical_or(&own)?
        }
        None => band,
    }))
}

/// Scaled dot-product attention of q [B, H, T, D] over k, v [B, KV, T, D]
/// (KV divides H: grouped-query attention). Returns [B, T, H·D] and, when
/// `ctx.want_attention`, the Shannon entropy (nats) of each query's attention
/// distribution averaged over heads, [B, T] in f32. `opts` gives the scale, the mask
/// when it is not the context's (a local layer), and Gemma 2's score soft-cap.
pub fn attention(
    q: &Tensor,
    k: &Tensor,
    v: &Tensor,
    ctx: &Context,
    opts: &AttnOpts,
    cache: Option<&mut Option<LayerCache>>,
) -> Result<(Tensor, Option<Tensor>)> {
    let scale = opts.scale;
    let mask = match &opts.mask {
        Some(m) => m.as_ref(),
        None => ctx.mask.as_ref(),
    };
    let (b, h, t, d) = q.size4()?;
    // append to the cached keys and values
    let (k, v) = match cache {
        Some(slot) => LayerCache::append(slot, k, v)?,
        None => (k.shallow_clone(), v.shallow_clone()),
    };
    let (k, v) = (&k, &v);
    let kv = k.size()[1];
    let explicit = ctx.want_attention || opts.softcap.is_some();
    if kv != h && t == 1 && !explicit {
        // one query per row (a generation step): the query heads that share a key head
        // become that head's rows, so the keys are read in place, not copied per head
        let rep = h / kv;
        let qg = q.f_reshape([b, kv, rep, d])?;
        let out =
            Tensor::f_scaled_dot_product_attention(&qg, k, v, mask, 0.0, false, scale, false)?;
        return Ok((out.f_reshape([b, t, h * d])?, None));
    }
    let (k, v) = if kv != h {
        let rep = h / kv;
        let s = k.size()[2];
        let expand = |x: &Tensor| -> Result<Tensor> {
            Ok(x.f_unsqueeze(2)?
                .f_expand([b, kv, rep, s, d], true)?
                .f_reshape([b, h, s, d])?)
        };
        (expand(k)?, expand(v)?)
    } else {
        (k.shallow_clone(), v.shallow_clone())
    };
    let (out, probs) = if explicit {
        let mut scores = q.f_matmul(&k.f_transpose(-2, -1)?)?.f_mul_scalar(scale)?;
        if let Some(cap) = opts.softcap {
            // Gemma 2: cap · tanh(scores / cap), before the mask
            scores = scores
                .f_to_kind(Kind::Float)?
                .f_div_scalar(cap)?
                .f_tanh()?
                .f_mul_scalar(cap)?;
        }
        let mask = match mask {
            Some(m) => m.shallow_clone(),
            None => Tensor::f_ones([t, t], (Kind::Bool, q.device()))?
                .f_tril(0)?
                .f_view([1, 1, t, t])?,
        };
        scores = scores.f_masked_fill(&mask.f_logical_not()?, f64::NEG_INFINITY)?;
        let probs = scores.f_softmax(-1, Kind::Float)?;
        // H = -Σ p log p, with 0 log 0 = 0 for masked keys.
        let entropy = probs
            .f_mul(&probs.f_clamp_min(1e-30)?.f_log()?)?
            .f_sum_dim_intlist(-1, false, Kind::Float)?
            .f_neg()?;
        let out = probs.f_to_kind(q.kind())?.f_matmul(&v)?;
        let entropy = if ctx.want_attention {
            Some(entropy.f_mean_dim(1, false, Kind::Float)?)
        } else {
            None
        };
        (out, entropy)
    } else {
        let out = match mask {
            None => Tensor::f_scaled_dot_product_attention::<Tensor>(
                q, &k, &v, None, 0.0, true, scale, false,
            )?,
            Some(m) => Tensor::f_scaled_dot_product_attention(
                q,
                &k,
                &v,
                Some(m),
                0.0,
                false,
                scale,
                false,
            )?,
        };
        (out, None)
    };
    Ok((out.f_transpose(1, 2)?.f_reshape([b, t, h * d])?, probs))
}

/// How one layer attends: the score scale (1/√d unless the model says otherwise), a
/// mask of its own (`windowed_mask`; `None` = the context's) and a score soft-cap.
pub struct AttnOpts {
    pub scale: f64,
    pub mask: Option<Option<Tensor>>,
    pub softcap: Option<f64>,
}

impl AttnOpts {
    /// Plain attention scaled by `scale`, with the context's mask.
    pub fn scaled(scale: f64) -> Self {
        AttnOpts {
            scale,
            mask: None,
            softcap: None,
        }
    }
}

/// Splits [B, T, H·D] into [B, H, T, D].
pub fn heads(x: &Tensor, n_heads: i64, head_dim: i64) -> Result<Tensor> {
    let (b, t) = (x.size()[0], x.size()[1]);
    Ok(x.f_view([b, t, n_heads, head_dim])?.f_transpose(1, 2)?)
}

/// GELU variants by their Hugging Face names.
pub fn activation(name: &str, x: &Tensor) -> Result<Tensor> {
    Ok(match name {
        "gelu" => x.f_gelu("none")?,
        "gelu_new" | "gelu_pytorch_tanh" | "gelu_fast" => x.f_gelu("tanh")?,
        "silu" | "swish" => x.f_silu()?,
        "relu" => x.f_relu()?,
        other => {
            return Err(Error::input(format!(
                "unsupported activation function {other}"
            )))
        }
    })
}

/// Checks an activation name at load time, so forward never fails on it.
pub fn check_activation(name: &str) -> Result<()> {
    match name {
        "gelu" | "gelu_new" | "gelu_pytorch_tanh" | "gelu_fast" | "silu" | "swish" | "relu" => {
            Ok(())
        }
        other => Err(Error::input(format!(
            "unsupported activation function {other}"
        ))),
    }
}

/// Whether two tensors share storage (tied embeddings).
pub fn same_storage(a: &Tensor, b: &Tensor) -> bool {
    a.data_ptr() == b.data_ptr()
}

/// Parameters of the non-layer part of a model: `(None, tensor)` each, the output
/// projection only when it is not tied to the embedding.
pub fn outer_params(
    embeddings: &[&Tensor],
    norms: Vec<Tensor>,
    head: &Tensor,
) -> Vec<(Option<usize>, Tensor)> {
    let mut v: Vec<(Option<usize>, Tensor)> = embeddings
        .iter()
        .map(|t| (None, t.shallow_clone()))
        .collect();
    v.extend(norms.into_iter().map(|t| (None, t)));
    if !embeddings.iter().any(|e| same_storage(e, head)) {
        v.push((None, head.shallow_clone()));
    }
    v
}
