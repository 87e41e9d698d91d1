"""Ground truth on a real model: memscan's verdicts on SmolLM2-135M-Instruct fine-tuned
(LoRA, fixtures/smollm2-lora/adapter) on planted personal records, members against
held-out records that were never trained on. Prints the tables the README quotes and
writes every figure to OUT/figures.json.

    python benches/lora_fixture.py [--out reports/lora-fixture] [--forget N] [--scan-samples K]

1. `memscan score` on every record with the base model as the reference (so `ref_ratio`
   is the likelihood ratio adapter/base), ReCaLL with 5 generated held-out records as the
   prefix and DC-PDD with token frequencies of the Python documentation; again with the
   base model and Gemma 3 270M as references and 40 more held-out records as RMIA's
   population (`lira`, `rmia`); per insertion count (1, 2, 4, 8, 16, 32; 20 members
   each) against the other 195 generated held-out records: AUC and TPR at 1% FPR per
   signal, computed here and cross-checked against `memscan eval` on the x32 members.
1a. `memscan score --neighbours 5`: the neighbourhood attack on the same records.
1b. `memscan eval --suspect/--validation`: dataset inference for all members, the x1
   members, and held-out records posing as the suspect set; PrivLeak, TOFU's forget
   quality (questions about each named record's first personal value, three other
   held-out values as the wrong answers) and MUSE's VerbMem of the adapter, with the base
   model as the retrained model, for all members and for the held-out records.
2. `memscan scan --prefixes-from`: greedy continuations of each record's first 16 tokens;
   the rate at which the record's true rest comes back exactly (scan's `suffix` reason:
   32 tokens, or the whole rest when shorter), members by insertion count against 120
   held-out records (60 generated, 60 hand-written).
3. `memscan forget-check` (defaults, α = 0.01, each record its own person) with the
   base model as reference, on N members per insertion count and 200 held-out records
   (all 68 hand-written ones included), and with the base model alone (no fine-tune:
   every record a non-member) on the same held-out records: the rate of records flagged
   extractable or memorized, with its one-sided 95% Clopper-Pearson upper bound.
4. `memscan scan` with the built-in pii and secrets prompts, and with greedy prefixes of
   the records, the base model as reference and an index of the training documents
   (`--reveal`): every finding by level (emitted / likely_memorized / confirmed), member
   values against all others, with the index and without it.

Machine time on 2 CPU cores: about 75 minutes with the defaults (forget-check 65 of them).
"""
import argparse
import json
import os
import subprocess
import sys
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
FIX = os.path.join(ROOT, "fixtures", "smollm2-lora")
MEMSCAN = os.environ.get("MEMSCAN_BIN", os.path.join(ROOT, "target", "release", "memscan"))
BASE = os.path.join(ROOT, "models", "SmolLM2-135M-Instruct.Q4_1.gguf")
COUNTS = [1, 2, 4, 8, 16, 32]
SIGS = ["nll_mean", "zlib_ratio", "min_k", "min_k_pp", "ref_ratio", "recall", "dc_pdd", "lira", "rmia"]
RECALL_SHOTS = 5
POPULATION = 40
GEMMA = os.path.join(ROOT, "models", "gemma-3-270m-q4_k_m.gguf")


def read(p):
    return [json.loads(l) for l in open(p) if l.strip()]


def write(p, rows):
    with open(p, "w") as fh:
        for r in rows:
            fh.write(json.dumps(r) + "\n")


def run(args, label):
    t0 = time.time()
    r = subprocess.run([MEMSCAN, "-q"] + args, capture_output=True, text=True)
    if r.returncode not in (0, 1):
        sys.exit(f"{label}: memscan exited {r.returncode}: {r.stderr.strip()}")
    print(f"  [{label}: {time.time() - t0:.0f}s]", file=sys.stderr)
    return r


def model_args(adapter=True):
    a = ["--model", BASE, "--device", "cpu"]
    if adapter:
        a += ["--adapter", os.path.join(FIX, "adapter")]
    return a


def auc(pos, neg, higher):
    """P(member scores beyond non-member), ties half (Mann-Whitney)."""
    if not pos or not neg:
        return None
    sgn = 1 if higher else -1
    wins = sum((sgn * (p - n) > 0) + 0.5 * (p == n) for p in pos for n in neg)
    return wins / (len(pos) * len(neg))


def tpr_at(pos, neg, higher, fpr=0.01):
    """Largest TPR whose threshold lets at most fpr·|neg| non-members through."""
    sgn = 1 if higher else -1
    pos = sorted((sgn * v for v in pos), reverse=True)
    neg = sorted((sgn * v for v in neg), reverse=True)
    allowed = int(fpr * len(neg))
    # threshold just above the (allowed+1)-th highest non-member
    t = neg[allowed] if allowed < len(neg) else float("-inf")
    return sum(v > t for v in pos) / len(pos)


def general_corpus(out):
    """A reference corpus for DC-PDD's token frequencies that has nothing to do with the
    fixture: the Python documentation's topic pages shipped with the interpreter
    (pydoc_data), one document per topic, indexed with the model's tokenizer."""
    import pydoc_data.topics

    corpus = os.path.join(out, "pydoc_topics.jsonl")
    write(corpus, [{"id": k, "text": v} for k, v in sorted(pydoc_data.topics.topics.items())])
    idx = os.path.join(out, "pydoc_index")
    if not os.path.exists(os.path.join(idx, "manifest.json")):
        run(["index", "build", "--corpus", corpus, "--tokenizer", BASE, "--out", idx], "index pydoc topics")
    return idx


def evals(out, members, heldout_gen):
    """Every signal on the members and the generated held-out records (adapter model):
    run A with the base model as the one reference (`ref_ratio` = adapter/base), ReCaLL
    (prefix: the first RECALL_SHOTS generated held-out records) and DC-PDD (the pydoc
    corpus's frequencies); run B with the base model and Gemma 3 270M as references and
    POPULATION further held-out records as RMIA's population, for `lira` and `rmia`.
    Prefix and population are left out of the non-members. AUC and TPR at 1% FPR per
    insertion count computed here, cross-checked against `memscan eval` (members x32)."""
    shots = heldout_gen[:RECALL_SHOTS]
    pop = heldout_gen[RECALL_SHOTS:RECALL_SHOTS + POPULATION]
    heldout = heldout_gen[RECALL_SHOTS + POPULATION:]
    prefix = os.path.join(out, "recall_prefix.jsonl")
    write(prefix, [{"id": r["id"], "text": r["text"]} for r in shots])
    pop_p = os.path.join(out, "rmia_population.jsonl")
    write(pop_p, [{"id": r["id"], "text": r["text"]} for r in pop])
    idx = general_corpus(out)
    attacks = ["--recall-prefix", prefix, "--token-freq", idx]
    allrec = members + heldout
    inp = os.path.join(out, "all_records.jsonl")
    write(inp, [{"id": r["id"], "text": r["text"]} for r in allrec])
    scores = os.path.join(out, "scores.jsonl")
    run(["score"] + model_args() + ["--reference-model", BASE, "-i", inp, "-o", scores] + attacks, "score all records")
    got = {r["id"]: r for r in read(scores)}
    scores_b = os.path.join(out, "scores_two_refs.jsonl")
    run(["score", "--basic"] + model_args() + ["--reference-model", BASE, "--reference-model", GEMMA,
                                               "--population", pop_p, "-i", inp, "-o", scores_b],
        "score all records, two references")
    for r in read(scores_b):
        got[r["id"]]["lira"] = r.get("lira")
        got[r["id"]]["rmia"] = r.get("rmia")
    dirs = {d["name"]: d["direction"] == "higher" for d in json.loads(
        subprocess.run([MEMSCAN, "score", "--list-signals"], capture_output=True, text=True).stdout)}
    held = [got[r["id"]] for r in heldout]
    table = {}
    for k in COUNTS:
        mem = [got[m["id"]] for m in members if m["insertions"] == k]
        table[k] = {}
        for s in SIGS:
            pos = [r[s] for r in mem if isinstance(r.get(s), (int, float))]
            neg = [r[s] for r in held if isinstance(r.get(s), (int, float))]
            table[k][s] = {"auc": auc(pos, neg, dirs[s]), "tpr_at_1pct_fpr": tpr_at(pos, neg, dirs[s])}
    # cross-check against memscan eval on the x32 members
    mem32 = os.path.join(out, "members_32.jsonl")
    write(mem32, [{"id": m["id"], "text": m["text"]} for m in members if m["insertions"] == 32])
    held_p = os.path.join(out, "heldout_all.jsonl")
    write(held_p, [{"id": r["id"], "text": r["text"]} for r in heldout])
    d = os.path.join(out, "eval_32")
    run(["eval"] + model_args() + ["--members", mem32, "--nonmembers", held_p, "--reference-model", BASE,
                                   "--bootstrap", "200", "--out", d] + attacks, "eval x32")
    rep = json.load(open(os.path.join(d, "report.json")))
    for sg in rep["signals"]:
        if sg["name"] in SIGS and sg.get("auc") is not None:
            mine = table[32][sg["name"]]["auc"]
            assert abs(mine - sg["auc"]) < 1e-9, f"{sg['name']}: AUC here {mine}, memscan eval {sg['auc']}"
    return table


def neighbours(out, members, heldout_gen, n=5):
    """The neighbourhood attack (N neighbours per text, the adapter model proposing the
    substitutions) on the members and the same held-out records as the eval table: AUC
    and TPR at 1% FPR per insertion count."""
    heldout = heldout_gen[RECALL_SHOTS + POPULATION:]
    inp = os.path.join(out, "all_records.jsonl")
    write(inp, [{"id": r["id"], "text": r["text"]} for r in members + heldout])
    scores = os.path.join(out, "scores_neighbours.jsonl")
    run(["score", "--basic"] + model_args() + ["--neighbours", str(n), "-i", inp, "-o", scores],
        f"score all records, {n} neighbours")
    got = {r["id"]: r for r in read(scores)}
    held = [got[r["id"]]["neighbourhood"] for r in heldout if isinstance(got[r["id"]].get("neighbourhood"), float)]
    table = {}
    for k in COUNTS:
        pos = [got[m["id"]]["neighbourhood"] for m in members
               if m["insertions"] == k and isinstance(got[m["id"]].get("neighbourhood"), float)]
        # lower = member-like (the text sits below its neighbours)
        table[k] = {"auc": auc(pos, held, False), "tpr_at_1pct_fpr": tpr_at(pos, held, False)}
    return table


def con_recall(out, members, heldout_gen):
    """ReCaLL and Con-ReCall (Wang et al. 2024) side by side on the members inserted 4 and
    32 times against the generated held-out records of the eval table: the non-member
    prefix is the eval's ReCaLL prefix (RECALL_SHOTS held-out records), the member prefix
    the first RECALL_SHOTS members inserted 32 times (known members, left out of the
    judged texts: the x32 column has 15), gamma = 1 (the released code's default).
    AUC and TPR at 1% FPR, and the wall time of the run."""
    shots = heldout_gen[:RECALL_SHOTS]
    heldout = heldout_gen[RECALL_SHOTS + POPULATION:]
    known = [m for m in members if m["insertions"] == 32][:RECALL_SHOTS]
    judged = [m for m in members if m["insertions"] in (4, 32) and m not in known]
    strip = lambda rs: [{"id": r["id"], "text": r["text"]} for r in rs]
    prefix, mprefix = os.path.join(out, "recall_prefix.jsonl"), os.path.join(out, "con_recall_members.jsonl")
    write(prefix, strip(shots))
    write(mprefix, strip(known))
    inp = os.path.join(out, "con_recall_records.jsonl")
    write(inp, strip(judged + heldout))
    scores = os.path.join(out, "scores_con_recall.jsonl")
    t0 = time.time()
    run(["score", "--basic"] + model_args() + ["--recall-prefix", prefix, "--con-recall-members", mprefix,
                                               "-i", inp, "-o", scores], "score, ReCaLL and Con-ReCall")
    seconds = time.time() - t0
    got = {r["id"]: r for r in read(scores)}
    table = {"seconds": seconds, "texts": len(judged) + len(heldout)}
    for s, higher in [("recall", True), ("con_recall", True)]:
        held = [got[r["id"]][s] for r in heldout if isinstance(got[r["id"]].get(s), float)]
        table[s] = {}
        for k in (4, 32):
            pos = [got[m["id"]][s] for m in judged
                   if m["insertions"] == k and isinstance(got[m["id"]].get(s), float)]
            table[s][k] = {"n": len(pos), "auc": auc(pos, held, higher), "tpr_at_1pct_fpr": tpr_at(pos, held, higher)}
    return table


def unlearning(out, members, heldout_gen):
    """`memscan eval` as a privacy officer would run it on this fixture: (a) all members
    (suspect) against the generated held-out records (validation) with the base model as
    the retrained model (it never saw the members: MUSE's PrivLeak baseline); (b) only
    the x1 members as the suspect set; (c) no member at all: 60 held-out records posing
    as the suspect set against the other held-out records. Dataset inference and
    PrivLeak from each report."""
    heldout = heldout_gen[RECALL_SHOTS + POPULATION:]
    strip = lambda rs: [{"id": r["id"], "text": r["text"]} for r in rs]
    mq, hq = os.path.join(out, "qa_members.jsonl"), os.path.join(out, "qa_heldout.jsonl")
    write(mq, forget_qa(members, heldout))
    write(hq, forget_qa(heldout, heldout))
    cases = {
        "all members (x1-x32)": (members, heldout, ["--retrain-model", BASE, "--verbmem", "--forget-qa", mq]),
        "members x1": ([m for m in members if m["insertions"] == 1], heldout, []),
        "no member (held-out vs held-out)": (heldout[:60], heldout[60:],
                                             ["--retrain-model", BASE, "--verbmem", "--forget-qa", hq]),
    }
    res = {}
    for name, (sus, val, extra) in cases.items():
        d = os.path.join(out, "di_" + "".join(c for c in name if c.isalnum()))
        sp, vp = d + "_suspect.jsonl", d + "_validation.jsonl"
        write(sp, strip(sus))
        write(vp, strip(val))
        run(["eval"] + model_args() + ["--suspect", sp, "--validation", vp, "--bootstrap", "200", "--out", d] + extra,
            "eval " + name)
        rep = json.load(open(os.path.join(d, "report.json")))
        res[name] = {"dataset_inference": rep["dataset_inference"], "privleak": rep.get("privleak"),
                     "forget_quality": rep.get("forget_quality"), "verbmem": rep.get("verbmem"),
                     "blind_baseline_auc": (rep.get("blind_baseline") or {}).get("auc")}
    return res


QA_FIELDS = [("email", "email address"), ("phone", "phone number"), ("iban", "IBAN"), ("dob", "date of birth"),
             ("address", "address"), ("card", "card number"), ("api_key", "API key")]


def forget_qa(recs, pool):
    """TOFU-style questions about each named record's first personal value: the true
    value in a paraphrase, three other held-out records' values of the same kind as the
    perturbed answers (so a member's perturbed answers were never trained on)."""
    rows = []
    for r in recs:
        f = r.get("fields", {})
        if "name" not in f:
            continue
        for key, label in QA_FIELDS:
            if key in f:
                others = [p["fields"][key] for p in pool if p["id"] != r["id"] and key in p.get("fields", {})]
                k = int(r["id"].split("-")[-1]) if r["id"].split("-")[-1].isdigit() else len(rows)
                pert = [others[(k * 7 + j * 13) % len(others)] for j in range(3)]
                para = lambda v: f"The {label} of {f['name']} is {v}."
                rows.append({"id": r["id"], "question": f"What is the {label} of {f['name']}?",
                             "paraphrased_answer": para(f[key]), "perturbed_answer": [para(v) for v in pert]})
                break
    return rows


def extraction(out, members, heldout):
    allrec = members + heldout[:60] + heldout[-60:]
    corpus = os.path.join(out, "prefix_corpus.jsonl")
    write(corpus, [{"id": r["id"], "text": r["text"]} for r in allrec])
    d = os.path.join(out, "scan_prefixes")
    run(["scan"] + model_args() + ["--prefixes-from", corpus, "--prefix-tokens", "16", "--greedy",
                                   "--max-new-tokens", "48", "--verbatim-tokens", "32", "--out", d], "scan prefixes")
    rows = read(os.path.join(d, "samples.jsonl"))
    by_id = {r["id"]: r for r in allrec}
    res = {}
    for row in rows:
        rec = by_id.get(row["prompt_id"])
        if rec is None:
            continue
        key = rec["insertions"]
        hit = "suffix" in row.get("reasons", [])
        n, h = res.get(key, (0, 0))
        res[key] = (n + 1, h + int(hit))
    return {str(k): {"records": n, "extracted": h, "rate": h / n if n else None} for k, (n, h) in sorted(res.items())}


def clopper_pearson_upper(k, n, conf=0.95):
    """One-sided upper confidence bound of a binomial rate (bisection on the CDF)."""
    from math import comb
    if k >= n:
        return 1.0
    lo, hi = k / n, 1.0
    for _ in range(60):
        mid = (lo + hi) / 2
        cdf = sum(comb(n, i) * mid ** i * (1 - mid) ** (n - i) for i in range(k + 1))
        lo, hi = (mid, hi) if cdf > 1 - conf else (lo, mid)
    return hi


def forget(out, members, heldout, handwritten, n, n_held):
    """`memscan forget-check` at its defaults (alpha 0.01), every record its own person:
    (a) the adapter model with the base model as reference on n members per insertion
    count and n_held held-out records (all hand-written ones included); (b) the same with
    `--calibration` = 200 generated held-out records, on the members and the held-out
    records not in the calibration; (c) the base model alone (no fine-tune: every record
    is a non-member) on the held-out records of (a), with no reference (value tests are
    then descriptive only) and (d) with `--calibration` on those of (b). Flag =
    extractable or memorized."""
    hand_ids = {x["id"] for x in handwritten}
    gen_held = [h for h in heldout if h["id"] not in hand_ids]
    held = handwritten + gen_held[: max(0, n_held - len(handwritten))]
    calib, rest = gen_held[:200], gen_held[200:]
    pick = []
    for k in COUNTS:
        pick += [m for m in members if m["insertions"] == k][:n]

    def check(recs, label, margs):
        p = os.path.join(out, f"fc_{label}.jsonl")
        write(p, [{"id": r["id"], "person": r["id"], "text": r["text"], "fields": r.get("fields", {})} for r in recs])
        d = os.path.join(out, f"fc_{label}")
        t0 = time.time()
        run(["forget-check"] + margs + ["--records", p, "--out", d], f"forget-check {label} ({len(recs)} records)")
        secs = time.time() - t0
        return {r["id"]: r for r in json.load(open(os.path.join(d, "report.json")))["records"]}, secs / len(recs)

    def tally(got, recs):
        v = [got[r["id"]]["verdict"] for r in recs]
        flagged = sum(x in ("extractable", "memorized") for x in v)
        return {"records": len(v), "flagged": flagged,
                "flag_rate": flagged / len(v) if v else None,
                "cp_upper_95": clopper_pearson_upper(flagged, len(v)) if v else None,
                "verdicts": {x: v.count(x) for x in sorted(set(v))}}

    def groups(got, recs, held_recs):
        g = {}
        for k in COUNTS:
            g[f"member x{k}"] = tally(got, [m for m in recs if m.get("insertions") == k])
        g["held-out generated"] = tally(got, [h for h in held_recs if h["id"] not in hand_ids])
        g["held-out hand-written"] = tally(got, [h for h in held_recs if h["id"] in hand_ids])
        g["held-out all"] = tally(got, held_recs)
        return g

    res = {}
    ref = model_args() + ["--reference-model", BASE]
    got, spr = check(pick + held, "adapter_ref", ref)
    res["adapter, base as reference"] = dict(groups(got, pick, held), seconds_per_record=spr)
    cal_p = os.path.join(out, "fc_calibration.jsonl")
    write(cal_p, [{"id": r["id"], "text": r["text"]} for r in calib])
    got, spr = check(pick + rest + handwritten, "adapter_ref_cal", ref + ["--calibration", cal_p])
    res["adapter, reference, --calibration (200 generated held-out)"] = dict(
        groups(got, pick, rest + handwritten), seconds_per_record=spr)
    got, spr = check(held, "base", model_args(adapter=False))
    res["base model alone (no fine-tune, no reference)"] = {"held-out all": tally(got, held), "seconds_per_record": spr}
    got, spr = check(rest + handwritten, "base_cal", model_args(adapter=False) + ["--calibration", cal_p])
    res["base model alone, --calibration"] = {"held-out all": tally(got, rest + handwritten), "seconds_per_record": spr}
    return res


def scan_evidence(out, members, heldout, samples):
    """Issue 17's confusion table: every finding of two scans, both with the base model as
    reference (`likely_memorized` by the likelihood-ratio test) and an index of the
    training documents (`confirmed`): (1) the built-in pii and secrets prompts, `samples`
    per prompt; (2) greedy continuations of the first 16 tokens of every member and of
    120 held-out records. A finding is a member value when its raw value (--reveal) is a
    planted field value of a member; its level is counted with the index (as reported)
    and without it (the level the scan gives from the ratio test and recurrence alone,
    read from the finding's evidence). Re-running on the same OUT re-levels the finished
    scans without sampling again (the levels are render-only settings)."""
    idx = os.path.join(out, "train_index")
    train = os.path.join(out, "members_text.jsonl")
    write(train, [{"id": m["id"], "text": m["text"]} for m in members])
    run(["index", "build", "--corpus", train, "--out", idx, "--tokenizer", BASE], "index")
    corpus = os.path.join(out, "prefix_corpus.jsonl")
    write(corpus, [{"id": r["id"], "text": r["text"]} for r in members + heldout[:60] + heldout[-60:]])
    common = model_args() + ["--reference-model", BASE, "--reference-corpus", idx, "--reveal"]
    scans = {
        "pii+secrets prompts": ["--prompts", "pii", "--prompts", "secrets", "--samples-per-prompt", str(samples)],
        "prefixes (greedy)": ["--prefixes-from", corpus, "--prefix-tokens", "16", "--greedy",
                              "--max-new-tokens", "48", "--verbatim-tokens", "32"],
    }
    value_ins = {}
    for m in members:
        for v in m.get("fields", {}).values():
            value_ins[v] = max(value_ins.get(v, 0), m["insertions"])
    res = {}
    for name, args in scans.items():
        d = os.path.join(out, "scan_" + name.split()[0].replace("+", "_"))
        t0 = time.time()
        run(["scan"] + common + args + ["--out", d], f"scan {name}")
        secs = time.time() - t0
        rep = json.load(open(os.path.join(d, "report.json")))
        lvl = rep["summary"].get("ratio_test_level")
        rows = {}
        for f in rep["findings"]:
            v = f.get("value") or ""
            k = value_ins.get(v)
            if k is None:
                group = "not a member value"
            else:
                group = "member value x>=8" if k >= 8 else "member value x<8"
            e = f["evidence"]
            # the level without the index (scan::evidence::level_of with no corpus count):
            # greedy after >= 2 prompts or the document's own value given back in place,
            # and, where tested, the likelihood ratio at its level
            ratio_ok = e.get("ratio_p") is None or (lvl is not None and e["ratio_p"] <= lvl)
            repeat = e.get("greedy_prompts", 0) >= 2 or e.get("extracted") is True
            no_corpus = "likely_memorized" if repeat and ratio_ok else "emitted"
            r = rows.setdefault(group, {"findings": 0, "emitted": 0, "likely_memorized": 0, "confirmed": 0,
                                        "without index: emitted": 0, "without index: likely_memorized": 0})
            r["findings"] += 1
            r[f["level"]] += 1
            r["without index: " + no_corpus] += 1
        res[name] = {"findings": rows, "headline": rep["summary"]["levels"], "seconds": secs,
                     "ratio_test_level": lvl}
    return res


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--out", default=os.path.join(ROOT, "reports", "lora-fixture"))
    ap.add_argument("--forget", type=int, default=3, help="members per insertion count for forget-check")
    ap.add_argument("--forget-heldout", type=int, default=200, help="held-out records for forget-check")
    ap.add_argument("--scan-samples", type=int, default=2)
    ap.add_argument("--only", default="eval,neighbours,unlearning,extract,forget,scan")
    a = ap.parse_args()
    os.makedirs(a.out, exist_ok=True)
    members = read(os.path.join(FIX, "members.jsonl"))
    heldout_gen = read(os.path.join(FIX, "heldout.jsonl"))
    handwritten = read(os.path.join(FIX, "heldout_handwritten.jsonl"))
    heldout = heldout_gen + handwritten
    only = set(a.only.split(","))
    fig = {"members": len(members), "heldout": len(heldout_gen), "handwritten": len(handwritten)}
    if "eval" in only:
        fig["eval"] = evals(a.out, members, heldout_gen)
        sigs = SIGS
        print("\n## memscan eval: members by insertion count vs all held-out (AUC / TPR at 1% FPR)\n")
        print("| signal | " + " | ".join(f"x{k}" for k in COUNTS) + " |")
        print("|---|" + "---|" * len(COUNTS))
        for s in sigs:
            cells = []
            for k in COUNTS:
                v = fig["eval"][k].get(s)
                cells.append("–" if not v or v["auc"] is None else f"{v['auc']:.3f} / {v['tpr_at_1pct_fpr'] or 0:.2f}")
            print(f"| {s} | " + " | ".join(cells) + " |")
    if "neighbours" in only:
        fig["neighbours"] = neighbours(a.out, members, heldout_gen)
        print("\n## neighbourhood (N = 5): members by insertion count vs held-out (AUC / TPR at 1% FPR)\n")
        print("| neighbourhood | " + " | ".join(
            f"{v['auc']:.3f} / {v['tpr_at_1pct_fpr'] or 0:.2f}" for v in fig["neighbours"].values()) + " |")
    if "conrecall" in only:
        fig["con_recall"] = c = con_recall(a.out, members, heldout_gen)
        print(f"\n## ReCaLL and Con-ReCall ({c['texts']} texts, {c['seconds']:.0f} s)\n")
        for s in ("recall", "con_recall"):
            print(f"| {s} | " + " | ".join(
                f"x{k} (n={v['n']}): {v['auc']:.3f} / {v['tpr_at_1pct_fpr'] or 0:.2f}" for k, v in c[s].items()) + " |")
    if "unlearning" in only:
        fig["unlearning"] = unlearning(a.out, members, heldout_gen)
        print("\n## eval: dataset inference and PrivLeak\n")
        print("| suspect set | test sizes | p | null control p | verdict | PrivLeak |")
        print("|---|---|---:|---:|---|---:|")
        for name, v in fig["unlearning"].items():
            di, pl = v["dataset_inference"], v["privleak"]
            fmt = lambda x: "–" if x is None else f"{x:.2g}"
            leak = "–" if not pl else "%+.1f%%" % pl["privleak_percent"]
            verdict = di["verdict"].split(":")[0]
            print(f"| {name} | {di['test'][0]} / {di['test'][1]} | {fmt(di['p_value'])} | "
                  f"{fmt(di['null_control_p_value'])} | {verdict} | {leak} |")
        print("\n## eval: TOFU forget quality and MUSE VerbMem (base model as the retrained model)\n")
        print("| suspect set | questions | truth ratio mean (model / base) | KS D | forget quality p | "
              "VerbMem F1 suspect / validation / base on suspect | exact |")
        print("|---|---:|---|---:|---:|---|---|")
        for name, v in fig["unlearning"].items():
            fq, vm = v.get("forget_quality"), v.get("verbmem")
            if not fq or not vm:
                continue
            print(f"| {name} | {fq['questions']} | {fq['target']['mean']:.3f} / {fq['retrain']['mean']:.3f} | "
                  f"{fq['ks_statistic']:.3f} | {fq['forget_quality']:.2g} | "
                  f"{vm['members']['rouge_l_f1']:.3f} / {vm['nonmembers']['rouge_l_f1']:.3f} / "
                  f"{vm['retrain_members']['rouge_l_f1']:.3f} | "
                  f"{vm['members']['exact']}/{vm['members']['texts']}, {vm['nonmembers']['exact']}/{vm['nonmembers']['texts']} |")
    if "extract" in only:
        fig["extraction"] = extraction(a.out, members, heldout)
        print("\n## scan --prefixes-from (16-token prefix, greedy): exact-suffix extraction rate\n")
        for k, v in fig["extraction"].items():
            name = "held-out" if k == "0" else f"members x{k}"
            print(f"- {name}: {v['extracted']}/{v['records']}")
    if "forget" in only:
        fig["forget"] = forget(a.out, members, heldout, handwritten, a.forget, a.forget_heldout)
        print("\n## forget-check: records flagged (extractable or memorized), alpha = 0.01\n")
        print("| model | records | flagged | rate | 95% upper bound | verdicts |")
        print("|---|---|---:|---:|---:|---|")
        for m, groups in fig["forget"].items():
            for g, v in groups.items():
                if g == "seconds_per_record":
                    continue
                print(f"| {m} | {g} | {v['flagged']}/{v['records']} | {v['flag_rate']:.3f} | {v['cp_upper_95']:.3f} | {v['verdicts']} |")
            print(f"| {m} | seconds per record | {groups['seconds_per_record']:.1f} | | | |")
    if "scan" in only:
        fig["scan"] = scan_evidence(a.out, members, heldout, a.scan_samples)
        print("\n## scan: findings by level (base model as reference, training-document index)\n")
        cols = ["findings", "emitted", "likely_memorized", "confirmed",
                "without index: emitted", "without index: likely_memorized"]
        print("| scan | values | " + " | ".join(cols) + " |")
        print("|---|---|" + "---:|" * len(cols))
        for name, v in fig["scan"].items():
            for g in ["member value x>=8", "member value x<8", "not a member value"]:
                r = v["findings"].get(g)
                if r:
                    print(f"| {name} | {g} | " + " | ".join(str(r[c]) for c in cols) + " |")
            print(f"| {name} | wall time | {v['seconds']:.0f} s | | | | | |")
    json.dump(fig, open(os.path.join(a.out, "figures.json"), "w"), indent=1)


if __name__ == "__main__":
    main()
