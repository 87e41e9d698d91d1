"""Reference values for the tests behind `memscan compare`, from scipy: Fisher's exact
test (`fisher_exact`, two-sided), Pearson's chi-square on the 2x2 table without continuity
correction (`chi2_contingency(correction=False)`, equal to the pooled two-proportion
z-test), and the Mann-Whitney U test (`mannwhitneyu(method="asymptotic",
use_continuity=False)`, no ties). Writes tests/data/rate_tests.json, which the unit test
in src/stats.rs reads; scipy is not a project dependency, so regenerate with

    .venv/bin/pip install scipy==1.17.1
    .venv/bin/python tests/reference/rate_tests.py tests/data/rate_tests.json
"""
import json
import sys

import numpy as np
import scipy
from scipy.stats import chi2_contingency, fisher_exact, mannwhitneyu

rng = np.random.default_rng(20261202)
tables = []
fixed = [(0, 10, 0, 10), (0, 200, 9, 200), (2, 200, 9, 200), (1, 3, 3, 3), (5, 5, 0, 5),
         (50, 100, 40, 100), (120, 400, 150, 400), (7, 1000, 31, 1000), (0, 1, 1, 1),
         (33, 60, 12, 75), (499, 500, 480, 500), (3, 40, 3, 40)]
for n1 in (10, 60, 200, 1000):
    for _ in range(6):
        n2 = int(rng.integers(5, 1200))
        p1, p2 = rng.uniform(0, 0.5), rng.uniform(0, 0.5)
        fixed.append((int(rng.binomial(n1, p1)), n1, int(rng.binomial(n2, p2)), n2))
for k1, n1, k2, n2 in fixed:
    t = [[k1, n1 - k1], [k2, n2 - k2]]
    fisher = float(fisher_exact(t, alternative="two-sided").pvalue)
    col = (k1 + k2, n1 + n2 - k1 - k2)
    chi2 = None if 0 in col else float(chi2_contingency(t, correction=False).pvalue)
    tables.append({"k1": k1, "n1": n1, "k2": k2, "n2": n2, "fisher": fisher, "chi2": chi2})
mw = []
for n1, n2, shift in [(20, 30, 0.0), (50, 50, 0.5), (200, 150, 0.2), (8, 300, 1.0), (400, 400, 0.05)]:
    a, b = rng.normal(shift, 1, n1), rng.normal(0, 1, n2)
    r = mannwhitneyu(a, b, alternative="two-sided", method="asymptotic", use_continuity=False)
    mw.append({"a": [float(x) for x in a], "b": [float(x) for x in b], "p_value": float(r.pvalue),
               "auc": float(r.statistic) / (n1 * n2)})
json.dump({"scipy": scipy.__version__, "tables": tables, "mann_whitney": mw},
          open(sys.argv[1], "w"), indent=1)
print(f"{len(tables)} tables, {len(mw)} Mann-Whitney cases", file=sys.stderr)
