//! GPT-2: learned positions, pre-norm blocks with LayerNorm, fused qkv. Hugging Face
//! checkpoints store `Conv1D` weights as [in, out] (transposed here once at load);
//! GGUF stores them as [out, in].

use serde_json::Value as Json;
use tch::Tensor;

use std::path::Path;

use super::gguf::Gguf;
use super::nn::{self, Context, LayerNorm, Linear};
use super::weights::Weights;
use super::{Architecture, Shape};
use crate::error::{Error, Result};

#[derive(Debug, Clone)]
pub struct Config {
    pub vocab_size: i64,
    pub n_positions: i64,
    pub n_embd: i64,
    pub n_layer: i64,
    pub n_head: i64,
    pub n_inner: i64,
    pub layer_norm_epsilon: f64,
    pub activation_function: String,
}

impl Config {
    pub fn from_hf(j: &Json) -> Result<Self> {
        let int = |k: &str| j.get(k).and_then(Json::as_i64);
        let need = |k: &str| super::positive(k, int(k));
        let n_embd = need("n_embd")?;
        Ok(Config {
            vocab_size: need("vocab_size")?,
            n_positions: int("n_positions").or_else(|| int("n_ctx")).unwrap_or(1024),
            n_embd,
            n_layer: need("n_layer")?,
            n_head: need("n_head")?,
            n_inner: int("n_inner").unwrap_or(4 * n_embd),
            layer_norm_epsilon: j
                .get("layer_norm_epsilon")
                .and_then(Json::as_f64)
                .unwrap_or(1e-5),
            activation_function: j
                .get("activation_function")
                .and_then(Json::as_str)
                .unwrap_or("gelu_new")
                .to_string(),
        })
    }

    pub fn from_gguf(g: &Gguf, vocab_size: i64) -> Result<Self> {
        let n_embd = g.u64("gpt2.embedding_length")? as i64;
        Ok(Config {
            vocab_size,
            n_positions: g.u64("gpt2.context_length")? as i64,
            n_embd,
            n_layer: g.u64("gpt2.block_count")? as i64,
            n_head: g.u64("gpt2.attention.head_count")? as i64,
            n_inner: g
                .u64("gpt2.feed_forward_length")
                .map(|v| v as i64)
                .unwrap_or(4 * n_embd),
            layer_norm_epsilon: g.f64("gpt2.attention.layer_norm_epsilon").unwrap_or(1e-5),
            activation_function: "gelu_new".into(),
        })
    }
}

/// GGUF tensor name for a Hugging Face GPT-2 tensor name (without `transformer.`).
pub fn gguf_name(hf: &str) -> Option<String> {
    let hf = hf.strip_prefix("transformer.").unwrap_or(hf);
    let fixed = match hf {
        "wte.weight" => Some("token_embd.weight"),
        "wpe.weight" => Some("position_embd.weight"),
        "ln_f.weight" => Some("output_norm.weight"),
        "ln_f.bias" => Some("output_norm.bias"),
        "lm_head.weight" => Some("output.weight"),
        _ => None,
    };
    if let Some(f) = fixed {
        return Some(f.to_string());
    }
    let rest = hf.strip_prefix("h.")?;
    let (layer, tail) = rest.split_once('.')?;
    let (module, param) = tail.rsplit_once('.')?;
    let mapped = match module {
        "ln_1" => "attn_norm",
        "attn.c_attn" => "attn_qkv",
        "attn.c_proj" => "attn_output",
        "ln_2" => "ffn_norm",
        "mlp.c_fc" => "ffn_up",
        "mlp.c_proj" => "ffn_down",
        _ => return None,
    };
    Some(format!("blk.{layer}.{mapped}.{param}"))
}

struct Block {
    ln_1: LayerNorm,
    c_attn: Linear,
    c_proj: Linear,
    ln_2: LayerNorm,
    c_fc: Linear,
    mlp_proj: Linear,
}

pub struct Gpt2 {
    pub cfg: Config,
    wte: Tensor,
    wpe: Tensor,
    h: Vec<Block>,
    ln_f: LayerNorm,
    pub lm_head: Tensor,
}

impl Gpt2 {
    pub fn load(w: &Weights, cfg: Config) -> Result<Self> {
        nn::check_activation(&cfg.activation_function)?;
        if cfg.n_head == 0 || cfg.n_embd % cfg.n_head != 0 {
            return Err(Error::input(format!(
                "n_embd {} is not divisible by n_head {}",
                cfg.n_embd, cfg.n_head
            )));
        }
        let p = if w.contains("transformer.wte.weight") {
            "transformer."
        } else {
            ""
        };
        let d = cfg.n_embd;
        // Conv1D: [in, out] in HF checkpoints, [out, in] in GGUF.
        let conv_own = |name: &str, i: i64, o: i64| -> Result<Linear> {
            let weight = if w.is_gguf() {
                w.get_cpu(&format!("{name}.weight"), &[o, i])?
            } else {
                w.get_cpu(&format!("{name}.weight"), &[i, o])?
                    .tr()
                    .contiguous()
            };
            let bias = w.get_cpu(&format!("{name}.bias"), &[o])?;
            w.linear(
                name,
                weight,
                Some(bias),
                w.get_quant(&format!("{name}.weight"), o, i),
            )
        };
        let conv = |name: &str, i: i64, o: i64| -> Result<Linear> {
            w.layer(name, &[name], || conv_own(name, i, o))
        };
        let eps = cfg.layer_norm_epsilon;
        let mut h = Vec::new();
        for i in 0..cfg.n_layer {
            let b = format!("{p}h.{i}");
            h.push(Block {
                ln_1: LayerNorm::load(w, &format!("{b}.ln_1"), d, eps)?,
                c_attn: conv(&format!("{b}.attn.c_attn"), d, 3 * d)?,
                c_proj: conv(&format!("{b}.attn.c_proj"), d, d)?,
                ln_2: LayerNorm::load(w, &format!("{b}.ln_2"), d, eps)?,
                c_fc: conv(&format!("{b}.mlp.c_fc"), d, cfg.n_inner)?,
                mlp_proj: conv(&format!("{b}.mlp.c_proj"), cfg.n_inner, d)?,
            });
        }
        let wte = w.get(&format!("{p}wte.weight"), &[cfg.vocab_size, d])?;
        let lm_head = w
            .get_opt("lm_head.weight", &[cfg.vocab_size, d])?
            .unwrap_or_else(|| wte.shallow_clone());
        Ok(Gpt2 {
            wpe: w.get(&format!("{p}wpe.weight"), &[cfg.n_positions, d])?,
            ln_f: LayerNorm::load(w, &format!("{p}ln_f"), d, eps)?,
            cfg,
            wte,
            h,
            lm_head,
        })
    }

    pub fn from_hf(j: &Json, cfg_path: &Path, w: &Weights) -> Result<Box<dyn Architecture>> {
        let cfg = Config::from_hf(j).map_err(|e| super::in_file_once(e, cfg_path))?;
        Ok(Box::new(Gpt2::load(w, cfg)?))
    }

    pub fn from_gguf(w: &Weights) -> Result<Box<dyn Architecture>> {
        let g = w.gguf()?;
        let cfg = Config::from_gguf(g, super::gguf_vocab(g)?)?;
        Ok(Box::new(Gpt2::load(w, cfg)?))
    }
}

impl Architecture for Gpt2 {
    fn shape(&self) -> Shape {
        Shape {
            name: "gpt2",
            n_layers: self.cfg.n_layer,
            n_heads: self.cfg.n_head,
            vocab_size: self.cfg.vocab_size,
            max_positions: self.cfg.n_positions,
            sliding_window: None,
        }
    }

    fn lm_head(&self) -> &Tensor {
        &self.lm_head
    }

    fn parameters(&self) -> Vec<(Option<usize>, Tensor)> {
        let mut v = nn::outer_params(&[&self.wte, &self.wpe], self.ln_f.params(), &self.lm_head);
        for (i, b) in self.h.iter().enumerate() {
            let ps = [
                b.ln_1.params(),
                b.c_attn.params(),
                b.c_proj.params(),
                b.ln_2.params(),
                b.c_fc.params(),
                b.mlp_proj.params(),
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
        let (nh, d) = (self.cfg.n_head, self.cfg.n_embd);
        let hd = d / nh;
        let mut x = Tensor::f_embedding(&self.wte, ids, -1, false, false)?.f_add(
            &Tensor::f_embedding(&self.wpe, &ctx.positions, -1, false, false)?,
        )?;
        let mut attns = Vec::new();
        for (i, b) in self.h.iter().enumerate() {
            let slot = cache.as_deref_mut().map(|c| &mut c.layers[i]);
            let qkv = b.c_attn.forward(&b.ln_1.forward(&x)?, ctx)?;
            let parts = qkv.f_split(d, -1)?;
            let (q, k, v) = (
                nn::heads(&parts[0], nh, hd)?,
                nn::heads(&parts[1], nh, hd)?,
                nn::heads(&parts[2], nh, hd)?,
            );
            let (a, p) = nn::attention(
                &q,
                &k,
                &v,
                ctx,
                &nn::AttnOpts::scaled(1.0 / (hd as f64).sqrt()),
                slot,
            )?;
            attns.extend(p);
            x = x.f_add(&b.c_proj.forward(&a, ctx)?)?;
            let m = nn::activation(
                &self.cfg.activation_function,
                &b.c_fc.forward(&b.ln_2.forward(&x)?, ctx)?,
            )?;
            x = x.f_add(&b.mlp_proj.forward(&m, ctx)?)?;
        }
        let x = self.ln_f.forward(&x)?;
        Ok((x, attns))
    }
}
