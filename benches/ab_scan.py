"""A/B wall time of two memscan binaries on the same scan, alternating A B A B …, with
the median of each and the median of the pair-by-pair ratio B/A (robust to the machine's
drift). Used for issue 17's cost figure: the scan before and after per-finding evidence.

    python benches/ab_scan.py --a OLD_BIN --b NEW_BIN [--runs 3] -- scan --prompts secrets ...

Each run writes its report to a fresh temporary folder (no resume between runs).
"""
import argparse
import statistics
import subprocess
import sys
import tempfile
import time


def once(binary, args):
    with tempfile.TemporaryDirectory() as d:
        t0 = time.perf_counter()
        r = subprocess.run([binary, "-q"] + args + ["--out", d + "/r"], capture_output=True, text=True)
        secs = time.perf_counter() - t0
    if r.returncode not in (0, 1):
        sys.exit(f"{binary}: exit {r.returncode}: {r.stderr.strip()}")
    return secs


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--a", required=True)
    ap.add_argument("--b", required=True)
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("args", nargs=argparse.REMAINDER)
    a = ap.parse_args()
    args = a.args[1:] if a.args[:1] == ["--"] else a.args
    once(a.a, args)  # warm-up: page cache, model file
    ta, tb = [], []
    for _ in range(a.runs):
        ta.append(once(a.a, args))
        tb.append(once(a.b, args))
    ratios = [b / x for x, b in zip(ta, tb)]
    print(f"A {a.a}: median {statistics.median(ta):.1f} s (min {min(ta):.1f}, max {max(ta):.1f})")
    print(f"B {a.b}: median {statistics.median(tb):.1f} s (min {min(tb):.1f}, max {max(tb):.1f})")
    print(f"B/A: median {statistics.median(ratios):.3f} (min {min(ratios):.3f}, max {max(ratios):.3f}) over {a.runs} pairs")


if __name__ == "__main__":
    main()
