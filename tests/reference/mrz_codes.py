"""Machine-readable zones written by an independent implementation of ICAO Doc 9303:
the `mrz` package's generators (TD1 identity cards, TD2 cards, TD3 passports), and
one-character corruptions of them judged by the same package's checkers. Writes JSONL
rows {kind, text, valid}; tests/detect_national.rs checks that memscan finds exactly
the valid ones.

    python tests/reference/mrz_codes.py OUT.jsonl [--n 60] [--seed 9303]
"""
import argparse
import json
import random

from mrz.checker.td1 import TD1CodeChecker
from mrz.checker.td2 import TD2CodeChecker
from mrz.checker.td3 import TD3CodeChecker
from mrz.generator.td1 import TD1CodeGenerator
from mrz.generator.td2 import TD2CodeGenerator
from mrz.generator.td3 import TD3CodeGenerator

COUNTRIES = ["GBR", "FRA", "D", "ITA", "ESP", "NLD", "SWE", "POL", "USA", "CAN", "AUS", "IND", "JPN", "BRA", "ZAF"]
SURNAMES = ["Hale", "Nowak", "Schneider", "Girard", "Okafor", "Tanaka", "Silva", "Kowalczyk", "Lindqvist", "Moreau"]
GIVEN = ["Marcus", "Katarzyna", "Lukas", "Amelie", "Chidi", "Yui", "Joao", "Anna Maria", "Sofia", "Pierre"]
ALNUM = "ABCDEFGHJKLMNPRSTUVWXYZ0123456789"


def date(r, lo, hi):
    return f"{r.randint(lo, hi):02d}{r.randint(1, 12):02d}{r.randint(1, 28):02d}"


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("out")
    ap.add_argument("--n", type=int, default=60)
    ap.add_argument("--seed", type=int, default=9303)
    a = ap.parse_args()
    r = random.Random(a.seed)
    rows = []
    for kind, gen, check in [
        ("td3", TD3CodeGenerator, TD3CodeChecker),
        ("td2", TD2CodeGenerator, TD2CodeChecker),
        ("td1", TD1CodeGenerator, TD1CodeChecker),
    ]:
        for _ in range(a.n):
            c = r.choice(COUNTRIES)
            number = "".join(r.choice(ALNUM) for _ in range(9))
            sex = r.choice("MF")
            birth, expiry = date(r, 40, 99), date(r, 26, 35)
            if kind == "td3":
                code = gen("P", c, r.choice(SURNAMES), r.choice(GIVEN), number, c, birth, sex, expiry, "")
            elif kind == "td2":
                code = gen("I", c, r.choice(SURNAMES), r.choice(GIVEN), number, c, birth, sex, expiry)
            else:
                code = gen("I", c, number, birth, sex, expiry, c, r.choice(SURNAMES), r.choice(GIVEN))
            text = str(code)
            rows.append({"kind": kind, "text": text, "valid": bool(check(text))})
            # one character of the data changed: the checker says whether it still holds
            lines = text.split("\n")
            k = 0 if kind == "td1" else 1
            line = list(lines[k])
            digits = [i for i, ch in enumerate(line) if ch.isdigit()]
            i = r.choice(digits)
            line[i] = str((int(line[i]) + r.randint(1, 9)) % 10)
            lines[k] = "".join(line)
            bad = "\n".join(lines)
            try:
                ok = bool(check(bad))
            except Exception:
                ok = False
            rows.append({"kind": kind, "text": bad, "valid": ok})
    with open(a.out, "w") as f:
        for row in rows:
            f.write(json.dumps(row) + "\n")


if __name__ == "__main__":
    main()
