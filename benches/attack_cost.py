"""What each membership attack costs against one scoring pass: `memscan score` on the same
texts (generated held-out records of the real-model fixture) with each attack's flags,
wall time as the median of RUNS whole-process runs, in turn, and the ratio to the default
pass (main pass with the distribution statistics). Model loading is included in every
run; the `--basic` row shows what it and the statistics cost.

    .venv/bin/python benches/attack_cost.py [--texts 48] [--runs 3] [--only recall,default]

`--only` keeps the rows whose name contains one of the given words (the default pass
always runs: it is the ratio's denominator).
"""
import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
MEMSCAN = os.environ.get("MEMSCAN_BIN", os.path.join(ROOT, "target", "release", "memscan"))
BASE = os.path.join(ROOT, "models", "SmolLM2-135M-Instruct.Q4_1.gguf")
GEMMA = os.path.join(ROOT, "models", "gemma-3-270m-q4_k_m.gguf")
FIX = os.path.join(ROOT, "fixtures", "smollm2-lora")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--texts", type=int, default=48)
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--only", default="", help="comma-separated words; rows whose name holds one")
    a = ap.parse_args()
    held = [json.loads(l) for l in open(os.path.join(FIX, "heldout.jsonl"))]
    tmp = tempfile.mkdtemp()
    w = lambda name, rs: (open(os.path.join(tmp, name), "w").write(
        "".join(json.dumps({"id": r["id"], "text": r["text"]}) + "\n" for r in rs)), os.path.join(tmp, name))[1]
    texts = w("texts.jsonl", held[:a.texts])
    prefix = w("prefix.jsonl", held[-5:])
    # for the cost only: any five other texts stand in for Con-ReCall's known members
    members = w("members.jsonl", held[-50:-45])
    pop = w("pop.jsonl", held[-45:-5])
    import pydoc_data.topics
    corpus = w("corpus.jsonl", [{"id": k, "text": v} for k, v in pydoc_data.topics.topics.items()])
    idx = os.path.join(tmp, "idx")
    subprocess.run([MEMSCAN, "-q", "index", "build", "--corpus", corpus, "--tokenizer", BASE, "--out", idx], check=True)
    base = [MEMSCAN, "-q", "score", "-m", BASE, "--device", "cpu", "-i", texts, "-o", os.path.join(tmp, "o.jsonl")]
    configs = {
        "--basic (no distribution statistics)": ["--basic"],
        "default pass": [],
        "dc_pdd (--token-freq INDEX)": ["--token-freq", idx],
        "recall (--recall-prefix, 5 shots)": ["--recall-prefix", prefix],
        "con_recall (--recall-prefix and --con-recall-members, 5 shots each)":
            ["--recall-prefix", prefix, "--con-recall-members", members],
        "ref_ratio (one --reference-model, the same model)": ["--reference-model", BASE],
        "lira + rmia (SmolLM2 and Gemma 3 270M references, 40 population texts)":
            ["--reference-model", BASE, "--reference-model", GEMMA, "--population", pop],
        "neighbourhood (--neighbours 5)": ["--neighbours", "5"],
    }
    words = [x for x in a.only.split(",") if x]
    if words:
        configs = {k: v for k, v in configs.items() if k == "default pass" or any(x in k for x in words)}
    times = {k: [] for k in configs}
    for _ in range(a.runs):
        for k, extra in configs.items():
            t0 = time.perf_counter()
            subprocess.run(base + extra, check=True)
            times[k].append(time.perf_counter() - t0)
    ref = statistics.median(times["default pass"])
    print(f"{a.texts} texts, median of {a.runs} runs each\n")
    print("| attack | wall s | × default pass |")
    print("|---|---:|---:|")
    for k, v in times.items():
        m = statistics.median(v)
        print(f"| {k} | {m:.1f} | {m / ref:.2f} |")


if __name__ == "__main__":
    sys.exit(main())
