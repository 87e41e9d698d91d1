//! Tokenizers: a `tokenizer.json` through the `tokenizers` crate, or one built from
//! GGUF metadata: byte-level BPE (`tokenizer.ggml.model` = `gpt2`: tokens, merges,
//! token types and the pre-tokenizer named by `tokenizer.ggml.pre`) or SentencePiece
//! (`llama`: tokens, scores and types, see `spm`). Texts are encoded as the model's
//! tokenizer does by default: BOS only where that tokenizer adds one.

use std::path::Path;

use tokenizers::decoders::byte_level::ByteLevel as ByteLevelDecoder;
use tokenizers::models::bpe::BPE;
use tokenizers::normalizers::Precompiled;
use tokenizers::pre_tokenizers::byte_level::ByteLevel;
use tokenizers::pre_tokenizers::digits::Digits;
use tokenizers::pre_tokenizers::sequence::Sequence;
use tokenizers::pre_tokenizers::split::{Split, SplitPattern};
use tokenizers::processors::template::{Template, TemplateProcessing};
use tokenizers::utils::SysRegex;
use tokenizers::{AddedToken, PreTokenizerWrapper, SplitDelimiterBehavior};

use super::gguf::{Gguf, Value};
use super::spm::Spm;
use crate::error::{Error, IoContext, Result};

/// The encoder behind a `Tokenizer`.
enum Inner {
    /// tokenizers' pipeline (tokenizer.json, GGUF byte-level BPE).
    Hf(Box<tokenizers::Tokenizer>),
    /// A GGUF SentencePiece vocabulary; `add_bos` says whether `encode` adds BOS.
    Spm { spm: Box<Spm>, add_bos: bool },
}

pub struct Tokenizer {
    inner: Inner,
    /// One more than the largest id the tokenizer can produce (vocabulary and added
    /// tokens); see `vocab_size`.
    n_ids: usize,
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

/// Token ids must be below this: index token texts use the vocabulary size as their
/// separator symbol (libsais takes it as an i32) and `verbatim::vocab_hash` walks every
/// id. The largest vocabularies in use have about 262k entries.
pub const MAX_IDS: usize = 1 << 24;

/// One more than the largest id of `inner`'s vocabulary and added tokens. Not the
/// number of entries: ids may have holes, and a vocabulary with repeated strings keeps
/// fewer entries than it has ids.
fn id_bound(inner: &tokenizers::Tokenizer, path: &Path) -> Result<usize> {
    let n = inner
        .get_vocab(true)
        .into_values()
        .max()
        .map_or(0, |m| m as usize + 1);
    if n > MAX_IDS {
        return Err(Error::file(
            path,
            format!(
                "token id {} is too large (memscan reads vocabularies with ids below {MAX_IDS})",
                n - 1
            ),
        ));
    }
    Ok(n)
}

/// Every object under `v` (itself included) whose `type` is `ty`.
fn objects_of_type<'a>(v: &'a serde_json::Value, ty: &str, out: &mut Vec<&'a serde_json::Value>) {
    match v {
        serde_json::Value::Object(m) => {
            if m.get("type").and_then(|t| t.as_str()) == Some(ty) {
                out.push(v);
            }
            m.values().for_each(|x| objects_of_type(x, ty, out));
        }
        serde_json::Value::Array(a) => a.iter().for_each(|x| objects_of_type(x, ty, out)),
        _ => {}
    }
}

/// Refuses, as input errors, the parts of a tokenizer.json that make tokenizers 0.22
/// panic instead of returning an error (found by the fuzz harness, examples/fuzz.rs):
/// - a `Precompiled` normalizer whose charsmap does not load (its deserializer calls
///   `expect`);
/// - a `Strip` decoder with `stop` > 0, which indexes before the start of a token that
///   is shorter than `stop` or made only of the stripped character, while decoding.
///
/// - a `TemplateProcessing` post-processor whose template names a special token that
///   its `special_tokens` lacks, whose special token has different numbers of ids and
///   tokens, or whose single-sequence template uses `$B` (encoding indexes them).
///
/// - a `Replace` normalizer whose pattern matches an empty string (normalizing then
///   indexes past the end of its alignments); probed on a few short texts.
///
/// - a BPE merge whose second token is shorter than the model's
///   `continuing_subword_prefix` (building the model slices it past its end).
///
/// Syntax errors inside `decoder` panic too (`expect("Helper")`): the caller parses the
/// whole file as JSON first.
fn check_tokenizer_json(json: &serde_json::Value, path: &Path) -> Result<()> {
    let model = &json["model"];
    if let Some(prefix) = model["continuing_subword_prefix"].as_str() {
        for (i, m) in model["merges"].as_array().into_iter().flatten().enumerate() {
            let second = match m {
                serde_json::Value::String(s) => s.split(' ').nth(1),
                serde_json::Value::Array(a) => a.get(1).and_then(|b| b.as_str()),
                _ => None,
            };
            if second.is_some_and(|b| !b.is_char_boundary(prefix.len())) {
                return Err(Error::file(
                    path,
                    format!(
                        "BPE merge {i} ({m}) does not start with the continuing_subword_prefix {prefix:?}"
                    ),
                ));
            }
        }
    }
    let mut found = Vec::new();
    objects_of_type(&json["normalizer"], "Replace", &mut found);
    for r in found {
        let pattern = match (
            r["pattern"]["String"].as_str(),
            r["pattern"]["Regex"].as_str(),
        ) {
            (Some(s), _) => regex::escape(s),
            (None, Some(re)) => re.to_string(),
            // anything else is refused by tokenizers itself
            (None, None) => continue,
        };
        let Ok(re) = SysRegex::new(&pattern) else {
            continue;
        };
        let probes = ["", "a", "ab", " ", "a b", "0", "é", "\n", "<s>"];
        if probes
            .iter()
            .any(|p| re.find_iter(p).any(|(start, end)| start == end))
        {
            return Err(Error::file(
                path,
                format!("the Replace normalizer's pattern {pattern:?} matches an empty string"),
            ));
        }
    }
    let mut found = Vec::new();
    objects_of_type(&json["post_processor"], "TemplateProcessing", &mut found);
    for tp in found {
        let bad = |what: String| Error::file(path, format!("invalid TemplateProcessing ({what})"));
        let specials = &tp["special_tokens"];
        for (which, template) in [("single", &tp["single"]), ("pair", &tp["pair"])] {
            for piece in template.as_array().into_iter().flatten() {
                if let Some(id) = piece["SpecialToken"]["id"].as_str() {
                    if specials.get(id).is_none() {
                        return Err(bad(format!(
                            "{which} names special token {id:?}, which special_tokens lacks"
                        )));
                    }
                }
                if which == "single" && piece["Sequence"]["id"] == "B" {
                    return Err(bad("the single-sequence template uses $B".into()));
                }
            }
        }
        for (name, t) in specials.as_object().into_iter().flatten() {
            let n = |k: &str| t[k].as_array().map(Vec::len);
            if n("ids") != n("tokens") {
                return Err(bad(format!(
                    "special token {name:?} has different numbers of ids and tokens"
                )));
            }
        }
    }
    let mut found = Vec::new();
    objects_of_type(&json["normalizer"], "Precompiled", &mut found);
    for n in found {
        if let Err(e) = serde_json::from_value::<Precompiled>(n.clone()) {
            return Err(Error::file(
                path,
                format!("invalid Precompiled normalizer ({e})"),
            ));
        }
    }
    let mut found = Vec::new();
    objects_of_type(&json["decoder"], "Strip", &mut found);
    if found
        .iter()
        .any(|d| d.get("stop").and_then(|s| s.as_u64()) != Some(0))
    {
        return Err(Error::file(
            path,
            "the decoder has a Strip step whose \"stop\" is not 0, which memscan does not support",
        ));
    }
    Ok(())
}

/// A GGUF metadata value as the user would write it (for error messages).
fn show(v: &Value) -> String {
    match v {
        Value::String(s) => format!("{s:?}"),
        Value::Array(a) => format!("an array of {}", a.len()),
        Value::Bool(b) => b.to_string(),
        Value::F32(x) => x.to_string(),
        Value::F64(x) => x.to_string(),
        Value::I8(x) => x.to_string(),
        Value::I16(x) => x.to_string(),
        Value::I32(x) => x.to_string(),
        Value::I64(x) => x.to_string(),
        _ => v
            .as_u64()
            .map_or_else(|| format!("{v:?}"), |u| u.to_string()),
    }
}

/// Decoded text, or when the decoder reports an error, the ids' vocabulary strings
/// joined (never an empty string for ids that have tokens).
fn decoded_or_raw(
    decoded: tokenizers::Result<String>,
    ids: &[u32],
    token: impl Fn(u32) -> Option<String>,
) -> String {
    match decoded {
        Ok(s) => s,
        Err(_) => ids.iter().filter_map(|&i| token(i)).collect(),
    }
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
        let text = std::fs::read_to_string(path).with_file(path)?;
        // The syntax is checked here first: tokenizers panics on some syntax errors.
        let json: serde_json::Value = serde_json::from_str(&text)
            .map_err(|e| Error::file(path, format!("invalid JSON ({e})")))?;
        check_tokenizer_json(&json, path)?;
        let inner = text
            .parse::<tokenizers::Tokenizer>()
            .map_err(|e| Error::file(path, format!("cannot read tokenizer ({e})")))?;
        let mut inner = inner;
        // Texts are encoded whole, as transformers does by default: a truncation or
        // padding setting saved in the file is not applied (tokenizers would also panic
        // on a truncation stride of at least the length).
        inner
            .with_truncation(None)
            .map_err(|e| Error::internal(format!("tokenizer: {e}")))?;
        inner.with_padding(None);
        let n_ids = id_bound(&inner, path)?;
        let id = |t: &str| inner.token_to_id(t);
        let bos_id = [
            "<s>",
            "<bos>",
            "<|begin_of_text|>",
            "<|endoftext|>",
            "<|im_start|>",
        ]
        .iter()
        .find_map(|t| id(t));
        let eos_id = [
            "</s>",
            "<eos>",
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
            inner: Inner::Hf(Box::new(inner)),
            n_ids,
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
        match model {
            "gpt2" => Self::from_gguf_bpe(g),
            "llama" => Self::from_gguf_spm(g),
            other => Err(Error::file(
                &g.path,
                format!(
                    "GGUF tokenizer model {other} is not supported (byte-level BPE \"gpt2\" and \
                     SentencePiece \"llama\" are)"
                ),
            )),
        }
    }

    /// A SentencePiece vocabulary (`tokenizer.ggml.model` = `llama`).
    fn from_gguf_spm(g: &Gguf) -> Result<Self> {
        let tokens = gguf_strings(g, "tokenizer.ggml.tokens")?;
        if tokens.len() > MAX_IDS {
            return Err(Error::file(
                &g.path,
                format!(
                    "GGUF vocabulary has {} tokens (memscan reads up to {MAX_IDS})",
                    tokens.len()
                ),
            ));
        }
        let array = |key: &str| -> Result<&[Value]> {
            g.get(key)
                .and_then(Value::as_array)
                .ok_or_else(|| Error::file(&g.path, format!("GGUF metadata key {key} is missing")))
        };
        let scores = array("tokenizer.ggml.scores")?
            .iter()
            .map(|v| v.as_f64().map(|f| f as f32))
            .collect::<Option<Vec<_>>>()
            .ok_or_else(|| {
                Error::file(
                    &g.path,
                    "GGUF metadata tokenizer.ggml.scores holds non-numbers",
                )
            })?;
        let types = array("tokenizer.ggml.token_type")?
            .iter()
            .map(|v| v.as_u64().and_then(|t| u8::try_from(t).ok()))
            .collect::<Option<Vec<_>>>()
            .ok_or_else(|| {
                Error::file(
                    &g.path,
                    "GGUF metadata tokenizer.ggml.token_type holds non-types",
                )
            })?;
        let ids = special_ids(g, tokens.len())?;
        let add_space_prefix = g
            .get("tokenizer.ggml.add_space_prefix")
            .and_then(Value::as_bool)
            .unwrap_or(true);
        // llama.cpp adds BOS to SentencePiece vocabularies unless told otherwise
        let add_bos = g
            .get("tokenizer.ggml.add_bos_token")
            .and_then(Value::as_bool)
            .unwrap_or(true)
            && ids.bos.is_some();
        let unk = ids
            .unk
            .or_else(|| tokens.iter().position(|t| t == "<unk>").map(|i| i as u32));
        let n_ids = tokens.len();
        let (bos_token, eos_token) = (
            ids.bos.and_then(|i| tokens.get(i as usize).cloned()),
            ids.eos.and_then(|i| tokens.get(i as usize).cloned()),
        );
        let mut spm = Spm::new(tokens, scores, types, add_space_prefix, unk)
            .map_err(|e| e.in_file(&g.path))?;
        // llama.cpp knows Phi-3 by its name and drops whitespace after its special tokens
        let name = g
            .get("general.name")
            .and_then(Value::as_str)
            .unwrap_or("")
            .to_lowercase();
        if name.contains("phi-3") || name.contains("phi3") {
            spm = spm.with_phi3_strip();
        }
        Ok(Tokenizer {
            inner: Inner::Spm {
                spm: Box::new(spm),
                add_bos,
            },
            n_ids,
            bos_id: ids.bos,
            eos_id: ids.eos,
            pad_id: ids.pad,
            identity: format!("gguf:spm{}", if add_bos { "+bos" } else { "" }),
            warnings: ids.warnings,
            chat_template: g
                .get("tokenizer.chat_template")
                .and_then(Value::as_str)
                .map(str::to_string),
            bos_token,
            eos_token,
        })
    }

    /// A byte-level BPE vocabulary (`tokenizer.ggml.model` = `gpt2`).
    fn from_gguf_bpe(g: &Gguf) -> Result<Self> {
        let strings = |key: &str| gguf_strings(g, key);
        let tokens = strings("tokenizer.ggml.tokens")?;
        if tokens.len() > MAX_IDS {
            return Err(Error::file(
                &g.path,
                format!(
                    "GGUF vocabulary has {} tokens (memscan reads up to {MAX_IDS})",
                    tokens.len()
                ),
            ));
        }
        // A merge is "left right"; one without the space cannot be applied, and dropping
        // it would tokenize differently from the model's own tokenizer.
        let merges: Vec<(String, String)> = strings("tokenizer.ggml.merges")?
            .into_iter()
            .enumerate()
            .map(|(i, m)| match m.split_once(' ') {
                Some((a, b)) => Ok((a.to_string(), b.to_string())),
                None => Err(Error::file(
                    &g.path,
                    format!(
                        "GGUF metadata tokenizer.ggml.merges entry {i} ({m:?}) is not two tokens separated by a space"
                    ),
                )),
            })
            .collect::<Result<_>>()?;
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
        let SpecialIds {
            bos: bos_id,
            eos: eos_id,
            pad: pad_id,
            warnings: id_warnings,
            ..
        } = special_ids(g, tokens.len())?;
        warnings.extend(id_warnings);
        // llama.cpp's default for BPE vocabularies is to add BOS unless told otherwise.
        let add_bos = g
            .get("tokenizer.ggml.add_bos_token")
            .and_then(Value::as_bool)
            .unwrap_or(true);
        if let (true, Some(bos)) = (add_bos, bos_id) {
            let name = tokens[bos as usize].clone();
            // Templates built from pieces, not parsed from text: a token may hold spaces,
            // ':' or '$', which the text form would split or read as a sequence.
            let template = |pair: bool| {
                let special = serde_json::json!({"SpecialToken": {"id": name, "type_id": 0}});
                let a = serde_json::json!({"Sequence": {"id": "A", "type_id": 0}});
                let b = serde_json::json!({"Sequence": {"id": "B", "type_id": 0}});
                let pieces = if pair {
                    serde_json::json!([special, a, special, b])
                } else {
                    serde_json::json!([special, a])
                };
                serde_json::from_value::<Template>(pieces)
                    .map_err(|e| Error::internal(format!("BOS template: {e}")))
            };
            let tp = TemplateProcessing::builder()
                .single(template(false)?)
                .pair(template(true)?)
                .special_tokens(vec![(name.clone(), bos)])
                .build()
                .map_err(|e| Error::file(&g.path, format!("BOS token {name:?}: {e}")))?;
            inner.with_post_processor(Some(tp));
        }
        let n_ids = id_bound(&inner, &g.path)?;
        Ok(Tokenizer {
            inner: Inner::Hf(Box::new(inner)),
            n_ids,
            bos_id,
            eos_id,
            pad_id,
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
        match &self.inner {
            Inner::Hf(t) => {
                let enc = t
                    .encode(text, true)
                    .map_err(|e| Error::internal(format!("tokenizer: {e}")))?;
                Ok(enc.get_ids().to_vec())
            }
            Inner::Spm { spm, add_bos } => {
                let mut ids = Vec::new();
                if let (true, Some(b)) = (*add_bos, self.bos_id) {
                    ids.push(b);
                }
                ids.extend(spm.encode(text)?);
                Ok(ids)
            }
        }
    }

    /// Token ids of `text` without any special tokens (for corpus matching).
    pub fn encode_plain(&self, text: &str) -> Result<Vec<u32>> {
        match &self.inner {
            Inner::Hf(t) => {
                let enc = t
                    .encode(text, false)
                    .map_err(|e| Error::internal(format!("tokenizer: {e}")))?;
                Ok(enc.get_ids().to_vec())
            }
            Inner::Spm { spm, .. } => spm.encode(text),
        }
    }

    /// The token string (as in the vocabulary) of an id; empty for an id without one.
    pub fn id_to_token(&self, id: u32) -> String {
        match &self.inner {
            Inner::Hf(t) => t.id_to_token(id).unwrap_or_default(),
            Inner::Spm { spm, .. } => spm.piece(id).unwrap_or_default().to_string(),
        }
    }

    /// Decodes ids to text (special tokens kept), or says why the decoder failed.
    pub fn try_decode(&self, ids: &[u32]) -> Result<String> {
        match &self.inner {
            Inner::Hf(t) => t
                .decode(ids, false)
                .map_err(|e| Error::internal(format!("tokenizer: cannot decode ({e})"))),
            Inner::Spm { spm, .. } => Ok(spm.decode(ids)),
        }
    }

    /// Decodes ids to text (special tokens kept). Fallback: should the decoder report
    /// an error (none of the decoders tokenizers 0.22 has does), the ids' vocabulary
    /// strings are joined as they are instead, so the text is never silently empty.
    /// `try_decode` reports the error instead.
    pub fn decode(&self, ids: &[u32]) -> String {
        match &self.inner {
            Inner::Hf(t) => decoded_or_raw(t.decode(ids, false), ids, |i| t.id_to_token(i)),
            Inner::Spm { spm, .. } => spm.decode(ids),
        }
    }

    /// How many ids the tokenizer uses: one more than the largest id of its vocabulary
    /// and added tokens (at most `MAX_IDS`). Every id `encode` returns is below it.
    pub fn vocab_size(&self) -> usize {
        self.n_ids
    }
}

/// The string array under `key` of a GGUF file's metadata.
fn gguf_strings(g: &Gguf, key: &str) -> Result<Vec<String>> {
    let arr = g
        .get(key)
        .and_then(Value::as_array)
        .ok_or_else(|| Error::file(&g.path, format!("GGUF metadata key {key} is missing")))?;
    arr.iter()
        .map(|v| v.as_str().map(str::to_string))
        .collect::<Option<Vec<_>>>()
        .ok_or_else(|| Error::file(&g.path, format!("GGUF metadata {key} holds non-strings")))
}

/// BOS, EOS, padding and unknown token ids of a GGUF vocabulary of `n_tokens`.
struct SpecialIds {
    bos: Option<u32>,
    eos: Option<u32>,
    pad: Option<u32>,
    unk: Option<u32>,
    warnings: Vec<String>,
}

/// BOS/EOS ids must name a token: a wrong one would make every text start with (or stop
/// at) a token the model never saw. The padding and unknown ids are not needed to
/// encode: an unusable one is dropped, with a warning.
fn special_ids(g: &Gguf, n_tokens: usize) -> Result<SpecialIds> {
    let id = |key: &str| -> Result<Option<u32>> {
        let Some(v) = g.get(key) else {
            return Ok(None);
        };
        match v.as_u64() {
            Some(i) if i < n_tokens as u64 => Ok(Some(i as u32)),
            _ => Err(Error::file(
                &g.path,
                format!(
                    "GGUF metadata {key} = {} is not a token id (the vocabulary has {n_tokens} tokens)",
                    show(v)
                ),
            )),
        }
    };
    let mut warnings = Vec::new();
    let mut lenient = |key: &str| {
        id(key).unwrap_or_else(|e| {
            warnings.push(format!("{e}; ignored"));
            None
        })
    };
    let pad = lenient("tokenizer.ggml.padding_token_id");
    let unk = lenient("tokenizer.ggml.unknown_token_id");
    Ok(SpecialIds {
        bos: id("tokenizer.ggml.bos_token_id")?,
        eos: id("tokenizer.ggml.eos_token_id")?,
        pad,
        unk,
        warnings,
    })
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decode_falls_back_to_the_raw_tokens() {
        let token = |i: u32| ["he", "llo"].get(i as usize).map(|s| s.to_string());
        assert_eq!(decoded_or_raw(Ok("hello".into()), &[0, 1], token), "hello");
        // a decoder error used to give "" (unwrap_or_default)
        let failed: tokenizers::Result<String> = Err("decoder failed".into());
        assert_eq!(decoded_or_raw(failed, &[0, 1, 7], token), "hello");
    }
}
