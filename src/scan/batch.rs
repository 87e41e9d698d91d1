//! One batch of a scan: generate the continuations, score each given its prompt, run
//! the detectors and the verbatim checks, and flag → `SampleRow`s.

use crate::detect::{Category, Engine};
use crate::error::Result;
use crate::generate::{generate, SampleOptions};
use crate::model::{LanguageModel, Model};
use crate::prompts::Prompt;
use crate::report::rows::{Reason, SampleRow};
use crate::report::schema::FindingItem;
use crate::scorer::Scorer;
use crate::signals::{self, SignalSet};

use super::calibrate::Cal;
use super::ScanConfig;

/// Everything a batch needs.
#[derive(Clone, Copy)]
pub struct BatchContext<'a> {
    pub cfg: &'a ScanConfig,
    pub model: &'a Model,
    pub prompts: &'a [Prompt],
    pub encoded: &'a [Vec<u32>],
    pub scorer: &'a Scorer<'a>,
    pub ref_scorer: Option<&'a Scorer<'a>>,
    pub corpus: Option<&'a (
        crate::verbatim::Index,
        Option<crate::model::tokenizer::Tokenizer>,
    )>,
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
        let a = self.cfg;
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
        let ref_nll: Option<Vec<Option<f64>>> = match self.ref_scorer {
            Some(rs) => {
                let fulls: Vec<String> = texts.iter().map(|(p, c)| format!("{p}{c}")).collect();
                let refs: Vec<&str> = fulls.iter().map(String::as_str).collect();
                Some(
                    rs.score(&refs, |_, _| {})?
                        .iter()
                        .map(|s| signals::nll_mean(&s.token_logprobs))
                        .collect(),
                )
            }
            None => None,
        };
        let mut rows = Vec::with_capacity(batch.len());
        for (j, &(pi, k)) in batch.iter().enumerate() {
            let p = &self.prompts[pi];
            let (ptext, ctext) = &texts[j];
            let s = &scored[j];
            let plen = prompt_ids[j].len();
            // the continuation's tokens given the prompt: log-probs from position plen
            let from = plen.saturating_sub(1).min(s.token_logprobs.len());
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
            let sig = SignalSet::new(signals::Passes {
                reference: ref_nll
                    .as_ref()
                    .map(|r| (signals::nll_mean(&s.token_logprobs), r[j])),
                attention: s.attn_entropy_layers.as_deref(),
                ..signals::Passes::main(signals::PassValues {
                    logprobs: lp,
                    stats,
                    text: ctext,
                    min_k_percent: a.min_k,
                })
            });
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
                let n = gens[j]
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
            let findings: Vec<FindingItem> = found
                .iter()
                .map(|f| {
                    let spec = &self.engine.rules[f.rule].spec;
                    FindingItem {
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
                    }
                })
                .collect();
            let shown = if a.reveal {
                full_text.clone()
            } else {
                masked_text(&full_text, &found)
            };
            rows.push(SampleRow {
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
                n_new_tokens: gens[j].tokens.len(),
                stopped: gens[j].stopped,
                signals: sig,
                findings,
                memorized: !reasons.is_empty(),
                reasons,
            });
        }
        Ok(rows)
    }
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
