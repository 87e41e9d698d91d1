"""Verbatim index: build speed, bytes of index per corpus byte, peak memory, and query
latency for 512-token generations, on a ~1 GB corpus made of the text files of the
project's venv (Python sources, Markdown, reStructuredText, text, licenses), repeated in
a seeded order until --gb.

    python benches/index_bench.py [--gb 1.0] [--shard-mb 1024] [--queries 50] [--keep DIR]

Queries: half are 512-token (≈2 KB) windows cut from the corpus (so a long match
exists), half are fresh text that does not occur in it.
"""
import argparse
import json
import os
import random
import re
import resource
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
BIN = os.path.join(ROOT, "target", "release", "memscan")


def sources():
    site = os.path.join(ROOT, ".venv", "lib")
    out = []
    for dirpath, dirnames, filenames in os.walk(site):
        dirnames.sort()
        for f in sorted(filenames):
            if f.endswith((".py", ".md", ".rst", ".txt")) or f.startswith("LICENSE"):
                out.append(os.path.join(dirpath, f))
    return out


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--gb", type=float, default=1.0)
    ap.add_argument("--shard-mb", type=int, default=1024)
    ap.add_argument("--queries", type=int, default=50)
    ap.add_argument("--keep")
    a = ap.parse_args()
    r = random.Random(0)
    with tempfile.TemporaryDirectory() as tmp:
        d = a.keep or tmp
        os.makedirs(d, exist_ok=True)
        corpus = os.path.join(d, "corpus.txt")
        files = sources()
        target = int(a.gb * 1e9)
        size = 0
        with open(corpus, "wb") as out:
            while size < target:
                r.shuffle(files)
                for f in files:
                    with open(f, "rb") as fh:
                        data = fh.read()
                    data = data[: target - size]
                    out.write(data)
                    size += len(data)
                    if size >= target:
                        break
        os.sync()
        idx = os.path.join(d, "index")
        t0 = time.perf_counter()
        p = subprocess.run(["/usr/bin/time", "-v", BIN, "-q", "index", "build", "--corpus", corpus, "--out", idx,
                            "--shard-mb", str(a.shard_mb)], capture_output=True, text=True)
        secs = time.perf_counter() - t0
        if p.returncode != 0:
            sys.exit(p.stderr)
        peak_kb = int(re.search(r"Maximum resident set size \(kbytes\): (\d+)", p.stderr).group(1))
        index_bytes = sum(os.path.getsize(os.path.join(idx, f)) for f in os.listdir(idx))
        print(f"corpus {size / 1e9:.2f} GB; build {secs:.1f} s = {size / 1e6 / secs:.1f} MB/s; "
              f"peak memory {peak_kb / 1e6:.2f} GB = {peak_kb * 1e3 / size:.1f} bytes per corpus byte; "
              f"index on disk {index_bytes / size:.1f} bytes per corpus byte (text + suffix array)")
        # queries: 512-token windows (~2 KB) from the corpus, and fresh text
        q = os.path.join(d, "queries.jsonl")
        with open(corpus, "rb") as fh, open(q, "w") as out:
            for i in range(a.queries):
                if i % 2 == 0:
                    fh.seek(r.randrange(0, size - 4096))
                    text = fh.read(2048).decode("utf-8", "replace")
                else:
                    text = " ".join("".join(r.choice("abcdefghijklmnopqrstuvwxyz") for _ in range(r.randrange(2, 9)))
                                    for _ in range(350))[:2048]
                out.write(json.dumps({"id": i, "text": text}) + "\n")
        t0 = time.perf_counter()
        p = subprocess.run([BIN, "index", "query", idx, "-i", q], capture_output=True, text=True)
        total = time.perf_counter() - t0
        if p.returncode != 0:
            sys.exit(p.stderr)
        per = re.search(r"\(([0-9.]+) ms each\)", p.stderr).group(1)
        rows = [json.loads(l) for l in p.stdout.splitlines()]
        hits = [x["longest_match_bytes"] for x in rows[0::2]]
        miss = [x["longest_match_bytes"] for x in rows[1::2]]
        print(f"queries: {a.queries} texts of 2 KB (≈512 tokens): {per} ms each after opening the index "
              f"({total:.2f} s for the whole command incl. start-up and mmap); "
              f"longest match: windows {min(hits)}–{max(hits)} bytes, fresh text {min(miss)}–{max(miss)} bytes")


if __name__ == "__main__":
    main()
