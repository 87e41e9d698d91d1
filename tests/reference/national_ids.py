"""Reference verdicts for memscan's national-identifier validators, from an independent
implementation: python-stdnum (its is_valid per identifier), or, for the four
identifiers stdnum lacks, the formula a peer tool ships (Microsoft Presidio's
recognizers: UK NINO's pattern, US NPI's Luhn over 80840, AU Medicare's weights) or the
issuer's published algorithm (Singapore NRIC/FIN).

Writes one JSON line per candidate: {"kind", "value", "valid"}. Candidates per kind: valid
numbers (a random body completed with stdnum's own check-digit function where it has
one, else drawn until valid), each valid number with one character changed, and random
strings of the identifier's shape.

    python national_ids.py OUT.jsonl [--n 400] [--seed 7]
"""
import argparse
import json
import random
import re
import string

from stdnum import luhn
from stdnum.au import abn, tfn
from stdnum.ca import sin
from stdnum.de import idnr
from stdnum.es import dni, nie
from stdnum.gb import nhs
from stdnum.in_ import aadhaar, pan
from stdnum.iso7064 import mod_11_10
from stdnum.it import codicefiscale
from stdnum.kr import rrn
from stdnum.pl import pesel
from stdnum.se import personnummer
from stdnum.tr import tckimlik
from stdnum.us import itin, rtn
from stdnum.za import idnr as za_idnr

D = string.digits
U = string.ascii_uppercase

# Presidio's UK_NINO pattern (uk_nino_recognizer.py), upper case.
NINO = re.compile(
    r"^(?!BG|GB|NK|KN|NT|TN|ZZ)[A-CEGHJ-PR-TW-Z][A-CEGHJ-NPR-TW-Z][0-9]{6}[A-D]$")


def nino_valid(v):
    return bool(NINO.match(v))


def npi_valid(v):  # Presidio's us_npi_recognizer: [12] + 9 digits, Luhn over 80840+NPI
    return (len(v) == 10 and v.isdigit() and v[0] in "12" and len(set(v[:9])) > 1
            and luhn.is_valid("80840" + v))


def medicare_valid(v):  # Presidio's au_medicare_recognizer: [2-6] + 9 digits, weights
    if not (len(v) == 10 and v.isdigit() and v[0] in "23456"):
        return False
    d = [int(c) for c in v]
    return sum(a * b for a, b in zip(d, (1, 3, 7, 9, 1, 3, 7, 9))) % 10 == d[8]


def nric_valid(v):  # ICA's algorithm: weights 2,7,6,5,4,3,2; offsets T/G 4, M 3
    if not re.match(r"^[STFGM][0-9]{7}[A-Z]$", v):
        return False
    off = {"S": 0, "T": 4, "F": 0, "G": 4, "M": 3}[v[0]]
    table = {"S": "JZIHGFEDCBA", "T": "JZIHGFEDCBA", "F": "XWUTRQPNMLK",
             "G": "XWUTRQPNMLK", "M": "XWUTRQPNJLK"}[v[0]]
    s = sum(int(c) * w for c, w in zip(v[1:8], (2, 7, 6, 5, 4, 3, 2)))
    return table[(s + off) % 11] == v[8]


class Gen:
    def __init__(self, seed):
        self.r = random.Random(seed)

    def s(self, alphabet, n):
        return "".join(self.r.choice(alphabet) for _ in range(n))

    def date6(self, lo=1930, hi=2024):
        y = self.r.randint(lo, hi)
        return y, "%02d%02d%02d" % (y % 100, self.r.randint(1, 12), self.r.randint(1, 28))

    def mutate(self, v):
        i = self.r.randrange(len(v))
        pool = D if v[i].isdigit() else U
        c = self.r.choice([x for x in pool if x != v[i]])
        return v[:i] + c + v[i + 1:]


def kinds(g):
    """kind -> (make a valid value, make a random value of the shape, reference)."""
    r = g.r

    def idnr_body():
        ds = r.sample(D[1:] if True else D, 9)
        ds = ds[:8] + [ds[r.randrange(8)]] + [ds[8]]
        r.shuffle(ds)
        if ds[0] == "0":
            ds[0], ds[1] = ds[1], ds[0]
        return "".join(ds)

    def cf_body():
        y = g.s(D, 2)
        day = "%02d" % (r.randint(1, 28) + r.choice([0, 40]))
        return g.s(U, 6) + y + r.choice("ABCDEHLMPRST") + day + g.s(U, 1) + g.s(D, 3)

    def pesel_body():
        y = r.randint(1900, 2099)
        m = r.randint(1, 12) + (20 if y >= 2000 else 0)
        return "%02d%02d%02d" % (y % 100, m, r.randint(1, 28)) + g.s(D, 4)

    def rrn_body():
        y, d6 = g.date6()
        sex = r.choice("12" if y < 2000 else "34")
        return d6 + sex + "%02d" % r.randint(0, 96) + g.s(D, 3)

    def za_body():
        y, d6 = g.date6()
        return d6 + g.s(D, 4) + r.choice("01") + "8"

    def until(shape, ref):
        def make():
            while True:
                v = shape()
                if ref(v):
                    return v
        return make

    return {
        "nhs": (until(lambda: g.s(D, 10), nhs.is_valid), lambda: g.s(D, 10), nhs.is_valid),
        "uk_nino": (until(lambda: g.s(U, 2) + g.s(D, 6) + g.s("ABCD", 1), nino_valid),
                    lambda: g.s(U, 2) + g.s(D, 6) + g.s(U, 1), nino_valid),
        "us_itin": (until(lambda: "9" + g.s(D, 8), itin.is_valid),
                    lambda: g.s("9" * 8 + D, 1) + g.s(D, 8), itin.is_valid),
        "aba_routing": (lambda: (lambda b: b + rtn.calc_check_digit(b))(
                            r.choice(["0", "1", "2", "3", "6", "7", "8"]) + g.s(D, 7)),
                        lambda: g.s(D, 9), rtn.is_valid),
        "us_npi": (until(lambda: g.s("12", 1) + g.s(D, 9), npi_valid),
                   lambda: g.s("1234", 1) + g.s(D, 9), npi_valid),
        "ca_sin": (lambda: (lambda b: b + luhn.calc_check_digit(b))(g.s("1234567", 1) + g.s(D, 7)),
                   lambda: g.s(D, 9), sin.is_valid),
        "au_tfn": (until(lambda: g.s(D, 9), tfn.is_valid), lambda: g.s(D, 9), tfn.is_valid),
        "au_abn": (lambda: (lambda b: abn.calc_check_digits(b) + b)(g.s(D, 9)),
                   lambda: g.s(D, 11), abn.is_valid),
        "au_medicare": (until(lambda: g.s("23456", 1) + g.s(D, 9), medicare_valid),
                        lambda: g.s(D, 10), medicare_valid),
        "in_aadhaar": (until(lambda: g.s("23456789", 1) + g.s(D, 11), aadhaar.is_valid),
                       lambda: g.s(D, 12), aadhaar.is_valid),
        "in_pan": (until(lambda: g.s(U, 5) + g.s(D, 4) + g.s(U, 1), pan.is_valid),
                   lambda: g.s(U, 5) + g.s(D, 4) + g.s(U, 1), pan.is_valid),
        "de_idnr": (lambda: (lambda b: b + mod_11_10.calc_check_digit(b))(idnr_body()),
                    lambda: g.s(D, 11), idnr.is_valid),
        "es_dni": (lambda: (lambda b: b + dni.calc_check_digit(b))(g.s(D, 8)),
                   lambda: g.s(D, 8) + g.s(U, 1), dni.is_valid),
        "es_nie": (lambda: (lambda b: b + nie.calc_check_digit(b))(g.s("XYZ", 1) + g.s(D, 7)),
                   lambda: g.s("XYZ", 1) + g.s(D, 7) + g.s(U, 1), nie.is_valid),
        "it_codice_fiscale": (lambda: (lambda b: b + codicefiscale.calc_check_digit(b))(cf_body()),
                              lambda: cf_body() + g.s(U, 1), codicefiscale.is_valid),
        "pl_pesel": (lambda: (lambda b: b + pesel.calc_check_digit(b))(pesel_body()),
                     lambda: g.s(D, 11), pesel.is_valid),
        "se_personnummer": (lambda: (lambda d6, n: d6 + "-" + n + luhn.calc_check_digit(d6 + n))(
                                g.date6()[1], g.s(D, 3)),
                            lambda: g.s(D, 6) + "-" + g.s(D, 4), personnummer.is_valid),
        "kr_rrn": (lambda: (lambda b: b + rrn.calc_check_digit(b))(rrn_body()),
                   lambda: g.s(D, 13), rrn.is_valid),
        "sg_nric": (until(lambda: g.s("STFGM", 1) + g.s(D, 7) + g.s(U, 1), nric_valid),
                    lambda: g.s("STFGM", 1) + g.s(D, 7) + g.s(U, 1), nric_valid),
        "tr_kimlik": (lambda: (lambda b: b + tckimlik.calc_check_digits(b))(g.s(D[1:], 1) + g.s(D, 8)),
                      lambda: g.s(D, 11), tckimlik.is_valid),
        "za_id": (lambda: (lambda b: b + luhn.calc_check_digit(b))(za_body()),
                  lambda: g.s(D, 13), za_idnr.is_valid),
    }


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("out")
    ap.add_argument("--n", type=int, default=400)
    ap.add_argument("--seed", type=int, default=7)
    a = ap.parse_args()
    g = Gen(a.seed)
    with open(a.out, "w") as fh:
        for kind, (valid, shape, ref) in kinds(g).items():
            vals = []
            for _ in range(a.n):
                v = valid()
                assert ref(v), (kind, v)
                vals += [v, g.mutate(v), shape()]
            for v in vals:
                fh.write(json.dumps({"kind": kind, "value": v, "valid": bool(ref(v))}) + "\n")


if __name__ == "__main__":
    main()
