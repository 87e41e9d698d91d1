"""Time and peak memory of `memscan merge` over many sample rows (issue 20's figure).

Runs a small real scan as 4 shards on the default model (prompts of its own), then
grows each shard to ROWS/4 synthetic sample rows: the real rows' signals jittered, each
continuation a fresh random word sequence (so near-duplicate grouping has real work, not
one giant group; words from a Zipf-weighted vocabulary of 5,000), batch numbers and manifests rewritten to match. Times `memscan merge`
with /usr/bin/time (wall seconds, max RSS). Synthetic rows are fine for this figure: the
merge's cost depends on their count and size, not on where they came from.

    .venv/bin/python benches/merge_bench.py --rows 100000 1000000
"""

import argparse
import json
import os
import random
import re
import shutil
import subprocess
import sys
import tempfile

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
BIN = os.path.join(ROOT, "target", "release", "memscan")
_r = random.Random(1)
# a vocabulary of 5,000 pseudo-words (Zipf-weighted below), so that two continuations
# share about as many character 5-grams as two unrelated English sentences do
WORDS = ["".join(_r.choice("etaoinshrdlucmfwypvbgkjqxz"[: _r.randint(8, 26)])
                 for _ in range(_r.randint(2, 9))) for _ in range(5000)]
WEIGHTS = [1 / (k + 1) for k in range(len(WORDS))]


def real_shards(work, shards):
    prompts = os.path.join(work, "prompts.jsonl")
    with open(prompts, "w") as f:
        for i, t in enumerate(["Permission is hereby granted,", "Contact: ", "export TOKEN=", ""]):
            f.write(json.dumps({"id": f"p/{i}", "text": t}) + "\n")
    cal = os.path.join(work, "cal.jsonl")
    with open(cal, "w") as f:
        f.write(json.dumps({"text": "The ferry to Ormsby Island now leaves at ten past seven."}) + "\n")
    out = os.path.join(work, "run")
    for i in range(shards):
        subprocess.run(
            [BIN, "-q", "scan", "--device", "cpu", "--prompts", prompts, "--calibration", cal,
             "--samples-per-prompt", "2", "--max-new-tokens", "16", "--batch-size", "2",
             "--out", out, "--shard", f"{i}/{shards}"],
            check=True,
        )
    return out


def grow(out, shards, rows, batch_size=2, spp=2):
    rng = random.Random(7)
    template = []
    for d in sorted(os.listdir(out)):
        if d.startswith("shard-"):
            with open(os.path.join(out, d, "samples.jsonl")) as f:
                template += [json.loads(l) for l in f]
    units_total = rows // batch_size
    for i in range(shards):
        d = os.path.join(out, f"shard-{i:04d}-of-{shards:04d}")
        owned = list(range(i, units_total, shards))
        with open(os.path.join(d, "samples.jsonl"), "w") as f:
            for b in owned:
                for j in range(batch_size):
                    n = b * batch_size + j
                    r = dict(rng.choice(template))
                    r["batch"] = b
                    r["prompt_id"] = f"p/{n // spp}"
                    r["sample"] = n % spp
                    r["id"] = f"p/{n // spp}#{n % spp}"
                    cont = " ".join(rng.choices(WORDS, WEIGHTS, k=12))
                    r["text"] = r["text"][: r["prompt_bytes"]] + " " + cont
                    r["signals"] = {k: v * (1 + rng.uniform(-0.2, 0.2)) for k, v in r["signals"].items()}
                    r["findings"] = []
                    r["reasons"] = []
                    r["flagged"] = False
                    f.write(json.dumps(r, separators=(",", ":")) + "\n")
        with open(os.path.join(d, "shard.json")) as f:
            m = json.load(f)
        m.update(units_total=units_total, units_owned=len(owned), units_done=len(owned), complete=True)
        m["settings"]["samples_per_prompt"] = spp
        with open(os.path.join(d, "shard.json"), "w") as f:
            json.dump(m, f)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--rows", type=int, nargs="+", default=[100000, 1000000])
    ap.add_argument("--shards", type=int, default=4)
    a = ap.parse_args()
    for rows in a.rows:
        work = tempfile.mkdtemp(prefix="merge-bench-")
        try:
            out = real_shards(work, a.shards)
            grow(out, a.shards, rows)
            size = sum(
                os.path.getsize(os.path.join(out, d, "samples.jsonl"))
                for d in os.listdir(out) if d.startswith("shard-")
            )
            p = subprocess.run(
                ["/usr/bin/time", "-v", BIN, "-q", "merge", out],
                capture_output=True, text=True,
            )
            if p.returncode != 0:
                sys.exit(f"merge failed: {p.stderr[-2000:]}")
            wall = re.search(r"Elapsed \(wall clock\) time.*: (.*)", p.stderr).group(1)
            rss = int(re.search(r"Maximum resident set size \(kbytes\): (\d+)", p.stderr).group(1))
            print(f"rows {rows}: samples {size / 1e6:.0f} MB, merge wall {wall}, max RSS {rss / 1024:.0f} MiB")
        finally:
            shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
