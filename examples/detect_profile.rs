//! Development aid: where the detector engine spends its time on a file.
//!     cargo run --release --example detect_profile -- FILE
fn main() {
    let path = std::env::args()
        .nth(1)
        .unwrap_or_else(|| "/tmp/big.txt".into());
    let hay = std::fs::read(&path).expect("read the file");
    let engine =
        memscan::detect::Engine::new(memscan::detect::rules::load(&[], &[]).unwrap()).unwrap();
    // libphonenumber's metadata loads on first use (about 0.1 s, once per process)
    engine.scan(b"call +1 415 555 2671");
    let mut times = Vec::new();
    let t = std::time::Instant::now();
    let n = engine.scan_timed(&hay, Some(&mut times)).len();
    let secs = t.elapsed().as_secs_f64();
    println!("{n} findings, {:.1} MB/s", hay.len() as f64 / 1e6 / secs);
    times.sort_by(|a, b| b.1.total_cmp(&a.1));
    for (name, s, bytes) in times.iter().take(15) {
        println!(
            "  {name:32} {:7.1} ms  windows cover {:.1} MB",
            s * 1e3,
            *bytes as f64 / 1e6
        );
    }
}
