//! The unlearning benchmarks' metrics besides PrivLeak (which lives with the signals):
//! TOFU's truth ratio and forget quality (Maini et al. 2024), and MUSE's VerbMem (Shi
//! et al. 2024). `eval` computes them on the target and, when given, the retrained
//! model; `forget-check` on a person's records, with its first reference model in the
//! retrained model's place.

use std::io::BufRead;
use std::path::Path;

use serde_json::Value;

use crate::error::{Error, Result};
use crate::generate::{generate, SampleOptions};
use crate::model::LanguageModel;
use crate::report::schema;
use crate::scorer::{ScoreOptions, Scorer};
use crate::stats;

/// How a question and an answer become one text (TOFU formats them with the model's
/// chat template; a base model gets this plain form). The answer follows a space, so
/// the prompt's tokens are a prefix of the whole text's.
pub const QA_TEMPLATE: &str = "Question: {question}\nAnswer: {answer}";

/// Significance level of the forget-quality reading (TOFU's convention).
const FQ_LEVEL: f64 = 0.05;

/// One TOFU-style question of the forget set.
#[derive(Debug, Clone)]
pub struct QaRecord {
    pub question: String,
    /// A paraphrase of the true answer (`paraphrased_answer`).
    pub paraphrased: String,
    /// Wrong answers of the same form (`perturbed_answer`).
    pub perturbed: Vec<String>,
}

/// Reads TOFU's perturbed-forget-set records (JSON Lines, possibly compressed): each has
/// `question`, `paraphrased_answer` and `perturbed_answer` (a list, or one string).
pub fn read_qa(path: &Path) -> Result<Vec<QaRecord>> {
    let (reader, _) = crate::input::open(path)?;
    let reader = std::io::BufReader::new(reader);
    let mut out = Vec::new();
    for (k, line) in reader.lines().enumerate() {
        let n = k + 1;
        let line = line.map_err(|e| Error::file(path, format!("line {n}: {e}")))?;
        if line.trim().is_empty() {
            continue;
        }
        let v: Value = serde_json::from_str(&line)
            .map_err(|e| Error::file(path, format!("line {n}: invalid JSON ({e})")))?;
        let field = |name: &str| -> Result<String> {
            match v.get(name) {
                Some(Value::String(s)) if !s.trim().is_empty() => Ok(s.clone()),
                Some(Value::String(_)) => {
                    Err(Error::file(path, format!("line {n}: \"{name}\" is empty")))
                }
                Some(_) => Err(Error::file(
                    path,
                    format!("line {n}: \"{name}\" is not a string"),
                )),
                None => Err(Error::file(path, format!("line {n}: no \"{name}\" field"))),
            }
        };
        let perturbed = match v.get("perturbed_answer") {
            Some(Value::String(s)) => vec![s.clone()],
            Some(Value::Array(a)) => a
                .iter()
                .map(|x| x.as_str().map(str::to_string))
                .collect::<Option<Vec<_>>>()
                .ok_or_else(|| {
                    Error::file(
                        path,
                        format!("line {n}: \"perturbed_answer\" holds a non-string"),
                    )
                })?,
            Some(_) => {
                return Err(Error::file(
                    path,
                    format!("line {n}: \"perturbed_answer\" must be a string or a list of strings"),
                ))
            }
            None => {
                return Err(Error::file(
                    path,
                    format!("line {n}: no \"perturbed_answer\" field"),
                ))
            }
        };
        if perturbed.is_empty() || perturbed.iter().any(|p| p.trim().is_empty()) {
            return Err(Error::file(
                path,
                format!("line {n}: \"perturbed_answer\" needs at least one non-empty answer"),
            ));
        }
        out.push(QaRecord {
            question: field("question")?,
            paraphrased: field("paraphrased_answer")?,
            perturbed,
        });
    }
    if out.is_empty() {
        return Err(Error::file(path, "holds no question"));
    }
    Ok(out)
}

fn qa_text(question: &str, answer: &str) -> String {
    QA_TEMPLATE
        .replace("{question}", question)
        .replace("{answer}", answer)
}

/// The mean loss (−log p per token) of `answer`'s tokens given the question, for every
/// answer of every record: (paraphrased, perturbed…) per record.
pub fn answer_losses(scorer: &Scorer, recs: &[QaRecord]) -> Result<Vec<(f64, Vec<f64>)>> {
    let mut seqs: Vec<Vec<u32>> = Vec::new();
    let mut prompt_lens: Vec<usize> = Vec::new();
    for r in recs {
        let prompt = qa_text(&r.question, "");
        let prompt = prompt.trim_end();
        let p = scorer.tokenizer().encode(prompt)?.len();
        for a in std::iter::once(&r.paraphrased).chain(&r.perturbed) {
            seqs.push(scorer.tokenizer().encode(&qa_text(&r.question, a))?);
            prompt_lens.push(p);
        }
    }
    let scored = scorer.score_ids(&seqs, |_, _| {})?;
    let mut losses = Vec::with_capacity(seqs.len());
    for (s, &p) in scored.iter().zip(&prompt_lens) {
        // token_logprobs[i] is log p(token i+1 | tokens ≤ i): the answer's start at p−1
        let lp = s.token_logprobs.get(p.saturating_sub(1)..).unwrap_or(&[]);
        if lp.is_empty() {
            return Err(Error::input(format!(
                "a forget-set answer has no tokens within the model's {} (question too long?)",
                scorer.max_tokens()
            )));
        }
        losses.push(-lp.iter().map(|&x| x as f64).sum::<f64>() / lp.len() as f64);
    }
    let mut it = losses.into_iter();
    Ok(recs
        .iter()
        .map(|r| {
            let para = it.next().unwrap_or(f64::NAN);
            let pert = it.by_ref().take(r.perturbed.len()).collect();
            (para, pert)
        })
        .collect())
}

/// TOFU's truth ratio of one question: the perturbed answers' geometric-mean
/// per-token probability over the paraphrased answer's,
/// R = exp(L_paraphrased − mean_k L_perturbed,k) (< 1: the model prefers the truth).
/// TOFU's code keeps 1/R; the KS test ranks the same either way.
pub fn truth_ratio(paraphrased_loss: f64, perturbed_losses: &[f64]) -> f64 {
    let mean = perturbed_losses.iter().sum::<f64>() / perturbed_losses.len().max(1) as f64;
    (paraphrased_loss - mean).exp()
}

/// Forget quality: the KS test of the target's truth ratios on the forget set against
/// the retrained model's (without one, the target's ratios alone).
pub fn forget_quality(target: &[f64], retrain: Option<&[f64]>) -> schema::ForgetQuality {
    let summary = |v: &[f64]| schema::TruthRatios {
        mean: v.iter().sum::<f64>() / v.len().max(1) as f64,
        median: stats::median(v).unwrap_or(f64::NAN),
        tofu_forget_score: v.iter().map(|&r| r.min(1.0 / r)).sum::<f64>() / v.len().max(1) as f64,
    };
    let n = target.len();
    let ks = retrain.and_then(|r| stats::ks_2samp(target, r));
    let min_d = retrain.and_then(|r| stats::ks_critical(n, r.len(), FQ_LEVEL));
    let reading = match (&ks, min_d) {
        (None, _) if retrain.is_none() => "truth ratios of the target only: forget quality needs the retrained model (--retrain-model) to compare with".to_string(),
        (None, _) => "inconclusive: the truth ratios could not be compared".into(),
        (Some(_), None) => format!(
            "inconclusive: {n} questions are too few for a KS test to reject at {FQ_LEVEL} whatever the models do"
        ),
        (Some(k), Some(_)) if k.p_value < FQ_LEVEL => format!(
            "differs from the retrained model (KS D {:.3}, p {:.2e} < {FQ_LEVEL}): the forget set's answers still look learned (or were over-unlearned)",
            k.statistic, k.p_value
        ),
        (Some(k), Some(d)) => format!(
            "not told apart from the retrained model at {FQ_LEVEL} (KS D {:.3}, p {:.3}); with {n} questions only differences of D ≥ {d:.3} are detected, so smaller ones may remain",
            k.statistic, k.p_value
        ),
    };
    schema::ForgetQuality {
        method: "TOFU forget quality: two-sided two-sample KS test of per-question truth ratios, target vs retrained model (Maini et al. 2024)".into(),
        template: QA_TEMPLATE.into(),
        questions: n,
        target: summary(target),
        retrain: retrain.map(summary),
        ks_statistic: ks.map(|k| k.statistic),
        forget_quality: ks.map(|k| k.p_value),
        p_method: ks.map(|k| k.method.to_string()),
        min_detectable_d: min_d,
        reading,
    }
}

/// What `eval` or `forget-check` was asked for beyond membership.
#[derive(Debug, Clone)]
pub struct Options {
    /// VerbMem: (prompt tokens, continuation tokens), or none.
    pub verbmem: Option<(usize, usize)>,
    pub batch_size: usize,
    /// What the sets are called in the report.
    pub names: &'static Names,
}

/// What the three sets of the unlearning figures are: the texts checked, the texts
/// never trained on, and the model that stands in for a retrained one.
#[derive(Debug)]
pub struct Names {
    /// (the set's name in a table, its name in a sentence)
    pub members: (&'static str, &'static str),
    pub nonmembers: (&'static str, &'static str),
    pub retrain: (&'static str, &'static str),
}

/// `eval`'s sets.
pub const EVAL_NAMES: Names = Names {
    members: ("members", "the members'"),
    nonmembers: ("non-members", "the non-members'"),
    retrain: ("members, retrained model", "the retrained model"),
};

/// `forget-check`'s sets.
pub const FORGET_NAMES: Names = Names {
    members: ("records checked", "the records'"),
    nonmembers: ("calibration records", "the calibration records'"),
    retrain: ("records, reference model", "the reference model"),
};

impl Options {
    /// The options `a` asks for, checked.
    pub fn of(
        a: &crate::cli::UnlearningArgs,
        batch_size: usize,
        names: &'static Names,
    ) -> Result<Options> {
        if a.verbmem && (a.verbmem_prompt_tokens == 0 || a.verbmem_tokens == 0) {
            return Err(Error::input(
                "--verbmem-prompt-tokens and --verbmem-tokens must be at least 1",
            ));
        }
        Ok(Options {
            verbmem: a
                .verbmem
                .then_some((a.verbmem_prompt_tokens, a.verbmem_tokens)),
            batch_size,
            names,
        })
    }
}

/// The settings of the unlearning flags, for a report.
pub fn settings(a: &crate::cli::UnlearningArgs) -> serde_json::Map<String, Value> {
    let mut m = serde_json::Map::new();
    m.insert(
        "forget_qa".into(),
        a.forget_qa.as_ref().map(|p| p.display().to_string()).into(),
    );
    m.insert(
        "verbmem".into(),
        if a.verbmem {
            serde_json::json!({
                "prompt_tokens": a.verbmem_prompt_tokens,
                "max_new_tokens": a.verbmem_tokens,
            })
        } else {
            Value::Null
        },
    );
    m
}

/// The unlearning sections of an eval report (computed once: shard 0 in a sharded run).
#[derive(Debug, Clone, Default, serde::Serialize, serde::Deserialize)]
pub struct Sections {
    #[serde(default)]
    pub forget_quality: Option<schema::ForgetQuality>,
    #[serde(default)]
    pub verbmem: Option<schema::VerbMem>,
}

/// Computes what `o` asks for on the target and, when given, the retrained model; the
/// forget-set file was read (and checked) before any model was loaded.
pub fn sections(
    o: &Options,
    qa: &[QaRecord],
    model: &dyn LanguageModel,
    retrain: Option<&dyn LanguageModel>,
    members: &[&str],
    nonmembers: &[&str],
    quiet: bool,
) -> Result<Sections> {
    let scorer = |m| {
        Scorer::new(
            m,
            ScoreOptions {
                batch_size: o.batch_size,
                ..ScoreOptions::default()
            },
        )
    };
    let forget_quality = if qa.is_empty() {
        None
    } else {
        if !quiet {
            eprintln!("memscan: truth ratios of {} forget-set questions", qa.len());
        }
        let ratios = |m| -> Result<Vec<f64>> {
            Ok(answer_losses(&scorer(m)?, qa)?
                .iter()
                .map(|(p, q)| truth_ratio(*p, q))
                .collect())
        };
        let target = ratios(model)?;
        let retrained = retrain.map(ratios).transpose()?;
        Some(forget_quality(&target, retrained.as_deref()))
    };
    let verbmem = match o.verbmem {
        Some((prompt, new)) => {
            if !quiet {
                eprintln!(
                    "memscan: VerbMem: greedy continuations of {} texts",
                    members.len() + nonmembers.len() + retrain.map_or(0, |_| members.len())
                );
            }
            let m = verbmem_set(model, members, prompt, new, o.batch_size)?;
            let n = verbmem_set(model, nonmembers, prompt, new, o.batch_size)?;
            let r = retrain
                .map(|r| verbmem_set(r, members, prompt, new, o.batch_size))
                .transpose()?;
            Some(verbmem_report(prompt, new, m, n, r, o.names))
        }
        None => None,
    };
    Ok(Sections {
        forget_quality,
        verbmem,
    })
}

/// Per text of a VerbMem set: ROUGE-L (precision, recall, F1) and exactness.
struct VerbMemScores {
    f1: Vec<f64>,
    recall: Vec<f64>,
    exact: usize,
    skipped: usize,
}

/// Continues each text's first `prompt` tokens greedily for up to `new` tokens and
/// scores the continuation against the text's next `new` tokens (special tokens left
/// out of both, as MUSE decodes them). Texts of at most `prompt` tokens are skipped.
fn verbmem_set(
    model: &dyn LanguageModel,
    texts: &[&str],
    prompt: usize,
    new: usize,
    batch: usize,
) -> Result<VerbMemScores> {
    let tok = model.tokenizer();
    let mut jobs: Vec<(Vec<u32>, Vec<u32>)> = Vec::new();
    let mut skipped = 0;
    for t in texts {
        let with = tok.encode(t)?;
        let plain = tok.encode_plain(t)?;
        if plain.len() <= prompt {
            skipped += 1;
            continue;
        }
        let lead = if with.len() >= plain.len() && with[with.len() - plain.len()..] == plain[..] {
            with[..with.len() - plain.len()].to_vec()
        } else {
            with.iter()
                .take_while(|&&i| Some(i) == tok.bos_id)
                .copied()
                .collect()
        };
        let mut p = lead;
        p.extend_from_slice(&plain[..prompt]);
        let truth = plain[prompt..plain.len().min(prompt + new)].to_vec();
        jobs.push((p, truth));
    }
    let special = |i: &u32| Some(*i) == tok.eos_id || Some(*i) == tok.bos_id;
    let o = SampleOptions {
        max_new_tokens: new,
        temperature: 0.0,
        temperature_decay: None,
        top_k: None,
        top_p: None,
        seed: 0,
        stop_at_eos: true,
    };
    let mut out = VerbMemScores {
        f1: Vec::new(),
        recall: Vec::new(),
        exact: 0,
        skipped,
    };
    for chunk in jobs.chunks(batch.max(1)) {
        let prompts: Vec<Vec<u32>> = chunk.iter().map(|j| j.0.clone()).collect();
        for (g, (_, truth)) in generate(model, &prompts, &o)?.iter().zip(chunk) {
            let gen: Vec<u32> = g.tokens.iter().copied().filter(|i| !special(i)).collect();
            if gen.len() >= truth.len() && gen[..truth.len()] == truth[..] {
                out.exact += 1;
            }
            let (_, r, f) = rouge_l(&tok.decode(truth), &tok.decode(&gen));
            out.f1.push(f);
            out.recall.push(r);
        }
    }
    Ok(out)
}

fn verbmem_report(
    prompt: usize,
    new: usize,
    m: VerbMemScores,
    n: VerbMemScores,
    r: Option<VerbMemScores>,
    names: &Names,
) -> schema::VerbMem {
    let (mn, nn, rn) = (names.members.1, names.nonmembers.1, names.retrain.1);
    let mean = |v: &[f64]| v.iter().sum::<f64>() / v.len().max(1) as f64;
    let set = |s: &VerbMemScores| schema::VerbMemSet {
        texts: s.f1.len(),
        skipped: s.skipped,
        rouge_l_f1: mean(&s.f1),
        rouge_l_recall: mean(&s.recall),
        exact: s.exact,
    };
    let mut reading = match stats::welch_greater(&m.f1, &n.f1) {
        Some((_, _, p)) if p < 0.01 => format!(
            "{mn} continuations follow their texts more closely than {nn} do (ROUGE-L F1 {:.3} vs {:.3}; Welch one-sided p {p:.1e}): verbatim memory of {}",
            mean(&m.f1),
            mean(&n.f1),
            mn.trim_end_matches('\'')
        ),
        Some((_, _, p)) => format!(
            "{mn} continuations follow their texts no more closely than {nn} do at 1% (ROUGE-L F1 {:.3} vs {:.3}; Welch one-sided p {p:.2})",
            mean(&m.f1),
            mean(&n.f1)
        ),
        None if n.f1.is_empty() && n.skipped == 0 => format!(
            "inconclusive: ROUGE-L F1 {:.3}, with no texts never trained on to compare it with",
            mean(&m.f1)
        ),
        None => "inconclusive: too few texts long enough for a prompt and a continuation".into(),
    };
    if let Some(r) = &r {
        reading.push_str(&format!(
            "; {rn} scores {:.3} on the same texts",
            mean(&r.f1)
        ));
    }
    schema::VerbMem {
        method: "MUSE VerbMem: greedy continuation of each text's first tokens, ROUGE-L F1 against the true continuation (rouge_score tokens, Porter stems)".into(),
        prompt_tokens: prompt,
        max_new_tokens: new,
        members: set(&m),
        nonmembers: set(&n),
        retrain_members: r.as_ref().map(set),
        reading,
        set_names: (!std::ptr::eq(names, &EVAL_NAMES))
            .then(|| [names.members.0, names.nonmembers.0, names.retrain.0].map(String::from)),
    }
}

/// ROUGE's tokens as `rouge_score` makes them with its stemmer: lowercase, every run of
/// characters other than a–z and 0–9 a separator, words longer than three letters
/// Porter-stemmed (NLTK's variant).
pub fn rouge_tokens(text: &str) -> Vec<String> {
    text.to_lowercase()
        .split(|c: char| !(c.is_ascii_lowercase() || c.is_ascii_digit()))
        .filter(|w| !w.is_empty())
        .map(|w| {
            if w.len() > 3 {
                crate::porter::stem(w)
            } else {
                w.to_string()
            }
        })
        .filter(|w| !w.is_empty())
        .collect()
}

/// ROUGE-L of `prediction` against `target`: (precision, recall, F1) from the longest
/// common subsequence of their tokens; zeros when either has none.
pub fn rouge_l(target: &str, prediction: &str) -> (f64, f64, f64) {
    let (t, p) = (rouge_tokens(target), rouge_tokens(prediction));
    if t.is_empty() || p.is_empty() {
        return (0.0, 0.0, 0.0);
    }
    let mut prev = vec![0usize; p.len() + 1];
    let mut cur = vec![0usize; p.len() + 1];
    for a in &t {
        for (j, b) in p.iter().enumerate() {
            cur[j + 1] = if a == b {
                prev[j] + 1
            } else {
                cur[j].max(prev[j + 1])
            };
        }
        std::mem::swap(&mut prev, &mut cur);
    }
    let lcs = prev[p.len()] as f64;
    let (precision, recall) = (lcs / p.len() as f64, lcs / t.len() as f64);
    let f = if precision + recall > 0.0 {
        2.0 * precision * recall / (precision + recall)
    } else {
        0.0
    };
    (precision, recall, f)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn truth_ratio_follows_tofu() {
        // TOFU: exp(mean perturbed loss − paraphrased loss) is 1/R
        let r = truth_ratio(1.0, &[2.0, 3.0]);
        assert!((1.0 / r - (2.5f64 - 1.0).exp()).abs() < 1e-12);
        let same = vec![0.8; 50];
        let fq = forget_quality(&same, Some(&same));
        assert_eq!(fq.forget_quality, Some(1.0));
        assert!(fq.reading.starts_with("not told apart"), "{}", fq.reading);
        let far: Vec<f64> = (0..50).map(|i| 0.1 + i as f64 * 1e-3).collect();
        let fq = forget_quality(&far, Some(&same));
        assert!(fq.forget_quality.unwrap() < 1e-20);
        assert!(fq.reading.starts_with("differs"), "{}", fq.reading);
        let fq = forget_quality(&far[..3], Some(&same[..3]));
        assert!(fq.reading.starts_with("inconclusive"), "{}", fq.reading);
        assert!(forget_quality(&far, None).forget_quality.is_none());
    }

    /// ROUGE-L against Google's `rouge_score` (tests/reference/rouge_reference.py) on
    /// passages of Python's documentation and licence texts, paired with copies cut,
    /// shuffled, thinned, inflected or replaced.
    #[test]
    fn rouge_l_matches_rouge_score() {
        let data: serde_json::Value =
            serde_json::from_str(include_str!("../tests/data/rouge_pairs.json")).unwrap();
        let pairs = data["pairs"].as_array().unwrap();
        assert!(pairs.len() > 300);
        for (k, c) in pairs.iter().enumerate() {
            let t = c["target"].as_str().unwrap();
            let want: Vec<&str> = c["target_tokens"]
                .as_array()
                .unwrap()
                .iter()
                .map(|x| x.as_str().unwrap())
                .collect();
            assert_eq!(rouge_tokens(t), want, "pair {k}: tokens");
            let (p, r, f) = rouge_l(t, c["prediction"].as_str().unwrap());
            for (got, name) in [(p, "precision"), (r, "recall"), (f, "fmeasure")] {
                let w = c[name].as_f64().unwrap();
                assert!((got - w).abs() < 1e-12, "pair {k}: {name} {got} vs {w}");
            }
        }
    }
}
