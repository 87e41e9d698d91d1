//! Tokenizers: a `tokenizer.json` through the `tokenizers` crate, or a byte-level
//! BPE tokenizer built from GGUF metadata (tokens, merges, token types and the
//! pre-tokenizer named by `tokenizer.ggml.pre`). Texts are encoded as the model's
//! tokenizer does by default: BOS only where that tokenizer adds one.

use std::path::Path;

use tokenizers::decoders::byte_level::ByteLevel as ByteLevelDecoder;
use tokenizers::models::bpe::BPE;
use tokenizers::pre_tokenizers::byte_level::ByteLevel;
use tokenizers::pre_tokenizers::digits::Digits;
use tokenizers::pre_tokenizers::sequence::Sequence;
use tokenizers::pre_tokenizers::split::{Split, SplitPattern};
use tokenizers::processors::template::TemplateProcessing;
use tokenizers::{AddedToken, PreTokenizerWrapper, SplitDelimiterBehavior};

use super::gguf::{Gguf, Value};
use crate::error::{Error, Result};

pub struct Tokenizer {
    inner: tokenizers::Tokenizer,
    pub bos_id: Option<u32>,
    pub eos_id: Option<u32>,
    pub pad_id: Option<u32>,
    /// Where it came from and how (e.g. "tokenizer.json", "gguf:gpt2/smollm").
    pub identity: String,
    /// Things the user should know (e.g. an unknown pre-tokenizer that fell back).
    pub warnings: Vec<String>,
    /// The model's chat template (Jinja), from the GGUF metadata or tokenizer_config.json.
    pub chat_template: Option<String>,
    /// The BOS and EOS token strings the chat template may refer to.
    pub bos_token: Option<String>,
    pub eos_token: Option<String>,
}

/// Llama 3 / Qwen2 style split pattern (the `\p{N}{1,3}` part varies).
fn llama3_pattern(digits: &str) -> String {
    format!(
        r"(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{{L}}\p{{N}}]?\p{{L}}+|{digits}| ?[^\s\p{{L}}\p{{N}}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+"
    )
}

fn split(pattern: &str) -> Result<PreTokenizerWrapper> {
    let s = Split::new(
        SplitPattern::Regex(pattern.to_string()),
        SplitDelimiterBehavior::Isolated,
        false,
    )
    .map_err(|e| Error::internal(format!("pre-tokenizer regex: {e}")))?;
    Ok(s.into())
}

impl Tokenizer {
    pub fn from_file(path: &Path) -> Result<Self> {
        let inner = tokenizers::Tokenizer::from_file(path)
            .map_err(|e| Error::file(path, format!("cannot read tokenizer ({e})")))?;
        let id = |t: &str| inner.token_to_id(t);
        let bos_id = ["<s>", "<|begin_of_text|>", "<|endoftext|>", "<|im_start|>"]
            .iter()
            .find_map(|t| id(t));
        let eos_id = [
            "</s>",
            "<|end_of_text|>",
            "<|endoftext|>",
            "<|im_end|>",
            "<|eot_id|>",
        ]
        .iter()
        .find_map(|t| id(t));
        let config = path.parent().map(|d| d.join("tokenizer_config.json"));
        let config: Option<serde_json::Value> = config
            .and_then(|p| std::fs::read_to_string(p).ok())
            .and_then(|t| serde_json::from_str(&t).ok());
        let chat_template = config
            .as_ref()
            .and_then(|c| chat_template_of(&c["chat_template"]));
        let token_str = |key: &str| {
            config.as_ref().and_then(|c| match &c[key] {
                serde_json::Value::String(s) => Some(s.clone()),
                serde_json::Value::Object(o) => o.get("content")?.as_str().map(str::to_string),
                _ => None,
            })
        };
        let bos_token =
            token_str("bos_token").or_else(|| bos_id.and_then(|i| inner.id_to_token(i)));
        let eos_token =
            token_str("eos_token").or_else(|| eos_id.and_then(|i| inner.id_to_token(i)));
        Ok(Tokenizer {
            inner,
            bos_id,
            eos_id,
            pad_id: None,
            identity: "tokenizer.json".into(),
            warnings: Vec::new(),
            chat_template,
            bos_token,
            eos_token,
        })
    }

    /// Builds the tokenizer described by a GGUF file's `tokenizer.ggml.*` metadata.
    pub fn from_gguf(g: &Gguf) -> Result<Self> {
        let model = g.str("tokenizer.ggml.model")?;
        if model != "gpt2" {
            return Err(Error::file(
                &g.path,
                format!(
                    "GGUF tokenizer model {model} is not supported (byte-level BPE \"gpt2\" is)"
                ),
            ));
        }
        let strings = |key: &str| -> Result<Vec<String>> {
            let arr = g.get(key).and_then(Value::as_array).ok_or_else(|| {
                Error::file(&g.path, format!("GGUF metadata key {key} is missing"))
            })?;
            arr.iter()
                .map(|v| v.as_str().map(str::to_string))
                .collect::<Option<Vec<_>>>()
                .ok_or_else(|| {
                    Error::file(&g.path, format!("GGUF metadata {key} holds non-strings"))
                })
        };
        let tokens = strings("tokenizer.ggml.tokens")?;
        let merges: Vec<(String, String)> = strings("tokenizer.ggml.merges")?
            .into_iter()
            .filter_map(|m| {
                m.split_once(' ')
                    .map(|(a, b)| (a.to_string(), b.to_string()))
            })
            .collect();
        let vocab: tokenizers::models::bpe::Vocab = tokens
            .iter()
            .enumerate()
            .map(|(i, t)| (t.clone(), i as u32))
            .collect();
        let bpe = BPE::builder()
            .vocab_and_merges(vocab, merges)
            .build()
            .map_err(|e| Error::file(&g.path, format!("invalid BPE vocabulary ({e})")))?;
        let mut inner = tokenizers::Tokenizer::new(bpe);

        let mut warnings = Vec::new();
        let pre = g
            .get("tokenizer.ggml.pre")
            .and_then(Value::as_str)
            .unwrap_or("default");
        let byte_level = |regex: bool| ByteLevel::new(false, false, regex);
        let pre_tokenizer: PreTokenizerWrapper = match pre {
            "default" | "gpt2" | "gpt-2" | "phi-2" | "jais" | "olmo" | "bloom" => {
                byte_level(true).into()
            }
            // Individual digits, then the GPT-2 pattern (SmolLM, StarCoder, Refact, …).
            "smollm" | "starcoder" | "refact" | "codeshell" | "command-r" => {
                Sequence::new(vec![Digits::new(true).into(), byte_level(true).into()]).into()
            }
            "llama3" | "llama-bpe" | "llama-v3" | "dbrx" | "smaug-bpe" => Sequence::new(vec![
                split(&llama3_pattern(r"\p{N}{1,3}"))?,
                byte_level(false).into(),
            ])
            .into(),
            "qwen2" | "deepseek-r1-qwen" => Sequence::new(vec![
                split(&llama3_pattern(r"\p{N}"))?,
                byte_level(false).into(),
            ])
            .into(),
            other => {
                warnings.push(format!(
                    "GGUF pre-tokenizer \"{other}\" is not known to memscan; using the GPT-2 pattern"
                ));
                byte_level(true).into()
            }
        };
        inner.with_pre_tokenizer(Some(pre_tokenizer));
        inner.with_decoder(Some(ByteLevelDecoder::default()));

        // Control (3) tokens are special; user-defined (4) ones are matched whole.
        if let Some(types) = g.get("tokenizer.ggml.token_type").and_then(Value::as_array) {
            let mut special = Vec::new();
            let mut user = Vec::new();
            for (t, ty) in tokens.iter().zip(types) {
                match ty.as_u64() {
                    Some(3) => special.push(AddedToken::from(t.clone(), true)),
                    Some(4) => user.push(AddedToken::from(t.clone(), false)),
                    _ => {}
                }
            }
            inner.add_special_tokens(&special);
            inner.add_tokens(&user);
        }
        let id = |key: &str| g.get(key).and_then(Value::as_u64).map(|v| v as u32);
        let bos_id = id("tokenizer.ggml.bos_token_id");
        let eos_id = id("tokenizer.ggml.eos_token_id");
        // llama.cpp's default for BPE vocabularies is to add BOS unless told otherwise.
        let add_bos = g
            .get("tokenizer.ggml.add_bos_token")
            .and_then(Value::as_bool)
            .unwrap_or(true);
        if let (true, Some(bos)) = (add_bos, bos_id) {
            let name = tokens.get(bos as usize).cloned().unwrap_or_default();
            let tp = TemplateProcessing::builder()
                .try_single(format!("{name} $A"))
                .and_then(|b| b.try_pair(format!("{name} $A {name} $B")))
                .map_err(|e| Error::internal(format!("BOS template: {e}")))?
                .special_tokens(vec![(name, bos)])
                .build()
                .map_err(|e| Error::internal(format!("BOS template: {e}")))?;
            inner.with_post_processor(Some(tp));
        }
        Ok(Tokenizer {
            inner,
            bos_id,
            eos_id,
            pad_id: id("tokenizer.ggml.padding_token_id"),
            identity: format!("gguf:gpt2/{pre}{}", if add_bos { "+bos" } else { "" }),
            warnings,
            chat_template: g
                .get("tokenizer.chat_template")
                .and_then(Value::as_str)
                .map(str::to_string),
            bos_token: bos_id.and_then(|i| tokens.get(i as usize).cloned()),
            eos_token: eos_id.and_then(|i| tokens.get(i as usize).cloned()),
        })
    }

    /// Token ids of `text` as the tokenizer encodes it by default (special tokens added).
    pub fn encode(&self, text: &str) -> Result<Vec<u32>> {
        let enc = self
            .inner
            .encode(text, true)
            .map_err(|e| Error::internal(format!("tokenizer: {e}")))?;
        Ok(enc.get_ids().to_vec())
    }

    /// Token ids of `text` without any special tokens (for corpus matching).
    pub fn encode_plain(&self, text: &str) -> Result<Vec<u32>> {
        let enc = self
            .inner
            .encode(text, false)
            .map_err(|e| Error::internal(format!("tokenizer: {e}")))?;
        Ok(enc.get_ids().to_vec())
    }

    /// The token strings (as in the vocabulary) of the given ids.
    pub fn id_to_token(&self, id: u32) -> String {
        self.inner.id_to_token(id).unwrap_or_default()
    }

    /// Decodes ids to text (special tokens kept).
    pub fn decode(&self, ids: &[u32]) -> String {
        self.inner.decode(ids, false).unwrap_or_default()
    }

    pub fn vocab_size(&self) -> usize {
        self.inner.get_vocab_size(true)
    }
}

/// `chat_template` of a tokenizer_config.json: a string, or a list of named templates
/// (the one named "default" is used).
fn chat_template_of(v: &serde_json::Value) -> Option<String> {
    match v {
        serde_json::Value::String(s) => Some(s.clone()),
        serde_json::Value::Array(items) => items
            .iter()
            .find(|t| t["name"] == "default")
            .and_then(|t| t["template"].as_str())
            .map(str::to_string),
        _ => None,
    }
}
