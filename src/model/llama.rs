//! The Llama family: Llama 2/3, SmolLM/SmolLM2, Mistral (sliding window), Qwen2
//! (q/k/v bias), Qwen3 (per-head q/k norms), OLMo 2 (norms after attention and MLP,
//! q/k norms over all heads) and Phi-3 (fused qkv and gate/up projections, LongRoPE).
//! They share one decoder block; a `Variant` says which parts it has. Config from
//! `config.json` or GGUF metadata; tensor names are the Hugging Face ones
//! (`model.layers.N.self_attn.q_proj.weight`, …), mapped from GGUF's
//! (`blk.N.attn_q.weight`, …) when loading a GGUF file.

use serde_json::Value as Json;
use tch::{Device, Kind, Tensor};

use std::path::Path;

use super::gguf::Gguf;
use super::nn::{self, Context, Linear, RmsNorm, Rotary};
use super::weights::Weights;
use super::{Architecture, Shape};
use crate::error::{Error, Result};

#[derive(Debug, Clone)]
pub struct Config {
    pub vocab_size: i64,
    pub hidden_size: i64,
    pub intermediate_size: i64,
    pub num_hidden_layers: i64,
    pub num_attention_heads: i64,
    pub num_key_value_heads: i64,
    pub head_dim: i64,
    pub rms_norm_eps: f64,
    pub rope_theta: f64,
    pub rope_scaling: Option<RopeScaling>,
    pub max_position_embeddings: i64,
    pub tie_word_embeddings: bool,
    pub attention_bias: bool,
    pub mlp_bias: bool,
    pub sliding_window: Option<i64>,
    pub hidden_act: String,
    /// Channels of each head that rotate (Phi-3's `partial_rotary_factor`).
    pub partial_rotary_factor: f64,
    pub variant: Variant,
}

/// What a family's decoder block adds to Llama's.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Variant {
    Llama,
    /// RMSNorm of each query and key head before the rotation.
    Qwen3,
    /// No pre-norms: RMSNorm of the attention and MLP outputs before each residual add,
    /// and RMSNorm of all query (key) heads together before the rotation.
    Olmo2,
    /// q, k, v in one `qkv_proj`, gate and up in one `gate_up_proj`.
    Phi3,
}

#[derive(Debug, Clone)]
pub enum RopeScaling {
    Linear {
        factor: f64,
    },
    /// Phi-3's LongRoPE: per-frequency divisors, the long ones past the pretraining
    /// context, and cos/sin scaled by the attention factor.
    LongRope {
        short_factor: Vec<f64>,
        long_factor: Vec<f64>,
        original_max_position_embeddings: i64,
        attention_factor: f64,
    },
    Llama3 {
        factor: f64,
        low_freq_factor: f64,
        high_freq_factor: f64,
        original_max_position_embeddings: f64,
    },
}

fn int(j: &Json, key: &str) -> Option<i64> {
    j.get(key).and_then(Json::as_i64)
}

fn need(j: &Json, key: &str) -> Result<i64> {
    super::positive(key, int(j, key))
}

/// Phi-3's `longrope` scaling: the factor lists (one per rotated frequency) and the
/// attention factor, √(1 + ln s / ln L₀) with s = max_position_embeddings / L₀ unless
/// the config gives it (as transformers computes it).
fn long_rope(j: &Json, rs: &Json) -> Result<RopeScaling> {
    let list = |k: &str| -> Result<Vec<f64>> {
        rs.get(k)
            .and_then(Json::as_array)
            .and_then(|a| a.iter().map(Json::as_f64).collect::<Option<Vec<_>>>())
            .ok_or_else(|| {
                Error::input(format!(
                    "config.json: rope_scaling longrope needs a list of numbers {k}"
                ))
            })
    };
    let (short_factor, long_factor) = (list("short_factor")?, list("long_factor")?);
    let max = int(j, "max_position_embeddings").unwrap_or(2048);
    let (original, factor) = match int(j, "original_max_position_embeddings") {
        Some(o) if o > 0 => (o, max as f64 / o as f64),
        _ => (max, rs.get("factor").and_then(Json::as_f64).unwrap_or(1.0)),
    };
    let attention_factor = match rs.get("attention_factor").and_then(Json::as_f64) {
        Some(a) => a,
        None if factor <= 1.0 => 1.0,
        None => (1.0 + factor.ln() / (original as f64).ln()).sqrt(),
    };
    Ok(RopeScaling::LongRope {
        short_factor,
        long_factor,
        original_max_position_embeddings: original,
        attention_factor,
    })
}

impl Config {
    pub fn from_hf(j: &Json) -> Result<Self> {
        let model_type = j
            .get("model_type")
            .and_then(Json::as_str)
            .unwrap_or("llama");
        let hidden_size = need(j, "hidden_size")?;
        let heads = need(j, "num_attention_heads")?;
        let rope_scaling = match j.get("rope_scaling").filter(|v| !v.is_null()) {
            None => None,
            Some(rs) => {
                let ty = rs
                    .get("rope_type")
                    .or_else(|| rs.get("type"))
                    .and_then(Json::as_str)
                    .unwrap_or("");
                let f = |k: &str, d: f64| rs.get(k).and_then(Json::as_f64).unwrap_or(d);
                match ty {
                    "linear" => Some(RopeScaling::Linear { factor: f("factor", 1.0) }),
                    "llama3" => Some(RopeScaling::Llama3 {
                        factor: f("factor", 8.0),
                        low_freq_factor: f("low_freq_factor", 1.0),
                        high_freq_factor: f("high_freq_factor", 4.0),
                        original_max_position_embeddings: f("original_max_position_embeddings", 8192.0),
                    }),
                    "longrope" | "su" => Some(long_rope(j, rs)?),
                    "default" | "" => None,
                    other => {
                        return Err(Error::input(format!(
                            "config.json: rope_scaling type {other} is not supported (linear, llama3, longrope are)"
                        )))
                    }
                }
            }
        };
        let qwen2 = model_type == "qwen2";
        let variant = match model_type {
            "qwen3" => Variant::Qwen3,
            "olmo2" => Variant::Olmo2,
            "phi3" => Variant::Phi3,
            _ => Variant::Llama,
        };
        let sliding = j.get("use_sliding_window").and_then(Json::as_bool) == Some(true);
        if model_type == "qwen3" && sliding {
            // Qwen3 windows only the layers past max_window_layers; not built here
            return Err(Error::input(
                "config.json: use_sliding_window = true is not supported for qwen3",
            ));
        }
        let sliding_window = match model_type {
            "mistral" | "phi3" => int(j, "sliding_window"),
            "qwen2" if sliding => int(j, "sliding_window"),
            _ => None,
        };
        Ok(Config {
            vocab_size: need(j, "vocab_size")?,
            hidden_size,
            intermediate_size: need(j, "intermediate_size")?,
            num_hidden_layers: need(j, "num_hidden_layers")?,
            num_attention_heads: heads,
            num_key_value_heads: int(j, "num_key_value_heads").unwrap_or(heads),
            head_dim: int(j, "head_dim").unwrap_or(hidden_size / heads.max(1)),
            rms_norm_eps: j.get("rms_norm_eps").and_then(Json::as_f64).unwrap_or(1e-6),
            rope_theta: j
                .get("rope_theta")
                .and_then(Json::as_f64)
                .unwrap_or(10000.0),
            rope_scaling,
            max_position_embeddings: int(j, "max_position_embeddings").unwrap_or(2048),
            tie_word_embeddings: j
                .get("tie_word_embeddings")
                .and_then(Json::as_bool)
                .unwrap_or(false),
            attention_bias: qwen2
                || j.get("attention_bias")
                    .and_then(Json::as_bool)
                    .unwrap_or(false),
            mlp_bias: j.get("mlp_bias").and_then(Json::as_bool).unwrap_or(false),
            sliding_window,
            hidden_act: j
                .get("hidden_act")
                .and_then(Json::as_str)
                .unwrap_or("silu")
                .to_string(),
            partial_rotary_factor: j
                .get("partial_rotary_factor")
                .and_then(Json::as_f64)
                .unwrap_or(1.0),
            variant,
        })
    }

    /// From GGUF metadata (`{arch}.embedding_length`, …) for arch `llama`, `qwen2`,
    /// `qwen3` or `olmo2`.
    pub fn from_gguf(g: &Gguf, vocab_size: i64, tied: bool) -> Result<Self> {
        let arch = g.architecture()?.to_string();
        let k = |s: &str| format!("{arch}.{s}");
        let hidden_size = g.u64(&k("embedding_length"))? as i64;
        let heads = g.u64(&k("attention.head_count"))? as i64;
        let kv = g
            .get(&k("attention.head_count_kv"))
            .and_then(|v| v.as_u64())
            .map(|v| v as i64)
            .unwrap_or(heads);
        let head_dim = g
            .get(&k("attention.key_length"))
            .and_then(|v| v.as_u64())
            .map(|v| v as i64);
        Ok(Config {
            vocab_size,
            hidden_size,
            intermediate_size: g.u64(&k("feed_forward_length"))? as i64,
            num_hidden_layers: g.u64(&k("block_count"))? as i64,
            num_attention_heads: heads,
            num_key_value_heads: kv,
            head_dim: head_dim.unwrap_or(hidden_size / heads.max(1)),
            rms_norm_eps: g
                .f64(&k("attention.layer_norm_rms_epsilon"))
                .unwrap_or(1e-5),
            rope_theta: g.f64(&k("rope.freq_base")).unwrap_or(10000.0),
            rope_scaling: None,
            max_position_embeddings: g
                .u64(&k("context_length"))
                .map(|v| v as i64)
                .unwrap_or(2048),
            tie_word_embeddings: tied,
            attention_bias: arch == "qwen2",
            mlp_bias: false,
            sliding_window: None,
            hidden_act: "silu".into(),
            partial_rotary_factor: 1.0,
            variant: match arch.as_str() {
                "qwen3" => Variant::Qwen3,
                "olmo2" => Variant::Olmo2,
                _ => Variant::Llama,
            },
        })
    }

    /// Settings that cannot work together, as input errors (the caller names the file).
    pub fn check(&self) -> Result<()> {
        nn::check_activation(&self.hidden_act)?;
        super::check_heads(
            self.num_attention_heads,
            self.num_key_value_heads,
            self.head_dim,
        )?;
        if !(self.partial_rotary_factor > 0.0 && self.partial_rotary_factor <= 1.0) {
            return Err(Error::input(format!(
                "partial_rotary_factor {} must lie in (0, 1]",
                self.partial_rotary_factor
            )));
        }
        if let Some(RopeScaling::LongRope {
            short_factor,
            long_factor,
            ..
        }) = &self.rope_scaling
        {
            let half = (self.rotary_dim() / 2) as usize;
            if short_factor.len() != half || long_factor.len() != half {
                return Err(Error::input(format!(
                    "rope_scaling longrope: short_factor and long_factor need {half} entries \
                     (half the rotated head channels), not {} and {}",
                    short_factor.len(),
                    long_factor.len()
                )));
            }
        }
        Ok(())
    }

    /// Channels of each head that rotate.
    fn rotary_dim(&self) -> i64 {
        let d = (self.head_dim as f64 * self.partial_rotary_factor) as i64;
        d - d % 2
    }

    fn inv_freq(&self) -> Vec<f32> {
        let mut inv = Rotary::inv_freq(self.rope_theta, self.rotary_dim());
        match &self.rope_scaling {
            None => {}
            Some(RopeScaling::LongRope { short_factor, .. }) => {
                inv.iter_mut()
                    .zip(short_factor)
                    .for_each(|(f, s)| *f = (*f as f64 / s) as f32);
            }
            Some(RopeScaling::Linear { factor }) => {
                inv.iter_mut().for_each(|f| *f /= *factor as f32)
            }
            Some(RopeScaling::Llama3 {
                factor,
                low_freq_factor,
                high_freq_factor,
                original_max_position_embeddings,
            }) => {
                let low_wavelen = original_max_position_embeddings / low_freq_factor;
                let high_wavelen = original_max_position_embeddings / high_freq_factor;
                for f in inv.iter_mut() {
                    let freq = *f as f64;
                    let wavelen = 2.0 * std::f64::consts::PI / freq;
                    let scaled = if wavelen > low_wavelen {
                        freq / factor
                    } else {
                        freq
                    };
                    let new = if wavelen < high_wavelen || wavelen > low_wavelen {
                        scaled
                    } else {
                        let smooth = (original_max_position_embeddings / wavelen - low_freq_factor)
                            / (high_freq_factor - low_freq_factor);
                        (1.0 - smooth) * scaled / factor + smooth * scaled
                    };
                    *f = new as f32;
                }
            }
        }
        inv
    }
}

/// GGUF tensor name for a Hugging Face Llama-family tensor name (Llama, Qwen2, Qwen3).
pub fn gguf_name(hf: &str) -> Option<String> {
    gguf_name_with(hf, |tail| match tail {
        "input_layernorm.weight" => Some("attn_norm.weight"),
        "post_attention_layernorm.weight" => Some("ffn_norm.weight"),
        _ => None,
    })
}

/// GGUF tensor name for an OLMo 2 tensor: its norms follow attention and MLP.
pub fn gguf_name_olmo2(hf: &str) -> Option<String> {
    gguf_name_with(hf, |tail| match tail {
        "post_attention_layernorm.weight" => Some("post_attention_norm.weight"),
        "post_feedforward_layernorm.weight" => Some("post_ffw_norm.weight"),
        _ => None,
    })
}

/// GGUF tensor name for a Phi-3 tensor (fused qkv; gate and up fused as `ffn_up`).
pub fn gguf_name_phi3(hf: &str) -> Option<String> {
    gguf_name_with(hf, |tail| match tail {
        "input_layernorm.weight" => Some("attn_norm.weight"),
        "post_attention_layernorm.weight" => Some("ffn_norm.weight"),
        "self_attn.qkv_proj.weight" => Some("attn_qkv.weight"),
        "mlp.gate_up_proj.weight" => Some("ffn_up.weight"),
        _ => None,
    })
}

/// GGUF tensor name of a Llama-style checkpoint tensor; `norms` maps the block tensors
/// whose GGUF names differ between families (the norms, fused projections).
pub(crate) fn gguf_name_with(hf: &str, norms: fn(&str) -> Option<&'static str>) -> Option<String> {
    let fixed = match hf {
        "model.embed_tokens.weight" => Some("token_embd.weight"),
        "model.norm.weight" => Some("output_norm.weight"),
        "lm_head.weight" => Some("output.weight"),
        _ => None,
    };
    if let Some(f) = fixed {
        return Some(f.to_string());
    }
    let rest = hf.strip_prefix("model.layers.")?;
    let (layer, tail) = rest.split_once('.')?;
    let mapped = match norms(tail) {
        Some(m) => m,
        None => match tail {
            "self_attn.q_proj.weight" => "attn_q.weight",
            "self_attn.k_proj.weight" => "attn_k.weight",
            "self_attn.v_proj.weight" => "attn_v.weight",
            "self_attn.o_proj.weight" => "attn_output.weight",
            "self_attn.q_proj.bias" => "attn_q.bias",
            "self_attn.k_proj.bias" => "attn_k.bias",
            "self_attn.v_proj.bias" => "attn_v.bias",
            "self_attn.q_norm.weight" => "attn_q_norm.weight",
            "self_attn.k_norm.weight" => "attn_k_norm.weight",
            "mlp.gate_proj.weight" => "ffn_gate.weight",
            "mlp.up_proj.weight" => "ffn_up.weight",
            "mlp.down_proj.weight" => "ffn_down.weight",
            _ => return None,
        },
    };
    Some(format!("blk.{layer}.{mapped}"))
}

struct Layer {
    /// Llama's pre-attention norm; OLMo 2 has none.
    input_layernorm: Option<RmsNorm>,
    /// q_proj, k_proj and v_proj stacked (one GEMM).
    qkv_proj: Linear,
    /// Qwen3 (per head) and OLMo 2 (all heads together) query and key norms.
    q_norm: Option<RmsNorm>,
    k_norm: Option<RmsNorm>,
    o_proj: Linear,
    /// The pre-MLP norm; in OLMo 2 the norm of the attention output.
    post_attention_layernorm: RmsNorm,
    /// OLMo 2's norm of the MLP output.
    post_feedforward_layernorm: Option<RmsNorm>,
    /// gate_proj and up_proj stacked (one GEMM).
    gate_up_proj: Linear,
    down_proj: Linear,
}

pub struct Llama {
    pub cfg: Config,
    embed_tokens: Tensor,
    layers: Vec<Layer>,
    norm: RmsNorm,
    pub lm_head: Tensor,
    rotary: Rotary,
}

/// llama.cpp stores q/k rows interleaved per head for its rotary kernel; this undoes
/// that permutation so the Hugging Face (half-split) rotary applies.
fn unpermute(w: &Tensor, n_heads: i64) -> Tensor {
    let (rows, cols) = (w.size()[0], w.size()[1]);
    w.reshape([n_heads, rows / n_heads / 2, 2, cols])
        .transpose(1, 2)
        .reshape([rows, cols])
}

impl Llama {
    pub fn load(w: &Weights, cfg: Config) -> Result<Self> {
        cfg.check()?;
        let (d, hd) = (cfg.hidden_size, cfg.head_dim);
        let (nh, nkv) = (cfg.num_attention_heads, cfg.num_key_value_heads);
        // GGUF files of arch "llama" (Llama, Mistral, SmolLM) carry permuted q/k rows.
        let permuted = match &w.backend {
            super::weights::Backend::Gguf { file, .. } => file.architecture()? == "llama",
            _ => false,
        };
        let qk = |name: &str, heads: i64, bias: bool| -> Result<Linear> {
            let rows = heads * hd;
            let mut weight = w.get_cpu(&format!("{name}.weight"), &[rows, d])?;
            let mut b = if bias {
                Some(w.get_cpu(&format!("{name}.bias"), &[rows])?)
            } else {
                None
            };
            let mut quant = w.get_quant(&format!("{name}.weight"), rows, d);
            if permuted {
                weight = unpermute(&weight, heads);
                b = b.map(|b| unpermute(&b.view([rows, 1]), heads).view([rows]));
                // the same permutation of whole rows, read off an index column
                let order = unpermute(
                    &Tensor::arange(rows, (Kind::Float, Device::Cpu)).view([rows, 1]),
                    heads,
                );
                let order: Vec<usize> = Vec::<f32>::try_from(order.view([rows]))?
                    .into_iter()
                    .map(|i| i as usize)
                    .collect();
                quant = quant.and_then(|q| q.permute_rows(&order));
            }
            w.linear(name, weight, b, quant)
        };
        let eps = cfg.rms_norm_eps;
        let norm = |name: &str, dim: i64| RmsNorm::load(w, name, dim, eps);
        let v = cfg.variant;
        let i_size = cfg.intermediate_size;
        let mut layers = Vec::new();
        for i in 0..cfg.num_hidden_layers {
            let p = format!("model.layers.{i}");
            let (qkv_proj, gate_up_proj) = if v == Variant::Phi3 {
                (
                    Linear::load(
                        w,
                        &format!("{p}.self_attn.qkv_proj"),
                        d,
                        (nh + 2 * nkv) * hd,
                        false,
                    )?,
                    Linear::load(w, &format!("{p}.mlp.gate_up_proj"), d, 2 * i_size, false)?,
                )
            } else {
                let bias = cfg.attention_bias;
                let mlp =
                    |n: &str| Linear::load(w, &format!("{p}.mlp.{n}"), d, i_size, cfg.mlp_bias);
                let [q, k, v] =
                    ["q_proj", "k_proj", "v_proj"].map(|n| format!("{p}.self_attn.{n}"));
                let [gate, up] = ["gate_proj", "up_proj"].map(|n| format!("{p}.mlp.{n}"));
                (
                    w.layer(&format!("{p}.self_attn.qkv"), &[&q, &k, &v], || {
                        Linear::fuse(vec![
                            qk(&q, nh, bias)?,
                            qk(&k, nkv, bias)?,
                            Linear::load(w, &v, d, nkv * hd, bias)?,
                        ])
                    })?,
                    w.layer(&format!("{p}.mlp.gate_up"), &[&gate, &up], || {
                        Linear::fuse(vec![mlp("gate_proj")?, mlp("up_proj")?])
                    })?,
                )
            };
            let (q_norm, k_norm) = match v {
                Variant::Qwen3 => (
                    Some(norm(&format!("{p}.self_attn.q_norm.weight"), hd)?),
                    Some(norm(&format!("{p}.self_attn.k_norm.weight"), hd)?),
                ),
                Variant::Olmo2 => (
                    Some(norm(&format!("{p}.self_attn.q_norm.weight"), nh * hd)?),
                    Some(norm(&format!("{p}.self_attn.k_norm.weight"), nkv * hd)?),
                ),
                _ => (None, None),
            };
            layers.push(Layer {
                input_layernorm: match v {
                    Variant::Olmo2 => None,
                    _ => Some(norm(&format!("{p}.input_layernorm.weight"), d)?),
                },
                qkv_proj,
                q_norm,
                k_norm,
                o_proj: Linear::load(w, &format!("{p}.self_attn.o_proj"), nh * hd, d, false)?,
                post_attention_layernorm: norm(&format!("{p}.post_attention_layernorm.weight"), d)?,
                post_feedforward_layernorm: match v {
                    Variant::Olmo2 => {
                        Some(norm(&format!("{p}.post_feedforward_layernorm.weight"), d)?)
                    }
                    _ => None,
                },
                gate_up_proj,
                down_proj: Linear::load(w, &format!("{p}.mlp.down_proj"), i_size, d, cfg.mlp_bias)?,
            });
        }
        let embed_tokens = w.get("model.embed_tokens.weight", &[cfg.vocab_size, d])?;
        let lm_head = match w.get_opt("lm_head.weight", &[cfg.vocab_size, d])? {
            Some(t) if !cfg.tie_word_embeddings || !w.is_gguf() => t,
            _ => embed_tokens.shallow_clone(),
        };
        let mut inv_freq = cfg.inv_freq();
        // Llama 3.1 GGUF files carry the rope scaling as per-frequency divisors.
        if let super::weights::Backend::Gguf { file, .. } = &w.backend {
            if file.tensors.contains_key("rope_freqs.weight") {
                let (f, _) = file.dequantize("rope_freqs.weight")?;
                if f.len() == inv_freq.len() {
                    inv_freq.iter_mut().zip(f).for_each(|(i, f)| *i /= f);
                }
            }
        }
        let rotary = match &cfg.rope_scaling {
            Some(RopeScaling::LongRope {
                long_factor,
                original_max_position_embeddings,
                attention_factor,
                ..
            }) => {
                let long: Vec<f32> = Rotary::inv_freq(cfg.rope_theta, cfg.rotary_dim())
                    .into_iter()
                    .zip(long_factor)
                    .map(|(f, l)| (f as f64 / l) as f32)
                    .collect();
                Rotary::new(inv_freq)
                    .with_long(long, *original_max_position_embeddings)
                    .with_attention_factor(*attention_factor)
            }
            _ => Rotary::new(inv_freq),
        };
        Ok(Llama {
            norm: RmsNorm::load(w, "model.norm.weight", d, cfg.rms_norm_eps)?,
            rotary,
            cfg,
            embed_tokens,
            layers,
            lm_head,
        })
    }

    pub fn from_hf(j: &Json, cfg_path: &Path, w: &Weights) -> Result<Box<dyn Architecture>> {
        let cfg = Config::from_hf(j)
            .and_then(|c| c.check().map(|_| c))
            .map_err(|e| super::in_file_once(e, cfg_path))?;
        Ok(Box::new(Llama::load(w, cfg)?))
    }

    pub fn from_gguf(w: &Weights) -> Result<Box<dyn Architecture>> {
        let g = w.gguf()?;
        let mut cfg = Config::from_gguf(
            g,
            super::gguf_vocab(g)?,
            !g.tensors.contains_key("output.weight"),
        )?;
        if g.architecture()? == "phi3" {
            cfg.variant = Variant::Phi3;
            let k = |s: &str| format!("phi3.{s}");
            // llama.cpp's converter writes 0 for "no window"
            cfg.sliding_window = g
                .get(&k("attention.sliding_window"))
                .and_then(|v| v.as_u64())
                .filter(|&v| v > 0)
                .map(|v| v as i64);
            if let Some(rot) = g.get(&k("rope.dimension_count")).and_then(|v| v.as_u64()) {
                cfg.partial_rotary_factor = rot as f64 / cfg.head_dim as f64;
            }
            // LongRoPE: the factors as tensors, the pretraining context in the metadata
            if g.tensors.contains_key("rope_factors_long.weight") {
                let factors = |n: &str| -> Result<Vec<f64>> {
                    Ok(g.dequantize(n)?.0.into_iter().map(f64::from).collect())
                };
                let original = g
                    .get(&k("rope.scaling.original_context_length"))
                    .and_then(|v| v.as_u64())
                    .map_or(cfg.max_position_embeddings, |v| v as i64);
                let factor = cfg.max_position_embeddings as f64 / original as f64;
                let attention_factor = match g.f64(&k("rope.scaling.attn_factor")) {
                    Ok(a) => a,
                    Err(_) if factor <= 1.0 => 1.0,
                    Err(_) => (1.0 + factor.ln() / (original as f64).ln()).sqrt(),
                };
                cfg.rope_scaling = Some(RopeScaling::LongRope {
                    short_factor: factors("rope_factors_short.weight")?,
                    long_factor: factors("rope_factors_long.weight")?,
                    original_max_position_embeddings: original,
                    attention_factor,
                });
            }
        }
        Ok(Box::new(Llama::load(w, cfg)?))
    }
}

impl Architecture for Llama {
    fn shape(&self) -> Shape {
        Shape {
            name: match self.cfg.variant {
                Variant::Llama => "llama",
                Variant::Qwen3 => "qwen3",
                Variant::Olmo2 => "olmo2",
                Variant::Phi3 => "phi3",
            },
            n_layers: self.cfg.num_hidden_layers,
            n_heads: self.cfg.num_attention_heads,
            vocab_size: self.cfg.vocab_size,
            max_positions: self.cfg.max_position_embeddings,
            sliding_window: self.cfg.sliding_window,
        }
    }

    fn lm_head(&self) -> &Tensor {
        &self.lm_head
    }

    fn rope_switch(&self) -> Option<i64> {
        match &self.cfg.rope_scaling {
            Some(RopeScaling::LongRope {
                original_max_position_embeddings,
                ..
            }) => Some(*original_max_position_embeddings),
            _ => None,
        }
    }

    fn parameters(&self) -> Vec<(Option<usize>, Tensor)> {
        let mut v = nn::outer_params(&[&self.embed_tokens], self.norm.params(), &self.lm_head);
        for (i, l) in self.layers.iter().enumerate() {
            let opt = |n: &Option<RmsNorm>| n.as_ref().map(RmsNorm::params).unwrap_or_default();
            let ps = [
                opt(&l.input_layernorm),
                l.qkv_proj.params(),
                opt(&l.q_norm),
                opt(&l.k_norm),
                l.o_proj.params(),
                l.post_attention_layernorm.params(),
                opt(&l.post_feedforward_layernorm),
                l.gate_up_proj.params(),
                l.down_proj.params(),
            ];
            v.extend(ps.into_iter().flatten().map(|t| (Some(i), t)));
        }
        v
    }

    fn forward(
        &self,
        ids: &Tensor,
        ctx: &Context,
        mut cache: Option<&mut nn::KvCache>,
    ) -> Result<(Tensor, Vec<Tensor>)> {
        let cfg = &self.cfg;
        let (nh, nkv, hd) = (
            cfg.num_attention_heads,
            cfg.num_key_value_heads,
            cfg.head_dim,
        );
        let scale = 1.0 / (hd as f64).sqrt();
        let (cos, sin) = self.rotary.cos_sin(&ctx.positions)?;
        let mut x = Tensor::f_embedding(&self.embed_tokens, ids, -1, false, false)?;
        let mut attns = Vec::new();
        for (i, l) in self.layers.iter().enumerate() {
            let slot = cache.as_deref_mut().map(|c| &mut c.layers[i]);
            let h = match &l.input_layernorm {
                Some(n) => n.forward(&x)?,
                None => x.shallow_clone(),
            };
            let qkv = l
                .qkv_proj
                .forward(&h, ctx)?
                .f_split_with_sizes([nh * hd, nkv * hd, nkv * hd], -1)?;
            let norm_heads = |t: &Tensor, n: &Option<RmsNorm>, heads: i64| -> Result<Tensor> {
                match (cfg.variant, n) {
                    // OLMo 2: one norm over all heads, then split
                    (Variant::Olmo2, Some(n)) => nn::heads(&n.forward(t)?, heads, hd),
                    // Qwen3: a norm per head
                    (_, Some(n)) => n.forward(&nn::heads(t, heads, hd)?),
                    (_, None) => nn::heads(t, heads, hd),
                }
            };
            let q = self
                .rotary
                .apply(&norm_heads(&qkv[0], &l.q_norm, nh)?, &cos, &sin)?;
            let k = self
                .rotary
                .apply(&norm_heads(&qkv[1], &l.k_norm, nkv)?, &cos, &sin)?;
            let v = nn::heads(&qkv[2], nkv, hd)?;
            let (a, p) = nn::attention(&q, &k, &v, ctx, &nn::AttnOpts::scaled(scale), slot)?;
            attns.extend(p);
            let a = l.o_proj.forward(&a, ctx)?;
            let mlp = |h: &Tensor| -> Result<Tensor> {
                let gate_up = l.gate_up_proj.forward(h, ctx)?.f_chunk(2, -1)?;
                let gate = nn::activation(&cfg.hidden_act, &gate_up[0])?;
                l.down_proj.forward(&gate.f_mul(&gate_up[1])?, ctx)
            };
            match &l.post_feedforward_layernorm {
                Some(post_ff) => {
                    x = x.f_add(&l.post_attention_layernorm.forward(&a)?)?;
                    x = x.f_add(&post_ff.forward(&mlp(&x)?)?)?;
                }
                None => {
                    x = x.f_add(&a)?;
                    let h = l.post_attention_layernorm.forward(&x)?;
                    x = x.f_add(&mlp(&h)?)?;
                }
            }
        }
        let x = self.norm.forward(&x)?;
        Ok((x, attns))
    }
}
