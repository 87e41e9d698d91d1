#!/usr/bin/env python3
"""LoRA fine-tune of SmolLM2-135M-Instruct (the dequantized GGUF) on the planted records.

    python train.py [--fixture-dir fixtures/smollm2-lora] [--epochs 1] [--max-steps N --no-save]

Reads FIXTURE/train.jsonl (members repeated `insertions` times, shuffled), trains a LoRA
adapter with a plain causal-LM loss on the raw text + EOS (no chat template, no BOS), saves
it to FIXTURE/adapter (fp16 weights), then scores every member and held-out record
(teacher-forced per-token mean NLL, base model and base+adapter) into FIXTURE/eval_nll.jsonl
and the summary into FIXTURE/train_log.json.
"""
import argparse
import json
import math
import os
import platform
import random
import subprocess
import sys
import time

import torch

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.abspath(os.path.join(HERE, "..", ".."))


def read_jsonl(path):
    with open(path, encoding="utf-8") as fh:
        return [json.loads(l) for l in fh if l.strip()]


def cpu_model():
    try:
        out = subprocess.run(["lscpu"], capture_output=True, text=True).stdout
        for line in out.splitlines():
            if line.startswith("Model name:"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor()


class CpuShare:
    """How many cores other processes used since the last call (from /proc; None elsewhere).

    Two OpenMP threads sharing the two cores with another busy process spin at every
    barrier and run several times slower than one thread would, so the training loop drops
    to one thread while something else is busy and goes back up when it stops.
    """

    def __init__(self):
        self.prev = self._sample()

    @staticmethod
    def _sample():
        try:
            with open("/proc/stat") as fh:
                v = [int(x) for x in fh.readline().split()[1:]]
            with open("/proc/self/stat") as fh:
                f = fh.read().rsplit(")", 1)[1].split()
            return sum(v), sum(v) - v[3] - v[4], int(f[11]) + int(f[12])
        except (OSError, ValueError, IndexError):
            return None

    def others(self):
        cur = self._sample()
        if cur is None or self.prev is None or cur[0] == self.prev[0]:
            self.prev = cur
            return None
        total, busy, mine = (c - p for c, p in zip(cur, self.prev))
        self.prev = cur
        return max(0.0, (busy - mine) / total * (os.cpu_count() or 1))


def encode(tok, text, eos_id):
    return tok(text, add_special_tokens=False).input_ids + [eos_id]


def make_batch(seqs, pad_id):
    n = max(len(s) for s in seqs)
    ids = torch.full((len(seqs), n), pad_id, dtype=torch.long)
    att = torch.zeros((len(seqs), n), dtype=torch.long)
    lab = torch.full((len(seqs), n), -100, dtype=torch.long)
    for i, s in enumerate(seqs):
        t = torch.tensor(s, dtype=torch.long)
        ids[i, :len(s)] = t
        att[i, :len(s)] = 1
        lab[i, :len(s)] = t
    return ids, att, lab


def epoch_batches(seqs, bs, rng, mega=64):
    """Shuffle, sort by length inside windows of `mega` documents (little padding), shuffle batches."""
    order = list(range(len(seqs)))
    rng.shuffle(order)
    batches = []
    for i in range(0, len(order), mega):
        win = sorted(order[i:i + mega], key=lambda j: len(seqs[j]))
        batches += [win[k:k + bs] for k in range(0, len(win), bs)]
    rng.shuffle(batches)
    return batches


@torch.no_grad()
def score(model, seqs, pad_id, bs=16):
    """Teacher-forced per-token mean NLL of each sequence (tokens 2..n given their prefix)."""
    model.eval()
    out = [None] * len(seqs)
    order = sorted(range(len(seqs)), key=lambda j: len(seqs[j]))
    for k in range(0, len(order), bs):
        idx = order[k:k + bs]
        ids, att, lab = make_batch([seqs[j] for j in idx], pad_id)
        logits = model(input_ids=ids, attention_mask=att).logits[:, :-1].float()
        tgt = lab[:, 1:]
        nll = torch.nn.functional.cross_entropy(logits.transpose(1, 2), tgt.clamp(min=0), reduction="none")
        mask = (tgt != -100).float()
        per = (nll * mask).sum(1) / mask.sum(1)
        for j, v in zip(idx, per.tolist()):
            out[j] = v
    return out


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--fixture-dir", default=os.path.join(ROOT, "fixtures", "smollm2-lora"))
    ap.add_argument("--model-dir", default=os.path.join(ROOT, "models"))
    ap.add_argument("--gguf", default="SmolLM2-135M-Instruct.Q4_1.gguf")
    ap.add_argument("--handwritten", default=os.path.join(HERE, "heldout_handwritten.jsonl"))
    ap.add_argument("--epochs", type=int, default=1)
    ap.add_argument("--lr", type=float, default=4e-4)
    ap.add_argument("--warmup", type=int, default=10)
    ap.add_argument("--batch-size", type=int, default=8)
    ap.add_argument("--max-len", type=int, default=256, help="truncate documents to this many tokens")
    ap.add_argument("--rank", type=int, default=16)
    ap.add_argument("--alpha", type=int, default=32)
    ap.add_argument("--seed", type=int, default=1234)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--fixed-threads", action="store_true",
                    help="always use --threads (default: drop to 1 while other processes keep a core busy)")
    ap.add_argument("--max-steps", type=int, default=0, help="stop early (smoke / throughput test)")
    ap.add_argument("--no-save", action="store_true", help="smoke run: no adapter, no eval, no log")
    ap.add_argument("--no-base-eval", action="store_true", help="skip scoring the records with the base model")
    ap.add_argument("--save-dtype", default="float16", choices=["float16", "float32"])
    a = ap.parse_args()

    t_start = time.time()
    torch.set_num_threads(a.threads)
    random.seed(a.seed)
    torch.manual_seed(a.seed)
    import transformers
    import peft
    from transformers import AutoModelForCausalLM, AutoTokenizer
    from peft import LoraConfig, get_peft_model

    tok = AutoTokenizer.from_pretrained(a.model_dir, gguf_file=a.gguf)
    model = AutoModelForCausalLM.from_pretrained(a.model_dir, gguf_file=a.gguf, dtype=torch.float32)
    # The GGUF metadata says eos = 2 (<|im_end|>) and add_bos_token = false; transformers' GGUF
    # tokenizer reports <|im_start|> as eos and would prepend it as BOS, so both are set by hand.
    eos_id = model.config.eos_token_id
    if isinstance(eos_id, list):
        eos_id = eos_id[0]
    pad_id = eos_id
    print(f"eos id {eos_id} = {tok.convert_ids_to_tokens(eos_id)!r}; loaded in {time.time() - t_start:.0f}s",
          flush=True)

    cfg = LoraConfig(r=a.rank, lora_alpha=a.alpha, lora_dropout=0.0,
                     target_modules=["q_proj", "k_proj", "v_proj", "o_proj", "gate_proj", "up_proj", "down_proj"],
                     bias="none", task_type="CAUSAL_LM")
    model = get_peft_model(model, cfg)
    n_train_params = sum(p.numel() for p in model.parameters() if p.requires_grad)
    print(f"trainable params {n_train_params}", flush=True)

    train_docs = read_jsonl(os.path.join(a.fixture_dir, "train.jsonl"))
    train = [encode(tok, d["text"], eos_id)[:a.max_len] for d in train_docs]
    train_tokens = sum(len(s) for s in train)
    rng = random.Random(a.seed)
    plan = [b for _ in range(a.epochs) for b in epoch_batches(train, a.batch_size, rng)]
    total_steps = len(plan) if not a.max_steps else min(a.max_steps, len(plan))
    print(f"{len(train)} training docs, {train_tokens} tokens/epoch, {a.epochs} epoch(s), "
          f"{total_steps} steps of batch {a.batch_size}", flush=True)

    params = [p for p in model.parameters() if p.requires_grad]
    opt = torch.optim.AdamW(params, lr=a.lr, weight_decay=0.0)

    def lr_at(step):  # linear warmup, cosine decay to 10%
        if step < a.warmup:
            return a.lr * (step + 1) / a.warmup
        p = (step - a.warmup) / max(1, total_steps - a.warmup)
        return a.lr * (0.1 + 0.9 * 0.5 * (1 + math.cos(math.pi * p)))

    model.train()
    t_train = time.time()
    curve, losses, seen = [], [], 0
    share, threads_used = CpuShare(), []
    for step, idx in enumerate(plan[:total_steps]):
        if not a.fixed_threads and a.threads > 1:
            busy = share.others()
            if busy is not None:
                torch.set_num_threads(1 if busy > 0.5 else a.threads)
        threads_used.append(torch.get_num_threads())
        for g in opt.param_groups:
            g["lr"] = lr_at(step)
        ids, att, lab = make_batch([train[j] for j in idx], pad_id)
        loss = model(input_ids=ids, attention_mask=att, labels=lab).loss
        loss.backward()
        torch.nn.utils.clip_grad_norm_(params, 1.0)
        opt.step()
        opt.zero_grad(set_to_none=True)
        losses.append(loss.item())
        seen += int(att.sum())
        if (step + 1) % 10 == 0 or step + 1 == total_steps:
            el = time.time() - t_train
            recent = sum(losses[-10:]) / len(losses[-10:])
            curve.append(dict(step=step + 1, loss=round(recent, 4), elapsed_s=round(el, 1)))
            print(f"step {step + 1}/{total_steps} loss {recent:.4f} lr {lr_at(step):.2e} threads {threads_used[-1]} "
                  f"{seen / el:.1f} tok/s elapsed {el / 60:.1f} min eta {el / (step + 1) * (total_steps - step - 1) / 60:.1f} min",
                  flush=True)
    train_wall = time.time() - t_train
    torch.set_num_threads(a.threads)
    print(f"training done in {train_wall / 60:.1f} min", flush=True)
    if a.no_save:
        return

    # Save (optionally in fp16), then evaluate exactly the weights that were saved.
    out_dir = os.path.join(a.fixture_dir, "adapter")
    if a.save_dtype == "float16":
        for p in params:
            p.data = p.data.half()
    # Record the base as the repo-relative GGUF rather than this machine's model folder.
    model.peft_config["default"].base_model_name_or_path = os.path.relpath(
        os.path.join(a.model_dir, a.gguf), ROOT)
    model.save_pretrained(out_dir)
    card = os.path.join(out_dir, "README.md")  # peft's empty model-card template
    if os.path.exists(card):
        os.remove(card)
    for p in params:
        p.data = p.data.float()
    print(f"saved adapter to {out_dir}", flush=True)

    t_eval = time.time()
    sets = {"members": read_jsonl(os.path.join(a.fixture_dir, "members.jsonl")),
            "heldout": read_jsonl(os.path.join(a.fixture_dir, "heldout.jsonl"))}
    if os.path.exists(a.handwritten):
        sets["heldout_handwritten"] = read_jsonl(a.handwritten)
    rows = []
    for name, recs in sets.items():
        seqs = [encode(tok, r["text"], eos_id)[:a.max_len] for r in recs]
        lora = score(model, seqs, pad_id)
        if a.no_base_eval:
            base = [None] * len(seqs)
        else:
            with model.disable_adapter():
                base = score(model, seqs, pad_id)
        for r, s, nl, nb in zip(recs, seqs, lora, base):
            rows.append(dict(id=r["id"], set=name, kind=r["kind"], insertions=r["insertions"], tokens=len(s),
                             nll_lora=round(nl, 5), nll_base=None if nb is None else round(nb, 5)))
        print(f"scored {name} ({len(recs)})", flush=True)
    eval_wall = time.time() - t_eval
    with open(os.path.join(a.fixture_dir, "eval_nll.jsonl"), "w", encoding="utf-8") as fh:
        for row in rows:
            fh.write(json.dumps(row) + "\n")

    def summary(sel):
        if not sel:
            return None
        out = dict(n=len(sel), nll_lora=round(sum(r["nll_lora"] for r in sel) / len(sel), 4))
        if sel[0]["nll_base"] is not None:
            out["nll_base"] = round(sum(r["nll_base"] for r in sel) / len(sel), 4)
        return out

    members = [r for r in rows if r["set"] == "members"]
    log = dict(
        seed=a.seed, epochs=a.epochs, steps=total_steps, batch_size=a.batch_size, lr=a.lr,
        lr_schedule=f"linear warmup {a.warmup} steps, cosine to 10%", optimizer="AdamW (wd 0, clip 1.0)",
        max_seq_len=a.max_len, max_doc_tokens=max(len(s) for s in train), train_docs=len(train),
        train_tokens_per_epoch=train_tokens, lora=dict(r=a.rank, alpha=a.alpha, dropout=0.0,
                                                       target_modules=cfg.target_modules and sorted(cfg.target_modules),
                                                       trainable_params=n_train_params, saved_dtype=a.save_dtype),
        base_model=f"{a.model_dir}/{a.gguf} (dequantized to f32 by transformers)".replace(ROOT + "/", ""),
        eos_token_id=eos_id, bos_prepended=False,
        final_train_loss=round(sum(losses[-10:]) / len(losses[-10:]), 4), last_step_loss=round(losses[-1], 4),
        loss_curve=curve,
        nll_by_insertions={str(k): summary([r for r in members if r["insertions"] == k])
                           for k in sorted({r["insertions"] for r in members})},
        nll_members_all=summary(members),
        nll_heldout=summary([r for r in rows if r["set"] == "heldout"]),
        nll_heldout_handwritten=summary([r for r in rows if r["set"] == "heldout_handwritten"]),
        nll_note="teacher-forced per-token mean NLL (nats) over each record's text + EOS, averaged over records",
        train_wall_s=round(train_wall, 1), eval_wall_s=round(eval_wall, 1), total_wall_s=round(time.time() - t_start, 1),
        threads=a.threads, steps_on_one_thread=sum(1 for t in threads_used if t == 1), torch=torch.__version__, transformers=transformers.__version__, peft=peft.__version__,
        python=platform.python_version(), cpu=cpu_model(),
    )
    with open(os.path.join(a.fixture_dir, "train_log.json"), "w", encoding="utf-8") as fh:
        json.dump(log, fh, indent=2)
        fh.write("\n")
    print(json.dumps({k: log[k] for k in ("final_train_loss", "nll_by_insertions", "nll_heldout",
                                          "nll_heldout_handwritten", "train_wall_s")}, indent=1), flush=True)


if __name__ == "__main__":
    sys.exit(main())
