//! GPT-NeoX (Pythia): fused per-head qkv, partial rotary embeddings, parallel
//! residual (attention and MLP read the same input) by default.

use serde_json::Value as Json;
use tch::Tensor;

use std::path::Path;

use super::gguf::Gguf;
use super::nn::{self, Context, LayerNorm, Linear, Rotary};
use super::weights::Weights;
use super::{Architecture, Shape};
use crate::error::{Error, Result};

#[derive(Debug, Clone)]
pub struct Config {
    pub vocab_size: i64,
    pub hidden_size: i64,
    pub num_hidden_layers: i64,
    pub num_attention_heads: i64,
    pub intermediate_size: i64,
    pub rotary_pct: f64,
    pub rotary_emb_base: f64,
    pub max_position_embeddings: i64,
    pub layer_norm_eps: f64,
    pub use_parallel_residual: bool,
    pub hidden_act: String,
    pub attention_bias: bool,
}

impl Config {
    pub fn from_hf(j: &Json) -> Result<Self> {
        let int = |k: &str| j.get(k).and_then(Json::as_i64);
        let need = |k: &str| super::positive(k, int(k));
        let f = |k: &str| j.get(k).and_then(Json::as_f64);
        let rope_base = f("rotary_emb_base")
            .or_else(|| f("rope_theta"))
            .or_else(|| {
                j.get("rope_parameters")
                    .and_then(|r| r.get("rope_theta"))
                    .and_then(Json::as_f64)
            })
            .unwrap_or(10000.0);
        Ok(Config {
            vocab_size: need("vocab_size")?,
            hidden_size: need("hidden_size")?,
            num_hidden_layers: need("num_hidden_layers")?,
            num_attention_heads: need("num_attention_heads")?,
            intermediate_size: need("intermediate_size")?,
            rotary_pct: f("rotary_pct")
                .or_else(|| f("partial_rotary_factor"))
                .unwrap_or(0.25),
            rotary_emb_base: rope_base,
            max_position_embeddings: int("max_position_embeddings").unwrap_or(2048),
            layer_norm_eps: f("layer_norm_eps").unwrap_or(1e-5),
            use_parallel_residual: j
                .get("use_parallel_residual")
                .and_then(Json::as_bool)
                .unwrap_or(true),
            hidden_act: j
                .get("hidden_act")
                .and_then(Json::as_str)
                .unwrap_or("gelu")
                .to_string(),
            attention_bias: j
                .get("attention_bias")
                .and_then(Json::as_bool)
                .unwrap_or(true),
        })
    }

    pub fn from_gguf(g: &Gguf, vocab_size: i64) -> Result<Self> {
        let hidden = g.u64("gptneox.embedding_length")? as i64;
        let heads = g.u64("gptneox.attention.head_count")? as i64;
        let rot = g
            .u64("gptneox.rope.dimension_count")
            .map(|v| v as f64)
            .unwrap_or(0.25 * (hidden / heads) as f64);
        Ok(Config {
            vocab_size,
            hidden_size: hidden,
            num_hidden_layers: g.u64("gptneox.block_count")? as i64,
            num_attention_heads: heads,
            intermediate_size: g.u64("gptneox.feed_forward_length")? as i64,
            rotary_pct: rot / (hidden / heads) as f64,
            rotary_emb_base: g.f64("gptneox.rope.freq_base").unwrap_or(10000.0),
            max_position_embeddings: g
                .u64("gptneox.context_length")
                .map(|v| v as i64)
                .unwrap_or(2048),
            layer_norm_eps: g
                .f64("gptneox.attention.layer_norm_epsilon")
                .unwrap_or(1e-5),
            use_parallel_residual: g
                .get("gptneox.use_parallel_residual")
                .and_then(|v| v.as_bool())
                .unwrap_or(true),
            hidden_act: "gelu".into(),
            attention_bias: true,
        })
    }
}

/// GGUF tensor name for a Hugging Face GPT-NeoX tensor name.
pub fn gguf_name(hf: &str) -> Option<String> {
    let fixed = match hf {
        "gpt_neox.embed_in.weight" => Some("token_embd.weight"),
        "gpt_neox.final_layer_norm.weight" => Some("output_norm.weight"),
        "gpt_neox.final_layer_norm.bias" => Some("output_norm.bias"),
        "embed_out.weight" => Some("output.weight"),
        _ => None,
    };
    if let Some(f) = fixed {
        return Some(f.to_string());
    }
    let rest = hf.strip_prefix("gpt_neox.layers.")?;
    let (layer, tail) = rest.split_once('.')?;
    let (module, param) = tail.rsplit_once('.')?;
    let mapped = match module {
        "input_layernorm" => "attn_norm",
        "attention.query_key_value" => "attn_qkv",
        "attention.dense" => "attn_output",
        "post_attention_layernorm" => "ffn_norm",
        "mlp.dense_h_to_4h" => "ffn_up",
        "mlp.dense_4h_to_h" => "ffn_down",
        _ => return None,
    };
    Some(format!("blk.{layer}.{mapped}.{param}"))
}

struct Layer {
    input_layernorm: LayerNorm,
    post_attention_layernorm: LayerNorm,
    query_key_value: Linear,
    dense: Linear,
    dense_h_to_4h: Linear,
    dense_4h_to_h: Linear,
}

pub struct GptNeox {
    pub cfg: Config,
    embed_in: Tensor,
    layers: Vec<Layer>,
    final_layer_norm: LayerNorm,
    pub embed_out: Tensor,
    rotary: Rotary,
}

impl GptNeox {
    pub fn load(w: &Weights, cfg: Config) -> Result<Self> {
        nn::check_activation(&cfg.hidden_act)?;
        let (d, nh) = (cfg.hidden_size, cfg.num_attention_heads);
        if nh == 0 || d % nh != 0 {
            return Err(Error::input(format!(
                "hidden_size {d} is not divisible by {nh} heads"
            )));
        }
        let hd = d / nh;
        let eps = cfg.layer_norm_eps;
        let bias = cfg.attention_bias;
        let mut layers = Vec::new();
        for i in 0..cfg.num_hidden_layers {
            let p = format!("gpt_neox.layers.{i}");
            layers.push(Layer {
                input_layernorm: LayerNorm::load(w, &format!("{p}.input_layernorm"), d, eps)?,
                post_attention_layernorm: LayerNorm::load(
                    w,
                    &format!("{p}.post_attention_layernorm"),
                    d,
                    eps,
                )?,
                query_key_value: qkv(w, &format!("{p}.attention.query_key_value"), d, nh, bias)?,
                dense: Linear::load(w, &format!("{p}.attention.dense"), d, d, bias)?,
                dense_h_to_4h: Linear::load(
                    w,
                    &format!("{p}.mlp.dense_h_to_4h"),
                    d,
                    cfg.intermediate_size,
                    true,
                )?,
                dense_4h_to_h: Linear::load(
                    w,
                    &format!("{p}.mlp.dense_4h_to_h"),
                    cfg.intermediate_size,
                    d,
                    true,
                )?,
            });
        }
        let rot_dim = ((hd as f64) * cfg.rotary_pct) as i64;
        let embed_in = w.get("gpt_neox.embed_in.weight", &[cfg.vocab_size, d])?;
        let embed_out = w
            .get_opt("embed_out.weight", &[cfg.vocab_size, d])?
            .unwrap_or_else(|| embed_in.shallow_clone());
        Ok(GptNeox {
            final_layer_norm: LayerNorm::load(w, "gpt_neox.final_layer_norm", d, eps)?,
            rotary: Rotary::new(Rotary::inv_freq(cfg.rotary_emb_base, rot_dim)),
            cfg,
            embed_in,
            layers,
            embed_out,
        })
    }

    pub fn from_hf(j: &Json, cfg_path: &Path, w: &Weights) -> Result<Box<dyn Architecture>> {
        let cfg = Config::from_hf(j).map_err(|e| super::in_file_once(e, cfg_path))?;
        Ok(Box::new(GptNeox::load(w, cfg)?))
    }
}

/// The fused qkv projection with its rows per head ([H, 3, hd], Hugging Face's layout).
/// llama.cpp's converter writes them as [3, H, hd] (all queries, then keys, then values):
/// from a GGUF file the rows are put back, so the forward pass and an adapter's update
/// (in Hugging Face's layout) apply unchanged.
fn qkv(w: &Weights, prefix: &str, d: i64, nh: i64, bias: bool) -> Result<Linear> {
    if !w.is_gguf() {
        return Linear::load(w, prefix, d, 3 * d, bias);
    }
    w.layer(prefix, &[prefix], || qkv_gguf(w, prefix, d, nh, bias))
}

/// The fused qkv of a GGUF file, its rows reordered from GGUF's (s, h, j) to HF's (h, s, j).
fn qkv_gguf(w: &Weights, prefix: &str, d: i64, nh: i64, bias: bool) -> Result<Linear> {
    let hd = d / nh.max(1);
    // HF row (h, s, j) = GGUF row (s, h, j)
    let order: Vec<i64> = (0..nh)
        .flat_map(|h| (0..3).flat_map(move |s| (0..hd).map(move |j| s * d + h * hd + j)))
        .collect();
    let index = Tensor::f_from_slice(&order)?;
    let weight = w
        .get_cpu(&format!("{prefix}.weight"), &[3 * d, d])?
        .f_index_select(0, &index)?;
    let b = if bias {
        Some(
            w.get_cpu(&format!("{prefix}.bias"), &[3 * d])?
                .f_index_select(0, &index)?,
        )
    } else {
        None
    };
    let rows: Vec<usize> = order.iter().map(|&r| r as usize).collect();
    let quant = w
        .get_quant(&format!("{prefix}.weight"), 3 * d, d)
        .and_then(|q| q.permute_rows(&rows));
    w.linear(prefix, weight, b, quant)
}

impl GptNeox {
    pub fn from_gguf(w: &Weights) -> Result<Box<dyn Architecture>> {
        let g = w.gguf()?;
        let cfg = Config::from_gguf(g, super::gguf_vocab(g)?)?;
        Ok(Box::new(GptNeox::load(w, cfg)?))
    }
}

impl Architecture for GptNeox {
    fn shape(&self) -> Shape {
        Shape {
            name: "gpt_neox",
            n_layers: self.cfg.num_hidden_layers,
            n_heads: self.cfg.num_attention_heads,
            vocab_size: self.cfg.vocab_size,
            max_positions: self.cfg.max_position_embeddings,
            sliding_window: None,
        }
    }

    fn lm_head(&self) -> &Tensor {
        &self.embed_out
    }

    fn parameters(&self) -> Vec<(Option<usize>, Tensor)> {
        let mut v = nn::outer_params(
            &[&self.embed_in],
            self.final_layer_norm.params(),
            &self.embed_out,
        );
        for (i, l) in self.layers.iter().enumerate() {
            let ps = [
                l.input_layernorm.params(),
                l.post_attention_layernorm.params(),
                l.query_key_value.params(),
                l.dense.params(),
                l.dense_h_to_4h.params(),
                l.dense_4h_to_h.params(),
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
        let (d, nh) = (self.cfg.hidden_size, self.cfg.num_attention_heads);
        let hd = d / nh;
        let (cos, sin) = self.rotary.cos_sin(&ctx.positions)?;
        let mut x = Tensor::f_embedding(&self.embed_in, ids, -1, false, false)?;
        let (b, t) = (ids.size()[0], ids.size()[1]);
        let mut attns = Vec::new();
        for (i, l) in self.layers.iter().enumerate() {
            let slot = cache.as_deref_mut().map(|c| &mut c.layers[i]);
            let h = l.input_layernorm.forward(&x)?;
            // [B, T, H, 3·hd] → q, k, v each [B, H, T, hd]
            let qkv = l
                .query_key_value
                .forward(&h, ctx)?
                .f_view([b, t, nh, 3 * hd])?
                .f_transpose(1, 2)?;
            let parts = qkv.f_split(hd, -1)?;
            let q = self.rotary.apply(&parts[0], &cos, &sin)?;
            let k = self.rotary.apply(&parts[1], &cos, &sin)?;
            let (a, p) = nn::attention(
                &q,
                &k,
                &parts[2],
                ctx,
                &nn::AttnOpts::scaled(1.0 / (hd as f64).sqrt()),
                slot,
            )?;
            attns.extend(p);
            let attn_out = l.dense.forward(&a, ctx)?;
            if self.cfg.use_parallel_residual {
                let m = nn::activation(
                    &self.cfg.hidden_act,
                    &l.dense_h_to_4h
                        .forward(&l.post_attention_layernorm.forward(&x)?, ctx)?,
                )?;
                x = x
                    .f_add(&attn_out)?
                    .f_add(&l.dense_4h_to_h.forward(&m, ctx)?)?;
            } else {
                x = x.f_add(&attn_out)?;
                let m = nn::activation(
                    &self.cfg.hidden_act,
                    &l.dense_h_to_4h
                        .forward(&l.post_attention_layernorm.forward(&x)?, ctx)?,
                )?;
                x = x.f_add(&l.dense_4h_to_h.forward(&m, ctx)?)?;
            }
        }
        let x = self.final_layer_norm.forward(&x)?;
        Ok((x, attns))
    }
}
