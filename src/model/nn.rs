//! Building blocks shared by the architectures: linear layers, norms, rotary
//! position embeddings and causal self-attention (fused SDPA, or the explicit
//! softmax when the attention probabilities are wanted).

use tch::{Kind, Tensor};

use super::quant::QuantMatrix;
use super::weights::Weights;
use crate::error::{Error, Result};

/// y = x Wᵀ + b, with W stored [out, in] as in `torch.nn.Linear`; GGUF weights also
/// keep their quantized blocks for the few-row products of generation steps.
pub struct Linear {
    pub weight: Tensor,
    pub bias: Option<Tensor>,
    pub quant: Option<QuantMatrix>,
}

impl Linear {
    /// Loads `{prefix}.weight` [out, in] and, when `bias`, `{prefix}.bias` [out].
    pub fn load(w: &Weights, prefix: &str, in_dim: i64, out_dim: i64, bias: bool) -> Result<Self> {
        let weight = w.get(&format!("{prefix}.weight"), &[out_dim, in_dim])?;
        let bias = if bias {
            Some(w.get(&format!("{prefix}.bias"), &[out_dim])?)
        } else {
            None
        };
        let quant = w.get_quant(&format!("{prefix}.weight"), out_dim, in_dim);
        Ok(Linear {
            weight,
            bias,
            quant,
        })
    }

    pub fn forward(&self, x: &Tensor) -> Tensor {
        match self.quant.as_ref().and_then(|q| q.forward(x)) {
            Some(y) => match &self.bias {
                Some(b) => y + b,
                None => y,
            },
            None => x.linear(&self.weight, self.bias.as_ref()),
        }
    }

    pub fn params(&self) -> Vec<Tensor> {
        std::iter::once(self.weight.shallow_clone())
            .chain(self.bias.iter().map(Tensor::shallow_clone))
            .collect()
    }

    /// Stacks layers that read the same input into one (one larger GEMM instead of
    /// several small ones); split the output with `out_dims`.
    pub fn fuse(mut parts: Vec<Linear>) -> Result<Linear> {
        let quant = if parts.iter().all(|l| l.quant.is_some()) {
            QuantMatrix::stack(parts.iter_mut().filter_map(|l| l.quant.take()).collect())
        } else {
            None
        };
        let any_bias = parts.iter().any(|l| l.bias.is_some());
        let weights: Vec<&Tensor> = parts.iter().map(|l| &l.weight).collect();
        let weight = Tensor::f_cat(&weights, 0)?;
        let bias = if any_bias {
            let bs: Vec<Tensor> = parts
                .iter()
                .map(|l| match &l.bias {
                    Some(b) => b.shallow_clone(),
                    None => l
                        .weight
                        .zeros_like()
                        .sum_dim_intlist(1, false, l.weight.kind()),
                })
                .collect();
            Some(Tensor::f_cat(&bs, 0)?)
        } else {
            None
        };
        Ok(Linear {
            weight,
            bias,
            quant,
        })
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

    pub fn forward(&self, x: &Tensor) -> Tensor {
        let dim = *x.size().last().unwrap_or(&0);
        x.layer_norm([dim], Some(&self.weight), Some(&self.bias), self.eps, true)
    }
}

/// RMSNorm as in Llama: computed in f32, then scaled by the weight.
pub struct RmsNorm {
    weight: Tensor,
    eps: f64,
}

impl RmsNorm {
    pub fn load(w: &Weights, name: &str, dim: i64, eps: f64) -> Result<Self> {
        Ok(RmsNorm {
            weight: w.get(name, &[dim])?,
            eps,
        })
    }

    pub fn params(&self) -> Vec<Tensor> {
        vec![self.weight.shallow_clone()]
    }

    pub fn forward(&self, x: &Tensor) -> Tensor {
        let kind = x.kind();
        let xf = x.to_kind(Kind::Float);
        let var = xf.square().mean_dim(-1, true, Kind::Float);
        let normed = xf * (var + self.eps).rsqrt();
        &self.weight * normed.to_kind(kind)
    }
}

/// Rotary position embedding over the first `dim` channels of each head
/// (half-split layout, `rotate_half`), as in Llama and GPT-NeoX.
pub struct Rotary {
    inv_freq: Vec<f32>,
}

impl Rotary {
    pub fn new(inv_freq: Vec<f32>) -> Self {
        Rotary { inv_freq }
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
        let inv = Tensor::f_from_slice(&self.inv_freq)?.to_device(positions.device());
        let freqs = positions.to_kind(Kind::Float).unsqueeze(-1) * inv; // [B, T, dim/2]
        let emb = Tensor::cat(&[&freqs, &freqs], -1).unsqueeze(1);
        Ok((emb.cos(), emb.sin()))
    }

    /// Applies the rotation to x [B, H, T, head_dim]; channels past `dim` pass through.
    pub fn apply(&self, x: &Tensor, cos: &Tensor, sin: &Tensor) -> Tensor {
        let kind = x.kind();
        let head_dim = *x.size().last().unwrap_or(&0);
        let d = self.dim();
        let (cos, sin) = (cos.to_kind(kind), sin.to_kind(kind));
        if d == head_dim {
            x * &cos + rotate_half(x) * &sin
        } else {
            let rot = x.narrow(-1, 0, d);
            let pass = x.narrow(-1, d, head_dim - d);
            let rot = &rot * &cos + rotate_half(&rot) * &sin;
            Tensor::cat(&[&rot, &pass], -1)
        }
    }
}

fn rotate_half(x: &Tensor) -> Tensor {
    let half = *x.size().last().unwrap_or(&0) / 2;
    let x1 = x.narrow(-1, 0, half);
    let x2 = x.narrow(-1, half, half);
    Tensor::cat(&[&x2.neg(), &x1], -1)
}

/// What a forward pass is given besides the token ids.
pub struct Context {
    /// [B, T] position of each token (0-based, per row).
    pub positions: Tensor,
    /// Boolean [B, 1, T, T] mask (true = may attend); `None` = plain causal.
    pub mask: Option<Tensor>,
    /// Compute each layer's attention entropy (explicit softmax path).
    pub want_attention: bool,
}

impl Context {
    /// For token ids [B, T] and an optional [B, T] mask of real (1) vs padding (0) tokens.
    /// Positions count real tokens only, so left padding does not shift them.
    pub fn new(ids: &Tensor, padding_mask: Option<&Tensor>, sliding_window: Option<i64>) -> Self {
        let (b, t) = (ids.size()[0], ids.size()[1]);
        let device = ids.device();
        let causal = || Tensor::ones([t, t], (Kind::Bool, device)).tril(0);
        match padding_mask {
            None => {
                let positions = Tensor::arange(t, (Kind::Int64, device))
                    .unsqueeze(0)
                    .expand([b, t], true);
                let mask = match sliding_window {
                    Some(w) if w < t => Some(window(causal(), w).view([1, 1, t, t])),
                    _ => None,
                };
                Context {
                    positions,
                    mask,
                    want_attention: false,
                }
            }
            Some(pm) => {
                let pm = pm.to_kind(Kind::Int64);
                let positions = (pm.cumsum(1, Kind::Int64) - 1).clamp_min(0);
                let keys = pm.to_kind(Kind::Bool).view([b, 1, 1, t]);
                let mut c = causal();
                if let Some(w) = sliding_window.filter(|&w| w < t) {
                    c = window(c, w);
                }
                // A padding query may attend to itself, so no row is empty (no NaN).
                let eye = Tensor::eye(t, (Kind::Bool, device)).view([1, 1, t, t]);
                let mask = c.view([1, 1, t, t]).logical_and(&keys).logical_or(&eye);
                Context {
                    positions,
                    mask: Some(mask),
                    want_attention: false,
                }
            }
        }
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
    fn append(slot: &mut Option<LayerCache>, k: &Tensor, v: &Tensor) -> (Tensor, Tensor) {
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
                    k: Tensor::zeros(shape.as_slice(), (k.kind(), k.device())),
                    v: Tensor::zeros(shape.as_slice(), (v.kind(), v.device())),
                    len,
                };
                if let Some(o) = old {
                    c.k.narrow(2, 0, len).copy_(&o.k.narrow(2, 0, len));
                    c.v.narrow(2, 0, len).copy_(&o.v.narrow(2, 0, len));
                }
                c
            }
        };
        c.k.narrow(2, c.len, t).copy_(k);
        c.v.narrow(2, c.len, t).copy_(v);
        c.len += t;
        let views = (c.k.narrow(2, 0, c.len), c.v.narrow(2, 0, c.len));
        *slot = Some(c);
        views
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
    ) -> Self {
        let (b, t) = (ids.size()[0], ids.size()[1]);
        let s = past + t;
        let device = ids.device();
        let pm = full_mask.to_kind(Kind::Int64);
        let positions = (pm.cumsum(1, Kind::Int64) - 1)
            .clamp_min(0)
            .narrow(1, past, t);
        let q_idx = Tensor::arange_start(past, s, (Kind::Int64, device)).unsqueeze(1);
        let k_idx = Tensor::arange(s, (Kind::Int64, device)).unsqueeze(0);
        let mut allowed = k_idx.le_tensor(&q_idx);
        if let Some(w) = sliding_window {
            allowed = allowed.logical_and(&k_idx.gt_tensor(&(&q_idx - w)));
        }
        let keys = pm.to_kind(Kind::Bool).view([b, 1, 1, s]);
        let own = k_idx.eq_tensor(&q_idx).view([1, 1, t, s]);
        let mask = allowed
            .view([1, 1, t, s])
            .logical_and(&keys)
            .logical_or(&own);
        Context {
            positions,
            mask: Some(mask),
            want_attention: false,
        }
    }
}

/// Restricts a causal [T, T] mask to the last `w` keys of each query (Mistral).
fn window(causal: Tensor, w: i64) -> Tensor {
    let t = causal.size()[0];
    let band = Tensor::ones([t, t], (Kind::Bool, causal.device())).triu(-(w - 1));
    causal.logical_and(&band)
}

/// Scaled dot-product attention of q [B, H, T, D] over k, v [B, KV, T, D]
/// (KV divides H: grouped-query attention). Returns [B, T, H·D] and, when
/// `ctx.want_attention`, the Shannon entropy (nats) of each query's attention
/// distribution averaged over heads, [B, T] in f32.
pub fn attention(
    q: &Tensor,
    k: &Tensor,
    v: &Tensor,
    ctx: &Context,
    scale: f64,
    cache: Option<&mut Option<LayerCache>>,
) -> (Tensor, Option<Tensor>) {
    let (b, h, t, d) = q.size4().unwrap_or((0, 0, 0, 0));
    // append to the cached keys and values
    let (k, v) = match cache {
        Some(slot) => LayerCache::append(slot, k, v),
        None => (k.shallow_clone(), v.shallow_clone()),
    };
    let (k, v) = (&k, &v);
    let kv = k.size()[1];
    if kv != h && t == 1 && !ctx.want_attention {
        // one query per row (a generation step): the query heads that share a key head
        // become that head's rows, so the keys are read in place, not copied per head
        let rep = h / kv;
        let qg = q.reshape([b, kv, rep, d]);
        let out = Tensor::scaled_dot_product_attention(
            &qg,
            k,
            v,
            ctx.mask.as_ref(),
            0.0,
            false,
            scale,
            false,
        );
        return (out.reshape([b, t, h * d]), None);
    }
    let (k, v) = if kv != h {
        let rep = h / kv;
        let s = k.size()[2];
        let expand = |x: &Tensor| {
            x.unsqueeze(2)
                .expand([b, kv, rep, s, d], true)
                .reshape([b, h, s, d])
        };
        (expand(k), expand(v))
    } else {
        (k.shallow_clone(), v.shallow_clone())
    };
    let (out, probs) = if ctx.want_attention {
        let mut scores = q.matmul(&k.transpose(-2, -1)) * scale;
        let mask = match &ctx.mask {
            Some(m) => m.shallow_clone(),
            None => Tensor::ones([t, t], (Kind::Bool, q.device()))
                .tril(0)
                .view([1, 1, t, t]),
        };
        scores = scores.masked_fill(&mask.logical_not(), f64::NEG_INFINITY);
        let probs = scores.softmax(-1, Kind::Float);
        // H = -Σ p log p, with 0 log 0 = 0 for masked keys.
        let entropy = (&probs * probs.clamp_min(1e-30).log())
            .sum_dim_intlist(-1, false, Kind::Float)
            .neg();
        let out = probs.to_kind(q.kind()).matmul(&v);
        (out, Some(entropy.mean_dim(1, false, Kind::Float)))
    } else {
        let out = match &ctx.mask {
            None => Tensor::scaled_dot_product_attention::<Tensor>(
                q, &k, &v, None, 0.0, true, scale, false,
            ),
            Some(m) => {
                Tensor::scaled_dot_product_attention(q, &k, &v, Some(m), 0.0, false, scale, false)
            }
        };
        (out, None)
    };
    (out.transpose(1, 2).reshape([b, t, h * d]), probs)
}

/// Splits [B, T, H·D] into [B, H, T, D].
pub fn heads(x: &Tensor, n_heads: i64, head_dim: i64) -> Tensor {
    let (b, t) = (x.size()[0], x.size()[1]);
    x.view([b, t, n_heads, head_dim]).transpose(1, 2)
}

/// GELU variants by their Hugging Face names.
pub fn activation(name: &str, x: &Tensor) -> Result<Tensor> {
    Ok(match name {
        "gelu" => x.gelu("none"),
        "gelu_new" | "gelu_pytorch_tanh" | "gelu_fast" => x.gelu("tanh"),
        "silu" | "swish" => x.silu(),
        "relu" => x.relu(),
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
