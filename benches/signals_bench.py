"""Cost of the signals: memscan score with only nll_mean (--basic) vs every signal of
the default pass, and the optional passes separately (--attention, --lowercase,
--gradients), on the same texts in one run, alternating, medians of --repeat runs.

    python benches/signals_bench.py [--model M] [--batch 8] [--tokens 128] [--texts 64] [--threads 2]
"""
import argparse
import json
import os
import re
import statistics
import subprocess
import tempfile

from score_bench import ROOT, make_texts


def run(binary, model, inp, a, flags):
    cmd = [binary, "score", "--model", model, "--input", inp, "--output", os.devnull, "--batch-size",
           str(a.batch), "--max-tokens", str(a.tokens), "--threads", str(a.threads), "--device", "cpu"] + flags
    p = subprocess.run(cmd, capture_output=True, text=True)
    if p.returncode != 0:
        raise SystemExit(p.stderr)
    m = re.search(r"in ([0-9.]+)s \(([0-9]+) tokens/s\)", p.stderr)
    return float(m.group(2))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--model", default=os.path.join(ROOT, "models", "SmolLM2-135M-Instruct.Q4_1.gguf"))
    ap.add_argument("--batch", type=int, default=8)
    ap.add_argument("--tokens", type=int, default=128)
    ap.add_argument("--texts", type=int, default=64)
    ap.add_argument("--threads", type=int, default=os.cpu_count())
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--with-gradients", action="store_true", help="also time --gradients (slow)")
    a = ap.parse_args()
    binary = os.path.join(ROOT, "target", "release", "memscan")
    configs = [("nll_mean only (--basic)", ["--basic"]), ("all default signals", []),
               ("+ --attention", ["--attention"]), ("+ --lowercase", ["--lowercase"])]
    if a.with_gradients:
        configs.append(("+ --gradients", ["--gradients"]))
    with tempfile.TemporaryDirectory() as tmp:
        inp = os.path.join(tmp, "texts.jsonl")
        with open(inp, "w") as fh:
            for t in make_texts(a.texts):
                fh.write(json.dumps({"text": t}) + "\n")
        runs = {name: [] for name, _ in configs}
        for _ in range(a.repeat):
            for name, flags in configs:
                runs[name].append(run(binary, a.model, inp, a, flags))
    base = statistics.median(runs[configs[0][0]])
    print(f"{a.texts} texts x {a.tokens} tokens, batch {a.batch}, {a.threads} threads, cpu f32, "
          f"{os.path.basename(a.model)}; median of {a.repeat}")
    print(f"{'pass':28} {'tokens/s':>9} {'overhead':>9}")
    for name, _ in configs:
        med = statistics.median(runs[name])
        print(f"{name:28} {med:9.0f} {100 * (base / med - 1):8.1f}%")


if __name__ == "__main__":
    main()
