"""Reference values for memscan's ROUGE-L (MUSE's VerbMem) from Google's `rouge_score`
(`RougeScorer(["rougeL"], use_stemmer=True)`, which stems with NLTK's PorterStemmer).
Words and texts come from documents nobody on this project wrote: Python's own
documentation (pydoc_data.topics), the licence texts in /usr/share/common-licenses, and
(for the stemmer's word list only) the standard library's own source.

Writes tests/data/porter_stems.txt (every distinct token and NLTK's stem) and
tests/data/rouge_pairs.json (target/prediction pairs: passages against passages cut,
shuffled, word-dropped or replaced, with rouge_score's precision, recall and F1), which
the unit tests in src/porter.rs and src/unlearning.rs read. rouge_score is not a
project dependency, so regenerate with

    .venv/bin/pip install rouge-score==0.1.2 nltk==3.10.4
    .venv/bin/python tests/reference/rouge_reference.py tests/data
"""
import glob
import json
import os
import random
import re
import sys

import nltk
import pydoc_data.topics
from nltk.stem import porter
from rouge_score import rouge_scorer, tokenize

out = sys.argv[1]
texts = list(pydoc_data.topics.topics.values())
for p in sorted(glob.glob("/usr/share/common-licenses/*")):
    if os.path.isfile(p):
        with open(p, encoding="utf-8", errors="replace") as f:
            texts.append(f.read())

stemmer = porter.PorterStemmer()
words = set()
sources = []
for p in sorted(glob.glob(os.path.join(os.path.dirname(os.__file__), "*.py"))):
    with open(p, encoding="utf-8", errors="replace") as f:
        sources.append(f.read())
for t in texts + sources:
    words.update(w for w in re.split(r"[^a-z0-9]+", t.lower()) if w)
words = sorted(words)
with open(os.path.join(out, "porter_stems.txt"), "w") as f:
    f.write(f"# NLTK {nltk.__version__} PorterStemmer(): word stem\n")
    for w in words:
        f.write(f"{w} {stemmer.stem(w)}\n")

rng = random.Random(20261202)
scorer = rouge_scorer.RougeScorer(["rougeL"], use_stemmer=True)
passages = []
for t in texts:
    ws = t.split()
    for i in range(0, max(len(ws) - 80, 1), 400):
        passages.append(" ".join(ws[i : i + rng.randint(5, 90)]))
rng.shuffle(passages)
pairs = []
for k, target in enumerate(passages[:300]):
    ws = target.split()
    kind = k % 6
    if kind == 0:
        pred = target
    elif kind == 1:  # the start reproduced, then something else
        cut = rng.randint(0, len(ws))
        pred = " ".join(ws[:cut] + rng.choice(passages).split()[: len(ws) - cut])
    elif kind == 2:  # words dropped
        pred = " ".join(w for w in ws if rng.random() > 0.3)
    elif kind == 3:  # local shuffles
        ws2 = ws[:]
        for _ in range(len(ws2) // 3):
            i = rng.randrange(len(ws2))
            j = min(len(ws2) - 1, i + rng.randint(1, 4))
            ws2[i], ws2[j] = ws2[j], ws2[i]
        pred = " ".join(ws2)
    elif kind == 4:  # an unrelated passage
        pred = rng.choice(passages)
    else:  # inflections changed (the stemmer's work) and case
        pred = " ".join(w.upper() if rng.random() < 0.2 else (w + "s" if rng.random() < 0.3 else w) for w in ws)
    s = scorer.score(target, pred)["rougeL"]
    pairs.append({
        "target": target,
        "prediction": pred,
        "precision": s.precision,
        "recall": s.recall,
        "fmeasure": s.fmeasure,
        "target_tokens": tokenize.tokenize(target, stemmer),
    })
pairs.append({"target": "", "prediction": "word", "precision": 0.0, "recall": 0.0, "fmeasure": 0.0, "target_tokens": []})
with open(os.path.join(out, "rouge_pairs.json"), "w") as f:
    json.dump({"source": "rouge_score 0.1.2 RougeScorer(['rougeL'], use_stemmer=True), NLTK " + nltk.__version__, "pairs": pairs}, f)
