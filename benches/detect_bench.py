"""Detectors: precision, recall and speed of memscan detect on the labelled corpus
(tests/reference/make_detect_corpus.py), and of detect-secrets (PyPI) on the same
files in the same run.

    python benches/detect_bench.py [--docs 400] [--seed 1] [--speed-mb 50] [--ds-speed-mb 2] [--no-detect-secrets]

Matching: a finding counts as true when it overlaps a planted value of its category
(memscan: byte spans; detect-secrets reports lines, so for the side-by-side table both
tools are matched by line). Speed is measured on real text instead: the Python
source files and the prose (README, LICENSE, .md, .rst, .txt) of the packages in the
project's venv, in sorted order up to --speed-mb (a mix of source code and prose);
wall time of the whole command after one warm-up run (files in the page cache); detect-secrets
on the first --ds-speed-mb of the same files (it is slow).
"""
import argparse
import collections
import json
import os
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(ROOT, "tests", "reference"))


def load_labels(d):
    with open(os.path.join(d, "labels.jsonl")) as fh:
        return [json.loads(l) for l in fh]


def evaluate_spans(findings, labels):
    """Per category and per family: (tp, fp, fn) by overlapping byte spans."""
    by_file = collections.defaultdict(list)
    for i, l in enumerate(labels):
        by_file[l["file"]].append((i, l))
    hit = set()
    stats = collections.defaultdict(lambda: [0, 0, 0])
    fam_fp = collections.Counter()
    for f in findings:
        name = os.path.basename(f["path"])
        match = None
        for i, l in by_file.get(name, []):
            if l["category"] == f["category"] and f["start"] < l["end"] and l["start"] < f["end"]:
                match = (i, l)
                break
        if match:
            if match[0] not in hit:
                hit.add(match[0])
                stats[f["category"]][0] += 1
        else:
            stats[f["category"]][1] += 1
            fam_fp[f["rule_id"]] += 1
    fam = collections.defaultdict(lambda: [0, 0])
    for i, l in enumerate(labels):
        fam[(l["category"], l["family"])][1] += 1
        if i in hit:
            fam[(l["category"], l["family"])][0] += 1
        else:
            stats[l["category"]][2] += 1
    return stats, fam, fam_fp


def evaluate_lines(found_lines, labels, category):
    """found_lines: set of (file, line) flagged; labels of one category; line-level P/R."""
    want = {(l["file"], l["line"]) for l in labels if l["category"] == category}
    other = {(l["file"], l["line"]) for l in labels if l["category"] != category}
    tp = len(found_lines & want)
    fp = len(found_lines - want - other)  # a flag on another category's line is neither
    fn = len(want - found_lines)
    return tp, fp, fn


def pr(tp, fp, fn):
    p = tp / (tp + fp) if tp + fp else 1.0
    r = tp / (tp + fn) if tp + fn else 1.0
    return p, r


def run_memscan(files):
    """(findings, wall seconds, the scan's own MB/s as memscan reports it: start-up excluded)."""
    t0 = time.perf_counter()
    p = subprocess.run([os.path.join(ROOT, "target/release/memscan"), "detect", "--format", "jsonl", files],
                       capture_output=True, text=True)
    secs = time.perf_counter() - t0
    if p.returncode not in (0, 1):
        sys.exit(p.stderr)
    own = float(p.stderr.rsplit(" MB, ", 1)[1].split(" MB/s")[0])
    return [json.loads(l) for l in p.stdout.splitlines()], secs, own


def run_detect_secrets(files):
    exe = os.path.join(os.path.dirname(sys.executable), "detect-secrets")
    t0 = time.perf_counter()
    p = subprocess.run([exe, "scan", "--all-files", "."], cwd=files, capture_output=True, text=True)
    secs = time.perf_counter() - t0
    if p.returncode != 0:
        sys.exit(p.stderr)
    res = json.loads(p.stdout)["results"]
    return {(os.path.basename(f), r["line_number"]) for f, rs in res.items() for r in rs}, secs


def speed_corpus(dest, mb):
    """Copies the venv's .py and prose files (sorted) into dest until `mb` megabytes."""
    site = os.path.join(ROOT, ".venv", "lib")
    picked, total = [], 0
    for dirpath, dirnames, filenames in os.walk(site):
        dirnames.sort()
        for f in sorted(filenames):
            if f.endswith((".py", ".md", ".rst", ".txt")) or f.startswith("LICENSE"):
                picked.append(os.path.join(dirpath, f))
    os.makedirs(dest, exist_ok=True)
    for i, src in enumerate(picked):
        size = os.path.getsize(src)
        if total + size > mb * 1e6:
            continue
        with open(src, "rb") as a, open(os.path.join(dest, f"{i:06d}_{os.path.basename(src)}"), "wb") as b:
            b.write(a.read())
        total += size
        if total >= mb * 1e6 * 0.999:
            break
    return total / 1e6


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--docs", type=int, default=400)
    ap.add_argument("--background-mb", type=float, default=0.0)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--no-detect-secrets", action="store_true")
    ap.add_argument("--keep", help="write the corpus here instead of a temporary folder")
    ap.add_argument("--speed-mb", type=float, default=50.0)
    ap.add_argument("--ds-speed-mb", type=float, default=2.0)
    a = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        d = a.keep or tmp
        subprocess.run([sys.executable, os.path.join(ROOT, "tests/reference/make_detect_corpus.py"), d, "--docs", str(a.docs),
                        "--seed", str(a.seed), "--background-mb", str(a.background_mb)], check=True)
        labels = load_labels(d)
        files = os.path.join(d, "files")
        mb = sum(os.path.getsize(os.path.join(files, f)) for f in os.listdir(files)) / 1e6
        found, ms_secs, _ = run_memscan(files)
        stats, fam, fam_fp = evaluate_spans(found, labels)
        print(f"corpus: {len(os.listdir(files))} files, {mb:.1f} MB, {len(labels)} planted values (seed {a.seed})\n")
        print("memscan, by byte span:")
        print(f"{'category':10} {'precision':>9} {'recall':>7} {'tp':>6} {'fp':>5} {'fn':>5}")
        for cat in ("secret", "pii"):
            tp, fp, fn = stats[cat]
            p, r = pr(tp, fp, fn)
            print(f"{cat:10} {p:9.3f} {r:7.3f} {tp:6d} {fp:5d} {fn:5d}")
        print(f"\n{'family':28} {'recall':>7} {'found/planted':>14}")
        for (cat, f), (h, n) in sorted(fam.items()):
            print(f"{cat + '/' + f:28} {h / n:7.3f} {h:>7}/{n}")
        if fam_fp:
            print("\nfalse positives by rule:", dict(fam_fp.most_common()))
        if not a.no_detect_secrets:
            ds_lines, _ = run_detect_secrets(files)
            ms_lines = {(os.path.basename(f["path"]), f["line"]) for f in found if f["category"] == "secret"}
            print("\nsecrets, matched by line, side by side:")
            print(f"{'tool':16} {'precision':>9} {'recall':>7}")
            for name, lines in (("memscan", ms_lines), ("detect-secrets", ds_lines)):
                p, r = pr(*evaluate_lines(lines, labels, "secret"))
                print(f"{name:16} {p:9.3f} {r:7.3f}")
        big = os.path.join(d, "speed")
        smb = speed_corpus(big, a.speed_mb)
        os.sync()  # no write-back of the fresh copies during the timed runs
        run_memscan(big)  # warm-up: page cache
        _, secs, own = run_memscan(big)
        print(f"\nspeed on {smb:.1f} MB of real source code and prose (venv packages), files in parallel over {os.cpu_count()} cores:")
        print(f"memscan        {smb / secs:8.1f} MB/s wall incl. start-up ({secs:.2f} s); scanning alone {own:.0f} MB/s")
        if not a.no_detect_secrets:
            small = os.path.join(d, "speed-small")
            dmb = speed_corpus(small, a.ds_speed_mb)
            os.sync()
            run_memscan(small)
            _, ms_small, _ = run_memscan(small)
            _, ds_small = run_detect_secrets(small)
            print(f"on the first {dmb:.1f} MB of them:")
            print(f"memscan        {dmb / ms_small:8.2f} MB/s wall incl. start-up ({ms_small:.2f} s)")
            print(f"detect-secrets {dmb / ds_small:8.2f} MB/s wall ({ds_small:.2f} s)")


if __name__ == "__main__":
    main()
