#!/usr/bin/env python3
"""Score `memscan detect` on the hand-labelled set in tests/data/detect_docs.

    python benches/detect_docs.py [--bin target/release/memscan] [--json out.json]

Runs `memscan detect <every document of the folder> --format jsonl --reveal -q`
once (the folder's tooling files are left out: labels.jsonl and negatives.jsonl
hold the planted values themselves) and scores the findings against labels.jsonl (planted true values)
and negatives.jsonl (planted hard negatives).

Matching: a label counts as FOUND when a finding of the same category
overlaps it -- the finding's byte range [start, end) intersects the byte
range of the label's value on the label's line (each occurrence of the value
on that line counts).  A finding is a TRUE POSITIVE when it overlaps a true
label of its own category; otherwise it is a FALSE POSITIVE, bucketed as
  * negative   -- it overlaps a planted hard negative,
  * other-cat  -- it overlaps a true label of the other category only
                  (e.g. an e-mail reported as a secret),
  * unplanted  -- it overlaps no label at all.
"""
import argparse
import collections
import json
import os
import subprocess
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
DOCS = os.path.join(ROOT, "tests", "data", "detect_docs")
TOOLING = {"labels.jsonl", "negatives.jsonl", "make_values.py", "check_labels.py"}


def load_jsonl(path):
    with open(path, encoding="utf-8") as f:
        return [json.loads(line) for line in f if line.strip()]


class Doc:
    def __init__(self, path):
        data = open(path, "rb").read()
        self.lines = data.split(b"\n")
        self.offsets = []
        off = 0
        for ln in self.lines:
            self.offsets.append(off)
            off += len(ln) + 1

    def spans(self, line, value):
        """Byte spans of every occurrence of value on the 1-based line."""
        raw = self.lines[line - 1]
        needle = value.encode("utf-8")
        out, i = [], raw.find(needle)
        while i >= 0:
            out.append((self.offsets[line - 1] + i, self.offsets[line - 1] + i + len(needle)))
            i = raw.find(needle, i + 1)
        return out


def overlaps(a, b):
    return a[0] < b[1] and b[0] < a[1]


def short(v, n=70):
    v = v.replace("\n", "\\n")
    return v if len(v) <= n else v[: n - 3] + "..."


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--bin", default=os.path.join(ROOT, "target", "release", "memscan"))
    ap.add_argument("--json", help="also write the raw score as JSON here")
    args = ap.parse_args()

    labels = load_jsonl(os.path.join(DOCS, "labels.jsonl"))
    negatives = load_jsonl(os.path.join(DOCS, "negatives.jsonl"))
    docs = {}
    for r in labels + negatives:
        if r["file"] not in docs:
            docs[r["file"]] = Doc(os.path.join(DOCS, r["file"]))
        r["_spans"] = docs[r["file"]].spans(r["line"], r["value"])
        if not r["_spans"]:
            sys.exit(f"label value not on its line: {r['file']}:{r['line']} (run check_labels.py)")

    # every file of the folder except its tooling (memscan would read the
    # label .jsonl files as JSONL records and stop: they have no "text" field)
    targets = sorted(os.path.join(DOCS, n) for n in os.listdir(DOCS)
                     if n not in TOOLING and os.path.isfile(os.path.join(DOCS, n)))
    missing = set(docs) - set(os.path.basename(t) for t in targets)
    if missing:
        sys.exit(f"labelled files missing from the folder: {sorted(missing)}")
    proc = subprocess.run([args.bin, "detect", *targets, "--format", "jsonl", "--reveal", "-q"],
                          capture_output=True, text=True)
    if proc.returncode not in (0, 1):
        sys.exit(f"memscan failed ({proc.returncode}): {proc.stderr[-2000:]}")
    findings, ignored = [], 0
    for line in proc.stdout.splitlines():
        if not line.strip():
            continue
        f = json.loads(line)
        rel = os.path.relpath(os.path.abspath(f["path"]), DOCS)
        if rel in TOOLING:
            ignored += 1
            continue
        f["_file"] = rel
        findings.append(f)

    by_file = collections.defaultdict(list)
    for f in findings:
        by_file[f["_file"]].append(f)

    def hits(f, r):
        return r["file"] == f["_file"] and any(overlaps((f["start"], f["end"]), s) for s in r["_spans"])

    # ---- recall
    for r in labels:
        r["_found"] = [f for f in by_file[r["file"]] if f["category"] == r["category"] and hits(f, r)]
    for r in negatives:
        r["_hit"] = [f for f in by_file[r["file"]] if hits(f, r)]

    # ---- precision
    labels_by_file = collections.defaultdict(list)
    for r in labels:
        labels_by_file[r["file"]].append(r)
    negs_by_file = collections.defaultdict(list)
    for r in negatives:
        negs_by_file[r["file"]].append(r)
    for f in findings:
        same = [r for r in labels_by_file[f["_file"]] if r["category"] == f["category"] and hits(f, r)]
        if same:
            f["_verdict"], f["_label"] = "tp", same[0]
            continue
        neg = [r for r in negs_by_file[f["_file"]] if hits(f, r)]
        other = [r for r in labels_by_file[f["_file"]] if hits(f, r)]
        if neg:
            f["_verdict"], f["_label"] = "fp-negative", neg[0]
        elif other:
            f["_verdict"], f["_label"] = "fp-other-cat", other[0]
        else:
            f["_verdict"], f["_label"] = "fp-unplanted", None

    out = []
    p = out.append
    p(f"memscan detect on {os.path.relpath(DOCS, ROOT)}: {len(docs)} documents, "
      f"{len(labels)} true labels, {len(negatives)} planted negatives, {len(findings)} findings"
      + (f" ({ignored} in tooling files ignored)" if ignored else ""))
    p("")
    p(f"{'category':10} {'labels':>6} {'found':>6} {'recall':>7} | {'finds':>6} {'TP':>5} {'FP':>4} "
      f"{'neg':>4} {'othr':>4} {'unpl':>4} {'prec':>6}")
    summary = {}
    for cat in ("secret", "pii", "all"):
        ls = [r for r in labels if cat in ("all", r["category"])]
        fs = [f for f in findings if cat in ("all", f["category"])]
        found = sum(bool(r["_found"]) for r in ls)
        tp = sum(f["_verdict"] == "tp" for f in fs)
        fpn = sum(f["_verdict"] == "fp-negative" for f in fs)
        fpo = sum(f["_verdict"] == "fp-other-cat" for f in fs)
        fpu = sum(f["_verdict"] == "fp-unplanted" for f in fs)
        rec = found / len(ls) if ls else 0.0
        prec = tp / len(fs) if fs else 0.0
        summary[cat] = dict(labels=len(ls), found=found, recall=rec, findings=len(fs), tp=tp,
                            fp_negative=fpn, fp_other_category=fpo, fp_unplanted=fpu, precision=prec)
        p(f"{cat:10} {len(ls):6} {found:6} {rec:7.1%} | {len(fs):6} {tp:5} {fpn + fpo + fpu:4} "
          f"{fpn:4} {fpo:4} {fpu:4} {prec:6.1%}")
    p("  (neg = FP on a planted negative, othr = overlaps a true label of the other category, "
      "unpl = unplanted text)")
    p("")

    p("per family:  recall on true labels | planted negatives reported")
    fams = sorted(set((r["category"], r["family"]) for r in labels + negatives))
    per_family = {}
    for cat, fam in fams:
        ls = [r for r in labels if r["family"] == fam]
        ns = [r for r in negatives if r["family"] == fam]
        found = sum(bool(r["_found"]) for r in ls)
        nhit = sum(bool(r["_hit"]) for r in ns)
        per_family[fam] = dict(category=cat, labels=len(ls), found=found, negatives=len(ns), negatives_hit=nhit)
        rec = f"{found:3}/{len(ls):<3} {found / len(ls):6.1%}" if ls else f"{'-':>14}"
        neg = f"{nhit:3}/{len(ns):<3}" if ns else "  -"
        p(f"  {cat:6} {fam:15} {rec} | {neg}")
    p("")

    p("per rule_id:  TP / FP findings")
    rules = collections.Counter()
    for f in findings:
        rules[(f["rule_id"], f["_verdict"] == "tp")] += 1
    for rid in sorted(set(k[0] for k in rules)):
        p(f"  {rid:32} {rules[(rid, True)]:4} {rules[(rid, False)]:4}")
    p("")

    misses = [r for r in labels if not r["_found"]]
    p(f"MISSES ({len(misses)}):")
    for r in sorted(misses, key=lambda r: (r["category"], r["family"], r["file"], r["line"])):
        wrong = [f["rule_id"] for f in by_file[r["file"]] if hits(f, r)]
        note = f"  [reported as {','.join(sorted(set(wrong)))} with other category]" if wrong else ""
        p(f"  {r['category']:6} {r['family']:14} {r['file']}:{r['line']}  {short(r['value'])}{note}")
    p("")
    fps = [f for f in findings if f["_verdict"] != "tp"]
    p(f"FALSE POSITIVES ({len(fps)}):")
    for f in sorted(fps, key=lambda f: (f["_verdict"], f["_file"], f["line"])):
        lab = f["_label"]
        what = f" ~ {lab['family']}{'/' + lab['kind'] if lab.get('kind') else ''}" if lab else ""
        p(f"  {f['_verdict']:12} {f['rule_id']:26} {f['_file']}:{f['line']}  {short(f['value'], 60)}{what}")

    print("\n".join(out))
    if args.json:
        with open(args.json, "w") as fh:
            json.dump(dict(summary=summary, per_family=per_family,
                           misses=[{k: v for k, v in r.items() if not k.startswith("_")} for r in misses],
                           false_positives=[{"verdict": f["_verdict"], "rule_id": f["rule_id"], "file": f["_file"],
                                             "line": f["line"], "value": f["value"]} for f in fps]),
                      fh, indent=1)


if __name__ == "__main__":
    main()
