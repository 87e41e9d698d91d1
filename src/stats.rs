//! Statistics that membership inference is judged by: ROC curves, AUC (ties count
//! half), TPR at a fixed FPR, bootstrap confidence intervals, Clopper–Pearson
//! intervals, the differential-privacy bounds implied by an attack, and canary
//! exposure. Pure functions; every formula lives here once.

use crate::signals::Direction;

/// Orients scores so that higher always means "member".
fn oriented(x: f64, d: Direction) -> f64 {
    match d {
        Direction::Higher => x,
        Direction::Lower => -x,
    }
}

/// One ROC point: (FPR, TPR) at a threshold (member when score ≥ threshold, oriented).
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct RocPoint {
    pub fpr: f64,
    pub tpr: f64,
    /// The threshold in the signal's own units.
    pub threshold: f64,
}

/// The ROC curve of members vs non-members, from (0,0) to (1,1), one point per
/// distinct score (ties move both rates at once).
pub(crate) fn roc(members: &[f64], nonmembers: &[f64], d: Direction) -> Vec<RocPoint> {
    let mut all: Vec<(f64, bool)> = members
        .iter()
        .map(|&x| (oriented(x, d), true))
        .chain(nonmembers.iter().map(|&x| (oriented(x, d), false)))
        .filter(|(x, _)| x.is_finite())
        .collect();
    all.sort_by(|a, b| b.0.total_cmp(&a.0));
    let (p, n) = (
        all.iter().filter(|x| x.1).count() as f64,
        all.iter().filter(|x| !x.1).count() as f64,
    );
    let mut pts = vec![RocPoint {
        fpr: 0.0,
        tpr: 0.0,
        threshold: f64::INFINITY,
    }];
    let (mut tp, mut fp) = (0.0, 0.0);
    let mut i = 0;
    while i < all.len() {
        let s = all[i].0;
        while i < all.len() && all[i].0 == s {
            if all[i].1 {
                tp += 1.0;
            } else {
                fp += 1.0;
            }
            i += 1;
        }
        let threshold = match d {
            Direction::Higher => s,
            Direction::Lower => -s,
        };
        pts.push(RocPoint {
            fpr: fp / n.max(1.0),
            tpr: tp / p.max(1.0),
            threshold,
        });
    }
    pts
}

/// Area under the ROC curve = P(member score > non-member score) + ½ P(tie)
/// (the Mann–Whitney statistic). `None` when a class is empty.
pub(crate) fn auc(members: &[f64], nonmembers: &[f64], d: Direction) -> Option<f64> {
    let pts = roc(members, nonmembers, d);
    if members.is_empty() || nonmembers.is_empty() {
        return None;
    }
    // trapezoids: ties become diagonal segments, which count half
    Some(
        pts.windows(2)
            .map(|w| (w[1].fpr - w[0].fpr) * (w[1].tpr + w[0].tpr) / 2.0)
            .sum(),
    )
}

/// Area under the precision–recall curve as average precision (members are the positive
/// class): Σₖ (Rₖ − Rₖ₋₁)·Pₖ over the distinct thresholds from the highest down, Pₖ and
/// Rₖ the precision and recall of "member when score ≥ threshold k" (the step-wise sum of
/// scikit-learn's `average_precision_score`, not a trapezoid). Its chance level is the
/// members' share of the texts. `None` when a class is empty.
pub(crate) fn average_precision(members: &[f64], nonmembers: &[f64], d: Direction) -> Option<f64> {
    let p = members.iter().filter(|x| x.is_finite()).count() as f64;
    let n = nonmembers.iter().filter(|x| x.is_finite()).count() as f64;
    if p == 0.0 || n == 0.0 {
        return None;
    }
    Some(
        roc(members, nonmembers, d)
            .windows(2)
            .map(|w| {
                let (tp, fp) = (w[1].tpr * p, w[1].fpr * n);
                let precision = if tp + fp > 0.0 { tp / (tp + fp) } else { 1.0 };
                (w[1].tpr - w[0].tpr) * precision
            })
            .sum(),
    )
}

/// The lowest FPR at which TPR ≥ `target` (the first ROC point from the strict end that
/// reaches it; e.g. FPR at 95% TPR). `None` when a class is empty.
pub(crate) fn fpr_at_tpr(
    members: &[f64],
    nonmembers: &[f64],
    d: Direction,
    target: f64,
) -> Option<f64> {
    if !members.iter().any(|x| x.is_finite()) || !nonmembers.iter().any(|x| x.is_finite()) {
        return None;
    }
    roc(members, nonmembers, d)
        .into_iter()
        .find(|p| p.tpr >= target - 1e-12)
        .map(|p| p.fpr)
}

/// The highest TPR at FPR ≤ `alpha`, the threshold that reaches it, and how many
/// non-members back the FPR (with few negatives, small α cannot be resolved:
/// the smallest non-zero FPR is 1/n).
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct TprAtFpr {
    pub alpha: f64,
    pub tpr: f64,
    pub fpr: f64,
    pub threshold: f64,
    pub n_nonmembers: usize,
    /// Non-members above the threshold (= FPR · n).
    pub false_positives: usize,
}

pub(crate) fn tpr_at_fpr(
    members: &[f64],
    nonmembers: &[f64],
    d: Direction,
    alpha: f64,
) -> TprAtFpr {
    let n = nonmembers.iter().filter(|x| x.is_finite()).count();
    let best = roc(members, nonmembers, d)
        .into_iter()
        .filter(|p| p.fpr <= alpha + 1e-12)
        .max_by(|a, b| a.tpr.total_cmp(&b.tpr).then(b.fpr.total_cmp(&a.fpr)))
        .unwrap_or(RocPoint {
            fpr: 0.0,
            tpr: 0.0,
            threshold: f64::INFINITY,
        });
    TprAtFpr {
        alpha,
        tpr: best.tpr,
        fpr: best.fpr,
        threshold: best.threshold,
        n_nonmembers: n,
        false_positives: (best.fpr * n as f64).round() as usize,
    }
}

/// A seeded splitmix64 generator, so bootstrap intervals are reproducible.
pub struct SplitMix(pub u64);

impl SplitMix {
    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E3779B97F4A7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58476D1CE4E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D049BB133111EB);
        z ^ (z >> 31)
    }
    pub fn below(&mut self, n: usize) -> usize {
        (self.next_u64() % n as u64) as usize
    }
}

/// Percentile bootstrap interval of the AUC (members and non-members resampled
/// separately, `rounds` times) at confidence `conf` (e.g. 0.95).
pub(crate) fn auc_bootstrap_ci(
    members: &[f64],
    nonmembers: &[f64],
    d: Direction,
    rounds: usize,
    conf: f64,
    seed: u64,
) -> Option<(f64, f64)> {
    if members.is_empty() || nonmembers.is_empty() || rounds == 0 {
        return None;
    }
    let mut rng = SplitMix(seed);
    let mut aucs: Vec<f64> = (0..rounds)
        .filter_map(|_| {
            let m: Vec<f64> = (0..members.len())
                .map(|_| members[rng.below(members.len())])
                .collect();
            let n: Vec<f64> = (0..nonmembers.len())
                .map(|_| nonmembers[rng.below(nonmembers.len())])
                .collect();
            auc(&m, &n, d)
        })
        .collect();
    aucs.sort_by(|a, b| a.total_cmp(b));
    let q = |p: f64| aucs[((p * (aucs.len() - 1) as f64).round() as usize).min(aucs.len() - 1)];
    Some((q((1.0 - conf) / 2.0), q(1.0 - (1.0 - conf) / 2.0)))
}

/// ln Γ(x) (Lanczos, g = 7, n = 9), x > 0.
fn ln_gamma(x: f64) -> f64 {
    const G: [f64; 9] = [
        0.999_999_999_999_809_9,
        676.520_368_121_885_1,
        -1_259.139_216_722_402_8,
        771.323_428_777_653_1,
        -176.615_029_162_140_6,
        12.507_343_278_686_905,
        -0.138_571_095_265_720_12,
        9.984_369_578_019_572e-6,
        1.505_632_735_149_311_6e-7,
    ];
    if x < 0.5 {
        return (std::f64::consts::PI / (std::f64::consts::PI * x).sin()).ln() - ln_gamma(1.0 - x);
    }
    let x = x - 1.0;
    let mut a = G[0];
    let t = x + 7.5;
    for (i, g) in G.iter().enumerate().skip(1) {
        a += g / (x + i as f64);
    }
    0.5 * (2.0 * std::f64::consts::PI).ln() + (x + 0.5) * t.ln() - t + a.ln()
}

/// Continued fraction of the incomplete beta function (modified Lentz).
fn beta_cf(a: f64, b: f64, x: f64) -> f64 {
    let tiny = 1e-300;
    let (qab, qap, qam) = (a + b, a + 1.0, a - 1.0);
    let mut c = 1.0;
    let mut d = 1.0 - qab * x / qap;
    if d.abs() < tiny {
        d = tiny;
    }
    d = 1.0 / d;
    let mut h = d;
    for m in 1..500 {
        let m = m as f64;
        let m2 = 2.0 * m;
        let aa = m * (b - m) * x / ((qam + m2) * (a + m2));
        d = 1.0 + aa * d;
        d = if d.abs() < tiny { tiny } else { d };
        c = 1.0 + aa / c;
        c = if c.abs() < tiny { tiny } else { c };
        d = 1.0 / d;
        h *= d * c;
        let aa = -(a + m) * (qab + m) * x / ((a + m2) * (qap + m2));
        d = 1.0 + aa * d;
        d = if d.abs() < tiny { tiny } else { d };
        c = 1.0 + aa / c;
        c = if c.abs() < tiny { tiny } else { c };
        d = 1.0 / d;
        let del = d * c;
        h *= del;
        if (del - 1.0).abs() < 1e-15 {
            break;
        }
    }
    h
}

/// The regularized incomplete beta function I_x(a, b).
pub(crate) fn beta_inc(a: f64, b: f64, x: f64) -> f64 {
    if x <= 0.0 {
        return 0.0;
    }
    if x >= 1.0 {
        return 1.0;
    }
    let ln_front = ln_gamma(a + b) - ln_gamma(a) - ln_gamma(b) + a * x.ln() + b * (1.0 - x).ln();
    if x < (a + 1.0) / (a + b + 2.0) {
        ln_front.exp() * beta_cf(a, b, x) / a
    } else {
        1.0 - ln_front.exp() * beta_cf(b, a, 1.0 - x) / b
    }
}

/// The p-quantile of Beta(a, b), by bisection on I_x(a, b).
pub(crate) fn beta_quantile(p: f64, a: f64, b: f64) -> f64 {
    let (mut lo, mut hi) = (0.0f64, 1.0f64);
    for _ in 0..200 {
        let mid = 0.5 * (lo + hi);
        if beta_inc(a, b, mid) < p {
            lo = mid;
        } else {
            hi = mid;
        }
    }
    0.5 * (lo + hi)
}

/// Clopper–Pearson (exact binomial) interval for k successes in n trials at
/// confidence `conf`: (Beta(α/2; k, n−k+1), Beta(1−α/2; k+1, n−k)).
pub(crate) fn clopper_pearson(k: u64, n: u64, conf: f64) -> (f64, f64) {
    let alpha = 1.0 - conf;
    let (k, n) = (k as f64, n as f64);
    let lo = if k == 0.0 {
        0.0
    } else {
        beta_quantile(alpha / 2.0, k, n - k + 1.0)
    };
    let hi = if k == n {
        1.0
    } else {
        beta_quantile(1.0 - alpha / 2.0, k + 1.0, n - k)
    };
    (lo, hi)
}

/// The lower bound on ε that an attack with true-positive rate `tpr` and
/// false-positive rate `fpr` implies for an (ε, δ)-DP training algorithm:
/// TPR ≤ e^ε FPR + δ and 1 − FPR ≤ e^ε (1 − TPR) + δ, so
/// ε ≥ max(ln((TPR − δ)/FPR), ln((1 − FPR − δ)/(1 − TPR))). Use a lower confidence
/// bound for TPR and an upper one for FPR to make it a statistical lower bound.
pub(crate) fn epsilon_lower_bound(tpr: f64, fpr: f64, delta: f64) -> f64 {
    let a = if fpr > 0.0 && tpr - delta > 0.0 {
        ((tpr - delta) / fpr).ln()
    } else if tpr - delta > 0.0 {
        f64::INFINITY
    } else {
        0.0
    };
    let b = if tpr < 1.0 && 1.0 - fpr - delta > 0.0 {
        ((1.0 - fpr - delta) / (1.0 - tpr)).ln()
    } else if 1.0 - fpr - delta > 0.0 {
        f64::INFINITY
    } else {
        0.0
    };
    a.max(b).max(0.0)
}

/// The most membership advantage (TPR − FPR) an ε-DP algorithm allows: (e^ε − 1)/(e^ε + 1).
pub(crate) fn max_advantage(epsilon: f64) -> f64 {
    (epsilon.exp() - 1.0) / (epsilon.exp() + 1.0)
}

/// The most balanced accuracy an ε-DP algorithm allows: e^ε/(1 + e^ε).
pub(crate) fn max_accuracy(epsilon: f64) -> f64 {
    epsilon.exp() / (1.0 + epsilon.exp())
}

/// Secret Sharer exposure of a canary: log2 |R| − log2 rank, rank 1 = the most likely
/// of the |R| candidates.
pub(crate) fn exposure(space_size: f64, rank: f64) -> f64 {
    space_size.log2() - rank.max(1.0).log2()
}

/// Best balanced accuracy over thresholds: max over the ROC of (TPR + 1 − FPR)/2.
pub(crate) fn best_balanced_accuracy(members: &[f64], nonmembers: &[f64], d: Direction) -> f64 {
    roc(members, nonmembers, d)
        .iter()
        .map(|p| (p.tpr + 1.0 - p.fpr) / 2.0)
        .fold(0.0, f64::max)
}

/// P(member | score above threshold) under `prior`, from the TPR and FPR there (Bayes).
pub(crate) fn posterior(tpr: f64, fpr: f64, prior: f64) -> f64 {
    let num = tpr * prior;
    let den = num + fpr * (1.0 - prior);
    if den > 0.0 {
        num / den
    } else {
        prior
    }
}

/// Mean and sample standard deviation (n − 1) of `v`; `None` with fewer than 2 values.
pub(crate) fn normal_fit(v: &[f64]) -> Option<(f64, f64)> {
    if v.len() < 2 {
        return None;
    }
    let n = v.len() as f64;
    let mu = v.iter().sum::<f64>() / n;
    let sd = (v.iter().map(|x| (x - mu).powi(2)).sum::<f64>() / (n - 1.0)).sqrt();
    Some((mu, sd))
}

/// The flag threshold at false-positive rate `fpr` over null values: the value that
/// at most ⌊fpr·n⌋ of them are strictly beyond toward `d` (member-like), and the
/// fraction that are beyond it. `None` for no values.
pub(crate) fn threshold_at_fpr(null: &[f64], d: Direction, fpr: f64) -> Option<(f64, f64)> {
    if null.is_empty() {
        return None;
    }
    let mut v = null.to_vec();
    // most member-like first
    v.sort_by(|x, y| match d {
        Direction::Lower => x.total_cmp(y),
        Direction::Higher => y.total_cmp(x),
    });
    let k = ((fpr * v.len() as f64).floor() as usize).min(v.len() - 1);
    let t = v[k];
    let beyond = v.iter().filter(|&&x| is_beyond(d, x, t)).count();
    Some((t, beyond as f64 / v.len() as f64))
}

/// Whether `v` is strictly beyond threshold `t` toward member-like.
pub(crate) fn is_beyond(d: Direction, v: f64, t: f64) -> bool {
    match d {
        Direction::Lower => v < t,
        Direction::Higher => v > t,
    }
}

/// The median (mean of the middle two for an even count); `None` when empty.
pub(crate) fn median(v: &[f64]) -> Option<f64> {
    if v.is_empty() {
        return None;
    }
    let mut s = v.to_vec();
    s.sort_by(f64::total_cmp);
    let n = s.len();
    Some(if n % 2 == 1 {
        s[n / 2]
    } else {
        (s[n / 2 - 1] + s[n / 2]) / 2.0
    })
}

/// `bins` equal-width bins over [min, max]: (edges, counts).
pub(crate) fn histogram(v: &[f64], bins: usize) -> (Vec<f64>, Vec<u64>) {
    let lo = v.iter().copied().fold(f64::INFINITY, f64::min);
    let hi = v.iter().copied().fold(f64::NEG_INFINITY, f64::max);
    histogram_over(v, lo, hi, bins)
}

/// `bins` equal-width bins over [lo, hi] (one bin of width 1 from lo when hi ≤ lo):
/// (edges, counts); values outside go to the end bins, non-finite ones nowhere.
pub(crate) fn histogram_over(v: &[f64], lo: f64, hi: f64, bins: usize) -> (Vec<f64>, Vec<u64>) {
    if v.is_empty() || bins == 0 || !lo.is_finite() {
        return (Vec::new(), Vec::new());
    }
    let width = if hi > lo {
        (hi - lo) / bins as f64
    } else {
        1.0
    };
    let edges: Vec<f64> = (0..=bins).map(|i| lo + width * i as f64).collect();
    let mut counts = vec![0u64; bins];
    for &x in v.iter().filter(|x| x.is_finite()) {
        let i = (((x - lo) / width).max(0.0) as usize).min(bins - 1);
        counts[i] += 1;
    }
    (edges, counts)
}

/// A test of two rates k1/n1 and k2/n2: the difference k2/n2 − k1/n1, the two-sided
/// p-value, and the test used. The pooled two-proportion z-test (equal to Pearson's χ²
/// on the 2×2 table without continuity correction) where every expected cell count is
/// at least 5; Fisher's exact test otherwise. None when a size is 0.
pub(crate) fn compare_rates(
    k1: u64,
    n1: u64,
    k2: u64,
    n2: u64,
) -> Option<(f64, f64, &'static str)> {
    if n1 == 0 || n2 == 0 || k1 > n1 || k2 > n2 {
        return None;
    }
    let diff = k2 as f64 / n2 as f64 - k1 as f64 / n1 as f64;
    let (n, k) = ((n1 + n2) as f64, (k1 + k2) as f64);
    let min_expected = [n1 as f64, n2 as f64]
        .iter()
        .flat_map(|&m| [m * k / n, m * (n - k) / n])
        .fold(f64::INFINITY, f64::min);
    if min_expected >= 5.0 {
        let pool = k / n;
        let se = (pool * (1.0 - pool) * (1.0 / n1 as f64 + 1.0 / n2 as f64)).sqrt();
        let p = if se > 0.0 {
            two_sided_p(diff / se)
        } else {
            1.0
        };
        Some((diff, p, "two-proportion z-test (pooled)"))
    } else {
        Some((diff, fisher_exact(k1, n1, k2, n2), "Fisher's exact test"))
    }
}

/// Two-sided Fisher's exact test on the 2×2 table [[k1, n1−k1], [k2, n2−k2]]: the
/// summed hypergeometric probability of every table with the same margins that is no
/// more likely than the observed one (relative tolerance 1e-7, as R and SciPy).
pub(crate) fn fisher_exact(k1: u64, n1: u64, k2: u64, n2: u64) -> f64 {
    let k = k1 + k2;
    let ln_choose = |n: u64, r: u64| {
        ln_gamma(n as f64 + 1.0) - ln_gamma(r as f64 + 1.0) - ln_gamma((n - r) as f64 + 1.0)
    };
    let total = ln_choose(n1 + n2, k);
    let lnp = |x: u64| ln_choose(n1, x) + ln_choose(n2, k - x) - total;
    let lo = k.saturating_sub(n2);
    let hi = k.min(n1);
    let observed = lnp(k1);
    let p: f64 = (lo..=hi)
        .map(lnp)
        .filter(|&l| l <= observed + 1e-7f64.ln_1p())
        .map(f64::exp)
        .sum();
    p.clamp(0.0, 1.0)
}

/// Hanley & McNeil's (1982) standard error of an AUC from n1 members and n2
/// non-members: √((A(1−A) + (n1−1)(Q1−A²) + (n2−1)(Q2−A²)) / (n1·n2)), Q1 = A/(2−A),
/// Q2 = 2A²/(1+A).
pub(crate) fn auc_se(auc: f64, n1: usize, n2: usize) -> Option<f64> {
    if n1 == 0 || n2 == 0 || !auc.is_finite() {
        return None;
    }
    let (q1, q2) = (auc / (2.0 - auc), 2.0 * auc * auc / (1.0 + auc));
    let v = (auc * (1.0 - auc)
        + (n1 as f64 - 1.0) * (q1 - auc * auc)
        + (n2 as f64 - 1.0) * (q2 - auc * auc))
        / (n1 as f64 * n2 as f64);
    Some(v.max(0.0).sqrt())
}

/// Two-sided p of the difference of two independent estimates with standard errors.
pub(crate) fn z_difference_p(a: f64, se_a: f64, b: f64, se_b: f64) -> Option<f64> {
    let se = (se_a * se_a + se_b * se_b).sqrt();
    (se > 0.0 && (b - a).is_finite()).then(|| two_sided_p((b - a) / se))
}

/// The Mann–Whitney U test's two-sided p from the AUC (= U / (n1·n2)) of two samples
/// of sizes n1 and n2, by the normal approximation without tie or continuity correction.
pub(crate) fn mann_whitney_p(auc: f64, n1: usize, n2: usize) -> Option<f64> {
    let (a, b) = (n1 as f64, n2 as f64);
    let sd = (a * b * (a + b + 1.0) / 12.0).sqrt();
    (sd > 0.0 && auc.is_finite()).then(|| two_sided_p((auc - 0.5) * a * b / sd))
}

/// Holm's step-down adjustment of p-values (family-wise error rate), in input order.
pub(crate) fn holm(p: &[f64]) -> Vec<f64> {
    let m = p.len();
    let mut order: Vec<usize> = (0..m).collect();
    order.sort_by(|&i, &j| p[i].total_cmp(&p[j]));
    let mut out = vec![1.0; m];
    let mut running = 0.0f64;
    for (rank, &i) in order.iter().enumerate() {
        running = running.max(((m - rank) as f64 * p[i]).min(1.0));
        out[i] = running;
    }
    out
}

/// The standard normal upper tail 1 − Φ(z), accurate in the far tail too: Φ's formula
/// below z = 6, beyond it the asymptotic Mills-ratio series φ(z)/z · (1 − 1/z² + 3/z⁴ −
/// 15/z⁶ + 105/z⁸) (relative error under 2e-5 there), so tiny p-values are not 0.
pub(crate) fn normal_sf(z: f64) -> f64 {
    if z < 6.0 {
        return 1.0 - normal_cdf(z);
    }
    let z2 = z * z;
    let phi = (-0.5 * z2).exp() / (2.0 * std::f64::consts::PI).sqrt();
    phi / z
        * (1.0 - 1.0 / z2 + 3.0 / (z2 * z2) - 15.0 / (z2 * z2 * z2) + 105.0 / (z2 * z2 * z2 * z2))
}

/// The two-sided p-value of a standard normal statistic z: 2·(1 − Φ(|z|)).
pub(crate) fn two_sided_p(z: f64) -> f64 {
    (2.0 * normal_sf(z.abs())).clamp(0.0, 1.0)
}

/// Standard normal CDF Φ(z) (Abramowitz–Stegun 7.1.26 on erfc; |error| < 1.5e-7).
pub(crate) fn normal_cdf(z: f64) -> f64 {
    let x = z.abs() / std::f64::consts::SQRT_2;
    let t = 1.0 / (1.0 + 0.327_591_1 * x);
    let poly = t
        * (0.254_829_592
            + t * (-0.284_496_736
                + t * (1.421_413_741 + t * (-1.453_152_027 + t * 1.061_405_429))));
    let erfc = poly * (-x * x).exp();
    if z >= 0.0 {
        1.0 - 0.5 * erfc
    } else {
        0.5 * erfc
    }
}

/// P(T > t) for Student's t with `df` degrees of freedom (df > 0, real), from the
/// regularized incomplete beta: P(|T| > |t|) = I_{df/(df+t²)}(df/2, 1/2).
pub(crate) fn student_t_sf(t: f64, df: f64) -> f64 {
    let tail = 0.5 * beta_inc(df / 2.0, 0.5, df / (df + t * t));
    if t >= 0.0 {
        tail
    } else {
        1.0 - tail
    }
}

/// Welch's two-sample t-test of H1: mean(a) > mean(b), unequal variances, with the
/// Welch–Satterthwaite degrees of freedom: (t, df, one-sided p). `None` with fewer than
/// two values on a side or no variance at all.
pub(crate) fn welch_greater(a: &[f64], b: &[f64]) -> Option<(f64, f64, f64)> {
    let stats = |v: &[f64]| {
        let n = v.len() as f64;
        let m = v.iter().sum::<f64>() / n;
        let var = v.iter().map(|x| (x - m).powi(2)).sum::<f64>() / (n - 1.0);
        (n, m, var)
    };
    if a.len() < 2 || b.len() < 2 {
        return None;
    }
    let ((na, ma, va), (nb, mb, vb)) = (stats(a), stats(b));
    let (sa, sb) = (va / na, vb / nb);
    let se2 = sa + sb;
    if se2 <= 0.0 || !se2.is_finite() {
        return None;
    }
    let t = (ma - mb) / se2.sqrt();
    let df = se2 * se2 / (sa * sa / (na - 1.0) + sb * sb / (nb - 1.0));
    Some((t, df, student_t_sf(t, df)))
}

/// The two-sample Kolmogorov–Smirnov test, two-sided.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct Ks {
    /// sup |F_a − F_b| over the pooled values (each CDF taken after its ties).
    pub statistic: f64,
    pub p_value: f64,
    /// "exact" (the lattice-path distribution) or "asymptotic" (Kolmogorov's limit).
    pub method: &'static str,
}

/// Largest sample (either side) with an exact p-value when the sizes differ: the path
/// count is O(n·m); equal sizes have a closed form at any size.
const KS_EXACT_CELLS: usize = 100_000_000;

/// Two-sided two-sample KS test of "a and b come from one distribution" (`None` with
/// an empty side or a non-finite value). The exact p-value is P(D ≥ d) over the
/// C(n+m, n) equally likely orderings (ties between the samples are not corrected
/// for); for equal sizes it is the alternating binomial sum
/// 2 Σ_{k≥1} (−1)^{k+1} C(2n, n−kh)/C(2n, n), else one minus the share of monotone
/// lattice paths that stay strictly inside the band |i/n − j/m| < d.
pub(crate) fn ks_2samp(a: &[f64], b: &[f64]) -> Option<Ks> {
    if a.is_empty() || b.is_empty() || a.iter().chain(b).any(|x| !x.is_finite()) {
        return None;
    }
    let mut x = a.to_vec();
    let mut y = b.to_vec();
    x.sort_by(f64::total_cmp);
    y.sort_by(f64::total_cmp);
    let (n, m) = (x.len(), y.len());
    // D in integer units of 1/(n·m): |i·m − j·n| after every distinct value
    let (mut i, mut j, mut h) = (0usize, 0usize, 0u64);
    while i < n || j < m {
        let v = match (x.get(i), y.get(j)) {
            (Some(&p), Some(&q)) => p.min(q),
            (Some(&p), None) => p,
            (None, Some(&q)) => q,
            (None, None) => break,
        };
        while i < n && x[i] <= v {
            i += 1;
        }
        while j < m && y[j] <= v {
            j += 1;
        }
        h = h.max((i * m).abs_diff(j * n) as u64);
    }
    let statistic = h as f64 / (n * m) as f64;
    if h == 0 {
        return Some(Ks {
            statistic,
            p_value: 1.0,
            method: "exact",
        });
    }
    let (p, method) = if n == m {
        (ks_equal_sizes(n, (h / n as u64) as usize), "exact")
    } else if n.saturating_mul(m) <= KS_EXACT_CELLS {
        (ks_paths_outside(n, m, h), "exact")
    } else {
        let en = (n * m) as f64 / (n + m) as f64;
        (kolmogorov_sf(statistic * en.sqrt()), "asymptotic")
    };
    Some(Ks {
        statistic,
        p_value: p.clamp(0.0, 1.0),
        method,
    })
}

/// The smallest KS statistic that two samples of sizes n and m can show with a
/// two-sided p-value ≤ `alpha`: exact for equal sizes, else Kolmogorov's limit
/// c(α)·√((n+m)/(n·m)) with c(α) = √(−ln(α/2)/2).
pub(crate) fn ks_critical(n: usize, m: usize, alpha: f64) -> Option<f64> {
    if n == 0 || m == 0 {
        return None;
    }
    if n == m {
        // P(D ≥ h/n) falls as h grows: the smallest h at or below α, by bisection
        if ks_equal_sizes(n, n) > alpha {
            return None;
        }
        let (mut lo, mut hi) = (1, n);
        while lo < hi {
            let mid = (lo + hi) / 2;
            if ks_equal_sizes(n, mid) <= alpha {
                hi = mid;
            } else {
                lo = mid + 1;
            }
        }
        return Some(lo as f64 / n as f64);
    }
    let c = (-(alpha / 2.0).ln() / 2.0).sqrt();
    Some(c * ((n + m) as f64 / (n * m) as f64).sqrt()).filter(|&d| d <= 1.0)
}

/// P(D ≥ h/n) for two samples of n, by the alternating sum written as a nested product
/// (each binomial ratio is a product of h factors below one), which keeps tiny
/// p-values accurate.
fn ks_equal_sizes(n: usize, h: usize) -> f64 {
    // A_k = C(2n, n−kh)/C(2n, n); P = 2(A_1 − A_2 + A_3 − …) = 2·r_0(1 − r_1(1 − r_2(…)))
    // with r_k = A_{k+1}/A_k = Π_{t<h} (n − kh − t)/(n + kh + t + 1)
    let mut p = 0.0;
    for k in (0..=n / h).rev() {
        let mut ratio = 1.0;
        for t in 0..h {
            let (lo, hi) = ((n - (k * h).min(n)) as f64, (n + k * h) as f64);
            ratio *= (lo - t as f64).max(0.0) / (hi + t as f64 + 1.0);
        }
        p = ratio * (1.0 - p);
    }
    2.0 * p
}

/// P(D ≥ h/(n·m)) for sizes n ≠ m, summed over where a random path first leaves the
/// band |i·m − j·n| < h (positive terms only, so tiny p-values keep their digits):
/// u(i, j), the share of the C(i+j, i) paths to (i, j) that stayed inside, follows
/// u(i, j) = (i·u(i−1, j) + j·u(i, j−1)) / (i + j); at a point outside the band that
/// share is the probability of a first exit there, weighted by the chance a random
/// ordering passes through (i, j) (hypergeometric).
fn ks_paths_outside(n: usize, m: usize, h: u64) -> f64 {
    let inside = |i: usize, j: usize| ((i * m).abs_diff(j * n) as u64) < h;
    let ln_choose = |a: usize, b: usize| {
        ln_gamma(a as f64 + 1.0) - ln_gamma(b as f64 + 1.0) - ln_gamma((a - b) as f64 + 1.0)
    };
    let ln_total = ln_choose(n + m, n);
    let mut row = vec![0.0f64; m + 1];
    let mut p = 0.0;
    for i in 0..=n {
        for j in 0..=m {
            if i == 0 && j == 0 {
                row[0] = 1.0;
                continue;
            }
            let up = if i > 0 { row[j] * i as f64 } else { 0.0 };
            let left = if j > 0 { row[j - 1] * j as f64 } else { 0.0 };
            let u = (up + left) / (i + j) as f64;
            if inside(i, j) {
                row[j] = u;
            } else {
                if u > 0.0 {
                    let w = ln_choose(i + j, i) + ln_choose(n + m - i - j, n - i) - ln_total;
                    p += u * w.exp();
                }
                row[j] = 0.0;
            }
        }
    }
    p
}

/// Kolmogorov's limiting survival function Q(λ) = 2 Σ_{k≥1} (−1)^{k−1} e^{−2k²λ²}.
fn kolmogorov_sf(lambda: f64) -> f64 {
    if lambda < 0.2 {
        return 1.0;
    }
    let mut s = 0.0;
    for k in 1..=100 {
        let k = k as f64;
        let term = (-2.0 * k * k * lambda * lambda).exp();
        s += if k as u64 % 2 == 1 { term } else { -term };
        if term < 1e-18 {
            break;
        }
    }
    (2.0 * s).clamp(0.0, 1.0)
}

/// The inverse of the standard normal CDF (bisection on `normal_cdf`, |error| < 1e-6).
pub(crate) fn normal_quantile(p: f64) -> f64 {
    let (mut lo, mut hi) = (-10.0f64, 10.0f64);
    for _ in 0..80 {
        let mid = 0.5 * (lo + hi);
        if normal_cdf(mid) < p {
            lo = mid;
        } else {
            hi = mid;
        }
    }
    0.5 * (lo + hi)
}

/// L2-regularized logistic regression by Newton's method on standardized features;
/// returns (weights, bias) in standardized units plus the means and deviations used.
pub(crate) struct Logistic {
    w: Vec<f64>,
    b: f64,
    mean: Vec<f64>,
    sd: Vec<f64>,
}

impl Logistic {
    pub(crate) fn fit(x: &[Vec<f64>], y: &[bool], l2: f64) -> Logistic {
        let d = x.first().map_or(0, Vec::len);
        let n = x.len().max(1) as f64;
        let mean: Vec<f64> = (0..d)
            .map(|j| x.iter().map(|r| r[j]).sum::<f64>() / n)
            .collect();
        let sd: Vec<f64> = (0..d)
            .map(|j| {
                let v = x.iter().map(|r| (r[j] - mean[j]).powi(2)).sum::<f64>() / n;
                if v > 1e-24 {
                    v.sqrt()
                } else {
                    1.0
                }
            })
            .collect();
        let z: Vec<Vec<f64>> = x
            .iter()
            .map(|r| {
                (0..d)
                    .map(|j| (r[j] - mean[j]) / sd[j])
                    .chain([1.0])
                    .collect()
            })
            .collect();
        let k = d + 1;
        let mut beta = vec![0.0; k];
        for _ in 0..50 {
            let mut g = vec![0.0; k];
            let mut h = vec![vec![0.0; k]; k];
            for (row, &label) in z.iter().zip(y) {
                let eta: f64 = row.iter().zip(&beta).map(|(a, b)| a * b).sum();
                let p = 1.0 / (1.0 + (-eta).exp());
                let r = p - f64::from(u8::from(label));
                let wgt = (p * (1.0 - p)).max(1e-9);
                for a in 0..k {
                    g[a] += r * row[a];
                    for b in 0..k {
                        h[a][b] += wgt * row[a] * row[b];
                    }
                }
            }
            for a in 0..d {
                g[a] += l2 * beta[a];
                h[a][a] += l2;
            }
            let Some(step) = solve(h, g) else { break };
            let mut change = 0.0f64;
            for a in 0..k {
                beta[a] -= step[a];
                change = change.max(step[a].abs());
            }
            if change < 1e-10 {
                break;
            }
        }
        Logistic {
            b: beta[d],
            w: beta[..d].to_vec(),
            mean,
            sd,
        }
    }

    pub(crate) fn score(&self, r: &[f64]) -> f64 {
        self.b
            + r.iter()
                .enumerate()
                .map(|(j, v)| self.w[j] * (v - self.mean[j]) / self.sd[j])
                .sum::<f64>()
    }
}

/// Gaussian elimination with partial pivoting: solves a x = b.
fn solve(mut a: Vec<Vec<f64>>, mut b: Vec<f64>) -> Option<Vec<f64>> {
    let n = b.len();
    for c in 0..n {
        let p = (c..n).max_by(|&i, &j| a[i][c].abs().total_cmp(&a[j][c].abs()))?;
        if a[p][c].abs() < 1e-14 {
            return None;
        }
        a.swap(c, p);
        b.swap(c, p);
        let pivot = a[c].clone();
        for r in c + 1..n {
            let f = a[r][c] / pivot[c];
            for (x, p) in a[r][c..].iter_mut().zip(&pivot[c..]) {
                *x -= f * p;
            }
            b[r] -= f * b[c];
        }
    }
    let mut x = vec![0.0; n];
    for c in (0..n).rev() {
        let s: f64 = (c + 1..n).map(|k| a[c][k] * x[k]).sum();
        x[c] = (b[c] - s) / a[c][c];
    }
    Some(x)
}

/// Out-of-fold scores of a logistic regression over the feature rows (higher =
/// member): the rows are split into `folds` seeded, label-stratified folds and each
/// fold is scored by a model fitted on the others only.
pub(crate) fn logistic_cv(x: &[Vec<f64>], y: &[bool], folds: usize, seed: u64) -> Vec<f64> {
    let folds = folds.max(2);
    let fold_of = stratified_folds(y, folds, seed);
    let mut out = vec![0.0; x.len()];
    for f in 0..folds {
        let (tx, ty): (Vec<Vec<f64>>, Vec<bool>) = (0..x.len())
            .filter(|&i| fold_of[i] != f)
            .map(|i| (x[i].clone(), y[i]))
            .unzip();
        let m = Logistic::fit(&tx, &ty, 1e-2);
        for i in (0..x.len()).filter(|&i| fold_of[i] == f) {
            out[i] = m.score(&x[i]);
        }
    }
    out
}

/// Each row's fold of `folds` (≥ 2), each label shuffled (seeded) and dealt in turn, so
/// every fold holds its share of both classes.
pub(crate) fn stratified_folds(y: &[bool], folds: usize, seed: u64) -> Vec<usize> {
    let folds = folds.max(2);
    let mut fold_of = vec![0usize; y.len()];
    let mut rng = SplitMix(seed);
    for label in [true, false] {
        let mut idx: Vec<usize> = (0..y.len()).filter(|&i| y[i] == label).collect();
        for i in (1..idx.len()).rev() {
            idx.swap(i, rng.below(i + 1));
        }
        for (k, &i) in idx.iter().enumerate() {
            fold_of[i] = k % folds;
        }
    }
    fold_of
}

#[cfg(test)]
mod tests {
    /// The numbers of a JSON array (reference data files).
    fn nums(v: &serde_json::Value) -> Vec<f64> {
        v.as_array()
            .unwrap()
            .iter()
            .map(|x| x.as_f64().unwrap())
            .collect()
    }

    /// Against scipy 1.x: `ttest_ind(a, b, equal_var=False, alternative='greater')` and
    /// `scipy.stats.t.sf`.
    #[test]
    fn welch_and_student_t_match_scipy() {
        let a = [1.2, 0.4, 2.2, 1.9, 0.7, 1.5, 1.1];
        let b = [0.3, 0.9, -0.2, 0.5, 0.1];
        let (t, df, p) = welch_greater(&a, &b).unwrap();
        assert!((t - 3.180011779905097).abs() < 1e-9, "{t}");
        assert!((df - 9.969735721774809).abs() < 1e-9, "{df}");
        assert!((p - 0.00492775861906138).abs() < 1e-7, "{p}");
        for (t, df, want) in [
            (2.5, 3.7, 0.03591101145591339),
            (-1.0, 12.0, 0.8314754710232077),
            (0.3, 250.0, 0.3822132245080248),
        ] {
            let got = student_t_sf(t, df);
            assert!((got - want).abs() < 1e-7, "t {t} df {df}: {got} vs {want}");
        }
        assert!(welch_greater(&[1.0], &b).is_none());
        assert!((normal_quantile(0.975) - 1.959964).abs() < 1e-4);
    }

    /// The two-sample KS test against scipy's `ks_2samp(method="exact")`
    /// (tests/reference/ks_2samp.py): equal and unequal sizes, ties, p-values down to
    /// 1e-87 (relative agreement, so the tiny ones TOFU plots on a log scale hold too).
    #[test]
    fn rate_tests_match_scipy() {
        let data: serde_json::Value =
            serde_json::from_str(include_str!("../tests/data/rate_tests.json")).unwrap();
        let tables = data["tables"].as_array().unwrap();
        assert_eq!(tables.len(), 36);
        let (mut z_checked, mut fisher_used) = (0, 0);
        for t in tables {
            let u = |k: &str| t[k].as_u64().unwrap();
            let (k1, n1, k2, n2) = (u("k1"), u("n1"), u("k2"), u("n2"));
            let want = t["fisher"].as_f64().unwrap();
            let got = fisher_exact(k1, n1, k2, n2);
            assert!(
                (got - want).abs() <= 1e-9 * want.max(1e-300) + 1e-15,
                "{t}: Fisher {got}"
            );
            let (diff, p, test) = compare_rates(k1, n1, k2, n2).unwrap();
            assert!((diff - (k2 as f64 / n2 as f64 - k1 as f64 / n1 as f64)).abs() < 1e-15);
            if test.starts_with("Fisher") {
                fisher_used += 1;
                assert_eq!(p, got);
            } else {
                // Φ is accurate to 1.5e-7 absolute (Abramowitz–Stegun 7.1.26)
                let chi2 = t["chi2"].as_f64().unwrap();
                assert!((p - chi2).abs() < 3e-7 + 1e-4 * chi2, "{t}: z-test {p}");
                z_checked += 1;
            }
        }
        assert!(
            z_checked >= 10 && fisher_used >= 5,
            "{z_checked} {fisher_used}"
        );
        assert!(compare_rates(0, 0, 1, 2).is_none());
        for c in data["mann_whitney"].as_array().unwrap() {
            let (a, b) = (nums(&c["a"]), nums(&c["b"]));
            let auc = auc(&a, &b, Direction::Higher).unwrap();
            assert!((auc - c["auc"].as_f64().unwrap()).abs() < 1e-12);
            let want = c["p_value"].as_f64().unwrap();
            let got = mann_whitney_p(auc, a.len(), b.len()).unwrap();
            assert!((got - want).abs() < 3e-7 + 1e-4 * want, "{got} vs {want}");
        }
    }

    #[test]
    fn holm_and_hanley_mcneil_by_hand() {
        let adj = holm(&[0.01, 0.04, 0.03, 0.005]);
        for (g, w) in adj.iter().zip([0.03, 0.06, 0.06, 0.02]) {
            assert!((g - w).abs() < 1e-12, "{adj:?}");
        }
        // A = 0.8, 50 and 50: Q1 = 2/3, Q2 = 1.28/1.8; variance 4.95111/2500
        let se = auc_se(0.8, 50, 50).unwrap();
        assert!(
            (se - (4.951_111_111_111_111f64 / 2500.0).sqrt()).abs() < 1e-9,
            "{se}"
        );
        assert!(auc_se(0.8, 0, 50).is_none());
        // the far tail (scipy.stats.norm.sf): 6 → 9.865876450376946e-10,
        // 10 → 7.61985302416047e-24, 20 → 2.7536241186061556e-89
        for (z, want) in [
            (6.0, 9.865876450376946e-10),
            (10.0, 7.61985302416047e-24),
            (20.0, 2.7536241186061556e-89),
        ] {
            let got = normal_sf(z);
            assert!((got - want).abs() < 2e-5 * want, "{z}: {got}");
        }
    }

    #[test]
    fn ks_2samp_matches_scipy() {
        let data: serde_json::Value =
            serde_json::from_str(include_str!("../tests/data/ks_2samp.json")).unwrap();
        let cases = data["cases"].as_array().unwrap();
        assert_eq!(cases.len(), 36);
        for (k, c) in cases.iter().enumerate() {
            let (a, b) = (nums(&c["a"]), nums(&c["b"]));
            let got = ks_2samp(&a, &b).unwrap();
            let (d, p) = (
                c["statistic"].as_f64().unwrap(),
                c["p_value"].as_f64().unwrap(),
            );
            assert!(
                (got.statistic - d).abs() < 1e-12,
                "case {k}: D {} vs {d}",
                got.statistic
            );
            let rel = (got.p_value - p).abs() / p.max(1e-300);
            assert!(
                rel < 1e-6,
                "case {k} ({}, {}): p {} vs {p}",
                a.len(),
                b.len(),
                got.p_value
            );
            assert_eq!(got.method, "exact");
        }
        assert!(ks_2samp(&[], &[1.0]).is_none());
        // the critical D at 5% for 40 vs 40 (TOFU's forget01): scipy's exact p is
        // 0.054141077480362725 at D = 12/40 and 0.02860307028023343 at 13/40
        assert!((ks_equal_sizes(40, 12) - 0.054141077480362725).abs() < 1e-12);
        assert!((ks_equal_sizes(40, 13) - 0.02860307028023343).abs() < 1e-12);
        assert_eq!(ks_critical(40, 40, 0.05), Some(13.0 / 40.0));
        assert_eq!(ks_critical(3, 3, 0.05), None);
        assert!(ks_2samp(&[f64::NAN], &[1.0]).is_none());
        // beyond the exact path count: Kolmogorov's limit (scipy's asymptotic route
        // uses the finite-n distribution; the two agree to a few parts in a thousand)
        let a: Vec<f64> = (0..20_000).map(|i| i as f64).collect();
        let b: Vec<f64> = (0..7_000).map(|i| i as f64 * 2.9 + 700.0).collect();
        let r = ks_2samp(&a, &b).unwrap();
        assert_eq!(r.method, "asymptotic");
        // scipy 1.17.1 ks_2samp(method="asymp"): D 0.04929285714285714, p 2.1798948677532707e-11
        assert!((r.statistic - 0.04929285714285714).abs() < 1e-12);
        let rel = (r.p_value - 2.1798948677532707e-11).abs() / 2.1798948677532707e-11;
        assert!(rel < 0.05, "asymptotic p {} vs scipy's 2.18e-11", r.p_value);
    }

    /// Average precision and FPR at 95% TPR against scikit-learn's
    /// `average_precision_score` and `roc_curve` (tests/reference/pr_metrics.py), on random
    /// scores with ties, both directions.
    #[test]
    fn pr_auc_and_fpr_at_95_tpr_match_scikit_learn() {
        let data: serde_json::Value =
            serde_json::from_str(include_str!("../tests/data/pr_metrics.json")).unwrap();
        let cases = data["cases"].as_array().unwrap();
        assert_eq!(cases.len(), 40);
        for (k, c) in cases.iter().enumerate() {
            let d = match c["direction"].as_str().unwrap() {
                "higher" => Direction::Higher,
                _ => Direction::Lower,
            };
            let (m, n) = (nums(&c["members"]), nums(&c["nonmembers"]));
            let ap = average_precision(&m, &n, d).unwrap();
            let want = c["average_precision"].as_f64().unwrap();
            assert!(
                (ap - want).abs() < 1e-12,
                "case {k}: AP {ap} vs scikit-learn {want}"
            );
            let f = fpr_at_tpr(&m, &n, d, 0.95).unwrap();
            let want = c["fpr_at_95_tpr"].as_f64().unwrap();
            assert!(
                (f - want).abs() < 1e-12,
                "case {k}: FPR@95%TPR {f} vs scikit-learn {want}"
            );
        }
        assert_eq!(average_precision(&[], &[1.0], Direction::Higher), None);
        assert_eq!(fpr_at_tpr(&[1.0], &[], Direction::Higher, 0.95), None);
    }

    use super::*;
    use Direction::{Higher, Lower};

    fn close(a: f64, b: f64, tol: f64) -> bool {
        (a - b).abs() <= tol
    }

    #[test]
    fn auc_by_hand_with_ties() {
        // pairs (m, n): m=3 beats all 3; m=2 beats 0, ties 2 twice; m=1 beats 0 → (3 + 1 + 2·½ + 1)/9
        let (m, n) = ([3.0, 2.0, 1.0], [2.0, 2.0, 0.0]);
        assert!(close(auc(&m, &n, Higher).unwrap(), 6.0 / 9.0, 1e-12));
        // the same with lower = member, on negated scores
        let (m2, n2) = ([-3.0, -2.0, -1.0], [-2.0, -2.0, 0.0]);
        assert!(close(auc(&m2, &n2, Lower).unwrap(), 6.0 / 9.0, 1e-12));
        assert!(close(auc(&[1.0], &[1.0], Higher).unwrap(), 0.5, 1e-12));
        assert_eq!(auc(&[], &[1.0], Higher), None);
    }

    #[test]
    fn tpr_at_low_fpr_with_few_negatives() {
        let m = [10.0, 9.0, 8.0, 1.0];
        let n = [9.5, 2.0, 1.5, 0.5];
        // FPR ≤ 0: only scores above 9.5 → TPR 1/4
        let r = tpr_at_fpr(&m, &n, Higher, 0.0);
        assert!(close(r.tpr, 0.25, 1e-12) && r.false_positives == 0 && r.n_nonmembers == 4);
        // FPR ≤ 0.01 cannot be resolved with 4 negatives: same as FPR = 0
        assert_eq!(tpr_at_fpr(&m, &n, Higher, 0.01).tpr, 0.25);
        // FPR ≤ 0.25: one false positive allowed → TPR 3/4
        let r = tpr_at_fpr(&m, &n, Higher, 0.25);
        assert!(close(r.tpr, 0.75, 1e-12) && r.false_positives == 1);
        assert!(close(
            best_balanced_accuracy(&m, &n, Higher),
            (0.75 + 0.75) / 2.0,
            1e-12
        ));
    }

    #[test]
    fn clopper_pearson_matches_tables() {
        // closed forms at the edges: (α/2)^(1/n)
        let (lo, hi) = clopper_pearson(0, 10, 0.95);
        assert!(lo == 0.0 && close(hi, 1.0 - 0.025f64.powf(0.1), 1e-6));
        let (lo, hi) = clopper_pearson(10, 10, 0.95);
        assert!(close(lo, 0.025f64.powf(0.1), 1e-6) && hi == 1.0);
        // tabulated exact interval for 5/10 at 95%: 0.1871 – 0.8129
        let (lo, hi) = clopper_pearson(5, 10, 0.95);
        assert!(
            close(lo, 0.1871, 1e-4) && close(hi, 0.8129, 1e-4),
            "{lo} {hi}"
        );
        // 1/100 at 95%: 0.00025 – 0.05446
        let (lo, hi) = clopper_pearson(1, 100, 0.95);
        assert!(
            close(lo, 0.000253, 2e-6) && close(hi, 0.05446, 1e-4),
            "{lo} {hi}"
        );
        assert!(close(beta_inc(2.0, 3.0, 0.4), 0.5248, 1e-4));
    }

    #[test]
    fn epsilon_bounds() {
        // TPR 0.5 at FPR 0.05: ε ≥ ln 10
        assert!(close(
            epsilon_lower_bound(0.5, 0.05, 0.0),
            10f64.ln(),
            1e-12
        ));
        // no advantage, no bound
        assert_eq!(epsilon_lower_bound(0.3, 0.3, 0.0), 0.0);
        // caps: ε = ln 3 → advantage ≤ 1/2, accuracy ≤ 3/4
        assert!(close(max_advantage(3f64.ln()), 0.5, 1e-12));
        assert!(close(max_accuracy(3f64.ln()), 0.75, 1e-12));
        assert!(close(exposure(1e6, 1.0), 1e6f64.log2(), 1e-12));
        assert!(close(exposure(1024.0, 32.0), 5.0, 1e-12));
        assert!(close(posterior(0.5, 0.05, 0.5), 0.5 / 0.55, 1e-12));
    }

    #[test]
    fn bootstrap_is_seeded_and_brackets_the_auc() {
        let m: Vec<f64> = (0..50).map(|i| i as f64 + 10.0).collect();
        let n: Vec<f64> = (0..50).map(|i| i as f64).collect();
        let a = auc(&m, &n, Higher).unwrap();
        let ci = auc_bootstrap_ci(&m, &n, Higher, 500, 0.95, 7).unwrap();
        assert!(ci.0 <= a && a <= ci.1, "{ci:?} {a}");
        assert_eq!(Some(ci), auc_bootstrap_ci(&m, &n, Higher, 500, 0.95, 7));
    }

    #[test]
    fn normal_cdf_matches_tables() {
        for (z, p) in [
            (0.0, 0.5),
            (1.0, 0.841_344_7),
            (-1.96, 0.024_997_9),
            (3.0, 0.998_650_1),
        ] {
            assert!((normal_cdf(z) - p).abs() < 2e-7, "{z}: {}", normal_cdf(z));
        }
    }

    #[test]
    fn logistic_cv_separates_a_separable_signal_out_of_fold() {
        let mut rng = SplitMix(3);
        let mut x = Vec::new();
        let mut y = Vec::new();
        for i in 0..200 {
            let member = i % 2 == 0;
            let noise = (rng.next_u64() % 1000) as f64 / 1000.0;
            // feature 0 carries the label, feature 1 is noise
            x.push(vec![if member { 1.0 } else { 0.0 } + 0.3 * noise, noise]);
            y.push(member);
        }
        let s = logistic_cv(&x, &y, 5, 1);
        let (m, n): (Vec<f64>, Vec<f64>) = (
            s.iter().zip(&y).filter(|p| *p.1).map(|p| *p.0).collect(),
            s.iter().zip(&y).filter(|p| !*p.1).map(|p| *p.0).collect(),
        );
        assert_eq!(auc(&m, &n, Direction::Higher), Some(1.0));
        // pure noise stays near chance out of fold
        let yr: Vec<bool> = (0..200).map(|_| rng.next_u64().is_multiple_of(2)).collect();
        let s = logistic_cv(&x, &yr, 5, 1);
        let (m, n): (Vec<f64>, Vec<f64>) = (
            s.iter().zip(&yr).filter(|p| *p.1).map(|p| *p.0).collect(),
            s.iter().zip(&yr).filter(|p| !*p.1).map(|p| *p.0).collect(),
        );
        let a = auc(&m, &n, Direction::Higher).unwrap();
        assert!((0.35..0.65).contains(&a), "{a}");
    }

    #[test]
    fn threshold_at_a_false_positive_rate() {
        // 10 values, fpr 0.1: at most 1 strictly beyond the threshold
        let v: Vec<f64> = (0..10).map(f64::from).collect();
        assert_eq!(
            threshold_at_fpr(&v, Direction::Lower, 0.1),
            Some((1.0, 0.1))
        );
        assert_eq!(
            threshold_at_fpr(&v, Direction::Higher, 0.1),
            Some((8.0, 0.1))
        );
        assert_eq!(
            threshold_at_fpr(&v, Direction::Higher, 0.0),
            Some((9.0, 0.0))
        );
        assert_eq!(threshold_at_fpr(&[], Direction::Higher, 0.1), None);
        assert_eq!(median(&[3.0, 1.0, 2.0, 10.0]), Some(2.5));
    }

    #[test]
    fn histogram_counts_every_value_once() {
        let (e, c) = histogram(&[0.0, 0.5, 1.0, 1.0, 0.25], 4);
        assert_eq!(e.len(), 5);
        assert_eq!(c.iter().sum::<u64>(), 5);
        assert_eq!(c, vec![1, 1, 1, 2]);
    }
}
