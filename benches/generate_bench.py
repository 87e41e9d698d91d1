"""Generated tokens/s, batch 8 x 64 new tokens, top-k 40 sampling at temperature 1, on
the default model: memscan (examples/generate_bench.rs) and transformers generate()
with the same prompts and settings, in one run, alternating, median of --repeat.

    python benches/generate_bench.py [--threads 2] [--repeat 3]
"""
import argparse
import os
import re
import statistics
import subprocess
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
PROMPTS = ["My email address is", "Once upon a time", "The password is", "import numpy as np",
           "Dear Sir or Madam,", "BEGIN RSA PRIVATE KEY", "Call me at", "The GNU General Public License"]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--threads", type=int, default=os.cpu_count())
    ap.add_argument("--repeat", type=int, default=3)
    a = ap.parse_args()
    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer

    torch.set_num_threads(a.threads)
    d, f = os.path.join(ROOT, "models"), "SmolLM2-135M-Instruct.Q4_1.gguf"
    tok = AutoTokenizer.from_pretrained(d, gguf_file=f)
    tok.padding_side = "left"
    tok.pad_token = tok.eos_token
    model = AutoModelForCausalLM.from_pretrained(d, gguf_file=f, dtype=torch.float32).eval()
    model.generation_config.eos_token_id = None
    enc = tok(PROMPTS, return_tensors="pt", padding=True, add_special_tokens=False)
    subprocess.run(["cargo", "build", "--release", "-q", "--example", "generate_bench"], cwd=ROOT, check=True)
    exe = os.path.join(ROOT, "target", "release", "examples", "generate_bench")
    ms, hf = [], []
    for _ in range(a.repeat):
        out = subprocess.run([exe, os.path.join(d, f), str(a.threads)], capture_output=True, text=True, check=True).stdout
        ms.append(float(re.search(r"= ([0-9.]+) tokens/s", out).group(1)))
        torch.manual_seed(1)
        t0 = time.perf_counter()
        with torch.inference_mode():
            g = model.generate(**enc, max_new_tokens=64, min_new_tokens=64, do_sample=True, top_k=40, temperature=1.0, pad_token_id=0)
        secs = time.perf_counter() - t0
        hf.append((g.shape[1] - enc.input_ids.shape[1]) * g.shape[0] / secs)
    print(f"batch 8 x 64 new tokens, top-k 40, {a.threads} threads, cpu f32 (median of {a.repeat})")
    print(f"memscan       {statistics.median(ms):8.1f} tokens/s   runs {ms}")
    print(f"transformers  {statistics.median(hf):8.1f} tokens/s   runs {[round(x, 1) for x in hf]}")
    print(f"speed-up      {statistics.median(ms) / statistics.median(hf):8.2f}x")


if __name__ == "__main__":
    main()
