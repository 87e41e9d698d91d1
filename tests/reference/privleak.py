"""MUSE's PrivLeak recomputed with transformers and numpy (not memscan's code): Min-K%
Prob (k = 20%: the mean of the lowest max(1, floor(0.2 n)) token log-probs of tokens
2..n) under a target and a "retrained" model, each with its own tokenizer; the AUC of
members against non-members as the Mann-Whitney count (the share of member/non-member
pairs where the member's Min-K% is higher, ties counting half: what scikit-learn's
roc_auc_score computes); PrivLeak = (AUC - AUC_retrain) / AUC_retrain * 100.

    python privleak.py TARGET_DIR RETRAIN_DIR MEMBERS.jsonl NONMEMBERS.jsonl

Prints {"auc": ..., "auc_retrain": ..., "privleak": ...}.
"""
import json
import os
import sys

import numpy as np
import torch
from tokenizers import Tokenizer
from transformers import AutoModelForCausalLM


def min_k(model, tok, text, k=0.2):
    ids = tok.encode(text).ids
    with torch.no_grad():
        x = torch.tensor([ids])
        lp = torch.log_softmax(model(x).logits.float()[0, :-1], dim=-1)
        lp = lp.gather(1, x[0, 1:, None])[:, 0].double().numpy()
    c = max(1, int(k * len(lp)))
    return float(np.sort(lp)[:c].mean())


def roc_auc(labels, scores):
    pos = np.array([s for l, s in zip(labels, scores) if l == 1])
    neg = np.array([s for l, s in zip(labels, scores) if l == 0])
    wins = (pos[:, None] > neg[None, :]).sum() + 0.5 * (pos[:, None] == neg[None, :]).sum()
    return float(wins / (len(pos) * len(neg)))


def main():
    target, retrain, mem, non = sys.argv[1:5]
    texts = [json.loads(l)["text"] for l in open(mem)] + [json.loads(l)["text"] for l in open(non)]
    labels = [1] * sum(1 for _ in open(mem)) + [0] * sum(1 for _ in open(non))
    aucs = []
    for d in (target, retrain):
        model = AutoModelForCausalLM.from_pretrained(d, dtype=torch.float32).eval()
        tok = Tokenizer.from_file(os.path.join(d, "tokenizer.json"))
        aucs.append(roc_auc(labels, [min_k(model, tok, t) for t in texts]))
    print(json.dumps({"auc": aucs[0], "auc_retrain": aucs[1],
                      "privleak": (aucs[0] - aucs[1]) / aucs[1] * 100}))


if __name__ == "__main__":
    main()
