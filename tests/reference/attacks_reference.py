"""Reference values of ReCaLL and DC-PDD for memscan's tests, from transformers' logits
and the published formulas (not from memscan's code).

    python attacks_reference.py GENERATED_DIR

GENERATED_DIR is hf_reference.py's output (tiny-llama/ has a BOS, tiny-gpt2/ none; its
texts.jsonl). Writes GENERATED_DIR/attacks/:
  prefix.jsonl        the non-member shots of the ReCaLL prefix
  member_prefix.jsonl the "member" shots of the Con-ReCall prefix
  corpus.jsonl        a small reference corpus for DC-PDD
  counts-MODEL.txt    the corpus's token counts with MODEL's tokenizer, one per line
                      (line i for token id i), as numpy.savetxt writes them
  population.jsonl    known non-members for RMIA
  attacks.json        per model, per text: recall, con_recall, dc_pdd and neighbourhood (3 neighbours);
                      under "references", per text:
                      ref_ratio, lira and rmia of tiny-llama with tiny-gpt2 and tiny-qwen2
                      as the reference models

ReCaLL (Xie et al. 2024; github.com/ruoyuxie/recall, src/run.py): LL(x | P) / LL(x), LL
the mean log-likelihood of x's tokens; the prefix P is the shots, each followed by a
blank line, encoded as one string without special tokens after what the tokenizer puts
before any text; x follows as it encodes alone without special tokens. LL(x) is over
tokens 2..n of x encoded with its special tokens.

Con-ReCall (Wang et al. 2024; github.com/WangCheng0116/CON-RECALL): (LL(x | P_non) -
LL(x | P_mem)) / LL(x) (gamma = 1, the released code's form), P_mem the member shots built
like the ReCaLL prefix.

DC-PDD (Zhang et al. 2024; github.com/zhang-wei-chao/DC-PDD, com_det_sco.py): over tokens
2..n, keep each token id's first occurrence; alpha = p * ln(1 / f), f = (count + 1) /
(total + V); alpha capped at a = 0.01; the score is the mean of alpha (the repository
reports its negation and ranks by the negation's negative: higher is member).
"""
import json
import math
import os
import sys

import numpy as np
import torch
from tokenizers import Tokenizer
from transformers import AutoModelForCausalLM

SHOTS = [
    "The ferry to the island leaves twice a day in summer and once in winter.",
    "Grandmother kept her recipes in a tin box under the kitchen stairs.",
    "A committee will review the proposal at its next quarterly meeting.",
]

MEMBER_SHOTS = [
    "Our records show the parcel left the depot on Tuesday morning.",
    "The choir rehearses in the old chapel every Thursday evening.",
]

CORPUS = [
    "Rivers carry sediment from the mountains to the sea, building deltas over centuries.",
    "The library opens at nine and closes at five on weekdays; on Saturdays it closes at noon.",
    "def add(a, b):\n    return a + b\n",
    "Prices rose by 3.5 percent in March, the largest increase since 2019.",
    "She wrote to the council twice before anyone answered her letter.",
    "Tokens, counts and frequencies: the quick brown fox jumps over the lazy dog again.",
] * 3

CAP = 0.01

# Neighbourhood attack (Mattern et al. 2023), with the target proposing the substitutions:
# neighbour j replaces the token at p_j = 1 + floor(j (n - 1) / k), k = min(N, n - 1), by
# the model's highest-ranked other token there; score = nll(x) - mean nll(neighbours).
NEIGHBOURS = 3

POPULATION = [
    "The harbour master logged eleven arrivals before noon.",
    "Please return the signed form to the front desk by Friday.",
    "Winter wheat is sown in autumn and harvested the next summer.",
    "He tuned the old piano himself, one string at a time.",
    "Our meeting moved to the second floor conference room.",
    "def square(x):\n    return x * x\n",
]

# RMIA's offline coefficient (ml_privacy_meter's default)
RMIA_A = 0.3


def logprobs(model, ids):
    with torch.no_grad():
        x = torch.tensor([ids])
        lp = torch.log_softmax(model(x).logits.float()[0, :-1], dim=-1)
        return lp.gather(1, x[0, 1:, None])[:, 0].double().numpy()


def neighbourhood(model, ids):
    n = len(ids)
    k = min(NEIGHBOURS, n - 1)
    with torch.no_grad():
        logits = model(torch.tensor([ids])).logits.float()[0]
    base = -logprobs(model, ids).mean()
    nb = []
    for j in range(k):
        p = 1 + j * (n - 1) // k
        row = logits[p - 1].clone()
        row[ids[p]] = -float("inf")
        v = list(ids)
        v[p] = int(row.argmax())
        nb.append(-logprobs(model, v).mean())
    return float(base - np.mean(nb))


def nll(model, tok, text):
    """Mean negative log-likelihood of tokens 2..n of the text encoded with its special
    tokens; None below two tokens."""
    ids = tok.encode(text).ids
    if len(ids) < 2:
        return None
    return float(-logprobs(model, ids).mean())


def references(gen, out, texts):
    """ref_ratio, offline LiRA and offline RMIA of tiny-llama against tiny-gpt2 and
    tiny-qwen2. LiRA (Carlini et al. 2022): phi = logit of exp(-nll); z = (phi_target -
    mean phi_ref) / std(phi_ref) (numpy's population std, as LiRA's code). RMIA
    (Zarifzadeh et al. 2024; ml_privacy_meter run_rmia with every reference OUT): p =
    exp(-nll), p(x) = (1+a)/2 mean p_ref + (1-a)/2, score = mean over population z of
    [ratio(x) / ratio(z) > 1]."""
    with open(os.path.join(out, "population.jsonl"), "w") as fh:
        for i, t in enumerate(POPULATION):
            fh.write(json.dumps({"id": f"pop{i}", "text": t}) + "\n")
    names = ["tiny-llama", "tiny-gpt2", "tiny-qwen2"]
    models = {}
    for n in names:
        d = os.path.join(gen, n)
        models[n] = (AutoModelForCausalLM.from_pretrained(d, dtype=torch.float32).eval(),
                     Tokenizer.from_file(os.path.join(d, "tokenizer.json")))

    def nlls(t):
        return [nll(*models[n], t) for n in names]

    def ratio(v):
        p_t = np.exp(-v[0])
        p_x = (1 + RMIA_A) / 2 * np.mean(np.exp(-np.array(v[1:]))) + (1 - RMIA_A) / 2
        return p_t / p_x

    pop = [ratio(v) for v in map(nlls, POPULATION)]
    rows = []
    for t in texts:
        v = nlls(t)
        if any(x is None for x in v):
            rows.append({"ref_ratio": None, "lira": None, "rmia": None})
            continue
        phi = [math.log(math.exp(-x) / (1 - math.exp(-x))) for x in v]
        ref = np.array(phi[1:])
        r = ratio(v)
        rows.append({
            "ref_ratio": v[0] / np.mean(v[1:]),
            "lira": float((phi[0] - ref.mean()) / ref.std()),
            "rmia": float(np.mean([r / z > 1.0 for z in pop])),
        })
    return rows


def main():
    gen = sys.argv[1]
    out = os.path.join(gen, "attacks")
    os.makedirs(out, exist_ok=True)
    with open(os.path.join(out, "prefix.jsonl"), "w") as fh:
        for i, t in enumerate(SHOTS):
            fh.write(json.dumps({"id": f"shot{i}", "text": t}) + "\n")
    with open(os.path.join(out, "member_prefix.jsonl"), "w") as fh:
        for i, t in enumerate(MEMBER_SHOTS):
            fh.write(json.dumps({"id": f"member{i}", "text": t}) + "\n")
    with open(os.path.join(out, "corpus.jsonl"), "w") as fh:
        for i, t in enumerate(CORPUS):
            fh.write(json.dumps({"id": f"doc{i}", "text": t}) + "\n")
    texts = [json.loads(l)["text"] for l in open(os.path.join(gen, "texts.jsonl"))]
    res = {}
    for name in ("tiny-llama", "tiny-gpt2"):
        d = os.path.join(gen, name)
        tok = Tokenizer.from_file(os.path.join(d, "tokenizer.json"))
        model = AutoModelForCausalLM.from_pretrained(d, dtype=torch.float32).eval()
        vocab = tok.get_vocab_size(with_added_tokens=True)
        counts = np.zeros(vocab, dtype=np.int64)
        for doc in CORPUS:
            for i in tok.encode(doc, add_special_tokens=False).ids:
                counts[i] += 1
        np.savetxt(os.path.join(out, f"counts-{name}.txt"), counts, fmt="%d")
        freq = (counts + 1) / (counts.sum() + vocab)
        head = tok.encode("").ids
        body = tok.encode("".join(s + "\n\n" for s in SHOTS), add_special_tokens=False).ids
        mbody = tok.encode("".join(s + "\n\n" for s in MEMBER_SHOTS), add_special_tokens=False).ids
        rows = []
        for text in texts:
            full = tok.encode(text).ids
            row = {"recall": None, "con_recall": None, "dc_pdd": None}
            if len(full) >= 2:
                lp = logprobs(model, full)
                ll = lp.mean()
                plain = tok.encode(text, add_special_tokens=False).ids
                cond = logprobs(model, head + body + plain)[-len(plain):]
                row["recall"] = float(cond.mean() / ll)
                mcond = logprobs(model, head + mbody + plain)[-len(plain):]
                row["con_recall"] = float((cond.mean() - mcond.mean()) / ll)
                ids = full[1:]
                seen, idx = set(), []
                for i, t in enumerate(ids):
                    if t not in seen:
                        seen.add(t)
                        idx.append(i)
                p = np.exp(lp[idx])
                alpha = p * np.log(1 / freq[np.array(ids)[idx]])
                alpha[alpha > CAP] = CAP
                row["dc_pdd"] = float(alpha.mean())
            row["neighbourhood"] = neighbourhood(model, full) if len(full) >= 2 else None
            rows.append(row)
        res[name] = rows
    res["references"] = references(gen, out, texts)
    with open(os.path.join(out, "attacks.json"), "w") as fh:
        json.dump(res, fh)


if __name__ == "__main__":
    main()
