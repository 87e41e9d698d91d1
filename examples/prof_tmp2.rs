use tch::{Device, Kind, Tensor};
fn t<F: FnMut()>(name: &str, n: usize, mut f: F) {
    f();
    let s = std::time::Instant::now();
    for _ in 0..n {
        f();
    }
    println!(
        "{name}: {:.3} ms",
        s.elapsed().as_secs_f64() * 1e3 / n as f64
    );
}
fn main() {
    tch::set_num_threads(2);
    let _g = tch::no_grad_guard();
    let o = (Kind::Float, Device::Cpu);
    let ws: Vec<[Tensor; 4]> = (0..30)
        .map(|_| {
            [
                Tensor::randn([960, 576], o),
                Tensor::randn([576, 576], o),
                Tensor::randn([3072, 576], o),
                Tensor::randn([576, 1536], o),
            ]
        })
        .collect();
    let x = Tensor::randn([8, 1, 576], o);
    let x2 = Tensor::randn([8, 1, 1536], o);
    t("30 layers gemms", 10, || {
        for w in &ws {
            let _ = x.linear::<Tensor>(&w[0], None);
            let _ = x.linear::<Tensor>(&w[1], None);
            let _ = x.linear::<Tensor>(&w[2], None);
            let _ = x2.linear::<Tensor>(&w[3], None);
        }
    });
    let emb = Tensor::randn([49152, 576], o);
    let h = Tensor::randn([8, 576], o);
    t("lm_head linear", 10, || {
        let _ = h.linear::<Tensor>(&emb, None);
    });
    t("lm_head matmul T", 10, || {
        let _ = h.matmul(&emb.tr());
    });
    let embt = emb.tr().contiguous();
    t("lm_head matmul contiguous T", 10, || {
        let _ = h.matmul(&embt);
    });
    let q = Tensor::randn([8, 9, 1, 64], o);
    let k = Tensor::randn([8, 9, 70, 64], o);
    let m = Tensor::ones([8, 1, 1, 70], (Kind::Bool, Device::Cpu));
    t("sdpa x30", 10, || {
        for _ in 0..30 {
            let _ = Tensor::scaled_dot_product_attention(
                &q,
                &k,
                &k,
                Some(&m),
                0.0,
                false,
                0.125,
                false,
            );
        }
    });
    t("manual attn x30", 10, || {
        for _ in 0..30 {
            let s = q.matmul(&k.transpose(-2, -1)) * 0.125;
            let p = s.softmax(-1, Kind::Float);
            let _ = p.matmul(&k);
        }
    });
    let kc = Tensor::randn([8, 3, 70, 64], o);
    t("cat kv x60", 10, || {
        for _ in 0..60 {
            let _ = Tensor::cat(&[&kc, &Tensor::randn([8, 3, 1, 64], o)], 2);
        }
    });
    t("expand gqa x60", 10, || {
        for _ in 0..60 {
            let _ = kc
                .unsqueeze(2)
                .expand([8, 3, 3, 70, 64], true)
                .reshape([8, 9, 70, 64]);
        }
    });
    let xx = Tensor::randn([8, 1, 576], o);
    let wn = Tensor::randn([576], o);
    t("rmsnorm x61", 10, || {
        for _ in 0..61 {
            let xf = xx.to_kind(Kind::Float);
            let var = xf.square().mean_dim(-1, true, Kind::Float);
            let _ = &wn * (xf * (var + 1e-5).rsqrt());
        }
    });
    t("rmsnorm fused x61", 10, || {
        for _ in 0..61 {
            let _ = xx.rms_norm([576], Some(&wn), 1e-5);
        }
    });
}
