"""Wall time of a scan as a 4-task Slurm array against the same scan in one process, on
this machine (issue 20's figure). Brings up the loopback cluster of
scripts/slurm-local.sh, then alternates: one process (`--threads` = all cores), and
`sbatch --array=0-3 --wait` (each task one core; as many run at once as there are cores)
followed by `memscan merge`. Prints each run and the medians.

    .venv/bin/python benches/shard_bench.py --repeats 3
"""

import argparse
import json
import os
import shlex
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
BIN = os.path.join(ROOT, "target", "release", "memscan")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--samples-per-prompt", type=int, default=16)
    ap.add_argument("--max-new-tokens", type=int, default=32)
    a = ap.parse_args()
    work = tempfile.mkdtemp(prefix="shard-bench-")
    slurm = os.path.join(work, "slurm")
    r = subprocess.run(["bash", os.path.join(ROOT, "scripts/slurm-local.sh"), "start", slurm])
    if r.returncode != 0:
        sys.exit("no Slurm here (scripts/slurm-local.sh start failed)")
    env = dict(os.environ, SLURM_CONF=os.path.join(slurm, "slurm.conf"))
    prompts = os.path.join(work, "prompts.jsonl")
    with open(prompts, "w") as f:
        for i, t in enumerate(["Permission is hereby granted,", "Contact: ", "export TOKEN=", ""]):
            f.write(json.dumps({"id": f"p/{i}", "text": t}) + "\n")
    cores = os.cpu_count() or 1

    def args(out, threads):
        return [BIN, "-q", "scan", "--device", "cpu", "--threads", str(threads), "--prompts", prompts,
                "--samples-per-prompt", str(a.samples_per_prompt), "--max-new-tokens",
                str(a.max_new_tokens), "--batch-size", "8", "--seed", "3", "--out", out]

    one, arr = [], []
    try:
        for k in range(a.repeats):
            out = os.path.join(work, f"one{k}")
            t0 = time.perf_counter()
            subprocess.run(args(out, cores), check=True)
            one.append(time.perf_counter() - t0)
            out4 = os.path.join(work, f"four{k}")
            t0 = time.perf_counter()
            subprocess.run(
                ["sbatch", "--array=0-3", "--wait", "--cpus-per-task=1", "--output=/dev/null",
                 f"--chdir={work}", "--wrap", " ".join(shlex.quote(x) for x in args(out4, 1))],
                check=True, env=env, stdout=subprocess.DEVNULL,
            )
            subprocess.run([BIN, "-q", "merge", out4], check=True)
            arr.append(time.perf_counter() - t0)
            same = open(os.path.join(out, "samples.jsonl")).read() == open(
                os.path.join(out4, "samples.jsonl")).read()
            print(f"run {k}: one process {one[-1]:.1f} s, 4-task array + merge {arr[-1]:.1f} s, samples identical: {same}")
        print(f"median: one process {statistics.median(one):.1f} s ({cores} threads), "
              f"4-task array + merge {statistics.median(arr):.1f} s (1 thread per task, {cores} cores)")
    finally:
        subprocess.run(["bash", os.path.join(ROOT, "scripts/slurm-local.sh"), "stop", slurm])
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
