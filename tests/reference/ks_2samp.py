"""Reference values for memscan's two-sample Kolmogorov–Smirnov test (TOFU's forget
quality is its p-value), from scipy's `ks_2samp(a, b, method="exact")`: equal sizes as
TOFU uses them (40, 200, 400 questions), unequal sizes, ties, far-apart samples with tiny
p-values. Writes tests/data/ks_2samp.json, which the unit test in src/stats.rs reads;
scipy is not a project dependency, so regenerate with

    .venv/bin/pip install scipy==1.17.1
    .venv/bin/python tests/reference/ks_2samp.py tests/data/ks_2samp.json
"""
import json
import sys

import numpy as np
import scipy
from scipy.stats import ks_2samp

rng = np.random.default_rng(20261202)
cases = []
sizes = [(40, 40), (200, 200), (400, 400), (7, 7), (1, 1), (1, 9), (25, 40), (120, 77), (333, 500), (3, 250)]
for k in range(36):
    n, m = sizes[k % len(sizes)]
    shift = [0.0, 0.3, 1.0, 3.0][k % 4]
    a = rng.lognormal(0.0, 0.6, n)
    b = rng.lognormal(shift * 0.6, 0.6, m)
    if k % 5 == 0:  # coarse values: ties within and across the samples
        a, b = np.round(a, 1), np.round(b, 1)
    r = ks_2samp(a, b, method="exact")
    cases.append({
        "a": [float(x) for x in a],
        "b": [float(x) for x in b],
        "statistic": float(r.statistic),
        "p_value": float(r.pvalue),
    })
with open(sys.argv[1], "w") as f:
    json.dump({"source": "scipy " + scipy.__version__ + " ks_2samp(method='exact')", "cases": cases}, f)
