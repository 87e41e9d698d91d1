//! The Llama family: Llama 2/3, SmolLM/SmolLM2, Mistral (sliding window) and
//! Qwen2 (q/k/v bias). Config from `config.json` or GGUF metadata; tensor names
//! are the Hugging Face ones (`model.layers.N.self_attn.q_proj.weight`, …), mapped
//! from GGUF's (`blk.N.attn_q.weight`, …) when loading a GGUF file.

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
}

#[derive(Debug, Clone)]
pub enum RopeScaling {
    Linear {
        factor: f64,
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
                    "default" | "" => None,
                    other => {
                        return Err(Error::input(format!(
                            "config.json: rope_scaling type {other} is not supported (linear, llama3 are)"
                        )))
                    }
                }
            }
        };
        let qwen2 = model_type == "qwen2";
        let sliding_window = match model_type {
            "mistral" => int(j, "sliding_window"),
            "qwen2" if j.get("use_sliding_window").and_then(Json::as_bool) == Some(true) => {
                int(j, "sliding_window")
            }
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
        })
    }

    /// From GGUF metadata (`{arch}.embedding_length`, …) for arch `llama` or `qwen2`.
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
        })
    }

    fn inv_freq(&self) -> Vec<f32> {
        let mut inv = Rotary::inv_freq(self.rope_theta, self.head_dim);
        match &self.rope_scaling {
            None => {}
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

/// GGUF tensor name for a Hugging Face Llama tensor name.
pub fn gguf_name(hf: &str) -> Option<String> {
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
    let mapped = match tail {
        "input_layernorm.weight" => "attn_norm.weight",
        "post_attention_layernorm.weight" => "ffn_norm.weight",
        "self_attn.q_proj.weight" => "attn_q.weight",
        "self_attn.k_proj.weight" => "attn_k.weight",
        "self_attn.v_proj.weight" => "attn_v.weight",
        "self_attn.o_proj.weight" => "attn_output.weight",
        "self_attn.q_proj.bias" => "attn_q.bias",
        "self_attn.k_proj.bias" => "attn_k.bias",
        "self_attn.v_proj.bias" => "attn_v.bias",
        "mlp.gate_proj.weight" => "ffn_gate.weight",
        "mlp.up_proj.weight" => "ffn_up.weight",
        "mlp.down_proj.weight" => "ffn_down.weight",
        _ => return None,
    };
    Some(format!("blk.{layer}.{mapped}"))
}

struct Layer {
    input_layernorm: RmsNorm,
    /// q_proj, k_proj and v_proj stacked (one GEMM).
    qkv_proj: Linear,
    o_proj: Linear,
    post_attention_layernorm: RmsNorm,
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
        nn::check_activation(&cfg.hidden_act)?;
        let (d, hd) = (cfg.hidden_size, cfg.head_dim);
        let (nh, nkv) = (cfg.num_attention_heads, cfg.num_key_value_heads);
        if nh == 0 || nkv == 0 || nh % nkv != 0 || hd % 2 != 0 {
            return Err(Error::input(format!(
                "inconsistent attention config: {nh} heads, {nkv} key/value heads, head_dim {hd}"
            )));
        }
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
        let mut layers = Vec::new();
        for i in 0..cfg.num_hidden_layers {
            let p = format!("model.layers.{i}");
            layers.push(Layer {
                input_layernorm: RmsNorm::load(
                    w,
                    &format!("{p}.input_layernorm.weight"),
                    d,
                    cfg.rms_norm_eps,
                )?,
                qkv_proj: Linear::fuse(vec![
                    qk(&format!("{p}.self_attn.q_proj"), nh, cfg.attention_bias)?,
                    qk(&format!("{p}.self_attn.k_proj"), nkv, cfg.attention_bias)?,
                    Linear::load(
                        w,
                        &format!("{p}.self_attn.v_proj"),
                        d,
                        nkv * hd,
                        cfg.attention_bias,
                    )?,
                ])?,
                o_proj: Linear::load(w, &format!("{p}.self_attn.o_proj"), nh * hd, d, false)?,
                post_attention_layernorm: RmsNorm::load(
                    w,
                    &format!("{p}.post_attention_layernorm.weight"),
                    d,
                    cfg.rms_norm_eps,
                )?,
                gate_up_proj: Linear::fuse(vec![
                    Linear::load(
                        w,
                        &format!("{p}.mlp.gate_proj"),
                        d,
                        cfg.intermediate_size,
                        cfg.mlp_bias,
                    )?,
                    Linear::load(
                        w,
                        &format!("{p}.mlp.up_proj"),
                        d,
                        cfg.intermediate_size,
                        cfg.mlp_bias,
                    )?,
                ])?,
                down_proj: Linear::load(
                    w,
                    &format!("{p}.mlp.down_proj"),
                    cfg.intermediate_size,
                    d,
                    cfg.mlp_bias,
                )?,
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
        Ok(Llama {
            norm: RmsNorm::load(w, "model.norm.weight", d, cfg.rms_norm_eps)?,
            rotary: Rotary::new(inv_freq),
            cfg,
            embed_tokens,
            layers,
            lm_head,
        })
    }

    pub fn from_hf(j: &Json, cfg_path: &Path, w: &Weights) -> Result<Box<dyn Architecture>> {
        let cfg = Config::from_hf(j).map_err(|e| super::in_file_once(e, cfg_path))?;
        Ok(Box::new(Llama::load(w, cfg)?))
    }

    pub fn from_gguf(w: &Weights) -> Result<Box<dyn Architecture>> {
        let g = w.gguf()?;
        let cfg = Config::from_gguf(
            g,
            super::gguf_vocab(g)?,
            !g.tensors.contains_key("output.weight"),
        )?;
        Ok(Box::new(Llama::load(w, cfg)?))
    }
}

impl Architecture for Llama {
    fn shape(&self) -> Shape {
        Shape {
            name: "llama",
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

    fn parameters(&self) -> Vec<(Option<usize>, Tensor)> {
        let mut v = nn::outer_params(&[&self.embed_tokens], self.norm.params(), &self.lm_head);
        for (i, l) in self.layers.iter().enumerate() {
            let ps = [
                l.input_layernorm.params(),
                l.qkv_proj.params(),
                l.o_proj.params(),
                l.post_attention_layernorm.params(),
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
            let h = l.input_layernorm.forward(&x)?;
            let qkv = l
                .qkv_proj
                .forward(&h, ctx)?
                .f_split_with_sizes([nh * hd, nkv * hd, nkv * hd], -1)?;
            let q = self
                .rotary
                .apply(&nn::heads(&qkv[0], nh, hd)?, &cos, &sin)?;
            let k = self
                .rotary
                .apply(&nn::heads(&qkv[1], nkv, hd)?, &cos, &sin)?;
            let v = nn::heads(&qkv[2], nkv, hd)?;
            let (a, p) = nn::attention(&q, &k, &v, ctx, scale, slot)?;
            attns.extend(p);
            x = x.f_add(&l.o_proj.forward(&a, ctx)?)?;
            let h = l.post_attention_layernorm.forward(&x)?;
            let gate_up = l.gate_up_proj.forward(&h, ctx)?.f_chunk(2, -1)?;
            let gate = nn::activation(&cfg.hidden_act, &gate_up[0])?;
            x = x.f_add(&l.down_proj.forward(&gate.f_mul(&gate_up[1])?, ctx)?)?;
        }
        let x = self.norm.forward(&x)?;
        Ok((x, attns))
    }
}
