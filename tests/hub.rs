//! Hub ids resolve through the Hugging Face cache layout (HF_HUB_CACHE, HF_HOME);
//! with HF_HUB_OFFLINE=1 an uncached model is a clear input error.

mod common;
use common::*;

/// Builds `<cache>/models--memscan--tiny-llama` as huggingface_hub lays it out.
fn fake_cache(cache: &std::path::Path) {
    let repo = cache.join("models--memscan--tiny-llama");
    let commit = "0123456789abcdef0123456789abcdef01234567";
    let snap = repo.join("snapshots").join(commit);
    std::fs::create_dir_all(&snap).unwrap();
    std::fs::create_dir_all(repo.join("refs")).unwrap();
    std::fs::write(repo.join("refs/main"), commit).unwrap();
    for e in std::fs::read_dir(reference_data().join("tiny-llama")).unwrap() {
        let e = e.unwrap();
        std::fs::copy(e.path(), snap.join(e.file_name())).unwrap();
    }
}

#[test]
fn hub_id_from_cache_offline() {
    let d = tempfile::tempdir().unwrap();
    let cache = d.path().join("hub");
    fake_cache(&cache);
    let input = d.path().join("t.txt");
    std::fs::write(&input, "hello world\n").unwrap();
    let offline = std::path::Path::new("1");
    let args = [
        "-q",
        "score",
        "--device",
        "cpu",
        "-m",
        "memscan/tiny-llama",
        "-i",
        input.to_str().unwrap(),
    ];
    let o = memscan_env(
        &args,
        &[("HF_HUB_CACHE", &cache), ("HF_HUB_OFFLINE", offline)],
    );
    assert!(o.status.success(), "{}", stderr(&o));
    let line: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert!(line["nll_mean"].as_f64().unwrap() > 0.0);
    // HF_HOME/hub is the fallback location
    let o = memscan_env(&args, &[("HF_HOME", d.path()), ("HF_HUB_OFFLINE", offline)]);
    assert!(o.status.success(), "{}", stderr(&o));
    // not cached + offline: exit 2 naming the model and the cache
    let args = [
        "score",
        "--device",
        "cpu",
        "-m",
        "memscan/absent-model",
        "-i",
        input.to_str().unwrap(),
    ];
    let o = memscan_env(
        &args,
        &[("HF_HUB_CACHE", &cache), ("HF_HUB_OFFLINE", offline)],
    );
    assert_input_error(
        &o,
        "model memscan/absent-model: config.json is not in the Hugging Face cache",
    );
}
