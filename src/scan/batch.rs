//! One batch of a scan: generate the continuations, score each given its prompt, run
//! the detectors and the verbatim checks, and flag → `SampleRow`s.

use crate::detect::{Category, Engine};
use crate::error::Result;
use crate::generate::{generate, Generation, SampleOptions};
use crate::model::{LanguageModel, Model};
use crate::prompts::Prompt;
use crate::report::rows::{Reason, SampleRow};
use crate::report::schema::FindingItem;
use crate::scorer::{ScoredText, Scorer};
use crate::signals::{self, SignalSet};

use super::calibrate::Cal;
use super::evidence;
use super::ScanConfig;

/// Everything a batch needs.
#[derive(Clone, Copy)]
pub struct BatchContext<'a> {
    pub cfg: &'a ScanConfig,
    pub model: &'a Model,
    pub prompts: &'a [Prompt],
    pub encoded: &'a [Vec<u32>],
    pub scorer: &'a Scorer<'a>,
    /// The reference models: the first tests the findings; all of them give
    /// `ref_ratio` (against their mean), `lira` and `rmia`.
    pub ref_scorers: &'a [Scorer<'a>],
    /// RMIA's population (`--population`).
    pub population: Option<&'a signals::RmiaPopulation>,
    /// The first reference model's tokenizer (for a value's log-probability under it).
    pub ref_tokenizer: Option<&'a crate::model::tokenizer::Tokenizer>,
    pub corpus: Option<&'a (
        crate::verbatim::Index,
        Option<crate::model::tokenizer::Tokenizer>,
    )>,
    /// A reference corpus's token frequencies (`dc_pdd`, `--token-freq`).
    pub freq: Option<&'a crate::token_freq::TokenFreq>,
    pub engine: &'a Engine,
}

impl BatchContext<'_> {
    /// Generates, scores and checks one batch; its samples.jsonl rows.
    pub fn run_batch(
        &self,
        b: usize,
        batch: &[(usize, usize)],
        opts: &SampleOptions,
        cal: &Cal,
    ) -> Result<Vec<SampleRow>> {
        let tok = self.model.tokenizer();
        let prompt_ids: Vec<Vec<u32>> = batch
            .iter()
            .map(|&(i, _)| self.encoded[i].clone())
            .collect();
        let gens = generate(self.model, &prompt_ids, opts)?;
        let full: Vec<Vec<u32>> = prompt_ids
            .iter()
            .zip(&gens)
            .map(|(p, g)| p.iter().chain(&g.tokens).copied().collect())
            .collect();
        let scored = self.scorer.score_ids(&full, |_, _| {})?;
        let texts: Vec<(String, String)> = prompt_ids
            .iter()
            .zip(&gens)
            .map(|(p, g)| (tok.decode(p), tok.decode(&g.tokens)))
            .collect();
        let fulls: Vec<String> = texts.iter().map(|(p, c)| format!("{p}{c}")).collect();
        let refs: Vec<&str> = fulls.iter().map(String::as_str).collect();
        let ref_scored = self
            .ref_scorers
            .iter()
            .map(|rs| rs.score(&refs, |_, _| {}))
            .collect::<Result<Vec<_>>>()?;
        batch
            .iter()
            .enumerate()
            .map(|(j, &(pi, k))| {
                let sample = Sample {
                    batch: b,
                    prompt: &self.prompts[pi],
                    k,
                    prompt_text: &texts[j].0,
                    continuation: &texts[j].1,
                    prompt_len: prompt_ids[j].len(),
                    generation: &gens[j],
                    scored: &scored[j],
                    reference: ref_scored.first().map(|r| &r[j]),
                    ref_nll: ref_scored
                        .iter()
                        .map(|r| signals::nll_mean(&r[j].token_logprobs))
                        .collect(),
                };
                self.row(&sample, cal)
            })
            .collect()
    }

    /// The signals of a sample's continuation given its prompt (the reference model's
    /// ratio over the whole text: it has its own tokenizer).
    fn signals(&self, x: &Sample) -> SignalSet {
        let s = x.scored;
        // the continuation's tokens given the prompt: log-probs from position prompt_len
        let from = x.prompt_len.saturating_sub(1).min(s.token_logprobs.len());
        let lp = &s.token_logprobs[from..];
        let stats = s.stats.as_ref().map(|st| {
            fn tail(v: &[f32], from: usize) -> &[f32] {
                v.get(from..).unwrap_or_default()
            }
            signals::DistStats {
                mu: tail(&st.mean_logp, from),
                sigma: tail(&st.std_logp, from),
                confidence: tail(&st.confidence, from),
                margin: tail(&st.margin, from),
            }
        });
        SignalSet::new(signals::Passes {
            references: (!x.ref_nll.is_empty()).then(|| signals::References {
                target: signals::nll_mean(&s.token_logprobs),
                nll: &x.ref_nll,
                population: self.population,
            }),
            attention: s.attn_entropy_layers.as_deref(),
            // the continuation's token ids, one per log-prob of `lp`
            frequency: self
                .freq
                .map(|f| (s.token_ids.get(from + 1..).unwrap_or_default(), f)),
            ..signals::Passes::main(signals::PassValues {
                logprobs: lp,
                stats,
                text: x.continuation,
                min_k_percent: self.cfg.min_k,
            })
        })
    }

    /// One sample checked (detectors, verbatim index, exact suffix, signal flag) → its row.
    fn row(&self, x: &Sample, cal: &Cal) -> Result<SampleRow> {
        let a = self.cfg;
        let (b, p, k, ptext, ctext) = (x.batch, x.prompt, x.k, x.prompt_text, x.continuation);
        let sig = self.signals(x);
        let id = format!("{}#{k}", p.id);
        let full_text = format!("{ptext}{ctext}");
        let pbytes = ptext.len();
        let found: Vec<crate::detect::Finding> = self
            .engine
            .scan(full_text.as_bytes())
            .into_iter()
            .filter(|f| f.end > pbytes)
            .collect();
        let mut reasons: Vec<Reason> = Vec::new();
        for (cat, reason) in [
            (Category::Secret, Reason::Secret),
            (Category::Pii, Reason::Pii),
        ] {
            if found.iter().any(|f| f.category == cat) {
                reasons.push(reason);
            }
        }
        let mut verbatim = None;
        if let Some((index, itok)) = self.corpus {
            let toks = match itok {
                Some(t) => Some(t.encode_plain(ctext)?),
                None => None,
            };
            let m = index.query(ctext.as_bytes(), toks.as_deref());
            let hit = match m.longest_match_tokens {
                Some(t) => t >= a.verbatim_tokens,
                None => m.longest_match_bytes >= 4 * a.verbatim_tokens,
            };
            if hit {
                reasons.push(Reason::Verbatim);
            }
            verbatim = Some(m);
        }
        let mut suffix = None;
        if let Some(truth) = &p.truth {
            let n = x
                .generation
                .tokens
                .iter()
                .zip(truth)
                .take_while(|(x, y)| x == y)
                .count();
            let need = a.verbatim_tokens.min(truth.len()).min(a.max_new_tokens);
            if n >= need {
                reasons.push(Reason::Suffix);
            }
            suffix = Some((n, truth.len()));
        }
        if cal.flags(a.flag.and_then(|d| sig.get(d.name))) {
            reasons.push(Reason::Signal);
        }
        // per-token byte offsets only where a finding needs them (one decode per token)
        let ends = if found.is_empty() {
            Vec::new()
        } else {
            evidence::token_ends(self.model.tokenizer(), pbytes, &x.generation.tokens)
        };
        let view = evidence::TargetView {
            scored: x.scored,
            prompt_len: x.prompt_len,
            token_ends: &ends,
            prompt_bytes: pbytes,
        };
        let reference = self.ref_tokenizer.zip(x.reference);
        // the prompt's source document (`--prefixes-from`), where a finding needs it
        let document = match (&p.truth, found.is_empty()) {
            (Some(truth), false) => {
                Some(format!("{ptext}{}", self.model.tokenizer().decode(truth)))
            }
            _ => None,
        };
        let findings: Vec<FindingItem> = found
            .iter()
            .map(|f| {
                let spec = &self.engine.rules[f.rule].spec;
                let mut evidence = evidence::measure(
                    &full_text,
                    f.start,
                    f.end,
                    &view,
                    reference,
                    self.corpus.map(|c| &c.0),
                )?;
                // a checksum speaks for memory only where the value is not in the prompt
                // (a model copies what it was shown)
                let value = String::from_utf8_lossy(&f.value);
                if self.engine.rules[f.rule].validator
                    == Some(crate::detect::validate::Validator::GithubToken)
                    && !full_text
                        .get(..pbytes.min(full_text.len()))
                        .is_some_and(|p| p.contains(value.as_ref()))
                {
                    evidence.checksum = Some(crate::detect::validate::github_checksum_ok(&value));
                }
                evidence.extracted = evidence::extracted(
                    document.as_deref(),
                    &full_text,
                    f.start,
                    f.end,
                    pbytes,
                    reference.is_some(),
                );
                Ok(FindingItem {
                    sample_id: id.clone(),
                    rule_id: spec.id.clone(),
                    category: f.category.as_str().into(),
                    description: spec.description.clone(),
                    start: f.start,
                    end: f.end,
                    masked: f.masked(),
                    fingerprint: f.fingerprint(),
                    confidence: (f.confidence * 1000.0).round() / 1000.0,
                    value: a
                        .reveal
                        .then(|| String::from_utf8_lossy(&f.value).to_string()),
                    evidence,
                    level: Default::default(),
                })
            })
            .collect::<Result<_>>()?;
        let shown = if a.reveal {
            full_text.clone()
        } else {
            masked_text(&full_text, &found)
        };
        Ok(SampleRow {
            batch: b,
            id,
            prompt_id: p.id.clone(),
            set: p.set.clone(),
            tags: p.tags.clone(),
            sample: k,
            longest_match_bytes: verbatim.as_ref().map(|m| m.longest_match_bytes),
            longest_match_tokens: verbatim.as_ref().and_then(|m| m.longest_match_tokens),
            suffix_match_tokens: suffix.map(|s| s.0),
            truth_tokens: suffix.map(|s| s.1),
            prompt_bytes: pbytes,
            text: shown,
            n_new_tokens: x.generation.tokens.len(),
            stopped: x.generation.stopped,
            signals: sig,
            findings,
            flagged: !reasons.is_empty(),
            reasons,
        })
    }
}

/// One sample of a batch, with what generating and scoring it gave.
struct Sample<'x> {
    batch: usize,
    prompt: &'x Prompt,
    /// The sample's number for its prompt.
    k: usize,
    prompt_text: &'x str,
    continuation: &'x str,
    prompt_len: usize,
    generation: &'x Generation,
    scored: &'x ScoredText,
    /// Prompt + continuation scored by the first reference model.
    reference: Option<&'x ScoredText>,
    /// Prompt + continuation's nll_mean under each reference model.
    ref_nll: Vec<Option<f64>>,
}

/// The text with every finding's value replaced by its masked form.
fn masked_text(text: &str, found: &[crate::detect::Finding]) -> String {
    let mut spans: Vec<(usize, usize, String)> =
        found.iter().map(|f| (f.start, f.end, f.masked())).collect();
    spans.sort_by_key(|s| s.0);
    let mut out = String::new();
    let mut at = 0;
    for (s, e, m) in spans {
        if s < at || e > text.len() || !text.is_char_boundary(s) || !text.is_char_boundary(e) {
            continue;
        }
        out.push_str(&text[at..s]);
        out.push_str(&m);
        at = e;
    }
    out.push_str(&text[at..]);
    out
}
