//! Chat templates of the families memscan reads, as the models publish them (llama.cpp's
//! copies in models/templates, unpacked by `MEMSCAN_LLAMACPP=1 scripts/setup.sh`), rendered
//! by memscan's minijinja path and by transformers' `apply_chat_template` (jinja2) on the
//! same messages: the texts must be identical (tests/reference/chat_templates.py).

mod common;
use common::*;

fn expected() -> serde_json::Value {
    let templates = root().join(".llamacpp/src/models/templates");
    assert!(
        templates.is_dir(),
        "{} is missing: run MEMSCAN_LLAMACPP=1 scripts/setup.sh",
        templates.display()
    );
    let out = tempfile::tempdir().unwrap();
    let json = out.path().join("chat.json");
    let st = std::process::Command::new(python())
        .arg(root().join("tests/reference/chat_templates.py"))
        .arg(&templates)
        .arg(reference_data().join("tiny-llama/tokenizer.json"))
        .arg(&json)
        .env("HF_HUB_OFFLINE", "1")
        .env("TRANSFORMERS_VERBOSITY", "error")
        .status()
        .expect("run the chat-template reference");
    assert!(st.success());
    serde_json::from_str(&std::fs::read_to_string(&json).unwrap()).unwrap()
}

#[test]
fn chat_templates_render_as_transformers_does() {
    let rows = expected();
    let rows = rows.as_array().unwrap();
    assert!(rows.len() >= 25);
    let templates = root().join(".llamacpp/src/models/templates");
    let mut families = std::collections::BTreeSet::new();
    for r in rows {
        let d = tempfile::tempdir().unwrap();
        std::fs::copy(
            reference_data().join("tiny-llama/tokenizer.json"),
            d.path().join("tokenizer.json"),
        )
        .unwrap();
        let template =
            std::fs::read_to_string(templates.join(r["template"].as_str().unwrap())).unwrap();
        let config = serde_json::json!({
            "chat_template": template,
            "bos_token": r["bos"],
            "eos_token": r["eos"],
        });
        std::fs::write(d.path().join("tokenizer_config.json"), config.to_string()).unwrap();
        let tok = memscan::model::tokenizer::Tokenizer::from_file(&d.path().join("tokenizer.json"))
            .unwrap();
        let got = memscan::model::chat::wrap(&tok, r["message"].as_str().unwrap()).unwrap();
        assert_eq!(
            got,
            r["rendered"].as_str().unwrap(),
            "{} on {:?}",
            r["template"],
            r["message"]
        );
        families.insert(r["family"].as_str().unwrap().to_string());
    }
    for f in ["gemma", "qwen3", "phi3", "llama3"] {
        assert!(families.contains(f), "{f} not checked");
    }
}
