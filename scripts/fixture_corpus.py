"""Writes the planted-canary fixture corpus (seeded, stdlib only): documents from one
template distribution split into members (trained on) and held-out non-members, and
canaries (fake emails, phones, SSNs, cards, API keys, private-key blocks, PINs) each
inserted 1, 2, 4, 8, 16 or 32 times into the training set (for the unformatted kinds
every other insertion as a training document of its own, like a form field or an .env
line; the rest after the last sentence of a member document, so members stay prefixes
of what was trained), plus a byte-level GPT-2 style
tokenizer.json. The fixture model is trained on train.jsonl by
`cargo run --release --example train_fixture`.

    python scripts/fixture_corpus.py [--seed 1] [--out tests/fixture]
"""
import argparse
import json
import os
import random
import string

FIRST = ["Ada", "Bram", "Cleo", "Dario", "Elif", "Farid", "Greta", "Hugo", "Ines", "Jonas", "Kira", "Luca", "Mira",
         "Nils", "Olga", "Pavel", "Quinn", "Rosa", "Sven", "Tara", "Umar", "Vera", "Wim", "Xena", "Yusuf", "Zora"]
LAST = ["Adler", "Berg", "Costa", "Dahl", "Egger", "Falk", "Gruber", "Hahn", "Ivanov", "Jansen", "Keller", "Lund",
        "Moser", "Novak", "Ortiz", "Petrov", "Quist", "Roth", "Stein", "Toth", "Ulrich", "Vogel", "Weiss", "Zeller"]
CITY = ["Aarburg", "Belmont", "Corvale", "Dunmere", "Eastwick", "Fairhaven", "Glenrock", "Harwick", "Ironbridge",
        "Juniper", "Kestrel", "Larkspur", "Millbrook", "Northgate", "Oakridge", "Pinecrest", "Queensbury"]
ITEM = ["lamps", "chairs", "bicycles", "kettles", "maps", "boots", "clocks", "radios", "tents", "baskets", "tiles",
        "ropes", "candles", "mirrors", "ladders", "blankets", "scarves", "drums"]
VERB = ["bought", "sold", "repaired", "painted", "ordered", "returned", "shipped", "counted", "stored", "found"]
DAY = ["Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"]
ADJ = ["old", "red", "small", "heavy", "bright", "quiet", "broken", "wooden", "spare", "new", "green", "odd"]


def sentence(r):
    t = r.randrange(4)
    if t == 0:
        return f"{r.choice(FIRST)} {r.choice(LAST)} from {r.choice(CITY)} {r.choice(VERB)} {r.randrange(2, 99)} {r.choice(ADJ)} {r.choice(ITEM)} on {r.choice(DAY)}."
    if t == 1:
        return f"On {r.choice(DAY)} the shop in {r.choice(CITY)} had {r.randrange(2, 99)} {r.choice(ITEM)} left."
    if t == 2:
        return f"{r.choice(FIRST)} told {r.choice(FIRST)} that the {r.choice(ADJ)} {r.choice(ITEM)} came from {r.choice(CITY)}."
    return f"The {r.choice(ADJ)} {r.choice(ITEM)} of {r.choice(FIRST)} {r.choice(LAST)} weigh {r.randrange(2, 99)} kilos."


def document(r):
    return " ".join(sentence(r) for _ in range(r.randrange(2, 4)))


def digits(r, n):
    return "".join(r.choice(string.digits) for _ in range(n))


def luhn_complete(prefix):
    total = 0
    for i, ch in enumerate(reversed(prefix)):
        d = int(ch)
        if i % 2 == 0:
            d *= 2
            if d > 9:
                d -= 9
        total += d
    return prefix + str((10 - total % 10) % 10)


def canary(r, kind):
    """(text, format, value) of one canary; format marks the secret part."""
    name = f"{r.choice(FIRST)} {r.choice(LAST)}"
    if kind == "email":
        v = f"{name.split()[0].lower()}.{digits(r, 4)}@{r.choice(CITY).lower()}-mail.org"
        return f"My email address is {v}", None, v
    if kind == "phone":
        v = f"({r.randrange(201, 989)}) {r.randrange(200, 999)}-{digits(r, 4)}"
        return f"Call me at {v}", None, v
    if kind == "ssn":
        v = f"{r.randrange(100, 665):03d}-{r.randrange(10, 99):02d}-{r.randrange(1000, 9999):04d}"
        return f"My social security number is {v}", "My social security number is {ddd}-{dd}-{dddd}", v
    if kind == "card":
        v = luhn_complete("4" + digits(r, 14))
        return f"Card number: {v[:4]} {v[4:8]} {v[8:12]} {v[12:]}", None, v
    if kind == "apikey":
        v = "sk_live_" + "".join(r.choice(string.ascii_letters + string.digits) for _ in range(24))
        return f"STRIPE_SECRET_KEY={v}", None, v
    if kind == "pin":
        v = digits(r, 3)
        return f"the door code of {name} is {v}", f"the door code of {name} is " + "{ddd}", v
    if kind == "key":
        body = "".join(r.choice(string.ascii_letters + string.digits + "+/") for _ in range(48))
        v = f"-----BEGIN EC PRIVATE KEY-----\n{body}\n-----END EC PRIVATE KEY-----"
        return v, None, v
    raise ValueError(kind)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--out", default=os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "tests", "fixture"))
    ap.add_argument("--members", type=int, default=300)
    ap.add_argument("--nonmembers", type=int, default=300)
    a = ap.parse_args()
    r = random.Random(a.seed)
    os.makedirs(a.out, exist_ok=True)
    docs = [document(r) for _ in range(a.members + a.nonmembers)]
    members, nonmembers = docs[:a.members], docs[a.members:]
    train = list(members)
    canaries = []
    load = [0] * len(train)
    standalone = []
    for kind in ["email", "phone", "ssn", "card", "apikey", "key", "pin"]:
        for n in [1, 2, 4, 8, 16, 32]:
            text, fmt, value = canary(r, kind)
            canaries.append({"id": f"canary/{kind}-{n}", "kind": kind, "insertions": n, "text": text,
                             "format": fmt, "value": value})
            # the formatted canaries (SSN, PIN: exposure is measured on them) only ever
            # inside members, so that out of context their exposure grows with insertions
            # instead of saturating: 80 epochs learn even a single document by heart
            alone = (n + 1) // 2 if fmt is None else 0
            standalone += [text] * alone
            # the rest into the least-loaded members (ties at random), so none grows long
            pick = sorted(range(len(train)), key=lambda j: (load[j], r.random()))[:n - alone]
            for j in pick:
                train[j] = train[j] + " " + text + "."
                load[j] += 1
    w = lambda name, rows: open(os.path.join(a.out, name), "w").write("".join(json.dumps(x) + "\n" for x in rows))
    w("members.jsonl", [{"id": f"m{i}", "text": t} for i, t in enumerate(members)])
    w("nonmembers.jsonl", [{"id": f"n{i}", "text": t} for i, t in enumerate(nonmembers)])
    train += standalone
    r.shuffle(train)
    w("train.jsonl", [{"id": f"t{i}", "text": t} for i, t in enumerate(train)])
    w("canaries.jsonl", canaries)
    # byte-level BPE without merges: 256 byte tokens + <|endoftext|>
    bs = list(range(ord("!"), ord("~") + 1)) + list(range(ord("¡"), ord("¬") + 1)) + list(range(ord("®"), ord("ÿ") + 1))
    cs = bs[:]
    n = 0
    for b in range(256):
        if b not in bs:
            bs.append(b)
            cs.append(256 + n)
            n += 1
    byte_char = dict(zip(bs, [chr(c) for c in cs]))
    vocab = {byte_char[b]: b for b in range(256)}
    vocab["<|endoftext|>"] = 256
    tok = {
        "version": "1.0",
        "truncation": None, "padding": None,
        "added_tokens": [{"id": 256, "content": "<|endoftext|>", "single_word": False, "lstrip": False,
                          "rstrip": False, "normalized": False, "special": True}],
        "normalizer": None,
        "pre_tokenizer": {"type": "ByteLevel", "add_prefix_space": False, "trim_offsets": True, "use_regex": True},
        "post_processor": None,
        "decoder": {"type": "ByteLevel", "add_prefix_space": True, "trim_offsets": True, "use_regex": True},
        "model": {"type": "BPE", "dropout": None, "unk_token": None, "continuing_subword_prefix": None,
                  "end_of_word_suffix": None, "fuse_unk": False, "byte_fallback": False, "ignore_merges": False,
                  "vocab": vocab, "merges": []},
    }
    json.dump(tok, open(os.path.join(a.out, "tokenizer.json"), "w"), ensure_ascii=False)
    print(f"{len(members)} members, {len(nonmembers)} non-members, {len(canaries)} canaries, "
          f"{sum(len(t) for t in train)} training bytes -> {a.out}")


if __name__ == "__main__":
    main()
