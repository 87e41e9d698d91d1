//! Dataset inference (Maini et al. 2024, "LLM Dataset Inference: Did you train on my
//! dataset?"): was a suspect set, as a whole, in the training data? Every membership
//! signal is a feature; each set's features are clipped at their 2.5% tails; a
//! logistic regression learns suspect against validation on one half of each set; its
//! scores on the other halves are compared by a one-sided t-test (suspect higher).
//! Only valid when the validation set comes from the suspect set's distribution and
//! was surely not trained on: the same procedure run on two halves of the validation
//! set alone (which must find nothing) and the blind baseline check that.

use crate::report::schema::{DatasetInference, PAtSize};
use crate::signals::{Direction, SignalSet};
use crate::stats::{self, Logistic, SplitMix};

/// Share trimmed from each tail of a feature, per set (the reference code's `clip`).
const TAIL: f64 = 0.025;
/// Test-half sizes the p-value is also reported at.
const SIZES: [usize; 8] = [10, 20, 50, 100, 200, 500, 1000, 2000];
/// Power the minimal detectable effect is stated at.
const POWER: f64 = 0.8;
/// Fewest texts per test half for a verdict.
const MIN_TEST: usize = 10;

/// Each value beyond the `TAIL` quantiles pulled back to them.
fn clip(v: &mut [f64]) {
    let n = v.len();
    let k = (n as f64 * TAIL) as usize;
    if k == 0 {
        return;
    }
    let mut s = v.to_vec();
    s.sort_by(f64::total_cmp);
    let (lo, hi) = (s[k], s[n - 1 - k]);
    for x in v.iter_mut() {
        *x = x.clamp(lo, hi);
    }
}

/// Feature rows of one set: the signals in `names` (a missing value is `fill`'s),
/// each column clipped within the set.
fn features(rows: &[SignalSet], names: &[&str], fill: &[f64]) -> Vec<Vec<f64>> {
    let mut cols: Vec<Vec<f64>> = names
        .iter()
        .zip(fill)
        .map(|(n, f)| rows.iter().map(|r| r.get(n).unwrap_or(*f)).collect())
        .collect();
    for c in &mut cols {
        clip(c);
    }
    (0..rows.len())
        .map(|i| cols.iter().map(|c| c[i]).collect())
        .collect()
}

fn shuffled(n: usize, rng: &mut SplitMix) -> Vec<usize> {
    let mut idx: Vec<usize> = (0..n).collect();
    for i in (1..n).rev() {
        idx.swap(i, rng.below(i + 1));
    }
    idx
}

/// Scores of the test halves: (suspect, validation), from a model fitted on the
/// training halves (suspect = 1).
fn held_out_scores(a: &[Vec<f64>], b: &[Vec<f64>], rng: &mut SplitMix) -> (Vec<f64>, Vec<f64>) {
    let (ia, ib) = (shuffled(a.len(), rng), shuffled(b.len(), rng));
    let (ha, hb) = (a.len() / 2, b.len() / 2);
    let mut x: Vec<Vec<f64>> = ia[..ha].iter().map(|&i| a[i].clone()).collect();
    x.extend(ib[..hb].iter().map(|&i| b[i].clone()));
    let y: Vec<bool> = (0..ha + hb).map(|i| i < ha).collect();
    let m = Logistic::fit(&x, &y, 1e-2);
    (
        ia[ha..].iter().map(|&i| m.score(&a[i])).collect(),
        ib[hb..].iter().map(|&i| m.score(&b[i])).collect(),
    )
}

/// Dataset inference of `suspect` against `validation` over the signals `names`.
/// `texts_differ`: the blind baseline found the two sets apart by their text alone.
pub fn infer(
    names: &[(&'static str, Direction)],
    suspect: &[SignalSet],
    validation: &[SignalSet],
    alpha: f64,
    seed: u64,
    texts_differ: bool,
) -> DatasetInference {
    let feat: Vec<&str> = names.iter().map(|n| n.0).collect();
    let fill: Vec<f64> = feat
        .iter()
        .map(|n| {
            let v: Vec<f64> = suspect
                .iter()
                .chain(validation)
                .filter_map(|r| r.get(n))
                .collect();
            v.iter().sum::<f64>() / v.len().max(1) as f64
        })
        .collect();
    let a = features(suspect, &feat, &fill);
    let b = features(validation, &feat, &fill);
    let mut rng = SplitMix(seed ^ 0x0064_6174_6173_6574);
    let (sa, sb) = held_out_scores(&a, &b, &mut rng);
    let test = stats::welch_greater(&sa, &sb);
    let p_by_size = SIZES
        .iter()
        .filter(|&&n| n <= sa.len().min(sb.len()))
        .filter_map(|&n| {
            stats::welch_greater(&sa[..n], &sb[..n]).map(|(_, _, p)| PAtSize { n, p_value: p })
        })
        .collect();
    // the null control: validation against itself, split in two
    let null_p = if b.len() >= 4 * MIN_TEST {
        let idx = shuffled(b.len(), &mut rng);
        let (b1, b2): (Vec<_>, Vec<_>) = idx.iter().partition(|&&i| i % 2 == 0);
        let b1: Vec<Vec<f64>> = b1.iter().map(|&&i| b[i].clone()).collect();
        let b2: Vec<Vec<f64>> = b2.iter().map(|&&i| b[i].clone()).collect();
        let (s1, s2) = held_out_scores(&b1, &b2, &mut rng);
        stats::welch_greater(&s1, &s2).map(|r| r.2)
    } else {
        None
    };
    let n = sa.len().min(sb.len());
    // smallest standardized mean difference found with probability POWER at `alpha`
    let mde = (n >= 2).then(|| {
        (stats::normal_quantile(1.0 - alpha) + stats::normal_quantile(POWER))
            * (1.0 / sa.len() as f64 + 1.0 / sb.len() as f64).sqrt()
    });
    let verdict = match test {
        _ if n < MIN_TEST => format!(
            "inconclusive: {n} texts in the smaller test half; at least {MIN_TEST} are needed"
        ),
        _ if texts_differ => {
            "inconclusive: the blind baseline tells the two sets apart by their text alone, so a difference says nothing about training".into()
        }
        _ if null_p.is_some_and(|p| p < alpha) => {
            "inconclusive: the validation set's two halves already differ (null control), so it is not one distribution".into()
        }
        Some((_, _, p)) if p < alpha => format!(
            "used: the suspect set scores as more member-like than the validation set (p = {p:.2e} < {alpha})"
        ),
        Some((_, _, p)) => format!(
            "not detected (p = {p:.3} ≥ {alpha}); with these sizes the test finds a shift of {:.2} standard deviations {:.0}% of the time",
            mde.unwrap_or(f64::NAN),
            POWER * 100.0
        ),
        None => "inconclusive: the scores have no variance".into(),
    };
    DatasetInference {
        method: "Maini et al. 2024: every signal a feature (clipped at 2.5% tails per set); L2 logistic regression, suspect against validation, fitted on half of each set; Welch's t-test, one-sided (suspect higher), on the other halves' scores".into(),
        features: feat.iter().map(|s| s.to_string()).collect(),
        train: [a.len() / 2, b.len() / 2],
        test: [sa.len(), sb.len()],
        t: test.map(|r| r.0),
        df: test.map(|r| r.1),
        p_value: test.map(|r| r.2),
        p_by_size,
        null_control_p_value: null_p,
        min_detectable_effect: mde,
        alpha,
        verdict,
    }
}
