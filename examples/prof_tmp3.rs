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
    for kind in [Kind::Float, Kind::BFloat16, Kind::Half] {
        let o = (kind, Device::Cpu);
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
        for b in [8, 32] {
            let x = Tensor::randn([b, 1, 576], o);
            let x2 = Tensor::randn([b, 1, 1536], o);
            t(&format!("{kind:?} b{b} 30 layers gemms"), 5, || {
                for w in &ws {
                    let _ = x.linear::<Tensor>(&w[0], None);
                    let _ = x.linear::<Tensor>(&w[1], None);
                    let _ = x.linear::<Tensor>(&w[2], None);
                    let _ = x2.linear::<Tensor>(&w[3], None);
                }
            });
        }
    }
    let o = (Kind::Float, Device::Cpu);
    let ws: Vec<Tensor> = (0..30).map(|_| Tensor::randn([3072, 576], o)).collect();

    let x = Tensor::randn([8, 576], o);
    t("f32 gate_up x30", 5, || {
        for w in &ws {
            let _ = x.linear::<Tensor>(w, None);
        }
    });
}
