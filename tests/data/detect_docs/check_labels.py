#!/usr/bin/env python3
"""Sanity-check labels.jsonl / negatives.jsonl against the documents.

* every label's value must occur on its (1-based) line of its file;
* required fields and category/family values must be well formed;
* planted TRUE values must satisfy their published format / check digits
  (Luhn, IBAN mod-97, SSA SSN rules, NHS mod 11, SIN Luhn, Aadhaar
  Verhoeff, NINO prefix rules, provider token shapes);
* planted negatives that imitate a checked format (Luhn-invalid card, bad
  IBAN, reserved SSN area, ...) must really FAIL that check, so they stay
  negatives for a principled reason.

Exit status 1 on any problem.  Usage:  python check_labels.py
"""
import json
import os
import re
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
from make_values import iban_ok, luhn_ok, verhoeff_ok  # noqa: E402

PII = {"email", "phone", "card", "iban", "ssn", "ip", "nino", "nhs", "sin", "aadhaar", "dob"}

# provider token shapes (published formats); applied to TRUE secrets only
TOKEN_SHAPES = {
    "aws": [r"(AKIA|ASIA)[A-Z2-7]{16}", r"[A-Za-z0-9/+]{40}", r"IQoJb3JpZ2luX2Vj[A-Za-z0-9/+=]{100,}"],
    "github": [r"gh[pousr]_[A-Za-z0-9]{36}", r"github_pat_[A-Za-z0-9]{22}_[A-Za-z0-9]{59}"],
    "gitlab": [r"gl(pat|rt|dt)-[A-Za-z0-9_-]{20}"],
    "slack": [r"xox[bp]-\d{10,13}-\d{10,13}(-\d{10,13})?-[A-Za-z0-9]{24,32}"],
    "slack_webhook": [r"https://hooks\.slack\.com/services/T[A-Z0-9]{8,10}/B[A-Z0-9]{8,12}/[A-Za-z0-9]{24}"],
    "stripe": [r"(sk|rk)_live_[A-Za-z0-9]{24,}", r"whsec_[A-Za-z0-9]{32}"],
    "google": [r"AIza[A-Za-z0-9_-]{35}", r"GOCSPX-[A-Za-z0-9_-]{28}"],
    "openai": [r"sk-(proj-)?[A-Za-z0-9_-]{20,}T3BlbkFJ[A-Za-z0-9_-]{20,}"],
    "anthropic": [r"sk-ant-api03-[A-Za-z0-9_-]{93}AA"],
    "huggingface": [r"hf_[A-Za-z]{34}"],
    "npm": [r"npm_[A-Za-z0-9]{36}"],
    "pypi": [r"pypi-AgEIcHlwaS5vcmc[A-Za-z0-9_-]{50,}"],
    "sendgrid": [r"SG\.[A-Za-z0-9_-]{22}\.[A-Za-z0-9_-]{43}"],
    "mailgun": [r"key-[0-9a-f]{32}"],
    "dockerhub": [r"dckr_pat_[A-Za-z0-9_-]{27}"],
    "telegram": [r"\d{8,10}:AA[A-Za-z0-9_-]{33}"],
    "shopify": [r"shp(at|ss|ca|pa)_[0-9a-f]{32}"],
    "digitalocean": [r"do[por]_v1_[0-9a-f]{64}"],
    "sentry": [r"sntryu_[0-9a-f]{64}", r"sntrys_eyJ[A-Za-z0-9_=-]+_[A-Za-z0-9_-]{43}"],
    "mailchimp": [r"[0-9a-f]{32}-us\d{1,2}"],
    "terraform": [r"[A-Za-z0-9]{14}\.atlasv1\.[A-Za-z0-9_=-]{60,70}"],
    "pulumi": [r"pul-[0-9a-f]{40}"],
    "sonarqube": [r"sq[upa]_[0-9a-f]{40}"],
    "atlassian": [r"ATATT3xFfGF0[A-Za-z0-9_=-]+=[0-9A-F]{8}"],
    "jwt": [r"eyJ[A-Za-z0-9_-]+\.eyJ[A-Za-z0-9_-]+\.[A-Za-z0-9_-]{20,}"],
    "private_key": [r"-----BEGIN ((RSA|EC|OPENSSH) )?PRIVATE KEY-----"],
    "alibaba": [r"LTAI[A-Za-z0-9]{12,20}", r"[A-Za-z0-9]{30}"],
    "datadog": [r"[0-9a-f]{32}", r"[0-9a-f]{40}"],
    "twilio": [r"SK[0-9a-f]{32}", r"[A-Za-z0-9]{32}"],
    "azure": [r"[A-Za-z0-9/+]{86}==", r"[A-Za-z0-9_~.-]{3}8Q~[A-Za-z0-9_~.-]{31,34}"],
    "discord": [r"[MNO][A-Za-z0-9_-]{23,27}\.[A-Za-z0-9_-]{6}\.[A-Za-z0-9_-]{27,40}",
                r"https://discord(app)?\.com/api/webhooks/\d{17,20}/[A-Za-z0-9_-]{60,70}"],
}


def digits(v):
    return re.sub(r"\D", "", v)


def ssn_ok(v):
    d = digits(v)
    if len(d) != 9:
        return False
    area, group, serial = int(d[:3]), int(d[3:5]), int(d[5:])
    return 0 < area < 900 and area != 666 and group > 0 and serial > 0


def nhs_ok(v):
    d = digits(v)
    if len(d) != 10:
        return False
    chk = 11 - sum(int(c) * w for c, w in zip(d[:9], range(10, 1, -1))) % 11
    chk = 0 if chk == 11 else chk
    return chk != 10 and chk == int(d[9])


def sin_ok(v):
    d = digits(v)
    return len(d) == 9 and d[0] not in "08" and luhn_ok(d)


def aadhaar_ok(v):
    d = digits(v)
    return len(d) == 12 and d[0] in "23456789" and verhoeff_ok(d)


def nino_ok(v):
    s = re.sub(r"\s", "", v).upper()
    m = re.fullmatch(r"([A-Z])([A-Z])\d{6}[A-D]", s)
    if not m:
        return False
    a, b = m.groups()
    return (a not in "DFIQUV" and b not in "DFIOQUV"
            and a + b not in {"BG", "GB", "NK", "KN", "TN", "NT", "ZZ"})


def card_ok(v):
    d = digits(v)
    return 12 <= len(d) <= 19 and luhn_ok(d)


CHECKS = {"card": card_ok, "iban": iban_ok, "ssn": ssn_ok, "nhs": nhs_ok,
          "sin": sin_ok, "aadhaar": aadhaar_ok, "nino": nino_ok}
# negative kinds that must FAIL their family check
MUST_FAIL = {"luhn_invalid", "bad_checksum", "bad_check", "area_000", "area_666", "area_9xx"}


def load(name):
    with open(os.path.join(HERE, name), encoding="utf-8") as f:
        return [json.loads(line) for line in f if line.strip()]


def main():
    problems = []
    cache = {}
    for fname, rows, truth in (("labels.jsonl", load("labels.jsonl"), True),
                               ("negatives.jsonl", load("negatives.jsonl"), False)):
        for n, r in enumerate(rows, 1):
            where = f"{fname}:{n}"
            for k in ("file", "line", "category", "family", "value"):
                if k not in r:
                    problems.append(f"{where}: missing {k}")
            if r.get("category") not in ("secret", "pii"):
                problems.append(f"{where}: bad category {r.get('category')}")
            if (r["family"] in PII) != (r["category"] == "pii"):
                problems.append(f"{where}: family {r['family']} vs category {r['category']}")
            path = os.path.join(HERE, r["file"])
            if path not in cache:
                if not os.path.exists(path):
                    problems.append(f"{where}: no such file {r['file']}")
                    continue
                with open(path, encoding="utf-8") as f:
                    cache[path] = f.read().split("\n")
            lines = cache[path]
            if not 1 <= r["line"] <= len(lines) or r["value"] not in lines[r["line"] - 1]:
                problems.append(f"{where}: value not on {r['file']}:{r['line']}: {r['value'][:60]!r}")
                continue
            fam, kind = r["family"], r.get("kind", "")
            if truth and fam in CHECKS and not CHECKS[fam](r["value"]):
                problems.append(f"{where}: TRUE {fam} fails its check: {r['value']}")
            if not truth and kind in MUST_FAIL and fam in CHECKS and CHECKS[fam](r["value"]):
                problems.append(f"{where}: negative {fam}/{kind} passes its check: {r['value']}")
            if truth and fam in TOKEN_SHAPES:
                if not any(re.fullmatch(p, r["value"]) for p in TOKEN_SHAPES[fam]):
                    problems.append(f"{where}: TRUE {fam} does not match published shape: {r['value'][:60]}")
    seen = {}
    for r in load("labels.jsonl"):
        k = (r["file"], r["line"], r["value"])
        if k in seen:
            problems.append(f"duplicate label {k}")
        seen[k] = 1
    if problems:
        print("\n".join(problems))
        print(f"{len(problems)} problem(s)")
        return 1
    t, n = load("labels.jsonl"), load("negatives.jsonl")
    print(f"OK: {len(t)} true labels ({sum(r['category'] == 'secret' for r in t)} secret, "
          f"{sum(r['category'] == 'pii' for r in t)} pii), {len(n)} negatives, "
          f"{len(set(r['file'] for r in t + n))} documents")
    return 0


if __name__ == "__main__":
    sys.exit(main())
