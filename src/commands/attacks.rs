//! The attacks that need an input besides the model and the texts: ReCaLL's prefix
//! of known non-members and DC-PDD's reference-corpus token frequencies, built from
//! their flags once per run and applied to each batch of scored texts.

use serde_json::{json, Value};

use crate::cli::AttackArgs;
use crate::error::{Error, Result};
use crate::recall::Prefix;
use crate::scorer::{ScoredText, Scorer};
use crate::signals::{self, Population, RmiaPopulation};
use crate::token_freq::TokenFreq;

/// RMIA's population from `--population FILE`: each text's log likelihood ratio, the
/// target (`scorer`) over the `references`, with the offline coefficient `a`. A text
/// that is also `judged` is refused (it would be judged against itself).
pub fn rmia_population(
    path: &std::path::Path,
    a: f64,
    scorer: &Scorer,
    references: &[Scorer],
    judged: &[&str],
) -> Result<RmiaPopulation> {
    if !(0.0..=1.0).contains(&a) {
        return Err(Error::input(format!("--rmia-a {a}: must be in [0, 1]")));
    }
    let records = crate::input::read_texts(path)?;
    let texts: Vec<&str> = records.iter().map(|r| r.text.as_str()).collect();
    refuse_shared(path, "the RMIA population", &texts, judged)?;
    let target = scorer.score(&texts, |_, _| {})?;
    let mut refs: Vec<Vec<Option<f64>>> = vec![Vec::new(); texts.len()];
    for r in references {
        for (v, s) in refs.iter_mut().zip(r.score(&texts, |_, _| {})?) {
            v.push(signals::nll_mean(&s.token_logprobs));
        }
    }
    let ratios: Vec<f64> = target
        .iter()
        .zip(&refs)
        .filter_map(|(t, r)| {
            let all: Option<Vec<f64>> = r.iter().copied().collect();
            signals::nll_mean(&t.token_logprobs)
                .zip(all)
                .and_then(|(t, r)| signals::rmia_log_ratio(t, &r, a))
        })
        .collect();
    let population = Population::new(ratios);
    if population.is_empty() {
        return Err(Error::file(
            path,
            "no population text has two tokens or more",
        ));
    }
    Ok(RmiaPopulation { population, a })
}

/// Texts whose mean token count sizes the ReCaLL prefix.
const LENGTH_SAMPLE: usize = 1000;

pub struct Attacks {
    pub prefix: Option<Prefix>,
    /// Con-ReCall's prefix of known members, and its weight γ.
    pub member_prefix: Option<(Prefix, f64)>,
    pub freq: Option<TokenFreq>,
    pub population: Option<RmiaPopulation>,
    /// Neighbours per text for the neighbourhood attack.
    pub neighbours: Option<usize>,
}

impl Attacks {
    /// Opens what `a` names for the texts `judged` will score (RMIA's population is
    /// scored here by `scorer` and the `references`). A ReCaLL prefix or an RMIA
    /// population that shares a text with them is refused: that text would be judged
    /// against itself.
    pub fn open(
        a: &AttackArgs,
        scorer: &Scorer,
        references: &[Scorer],
        judged: &[&str],
    ) -> Result<Attacks> {
        if a.recall_shots == Some(0) {
            return Err(Error::input("--recall-shots must be at least 1"));
        }
        if !(a.con_recall_gamma.is_finite() && a.con_recall_gamma >= 0.0) {
            return Err(Error::input(format!(
                "--con-recall-gamma {}: must be ≥ 0",
                a.con_recall_gamma
            )));
        }
        let open_prefix = |path: &std::path::Path, what: &str| -> Result<Prefix> {
            let records = crate::input::read_texts(path)?;
            let shots: Vec<&str> = records.iter().map(|r| r.text.as_str()).collect();
            refuse_shared(path, what, &shots, judged)?;
            let sample = &judged[..judged.len().min(LENGTH_SAMPLE)];
            let mut total = 0;
            for t in sample {
                total += scorer.encode(t)?.0.len();
            }
            let avg = total / sample.len().max(1);
            Prefix::new(&shots, scorer, a.recall_shots, avg)
                .map_err(|e| Error::file(path, e.to_string()))
        };
        let prefix = match &a.recall_prefix {
            Some(path) => Some(open_prefix(path, "the ReCaLL prefix")?),
            None => None,
        };
        let member_prefix = match &a.con_recall_members {
            Some(path) => Some((
                open_prefix(path, "the Con-ReCall member prefix")?,
                a.con_recall_gamma,
            )),
            None => None,
        };
        let freq = match &a.token_freq {
            Some(p) => Some(TokenFreq::open(p, scorer.tokenizer())?),
            None => None,
        };
        let population = match &a.population {
            Some(path) => Some(rmia_population(path, a.rmia_a, scorer, references, judged)?),
            None => None,
        };
        if a.neighbours == Some(0) {
            return Err(Error::input("--neighbours must be at least 1"));
        }
        Ok(Attacks {
            prefix,
            member_prefix,
            freq,
            population,
            neighbours: a.neighbours,
        })
    }

    /// ReCaLL's pass over `texts` when a prefix was given: each text's nll_mean after it.
    pub fn prefixed(&self, scorer: &Scorer, texts: &[&str]) -> Result<Option<Vec<Option<f64>>>> {
        match &self.prefix {
            Some(p) => Ok(Some(p.nll(scorer, texts)?)),
            None => Ok(None),
        }
    }

    /// Con-ReCall's member-prefixed pass over `texts` when asked for: each text's
    /// nll_mean after the member prefix.
    pub fn member_prefixed(
        &self,
        scorer: &Scorer,
        texts: &[&str],
    ) -> Result<Option<Vec<Option<f64>>>> {
        match &self.member_prefix {
            Some((p, _)) => Ok(Some(p.nll(scorer, texts)?)),
            None => Ok(None),
        }
    }

    /// What `signals::Passes::member_prefixed` takes: a text's nll after the member
    /// prefix, with γ (none without a member prefix).
    pub fn con_recall_input(&self, nll: Option<f64>) -> Option<(Option<f64>, f64)> {
        self.member_prefix.as_ref().map(|(_, gamma)| (nll, *gamma))
    }

    /// The neighbourhood attack's passes over `texts`, when asked for: per text, the
    /// nll_mean of each neighbour.
    pub fn neighbour_nlls(
        &self,
        scorer: &Scorer,
        texts: &[&str],
    ) -> Result<Option<Vec<Vec<Option<f64>>>>> {
        let Some(n) = self.neighbours else {
            return Ok(None);
        };
        let ids: Vec<Vec<u32>> = texts
            .iter()
            .map(|t| scorer.encode(t).map(|e| e.0))
            .collect::<Result<_>>()?;
        let positions: Vec<Vec<usize>> = ids
            .iter()
            .map(|s| signals::neighbour_positions(s.len(), n))
            .collect();
        let alts = scorer.alternatives(&ids, &positions)?;
        let mut seqs = Vec::new();
        let mut owner = Vec::new();
        for (i, ((s, pos), alt)) in ids.iter().zip(&positions).zip(&alts).enumerate() {
            for (&p, &a) in pos.iter().zip(alt) {
                let mut v = s.clone();
                v[p] = a;
                seqs.push(v);
                owner.push(i);
            }
        }
        let mut out: Vec<Vec<Option<f64>>> = vec![Vec::new(); texts.len()];
        for (s, i) in scorer.score_ids(&seqs, |_, _| {})?.iter().zip(owner) {
            out[i].push(signals::nll_mean(&s.token_logprobs));
        }
        Ok(Some(out))
    }

    /// DC-PDD's input for one scored text: its scored tokens' ids and the frequencies.
    pub fn frequency<'a>(&'a self, s: &'a ScoredText) -> Option<(&'a [u32], &'a TokenFreq)> {
        self.freq
            .as_ref()
            .map(|f| (s.token_ids.get(1..).unwrap_or(&[]), f))
    }

    /// What the run's settings record of them.
    pub fn settings(&self, a: &AttackArgs) -> Value {
        json!({
            "recall_prefix": a.recall_prefix.as_ref().map(|p| p.display().to_string()),
            "recall_shots": self.prefix.as_ref().map(|p| p.shots),
            "recall_shots_read": self.prefix.as_ref().map(|p| p.shots_read),
            "recall_prefix_tokens": self.prefix.as_ref().map(Prefix::len),
            "con_recall_members": a.con_recall_members.as_ref().map(|p| p.display().to_string()),
            "con_recall_shots": self.member_prefix.as_ref().map(|p| p.0.shots),
            "con_recall_gamma": self.member_prefix.as_ref().map(|p| p.1),
            "token_freq": a.token_freq.as_ref().map(|p| p.display().to_string()),
            "token_freq_total": self.freq.as_ref().map(TokenFreq::total),
            "population": a.population.as_ref().map(|p| p.display().to_string()),
            "population_texts": self.population.as_ref().map(|p| p.population.len()),
            "rmia_a": self.population.as_ref().map(|p| p.a),
            "neighbours": self.neighbours,
        })
    }
}

/// Refuses `what` (read from `path`) when it shares a text with the texts judged.
fn refuse_shared(
    path: &std::path::Path,
    what: &str,
    texts: &[&str],
    judged: &[&str],
) -> Result<()> {
    let set: std::collections::HashSet<&str> = texts.iter().copied().collect();
    let shared = judged.iter().filter(|t| set.contains(*t)).count();
    if shared > 0 {
        return Err(Error::file(
            path,
            format!("{what} shares {shared} texts with the texts judged; it must be held-out non-members"),
        ));
    }
    Ok(())
}
