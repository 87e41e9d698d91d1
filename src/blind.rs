//! The blind baseline (Das, Zhang and Tramèr 2024, "Blind Baselines Beat Membership
//! Inference Attacks for Foundation Models"): a classifier that never sees the model,
//! trained to tell the members from the non-members by their text alone. When it does as
//! well as the attacks, the split differs in something other than membership (dates,
//! topics, formatting) and the attacks' AUCs measure the split, not the model.
//!
//! Features: the presence of each word and each pair of adjacent words (lowercased runs
//! of letters and digits; years are words too). Classifier: Bernoulli naive Bayes with
//! add-one smoothing over the vocabulary seen in training, scored out of fold (5
//! stratified folds, as the combined attack). Score: the log-odds of "member".

use std::collections::HashMap;

/// FNV-1a, 64 bits: a feature's id (stable across runs and machines).
fn fnv(bytes: impl IntoIterator<Item = u8>) -> u64 {
    bytes.into_iter().fold(0xcbf2_9ce4_8422_2325, |h, b| {
        (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3)
    })
}

/// The words and adjacent word pairs of a text, as sorted, distinct feature ids.
pub(crate) fn features(text: &str) -> Vec<u64> {
    let words: Vec<String> = text
        .split(|c: char| !c.is_alphanumeric())
        .filter(|w| !w.is_empty())
        .map(str::to_lowercase)
        .collect();
    let mut f: Vec<u64> = words.iter().map(|w| fnv(w.bytes())).collect();
    for w in words.windows(2) {
        f.push(fnv(w[0].bytes().chain([b' ']).chain(w[1].bytes())));
    }
    f.sort_unstable();
    f.dedup();
    f
}

/// Bernoulli naive Bayes fitted on labelled feature sets.
pub(crate) struct NaiveBayes {
    /// Per feature seen in training: (ln P(f | member) − ln P(f | non-member), the same for
    /// its absence).
    weights: HashMap<u64, (f64, f64)>,
    /// The prior log-odds plus every absence term (a document then adds, for each of its
    /// own features, presence minus absence).
    base: f64,
}

impl NaiveBayes {
    pub(crate) fn fit(docs: &[&[u64]], member: &[bool]) -> NaiveBayes {
        let n1 = member.iter().filter(|&&m| m).count() as f64;
        let n0 = member.len() as f64 - n1;
        let mut counts: HashMap<u64, (f64, f64)> = HashMap::new();
        for (d, &m) in docs.iter().zip(member) {
            for &f in d.iter() {
                let c = counts.entry(f).or_default();
                if m {
                    c.0 += 1.0;
                } else {
                    c.1 += 1.0;
                }
            }
        }
        // summed in feature order, so the scores are the same on every run
        let mut keys: Vec<u64> = counts.keys().copied().collect();
        keys.sort_unstable();
        let mut weights = HashMap::with_capacity(keys.len());
        let mut base = ((n1 + 1.0) / (n0 + 1.0)).ln();
        for f in keys {
            let (c1, c0) = counts[&f];
            let (p1, p0) = ((c1 + 1.0) / (n1 + 2.0), (c0 + 1.0) / (n0 + 2.0));
            let absent = (1.0 - p1).ln() - (1.0 - p0).ln();
            weights.insert(f, (p1.ln() - p0.ln(), absent));
            base += absent;
        }
        NaiveBayes { weights, base }
    }

    /// ln P(member | features) − ln P(non-member | features).
    pub(crate) fn log_odds(&self, doc: &[u64]) -> f64 {
        let mut s = self.base;
        for f in doc {
            if let Some((present, absent)) = self.weights.get(f) {
                s += present - absent;
            }
        }
        s
    }
}

/// Out-of-fold log-odds of every text (members are the first `members` texts).
pub(crate) fn scores(texts: &[&str], members: usize, folds: usize, seed: u64) -> Vec<f64> {
    let feats: Vec<Vec<u64>> = texts.iter().map(|t| features(t)).collect();
    let labels: Vec<bool> = (0..texts.len()).map(|i| i < members).collect();
    let fold_of = crate::stats::stratified_folds(&labels, folds, seed);
    let mut out = vec![0.0; texts.len()];
    for f in 0..folds.max(2) {
        let (train, y): (Vec<&[u64]>, Vec<bool>) = (0..texts.len())
            .filter(|&i| fold_of[i] != f)
            .map(|i| (feats[i].as_slice(), labels[i]))
            .unzip();
        let m = NaiveBayes::fit(&train, &y);
        for i in (0..texts.len()).filter(|&i| fold_of[i] == f) {
            out[i] = m.log_odds(&feats[i]);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn features_are_words_and_pairs() {
        let f = features("In 2019, the Data-Set grew.");
        for w in [
            "in", "2019", "the", "data", "set", "grew", "in 2019", "data set",
        ] {
            assert!(f.contains(&fnv(w.bytes())), "{w}");
        }
        assert_eq!(f.len(), 11);
    }

    /// A split by date is found without the model; a random split is not.
    #[test]
    fn finds_a_split_by_year_not_a_random_one() {
        let mut rng = crate::stats::SplitMix(3);
        let topics = [
            "harbour", "budget", "festival", "election", "railway", "library",
        ];
        let text = |year: u64, rng: &mut crate::stats::SplitMix| {
            let t = topics[rng.below(topics.len())];
            format!("The {t} report of {year} was published in March.")
        };
        let old: Vec<String> = (0..120)
            .map(|_| {
                let y = 2010 + rng.below(5) as u64;
                text(y, &mut rng)
            })
            .collect();
        let new: Vec<String> = (0..120)
            .map(|_| {
                let y = 2021 + rng.below(4) as u64;
                text(y, &mut rng)
            })
            .collect();
        let mut all: Vec<&str> = old.iter().map(String::as_str).collect();
        all.extend(new.iter().map(String::as_str));
        let s = scores(&all, old.len(), 5, 1);
        let auc =
            crate::stats::auc(&s[..120], &s[120..], crate::signals::Direction::Higher).unwrap();
        assert!(auc > 0.95, "by year: {auc}");
        // members and non-members drawn alike
        let mixed: Vec<&str> = old
            .iter()
            .zip(&new)
            .flat_map(|(a, b)| [a.as_str(), b.as_str()])
            .collect();
        let s = scores(&mixed, 120, 5, 1);
        let auc =
            crate::stats::auc(&s[..120], &s[120..], crate::signals::Direction::Higher).unwrap();
        assert!((0.35..0.65).contains(&auc), "random: {auc}");
    }
}
