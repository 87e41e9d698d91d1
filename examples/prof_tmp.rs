use memscan::model::{self, LanguageModel, ModelSpec};
use tch::{Kind, Tensor};
fn main() {
    tch::set_num_threads(2);
    let m = model::load(&ModelSpec {
        model: "models/SmolLM2-135M-Instruct.Q4_1.gguf".into(),
        device: "cpu".into(),
        dtype: Some("f32".into()),
    })
    .unwrap();
    let _g = tch::no_grad_guard();
    let b = 8i64;
    let ids = Tensor::ones([b, 6], (Kind::Int64, tch::Device::Cpu));
    let mut mask = ids.ones_like();
    let mut cache = m.new_cache();
    let h = m.forward_cached(&ids, &mask, &mut cache).unwrap();
    let mut last = h.select(1, 5);
    let (mut tf, mut tl, mut ts) = (0.0, 0.0, 0.0);
    for _ in 0..32 {
        let t = std::time::Instant::now();
        let logits = m.logits(&last).to_kind(Kind::Float);
        let _ = logits.double_value(&[0, 0]);
        tl += t.elapsed().as_secs_f64();
        let t = std::time::Instant::now();
        let next = logits.argmax(-1, false);
        let probs = logits.softmax(-1, Kind::Float);
        let _p = Vec::<f32>::try_from(probs.flatten(0, -1)).unwrap();
        ts += t.elapsed().as_secs_f64();
        let t = std::time::Instant::now();
        let step = next.view([b, 1]);
        mask = Tensor::cat(&[&mask, &step.ones_like()], 1);
        last = m
            .forward_cached(&step, &mask, &mut cache)
            .unwrap()
            .select(1, 0);
        let _ = last.double_value(&[0, 0]);
        tf += t.elapsed().as_secs_f64();
    }
    println!(
        "per step: forward {:.1} ms, logits {:.1} ms, sample {:.1} ms",
        tf / 32.0 * 1e3,
        tl / 32.0 * 1e3,
        ts / 32.0 * 1e3
    );
    // GEMM probes
    let x = Tensor::randn([8, 576], (Kind::Float, tch::Device::Cpu));
    let w = Tensor::randn([1536 * 2, 576], (Kind::Float, tch::Device::Cpu));
    let t = std::time::Instant::now();
    for _ in 0..100 {
        let _ = x.linear::<Tensor>(&w, None);
    }
    println!(
        "gate_up gemm 8x576x3072: {:.3} ms",
        t.elapsed().as_secs_f64() * 10.0
    );
    let wt = w.transpose(0, 1).contiguous();
    let t = std::time::Instant::now();
    for _ in 0..100 {
        let _ = x.matmul(&wt);
    }
    println!(
        "matmul pre-transposed: {:.3} ms",
        t.elapsed().as_secs_f64() * 10.0
    );
}
