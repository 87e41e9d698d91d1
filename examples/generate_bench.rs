//! Generation throughput on the default model: batch 8 × 64 new tokens with top-k
//! sampling (run by benches/generate_bench.py beside transformers' generate()).
//!     cargo run --release --example generate_bench -- [MODEL] [THREADS]
use memscan::generate::{generate, SampleOptions};
use memscan::model::{self, LanguageModel, ModelSpec};

fn main() {
    let mut args = std::env::args().skip(1);
    let model_path = args
        .next()
        .unwrap_or_else(|| model::default_model().display().to_string());
    if let Some(t) = args.next().and_then(|t| t.parse::<i32>().ok()) {
        tch::set_num_threads(t);
        rayon::ThreadPoolBuilder::new()
            .num_threads(t as usize)
            .build_global()
            .unwrap();
    }
    let m = model::load(&ModelSpec {
        model: model_path,
        device: memscan::model::DeviceChoice::Cpu,
        dtype: Some(memscan::model::Precision::F32),
        adapter: None,
    })
    .unwrap();
    let prompts: Vec<Vec<u32>> = [
        "My email address is",
        "Once upon a time",
        "The password is",
        "import numpy as np",
        "Dear Sir or Madam,",
        "BEGIN RSA PRIVATE KEY",
        "Call me at",
        "The GNU General Public License",
    ]
    .iter()
    .map(|p| m.tokenizer().encode(p).unwrap())
    .collect();
    let opts = SampleOptions {
        max_new_tokens: 64,
        temperature: 1.0,
        temperature_decay: None,
        top_k: Some(40),
        top_p: None,
        seed: 1,
        stop_at_eos: false,
    };
    let t = std::time::Instant::now();
    let out = generate(&m, &prompts, &opts).unwrap();
    let n: usize = out.iter().map(|g| g.tokens.len()).sum();
    let secs = t.elapsed().as_secs_f64();
    println!(
        "memscan: {n} new tokens in {secs:.2} s = {:.1} tokens/s",
        n as f64 / secs
    );
}
