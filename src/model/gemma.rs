//! Gemma 2 and Gemma 3 (text): four RMSNorms per block scaling by (1 + w), GELU-tanh
//! gating, embeddings scaled by √d, scores scaled by `query_pre_attn_scalar`^-½,
//! local (sliding-window) layers interleaved with global ones, each kind with its own
//! RoPE base (Gemma 3), query/key norms (Gemma 3), and soft-capped attention scores
//! and logits (Gemma 2). Config from `config.json` or GGUF metadata; tensor names are
//! the Hugging Face ones, mapped from GGUF's when loading a GGUF file.

use serde_json::Value as Json;
use tch::Tensor;

use std::path::Path;

use super::gguf::Gguf;
use super::nn::{self, Context, Linear, RmsNorm, Rotary};
use super::weights::Weights;
use super::{Architecture, Shape};
use crate::error::{Error, Result};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Generation {
    Gemma2,
    Gemma3,
}

#[derive(Debug, Clone)]
pub struct Config {
    pub generation: Generation,
    pub vocab_size: i64,
    pub hidden_size: i64,
    pub intermediate_size: i64,
    pub num_hidden_layers: i64,
    pub num_attention_heads: i64,
    pub num_key_value_heads: i64,
    pub head_dim: i64,
    pub rms_norm_eps: f64,
    /// RoPE base of the global layers.
    pub rope_theta: f64,
    /// RoPE base of the local layers (Gemma 3; Gemma 2 uses `rope_theta` for both).
    pub rope_local_base_freq: f64,
    /// Linear RoPE scaling of the global layers (Gemma 3 from 4B up).
    pub rope_linear_factor: Option<f64>,
    pub max_position_embeddings: i64,
    pub query_pre_attn_scalar: f64,
    pub sliding_window: i64,
    /// Per layer: whether it is a local (sliding-window) layer.
    pub local_layers: Vec<bool>,
    pub attn_logit_softcapping: Option<f64>,
    pub final_logit_softcapping: Option<f64>,
    pub hidden_activation: String,
    pub attention_bias: bool,
    pub tie_word_embeddings: bool,
}

fn int(j: &Json, key: &str) -> Option<i64> {
    j.get(key).and_then(Json::as_i64)
}

fn float(j: &Json, key: &str) -> Option<f64> {
    j.get(key).and_then(Json::as_f64)
}

/// The default layer pattern: every `period`-th layer global, the others local.
fn pattern(n_layers: i64, period: i64) -> Vec<bool> {
    (0..n_layers)
        .map(|i| (i + 1) % period.max(1) != 0)
        .collect()
}

impl Config {
    pub fn from_hf(j: &Json) -> Result<Self> {
        let model_type = j.get("model_type").and_then(Json::as_str).unwrap_or("");
        let generation = match model_type {
            "gemma2" => Generation::Gemma2,
            "gemma3_text" => Generation::Gemma3,
            other => {
                return Err(Error::input(format!(
                    "config.json: model_type {other} is not a Gemma text model memscan reads \
                     (gemma2, gemma3_text are; a multimodal gemma3 checkpoint's text part is not)"
                )))
            }
        };
        let need = |k: &str| super::positive(k, int(j, k));
        let hidden_size = need("hidden_size")?;
        let heads = need("num_attention_heads")?;
        let n_layers = need("num_hidden_layers")?;
        let head_dim = int(j, "head_dim").unwrap_or(256);
        let g3 = generation == Generation::Gemma3;
        let local_layers = match j.get("layer_types").and_then(Json::as_array) {
            Some(types) => {
                let v = types
                    .iter()
                    .map(|t| match t.as_str() {
                        Some("sliding_attention") => Ok(true),
                        Some("full_attention") => Ok(false),
                        _ => Err(Error::input(format!(
                            "config.json: layer_types entry {t} is not sliding_attention or full_attention"
                        ))),
                    })
                    .collect::<Result<Vec<_>>>()?;
                if v.len() as i64 != n_layers {
                    return Err(Error::input(format!(
                        "config.json: layer_types has {} entries for {n_layers} layers",
                        v.len()
                    )));
                }
                v
            }
            None if g3 => pattern(n_layers, int(j, "sliding_window_pattern").unwrap_or(6)),
            None => pattern(n_layers, 2),
        };
        let rope_linear_factor = match j.get("rope_scaling").filter(|v| !v.is_null()) {
            None => None,
            Some(rs) => {
                let ty = rs
                    .get("rope_type")
                    .or_else(|| rs.get("type"))
                    .and_then(Json::as_str)
                    .unwrap_or("");
                match ty {
                    "linear" => Some(float(rs, "factor").unwrap_or(1.0)),
                    "default" | "" => None,
                    other => {
                        return Err(Error::input(format!(
                            "config.json: rope_scaling type {other} is not supported for Gemma (linear is)"
                        )))
                    }
                }
            }
        };
        let cap = |k: &str| float(j, k).filter(|c| *c > 0.0);
        let rope_theta = float(j, "rope_theta").unwrap_or(if g3 { 1e6 } else { 1e4 });
        Ok(Config {
            generation,
            vocab_size: need("vocab_size")?,
            hidden_size,
            intermediate_size: need("intermediate_size")?,
            num_hidden_layers: n_layers,
            num_attention_heads: heads,
            num_key_value_heads: int(j, "num_key_value_heads").unwrap_or(heads),
            head_dim,
            rms_norm_eps: float(j, "rms_norm_eps").unwrap_or(1e-6),
            rope_theta,
            rope_local_base_freq: if g3 {
                float(j, "rope_local_base_freq").unwrap_or(1e4)
            } else {
                rope_theta
            },
            rope_linear_factor,
            max_position_embeddings: int(j, "max_position_embeddings").unwrap_or(8192),
            query_pre_attn_scalar: float(j, "query_pre_attn_scalar").unwrap_or(256.0),
            sliding_window: int(j, "sliding_window").unwrap_or(4096),
            local_layers,
            // Gemma 2's defaults are 50 and 30; Gemma 3 has none
            attn_logit_softcapping: if g3 {
                cap("attn_logit_softcapping")
            } else {
                j.get("attn_logit_softcapping")
                    .map_or(Some(50.0), |v| v.as_f64())
            },
            final_logit_softcapping: if g3 {
                cap("final_logit_softcapping")
            } else {
                j.get("final_logit_softcapping")
                    .map_or(Some(30.0), |v| v.as_f64())
            },
            hidden_activation: j
                .get("hidden_activation")
                .or_else(|| j.get("hidden_act"))
                .and_then(Json::as_str)
                .unwrap_or("gelu_pytorch_tanh")
                .to_string(),
            attention_bias: j
                .get("attention_bias")
                .and_then(Json::as_bool)
                .unwrap_or(false),
            tie_word_embeddings: j
                .get("tie_word_embeddings")
                .and_then(Json::as_bool)
                .unwrap_or(true),
        })
    }

    /// From GGUF metadata of arch `gemma2` or `gemma3`, with llama.cpp's fixed choices
    /// where the file says nothing: every 2nd (Gemma 2) or 6th (Gemma 3) layer global,
    /// local RoPE base 10000, scores scaled by head_dim^-½ (by (d / heads)^-½ in the 27B
    /// models, which llama.cpp knows by their 46 or 62 layers).
    pub fn from_gguf(g: &Gguf, vocab_size: i64) -> Result<Self> {
        let arch = g.architecture()?.to_string();
        let generation = if arch == "gemma2" {
            Generation::Gemma2
        } else {
            Generation::Gemma3
        };
        let k = |s: &str| format!("{arch}.{s}");
        let u = |s: &str| g.get(&k(s)).and_then(|v| v.as_u64()).map(|v| v as i64);
        let hidden_size = g.u64(&k("embedding_length"))? as i64;
        let heads = g.u64(&k("attention.head_count"))? as i64;
        let head_dim = u("attention.key_length").unwrap_or(hidden_size / heads.max(1));
        let n_layers = g.u64(&k("block_count"))? as i64;
        let g3 = generation == Generation::Gemma3;
        let rope_linear_factor = match g.get(&k("rope.scaling.type")).and_then(|v| v.as_str()) {
            Some("linear") => Some(g.f64(&k("rope.scaling.factor")).unwrap_or(1.0)),
            None | Some("none") => None,
            Some(other) => {
                return Err(Error::input(format!(
                    "GGUF rope scaling type {other} is not supported for Gemma (linear is)"
                )))
            }
        };
        let cap = |s: &str| g.f64(&k(s)).ok().filter(|c| *c > 0.0);
        let rope_theta = g
            .f64(&k("rope.freq_base"))
            .unwrap_or(if g3 { 1e6 } else { 1e4 });
        let is_27b = n_layers == if g3 { 62 } else { 46 };
        let query_pre_attn_scalar = if is_27b {
            (hidden_size / heads.max(1)) as f64
        } else {
            head_dim as f64
        };
        Ok(Config {
            generation,
            vocab_size,
            hidden_size,
            intermediate_size: g.u64(&k("feed_forward_length"))? as i64,
            num_hidden_layers: n_layers,
            num_attention_heads: heads,
            num_key_value_heads: u("attention.head_count_kv").unwrap_or(heads),
            head_dim,
            rms_norm_eps: g
                .f64(&k("attention.layer_norm_rms_epsilon"))
                .unwrap_or(1e-6),
            rope_theta,
            rope_local_base_freq: if g3 {
                g.f64(&k("rope.freq_base_swa")).unwrap_or(1e4)
            } else {
                rope_theta
            },
            rope_linear_factor,
            max_position_embeddings: u("context_length").unwrap_or(8192),
            query_pre_attn_scalar,
            sliding_window: u("attention.sliding_window").unwrap_or(4096),
            local_layers: pattern(n_layers, if g3 { 6 } else { 2 }),
            attn_logit_softcapping: cap("attn_logit_softcapping"),
            final_logit_softcapping: cap("final_logit_softcapping"),
            hidden_activation: "gelu_pytorch_tanh".into(),
            attention_bias: false,
            tie_word_embeddings: !g.tensors.contains_key("output.weight"),
        })
    }
}

impl Config {
    /// Settings that cannot work together, as input errors (the caller names the file).
    pub fn check(&self) -> Result<()> {
        nn::check_activation(&self.hidden_activation)?;
        super::check_heads(
            self.num_attention_heads,
            self.num_key_value_heads,
            self.head_dim,
        )?;
        if self.query_pre_attn_scalar <= 0.0 || self.sliding_window <= 0 {
            return Err(Error::input(format!(
                "query_pre_attn_scalar {} and sliding_window {} must be positive",
                self.query_pre_attn_scalar, self.sliding_window
            )));
        }
        Ok(())
    }
}

/// GGUF tensor name for a Hugging Face Gemma tensor name: Llama's, but for the four norms.
pub fn gguf_name(hf: &str) -> Option<String> {
    super::llama::gguf_name_with(hf, |tail| match tail {
        "input_layernorm.weight" => Some("attn_norm.weight"),
        "post_attention_layernorm.weight" => Some("post_attention_norm.weight"),
        "pre_feedforward_layernorm.weight" => Some("ffn_norm.weight"),
        "post_feedforward_layernorm.weight" => Some("post_ffw_norm.weight"),
        _ => None,
    })
}

struct Layer {
    input_layernorm: RmsNorm,
    /// q_proj, k_proj and v_proj stacked (one GEMM).
    qkv_proj: Linear,
    /// Gemma 3's per-head query and key norms.
    q_norm: Option<RmsNorm>,
    k_norm: Option<RmsNorm>,
    o_proj: Linear,
    post_attention_layernorm: RmsNorm,
    pre_feedforward_layernorm: RmsNorm,
    post_feedforward_layernorm: RmsNorm,
    /// gate_proj and up_proj stacked (one GEMM).
    gate_up_proj: Linear,
    down_proj: Linear,
    local: bool,
}

pub struct Gemma {
    pub cfg: Config,
    embed_tokens: Tensor,
    layers: Vec<Layer>,
    norm: RmsNorm,
    lm_head: Tensor,
    global_rotary: Rotary,
    local_rotary: Rotary,
}

impl Gemma {
    pub fn load(w: &Weights, cfg: Config) -> Result<Self> {
        cfg.check()?;
        let (d, hd) = (cfg.hidden_size, cfg.head_dim);
        let (nh, nkv) = (cfg.num_attention_heads, cfg.num_key_value_heads);
        let eps = cfg.rms_norm_eps;
        let norm = |name: &str, dim: i64| RmsNorm::load_gemma(w, name, dim, eps);
        let (i_size, bias) = (cfg.intermediate_size, cfg.attention_bias);
        let g3 = cfg.generation == Generation::Gemma3;
        let mut layers = Vec::new();
        for (i, &local) in cfg.local_layers.iter().enumerate() {
            let p = format!("model.layers.{i}");
            let attn =
                |n: &str, rows: i64| Linear::load(w, &format!("{p}.self_attn.{n}"), d, rows, bias);
            let mlp = |n: &str| Linear::load(w, &format!("{p}.mlp.{n}"), d, i_size, false);
            let qk_norm = |n: &str| -> Result<Option<RmsNorm>> {
                if g3 {
                    Ok(Some(norm(&format!("{p}.self_attn.{n}.weight"), hd)?))
                } else {
                    Ok(None)
                }
            };
            layers.push(Layer {
                input_layernorm: norm(&format!("{p}.input_layernorm.weight"), d)?,
                qkv_proj: w.layer(
                    &format!("{p}.self_attn.qkv"),
                    &["q_proj", "k_proj", "v_proj"]
                        .map(|n| format!("{p}.self_attn.{n}"))
                        .each_ref()
                        .map(String::as_str),
                    || {
                        Linear::fuse(vec![
                            attn("q_proj", nh * hd)?,
                            attn("k_proj", nkv * hd)?,
                            attn("v_proj", nkv * hd)?,
                        ])
                    },
                )?,
                q_norm: qk_norm("q_norm")?,
                k_norm: qk_norm("k_norm")?,
                o_proj: Linear::load(w, &format!("{p}.self_attn.o_proj"), nh * hd, d, bias)?,
                post_attention_layernorm: norm(&format!("{p}.post_attention_layernorm.weight"), d)?,
                pre_feedforward_layernorm: norm(
                    &format!("{p}.pre_feedforward_layernorm.weight"),
                    d,
                )?,
                post_feedforward_layernorm: norm(
                    &format!("{p}.post_feedforward_layernorm.weight"),
                    d,
                )?,
                gate_up_proj: w.layer(
                    &format!("{p}.mlp.gate_up"),
                    &["gate_proj", "up_proj"]
                        .map(|n| format!("{p}.mlp.{n}"))
                        .each_ref()
                        .map(String::as_str),
                    || Linear::fuse(vec![mlp("gate_proj")?, mlp("up_proj")?]),
                )?,
                down_proj: Linear::load(w, &format!("{p}.mlp.down_proj"), i_size, d, false)?,
                local,
            });
        }
        let embed_tokens = w.get("model.embed_tokens.weight", &[cfg.vocab_size, d])?;
        // Gemma ties the output projection to the embedding unless told otherwise
        let lm_head = match w.get_opt("lm_head.weight", &[cfg.vocab_size, d])? {
            Some(t) if !cfg.tie_word_embeddings => t,
            _ => embed_tokens.shallow_clone(),
        };
        let mut global = Rotary::inv_freq(cfg.rope_theta, hd);
        if let Some(f) = cfg.rope_linear_factor {
            global.iter_mut().for_each(|x| *x /= f as f32);
        }
        Ok(Gemma {
            norm: RmsNorm::load_gemma(w, "model.norm.weight", d, eps)?,
            global_rotary: Rotary::new(global),
            local_rotary: Rotary::new(Rotary::inv_freq(cfg.rope_local_base_freq, hd)),
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
        Ok(Box::new(Gemma::load(w, cfg)?))
    }

    pub fn from_gguf(w: &Weights) -> Result<Box<dyn Architecture>> {
        let g = w.gguf()?;
        let cfg = Config::from_gguf(g, super::gguf_vocab(g)?)?;
        Ok(Box::new(Gemma::load(w, cfg)?))
    }
}

impl Architecture for Gemma {
    fn shape(&self) -> Shape {
        Shape {
            name: match self.cfg.generation {
                Generation::Gemma2 => "gemma2",
                Generation::Gemma3 => "gemma3",
            },
            n_layers: self.cfg.num_hidden_layers,
            n_heads: self.cfg.num_attention_heads,
            vocab_size: self.cfg.vocab_size,
            max_positions: self.cfg.max_position_embeddings,
            // the window is per layer (local layers only), applied in `forward`
            sliding_window: None,
        }
    }

    fn lm_head(&self) -> &Tensor {
        &self.lm_head
    }

    fn final_logit_softcap(&self) -> Option<f64> {
        self.cfg.final_logit_softcapping
    }

    fn parameters(&self) -> Vec<(Option<usize>, Tensor)> {
        let mut v = nn::outer_params(&[&self.embed_tokens], self.norm.params(), &self.lm_head);
        for (i, l) in self.layers.iter().enumerate() {
            let opt = |n: &Option<RmsNorm>| n.as_ref().map(RmsNorm::params).unwrap_or_default();
            let ps = [
                l.input_layernorm.params(),
                l.qkv_proj.params(),
                opt(&l.q_norm),
                opt(&l.k_norm),
                l.o_proj.params(),
                l.post_attention_layernorm.params(),
                l.pre_feedforward_layernorm.params(),
                l.gate_up_proj.params(),
                l.down_proj.params(),
                l.post_feedforward_layernorm.params(),
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
        let t = ids.size().get(1).copied().unwrap_or(0);
        // keys seen by each query: the cached ones and these (the context's mask spans them)
        let s = ctx
            .mask
            .as_ref()
            .map_or(t, |m| *m.size().last().unwrap_or(&t));
        let local_mask = nn::windowed_mask(ctx, t, s, cfg.sliding_window)?;
        let global = self.global_rotary.cos_sin(&ctx.positions)?;
        let local = self.local_rotary.cos_sin(&ctx.positions)?;
        let scale = cfg.query_pre_attn_scalar.powf(-0.5);
        let mut x = Tensor::f_embedding(&self.embed_tokens, ids, -1, false, false)?;
        // √d, rounded to the activations' type as transformers does
        let normalizer = Tensor::from((cfg.hidden_size as f64).sqrt())
            .f_to_kind(x.kind())?
            .f_to_device(x.device())?;
        x = x.f_mul(&normalizer)?;
        let mut attns = Vec::new();
        for (i, l) in self.layers.iter().enumerate() {
            let slot = cache.as_deref_mut().map(|c| &mut c.layers[i]);
            let h = l.input_layernorm.forward(&x)?;
            let qkv = l
                .qkv_proj
                .forward(&h, ctx)?
                .f_split_with_sizes([nh * hd, nkv * hd, nkv * hd], -1)?;
            let mut q = nn::heads(&qkv[0], nh, hd)?;
            let mut k = nn::heads(&qkv[1], nkv, hd)?;
            if let (Some(qn), Some(kn)) = (&l.q_norm, &l.k_norm) {
                q = qn.forward(&q)?;
                k = kn.forward(&k)?;
            }
            let (rotary, (cos, sin)) = if l.local {
                (&self.local_rotary, &local)
            } else {
                (&self.global_rotary, &global)
            };
            let q = rotary.apply(&q, cos, sin)?;
            let k = rotary.apply(&k, cos, sin)?;
            let v = nn::heads(&qkv[2], nkv, hd)?;
            let opts = nn::AttnOpts {
                scale,
                mask: if l.local {
                    Some(local_mask.as_ref().map(|m| m.shallow_clone()))
                } else {
                    None
                },
                softcap: cfg.attn_logit_softcapping,
            };
            let (a, p) = nn::attention(&q, &k, &v, ctx, &opts, slot)?;
            attns.extend(p);
            let a = l.o_proj.forward(&a, ctx)?;
            x = x.f_add(&l.post_attention_layernorm.forward(&a)?)?;
            let h = l.pre_feedforward_layernorm.forward(&x)?;
            let gate_up = l.gate_up_proj.forward(&h, ctx)?.f_chunk(2, -1)?;
            let gate = nn::activation(&cfg.hidden_activation, &gate_up[0])?;
            let m = l.down_proj.forward(&gate.f_mul(&gate_up[1])?, ctx)?;
            x = x.f_add(&l.post_feedforward_layernorm.forward(&m)?)?;
        }
        let x = self.norm.forward(&x)?;
        Ok((x, attns))
    }
}
