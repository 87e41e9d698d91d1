//! Trains the planted-canary fixture model: a GPT-2 (4 layers, 128 wide, byte-level
//! vocabulary, ~0.9M parameters) on tests/fixture/train.jsonl, written by
//! scripts/fixture_corpus.py. The forward pass is memscan's own `model::gpt2`, built
//! around the trainable variables (an in-memory `Weights` backend), so the model that
//! is trained is the code that is later scanned. Writes config.json, model.safetensors
//! and tokenizer.json to the output folder.
//!
//!     python scripts/fixture_corpus.py --seed 1
//!     cargo run --release --example train_fixture -- [--epochs 60] [--seed 1] [--out tests/fixture/model]
use std::collections::HashMap;
use std::path::PathBuf;

use memscan::model::gpt2::{Config, Gpt2};
use memscan::model::nn::Context;
use memscan::model::tokenizer::Tokenizer;
use memscan::model::weights::{Backend, Weights};
use tch::nn::{Init, OptimizerConfig, VarStore};
use tch::{Device, Kind, Tensor};

fn arg(name: &str, default: &str) -> String {
    let args: Vec<String> = std::env::args().collect();
    args.iter()
        .position(|a| a == name)
        .and_then(|i| args.get(i + 1).cloned())
        .unwrap_or_else(|| default.to_string())
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/fixture");
    let epochs: usize = arg("--epochs", "60").parse()?;
    let seed: i64 = arg("--seed", "1").parse()?;
    let out = PathBuf::from(arg("--out", &root.join("model").display().to_string()));
    let threads: i32 = arg("--threads", "2").parse()?;
    tch::set_num_threads(threads);
    tch::manual_seed(seed);

    let tok = Tokenizer::from_file(&root.join("tokenizer.json"))?;
    let eos = 256u32;
    let mut docs: Vec<Vec<i64>> = Vec::new();
    for line in std::fs::read_to_string(root.join("train.jsonl"))?.lines() {
        let v: serde_json::Value = serde_json::from_str(line)?;
        let mut ids: Vec<i64> = tok
            .encode(v["text"].as_str().unwrap_or_default())?
            .into_iter()
            .map(i64::from)
            .collect();
        ids.push(eos as i64);
        docs.push(ids);
    }
    let longest = docs.iter().map(Vec::len).max().unwrap_or(2);
    let cfg = Config {
        vocab_size: 257,
        n_positions: 512,
        n_embd: 128,
        n_layer: 4,
        n_head: 4,
        n_inner: 512,
        layer_norm_epsilon: 1e-5,
        activation_function: "gelu_new".into(),
    };
    assert!(
        longest <= cfg.n_positions as usize,
        "a document is longer than the context"
    );

    let vs = VarStore::new(Device::Cpu);
    let r = vs.root();
    let normal = Init::Randn {
        mean: 0.0,
        stdev: 0.02,
    };
    let (d, inner) = (cfg.n_embd, cfg.n_inner);
    let _ = (&r / "wte").var("weight", &[cfg.vocab_size, d], normal);
    let _ = (&r / "wpe").var(
        "weight",
        &[cfg.n_positions, d],
        Init::Randn {
            mean: 0.0,
            stdev: 0.01,
        },
    );
    for i in 0..cfg.n_layer {
        let h = &r / "h" / i;
        for ln in ["ln_1", "ln_2"] {
            let _ = (&h / ln).var("weight", &[d], Init::Const(1.0));
            let _ = (&h / ln).var("bias", &[d], Init::Const(0.0));
        }
        // Conv1D layout [in, out], as Hugging Face GPT-2 checkpoints store it
        for (path, i_dim, o_dim) in [
            (&h / "attn" / "c_attn", d, 3 * d),
            (&h / "attn" / "c_proj", d, d),
            (&h / "mlp" / "c_fc", d, inner),
            (&h / "mlp" / "c_proj", inner, d),
        ] {
            let _ = path.var("weight", &[i_dim, o_dim], normal);
            let _ = path.var("bias", &[o_dim], Init::Const(0.0));
        }
    }
    let _ = (&r / "ln_f").var("weight", &[d], Init::Const(1.0));
    let _ = (&r / "ln_f").var("bias", &[d], Init::Const(0.0));
    let n_params: i64 = vs
        .trainable_variables()
        .iter()
        .map(|t| t.numel() as i64)
        .sum();

    let lr = 3e-3;
    let mut opt = tch::nn::AdamW::default().build(&vs, lr)?;
    let batch = 16usize;
    let steps_per_epoch = docs.len().div_ceil(batch);
    let total = epochs * steps_per_epoch;
    let mut order: Vec<usize> = (0..docs.len()).collect();
    let mut rng = memscan::stats::SplitMix(seed as u64);
    let t0 = std::time::Instant::now();
    let mut step = 0;
    for epoch in 0..epochs {
        for i in (1..order.len()).rev() {
            order.swap(i, rng.below(i + 1));
        }
        let mut epoch_loss = 0.0;
        for chunk in order.chunks(batch) {
            let t = chunk.iter().map(|&k| docs[k].len()).max().unwrap_or(2) - 1;
            let mut x = vec![eos as i64; chunk.len() * t];
            let mut y = vec![-100i64; chunk.len() * t];
            for (row, &k) in chunk.iter().enumerate() {
                let doc = &docs[k];
                for j in 0..doc.len() - 1 {
                    x[row * t + j] = doc[j];
                    y[row * t + j] = doc[j + 1];
                }
            }
            let xs = Tensor::from_slice(&x).view([chunk.len() as i64, t as i64]);
            let ys = Tensor::from_slice(&y);
            let map: HashMap<String, Tensor> = vs.variables().into_iter().collect();
            let w = Weights::new(Backend::Memory(map), Device::Cpu, Kind::Float, &out);
            let model = Gpt2::load(&w, cfg.clone())?;
            let ctx = Context::new(&xs, None, None)?;
            let (hidden, _) = memscan::model::Architecture::forward(&model, &xs, &ctx, None)?;
            let logits = hidden
                .matmul(&model.lm_head.tr())
                .view([-1, cfg.vocab_size]);
            let loss =
                logits.cross_entropy_loss::<Tensor>(&ys, None, tch::Reduction::Mean, -100, 0.0);
            // linear warm-up over 50 steps, then linear decay to 10%
            let f = if step < 50 {
                (step + 1) as f64 / 50.0
            } else {
                1.0 - 0.9 * step as f64 / total as f64
            };
            opt.set_lr(lr * f);
            opt.backward_step(&loss);
            epoch_loss += loss.double_value(&[]);
            step += 1;
        }
        if epoch % 5 == 4 || epoch + 1 == epochs {
            println!(
                "epoch {:3}  loss {:.4}  {:.0}s",
                epoch + 1,
                epoch_loss / steps_per_epoch as f64,
                t0.elapsed().as_secs_f64()
            );
        }
    }
    std::fs::create_dir_all(&out)?;
    vs.save(out.join("model.safetensors"))?;
    let config = serde_json::json!({
        "model_type": "gpt2", "architectures": ["GPT2LMHeadModel"],
        "vocab_size": cfg.vocab_size, "n_positions": cfg.n_positions, "n_ctx": cfg.n_positions,
        "n_embd": cfg.n_embd, "n_layer": cfg.n_layer, "n_head": cfg.n_head, "n_inner": cfg.n_inner,
        "layer_norm_epsilon": cfg.layer_norm_epsilon, "activation_function": cfg.activation_function,
        "bos_token_id": eos, "eos_token_id": eos, "tie_word_embeddings": true,
        "memscan_fixture": { "seed": seed, "epochs": epochs, "parameters": n_params, "train": "tests/fixture/train.jsonl" }
    });
    std::fs::write(
        out.join("config.json"),
        serde_json::to_string_pretty(&config)? + "\n",
    )?;
    std::fs::copy(root.join("tokenizer.json"), out.join("tokenizer.json"))?;
    println!(
        "{n_params} parameters, {step} steps in {:.0}s -> {}",
        t0.elapsed().as_secs_f64(),
        out.display()
    );
    Ok(())
}
