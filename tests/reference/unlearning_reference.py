"""TOFU's truth ratio and MUSE's VerbMem continuations recomputed with transformers (not
memscan's code).

    python unlearning_reference.py truth-ratio MODEL_DIR QA.jsonl
        Each question and answer joined as "Question: {q}\nAnswer: {a}"; an answer's
        loss is the mean -log p of its tokens (those after the prompt
        "Question: {q}\nAnswer:"), TOFU's `avg_paraphrased_loss` / `average_perturb_loss`;
        R = exp(paraphrased loss - mean perturbed loss) (TOFU's code keeps 1/R).
        Prints {"ratios": [...], "mean", "median", "tofu_forget_score"}: the last is
        TOFU's forget-set "Truth Ratio", mean(min(R, 1/R)).

    python unlearning_reference.py ks D1.json D2.json
        The two-sample KS statistic sup|F1 - F2| of two printed "ratios" lists (numpy).

    python unlearning_reference.py verbmem MODEL_DIR TEXTS.jsonl PROMPT_TOKENS NEW_TOKENS
        MUSE's VerbMem generation: each text's first PROMPT_TOKENS tokens (after the
        tokenizer's own leading special tokens) continued greedily by
        `model.generate(do_sample=False)` for up to NEW_TOKENS tokens, both the
        continuation and the true next NEW_TOKENS tokens decoded without special tokens.
        Prints [{"truth": ..., "generated": ..., "exact": bool}, ...] for texts longer than
        the prompt.
"""
import json
import os
import sys

import numpy as np
import torch
from tokenizers import Tokenizer
from transformers import AutoModelForCausalLM


def load(d):
    model = AutoModelForCausalLM.from_pretrained(d, dtype=torch.float32).eval()
    return model, Tokenizer.from_file(os.path.join(d, "tokenizer.json"))


def answer_loss(model, tok, q, a):
    prompt = tok.encode(f"Question: {q}\nAnswer:").ids
    ids = tok.encode(f"Question: {q}\nAnswer: {a}").ids
    with torch.no_grad():
        x = torch.tensor([ids])
        lp = torch.log_softmax(model(x).logits.double()[0, :-1], dim=-1)
        lp = lp.gather(1, x[0, 1:, None])[:, 0].numpy()
    return float(-lp[len(prompt) - 1:].mean())


def truth_ratio(model_dir, qa):
    model, tok = load(model_dir)
    ratios = []
    for line in open(qa):
        r = json.loads(line)
        para = answer_loss(model, tok, r["question"], r["paraphrased_answer"])
        pert = np.mean([answer_loss(model, tok, r["question"], a) for a in r["perturbed_answer"]])
        ratios.append(float(np.exp(para - pert)))
    v = np.array(ratios)
    print(json.dumps({"ratios": ratios, "mean": float(v.mean()), "median": float(np.median(v)),
                      "tofu_forget_score": float(np.minimum(v, 1 / v).mean())}))


def ks(a_path, b_path):
    a = np.sort(json.load(open(a_path))["ratios"])
    b = np.sort(json.load(open(b_path))["ratios"])
    pooled = np.concatenate([a, b])
    fa = np.searchsorted(a, pooled, side="right") / len(a)
    fb = np.searchsorted(b, pooled, side="right") / len(b)
    print(json.dumps({"statistic": float(np.max(np.abs(fa - fb)))}))


def verbmem(model_dir, texts, prompt_tokens, new_tokens):
    model, tok = load(model_dir)
    eos = model.config.eos_token_id
    specials = {i for i in (model.config.bos_token_id, eos) if i is not None}
    out = []
    for line in open(texts):
        t = json.loads(line)["text"]
        full = tok.encode(t).ids
        plain = tok.encode(t, add_special_tokens=False).ids
        if len(plain) <= prompt_tokens:
            continue
        lead = full[: len(full) - len(plain)]
        prompt = lead + plain[:prompt_tokens]
        truth = plain[prompt_tokens: prompt_tokens + new_tokens]
        with torch.no_grad():
            g = model.generate(torch.tensor([prompt]), attention_mask=torch.ones(1, len(prompt), dtype=torch.long),
                               max_new_tokens=new_tokens, do_sample=False, eos_token_id=eos,
                               pad_token_id=eos if eos is not None else 0)
        gen = [i for i in g[0, len(prompt):].tolist() if i not in specials]
        out.append({"truth": tok.decode(truth, skip_special_tokens=True),
                    "generated": tok.decode(gen, skip_special_tokens=True),
                    "exact": gen[: len(truth)] == truth})
    print(json.dumps(out))


if __name__ == "__main__":
    cmd = sys.argv[1]
    if cmd == "truth-ratio":
        truth_ratio(sys.argv[2], sys.argv[3])
    elif cmd == "ks":
        ks(sys.argv[2], sys.argv[3])
    else:
        verbmem(sys.argv[2], sys.argv[3], int(sys.argv[4]), int(sys.argv[5]))
