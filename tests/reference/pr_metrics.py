"""Reference values for memscan's PR-AUC (average precision) and FPR at 95% TPR, from
scikit-learn (`average_precision_score`, `roc_curve`), on random member and non-member
scores with ties, both directions. Writes tests/data/pr_metrics.json, which the unit test
in src/stats.rs reads; scikit-learn is not a project dependency, so regenerate with

    .venv/bin/pip install scikit-learn==1.7.2
    .venv/bin/python tests/reference/pr_metrics.py tests/data/pr_metrics.json
"""
import json
import sys

import numpy as np
from sklearn.metrics import average_precision_score, roc_curve

rng = np.random.default_rng(20261201)
cases = []
for k in range(40):
    n_m, n_n = int(rng.integers(3, 60)), int(rng.integers(3, 60))
    shift = float(rng.uniform(-0.5, 2.0))
    m = rng.normal(shift, 1.0, n_m)
    n = rng.normal(0.0, 1.0, n_n)
    if k % 3 == 0:  # coarse scores: many ties, across the classes too
        m, n = np.round(m, 1), np.round(n, 1)
    direction = "higher" if k % 2 == 0 else "lower"
    # memscan's signals say which way is "member"; sklearn wants higher = positive
    sm, sn = (m, n) if direction == "higher" else (-m, -n)
    y = np.r_[np.ones(n_m), np.zeros(n_n)]
    s = np.r_[sm, sn]
    ap = average_precision_score(y, s)
    fpr, tpr, _ = roc_curve(y, s, drop_intermediate=False)
    fpr95 = float(fpr[np.argmax(tpr >= 0.95)])
    cases.append({
        "direction": direction,
        "members": [float(x) for x in m],
        "nonmembers": [float(x) for x in n],
        "average_precision": float(ap),
        "fpr_at_95_tpr": fpr95,
    })
with open(sys.argv[1], "w") as f:
    json.dump({"source": "scikit-learn " + __import__("sklearn").__version__, "cases": cases}, f)
