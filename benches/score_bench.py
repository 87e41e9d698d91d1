"""Scoring throughput, memscan vs transformers, on the same texts in one run.

    python benches/score_bench.py [--model M.gguf] [--batch 8] [--tokens 128] [--texts 64]
                                  [--threads 2] [--device cpu] [--dtype f32]

Both sides do the same work: every text cut to exactly --tokens tokens, batches of
--batch, one teacher-forced forward pass and the log-prob of every next token.
Model loading is excluded on both sides, warm-up is not (both run cold);
tokens/s counts input tokens.
"""
import argparse
import json
import os
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
WORDS = ("the of and to in is was for on that with as by at from his her an be this which or "
         "are have not had but they one were all we when there can been has more if will no "
         "would so what out up into do only new some could time these two may then first any "
         "like now my such make over our even most me state after also made many did must "
         "before back see through way where get much go well your know should down work year").split()


def make_texts(n, seed=0):
    import random
    r = random.Random(seed)
    return [" ".join(r.choice(WORDS) for _ in range(400)).capitalize() + "." for _ in range(n)]


def load_transformers(model_path, texts, ntok, threads, device, dtype):
    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer

    torch.set_num_threads(threads)
    d, f = os.path.split(model_path)
    kw = {"gguf_file": f} if f.endswith(".gguf") else {}
    src = d if f.endswith(".gguf") else model_path
    tok = AutoTokenizer.from_pretrained(src, **kw)
    dt = {"f32": torch.float32, "bf16": torch.bfloat16, "f16": torch.float16}[dtype]
    model = AutoModelForCausalLM.from_pretrained(src, dtype=dt, **kw).eval().to(device)
    ids = [tok(t, add_special_tokens=False).input_ids[:ntok] for t in texts]
    assert all(len(i) == ntok for i in ids)
    return model, torch.tensor(ids, device=device)


def run_transformers(model, x_all, batch, ntok, device):
    import torch

    ids = x_all
    with torch.inference_mode():  # no warm-up on either side: both are timed cold
        t0 = time.perf_counter()
        for i in range(0, len(ids), batch):
            x = x_all[i:i + batch]
            logits = model(x).logits.float()
            lp = torch.log_softmax(logits[:, :-1], -1).gather(2, x[:, 1:, None])[..., 0]
            lp.cpu()
        if device.startswith("cuda"):
            torch.cuda.synchronize()
        secs = time.perf_counter() - t0
    return len(ids) * ntok / secs


def run_memscan(model_path, texts, batch, ntok, threads, device, dtype):
    binary = os.path.join(ROOT, "target", "release", "memscan")
    with tempfile.TemporaryDirectory() as tmp:
        inp = os.path.join(tmp, "texts.jsonl")
        with open(inp, "w") as fh:
            for t in texts:
                fh.write(json.dumps({"text": t}) + "\n")
        cmd = [binary, "score", "--model", model_path, "--input", inp, "--output", os.path.join(tmp, "o.jsonl"),
               "--batch-size", str(batch), "--max-tokens", str(ntok), "--threads", str(threads),
               "--device", device, "--dtype", dtype]
        p = subprocess.run(cmd, capture_output=True, text=True)
        if p.returncode != 0:
            sys.exit(f"memscan failed: {p.stderr}")
        for line in p.stderr.splitlines():
            if "tokens/s" in line and "scored" in line:
                return float(line.split("(")[-1].split()[0])
    sys.exit("memscan printed no throughput")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--model", default=os.path.join(ROOT, "models", "SmolLM2-135M-Instruct.Q4_1.gguf"))
    ap.add_argument("--batch", type=int, default=8)
    ap.add_argument("--tokens", type=int, default=128)
    ap.add_argument("--texts", type=int, default=64)
    ap.add_argument("--threads", type=int, default=os.cpu_count())
    ap.add_argument("--device", default="cpu")
    ap.add_argument("--dtype", default="f32")
    ap.add_argument("--skip-transformers", action="store_true")
    ap.add_argument("--repeat", type=int, default=3, help="alternating runs of each; medians are reported")
    a = ap.parse_args()
    texts = make_texts(a.texts)
    print(f"scoring {a.texts} texts x {a.tokens} tokens, batch {a.batch}, {a.threads} threads, "
          f"{a.device} {a.dtype}, model {os.path.basename(a.model)}")
    import statistics
    hf_model = None if a.skip_transformers else load_transformers(a.model, texts, a.tokens, a.threads, a.device, a.dtype)
    ms_runs, hf_runs = [], []
    for _ in range(a.repeat):  # alternate, so drift in machine speed hits both alike
        ms_runs.append(run_memscan(a.model, texts, a.batch, a.tokens, a.threads, a.device, a.dtype))
        if hf_model:
            hf_runs.append(run_transformers(*hf_model, a.batch, a.tokens, a.device))
    ms = statistics.median(ms_runs)
    print(f"memscan       {ms:10.0f} tokens/s   runs: {', '.join(f'{v:.0f}' for v in ms_runs)}")
    if hf_runs:
        hf = statistics.median(hf_runs)
        print(f"transformers  {hf:10.0f} tokens/s   runs: {', '.join(f'{v:.0f}' for v in hf_runs)}")
        print(f"speed-up      {ms / hf:10.2f}x")


if __name__ == "__main__":
    main()
