//! The detector rule schema (patterns/*.toml): loading, validation and compilation.
//! Built-in rule files are embedded in the binary; `--patterns DIR` replaces them and
//! `--add-patterns DIR` adds to them. A bad rule is an input error naming the file,
//! the rule and the cause.

use std::path::{Path, PathBuf};

use regex::bytes::{Regex, RegexBuilder};
use serde::Deserialize;

use crate::error::{Error, IoContext, Result};

/// The built-in rule files, embedded at compile time.
pub const BUILTIN: &[(&str, &str)] = &[
    (
        "patterns/secrets.toml",
        include_str!("../../patterns/secrets.toml"),
    ),
    (
        "patterns/providers.toml",
        include_str!("../../patterns/providers.toml"),
    ),
    ("patterns/pii.toml", include_str!("../../patterns/pii.toml")),
];

#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Deserialize, serde::Serialize,
)]
#[serde(rename_all = "lowercase")]
pub enum Category {
    Secret,
    Pii,
}

impl Category {
    pub fn as_str(self) -> &'static str {
        match self {
            Category::Secret => "secret",
            Category::Pii => "pii",
        }
    }
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Examples {
    #[serde(default)]
    pub positive: Vec<String>,
    #[serde(default)]
    pub negative: Vec<String>,
}

/// One rule as written in a rule file.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RuleSpec {
    pub id: String,
    pub description: String,
    pub category: Category,
    pub regex: String,
    /// Capture group holding the value (0 = the whole match).
    #[serde(default)]
    pub group: usize,
    #[serde(default)]
    pub keywords: Vec<String>,
    pub min_entropy: Option<f64>,
    pub validator: Option<String>,
    #[serde(default)]
    pub allowlist: Vec<String>,
    #[serde(default)]
    pub stopwords: Vec<String>,
    /// Value openings that mark a template or a placeholder rather than a value
    /// (`${`, `{{`, `<`, `%(`): a value that begins with one is dropped. Inside a value
    /// they are ordinary characters (`Xk9#${pL7v` is a password).
    #[serde(default)]
    pub templates: Vec<String>,
    /// Lowercased words that, in the match before the value (the key it is assigned
    /// to), mark something that is not a secret (`csrf` in `csrf_token = …`).
    #[serde(default)]
    pub key_stopwords: Vec<String>,
    /// Separator characters (a regex class body, e.g. ` \-`) at which a match that
    /// fails its checks is cut into shorter candidates: a card number next to an order
    /// number, an IBAN followed by a currency code.
    pub split: Option<String>,
    /// Characters (a regex class body, e.g. `A-Za-z0-9`) that must not touch the value.
    pub not_adjacent: Option<String>,
    /// Bytes after a keyword hit that the regex may need (default 512).
    pub window: Option<usize>,
    /// Bytes before a keyword hit that the regex may need (default 64).
    pub before: Option<usize>,
    /// For rules without a literal keyword: the shape of text they need (`digits`:
    /// a run of ≥ 7 digits and separators; `dotted`: a dotted quad; `hexcolon`: hex
    /// groups joined by `:` or `-`; `alnum26`: ≥ 26 letters and digits in a row; `iban`:
    /// two capitals then two digits; `digit_block`: two neighbouring 16-byte blocks with 4+ digits and a capital).
    /// A one-pass scanner finds such regions.
    pub shape: Option<String>,
    #[serde(default = "default_confidence")]
    pub confidence: f64,
    #[serde(default)]
    pub examples: Examples,
}

/// The largest `window` or `before` a rule may ask for (1 MiB). The streaming scan
/// overlaps its chunks by twice the largest window, so an unbounded value would make it
/// allocate without limit; the built-in rules need at most 16 KiB (key blocks).
pub const MAX_WINDOW: usize = 1 << 20;

fn default_confidence() -> f64 {
    0.8
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RuleFile {
    #[serde(default)]
    rules: Vec<RuleSpec>,
}

/// A rule ready to run.
#[derive(Debug)]
pub struct Rule {
    pub spec: RuleSpec,
    pub regex: Regex,
    pub allowlist: Vec<Regex>,
    /// Lowercased stopwords.
    pub stopwords: Vec<String>,
    /// Byte set of `not_adjacent`.
    pub not_adjacent: [bool; 256],
    /// Byte set of `split` (empty: matches are never cut).
    pub split: Option<[bool; 256]>,
    /// Lowercased `key_stopwords`.
    pub key_stopwords: Vec<String>,
    pub validator: Option<super::validate::Validator>,
    /// Where the rule was defined.
    pub source: String,
}

fn compile(pattern: &str) -> std::result::Result<Regex, regex::Error> {
    RegexBuilder::new(pattern)
        .unicode(false)
        .size_limit(64 << 20)
        .dfa_size_limit(64 << 20)
        .build()
}

fn byte_class(spec: &str) -> std::result::Result<[bool; 256], regex::Error> {
    let re = compile(&format!("^[{spec}]$"))?;
    let mut set = [false; 256];
    for (b, slot) in set.iter_mut().enumerate() {
        *slot = re.is_match(&[b as u8]);
    }
    Ok(set)
}

impl Rule {
    pub fn compile(spec: RuleSpec, source: &str) -> Result<Rule> {
        let fail = |what: String| Error::input(format!("{source}: rule {}: {what}", spec.id));
        if spec.id.trim().is_empty() {
            return Err(Error::input(format!("{source}: a rule has an empty id")));
        }
        let regex = compile(&spec.regex)
            .map_err(|e| fail(format!("invalid regex ({})", one_line(&e.to_string()))))?;
        if spec.group >= regex.captures_len() {
            return Err(fail(format!(
                "group {} does not exist in the regex",
                spec.group
            )));
        }
        let allowlist = spec
            .allowlist
            .iter()
            .map(|a| {
                compile(a).map_err(|e| {
                    fail(format!(
                        "invalid allowlist regex {a:?} ({})",
                        one_line(&e.to_string())
                    ))
                })
            })
            .collect::<Result<Vec<_>>>()?;
        let not_adjacent = match &spec.not_adjacent {
            Some(c) => byte_class(c).map_err(|e| {
                fail(format!(
                    "invalid not_adjacent class ({})",
                    one_line(&e.to_string())
                ))
            })?,
            None => [false; 256],
        };
        let split = match &spec.split {
            Some(c) => Some(byte_class(c).map_err(|e| {
                fail(format!(
                    "invalid split class ({})",
                    one_line(&e.to_string())
                ))
            })?),
            None => None,
        };
        if spec.templates.iter().any(|t| t.is_empty()) {
            return Err(fail("empty template opening".into()));
        }
        let validator = match &spec.validator {
            Some(v) => Some(
                super::validate::Validator::parse(v)
                    .ok_or_else(|| fail(format!("unknown validator {v:?}")))?,
            ),
            None => None,
        };
        if !(0.0..=1.0).contains(&spec.confidence) {
            return Err(fail("confidence must be between 0 and 1".into()));
        }
        if let Some(sh) = &spec.shape {
            if super::engine::Shape::parse(sh).is_none() {
                return Err(fail(format!(
                    "unknown shape {sh:?} (digits, dotted, hexcolon, alnum26, iban, digit_block)"
                )));
            }
        }
        for (name, v) in [("window", spec.window), ("before", spec.before)] {
            if v.is_some_and(|v| v > MAX_WINDOW) {
                return Err(fail(format!(
                    "{name} = {} is larger than the maximum of {MAX_WINDOW} bytes",
                    v.unwrap_or_default()
                )));
            }
        }
        if spec.keywords.iter().any(|k| k.is_empty()) {
            return Err(fail("empty keyword".into()));
        }
        Ok(Rule {
            stopwords: spec.stopwords.iter().map(|s| s.to_lowercase()).collect(),
            key_stopwords: spec
                .key_stopwords
                .iter()
                .map(|s| s.to_lowercase())
                .collect(),
            split,
            spec,
            regex,
            allowlist,
            not_adjacent,
            validator,
            source: source.to_string(),
        })
    }
}

fn one_line(s: &str) -> String {
    s.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// Parses one rule file's text.
pub fn parse_file(text: &str, source: &str) -> Result<Vec<Rule>> {
    let file: RuleFile = toml::from_str(text).map_err(|e| {
        Error::input(format!(
            "{source}: invalid rule file ({})",
            one_line(&e.to_string())
        ))
    })?;
    file.rules
        .into_iter()
        .map(|r| Rule::compile(r, source))
        .collect()
}

/// The `*.toml` files of a folder, sorted.
fn dir_files(dir: &Path) -> Result<Vec<PathBuf>> {
    let mut v = Vec::new();
    for e in std::fs::read_dir(dir).with_file(dir)? {
        let p = e.with_file(dir)?.path();
        if p.extension().is_some_and(|x| x == "toml") {
            v.push(p);
        }
    }
    v.sort();
    if v.is_empty() {
        return Err(Error::file(dir, "no *.toml rule files in this folder"));
    }
    Ok(v)
}

/// Loads the rule set: `replace` folders instead of the built-ins when given, plus `add`.
/// Rule ids must be unique across all files.
pub fn load(replace: &[PathBuf], add: &[PathBuf]) -> Result<Vec<Rule>> {
    let mut rules = Vec::new();
    if replace.is_empty() {
        for (name, text) in BUILTIN {
            rules.extend(parse_file(text, name)?);
        }
    }
    for dir in replace.iter().chain(add) {
        for f in dir_files(dir)? {
            let text = std::fs::read_to_string(&f).with_file(&f)?;
            rules.extend(parse_file(&text, &f.display().to_string())?);
        }
    }
    let mut seen = std::collections::HashMap::new();
    for r in &rules {
        if let Some(prev) = seen.insert(r.spec.id.clone(), r.source.clone()) {
            return Err(Error::input(format!(
                "{}: rule {} is already defined in {prev}",
                r.source, r.spec.id
            )));
        }
    }
    if rules.is_empty() {
        return Err(Error::input("no detector rules loaded"));
    }
    Ok(rules)
}
