"""Reference verdicts for memscan's phone validators from Python `phonenumbers` (a port of
Google's libphonenumber with its own metadata build, version-matched to the Rust crate's).

Candidates per region of memscan's list: each of the region's example numbers (mobile,
fixed line) with its last four digits redrawn, written as that country writes it
(NATIONAL) and internationally (INTERNATIONAL), plus random strings of digits. Writes one
JSON line each: {"region", "text", "intl", "valid"}: an international number's validity
for its country code, a national one's in any of the regions (memscan's rule).

    python phones.py OUT.jsonl [--n 20] [--seed 5]
"""
import argparse
import json
import random

import phonenumbers as pn

# src/detect/validate.rs PHONE_REGIONS (the test checks the two lists are equal)
REGIONS = ["US", "CA", "GB", "DE", "FR", "IN", "BR", "JP", "CN", "AU", "ES", "IT", "NL", "MX", "KR",
           "RU", "ZA", "NG", "PK", "ID", "PH", "TR", "PL", "SE", "CH", "AT", "BE", "IE", "NZ", "SG"]


def valid_any(text):
    for r in REGIONS:
        try:
            if pn.is_valid_number(pn.parse(text, r)):
                return True
        except pn.NumberParseException:
            pass
    return False


def valid_intl(text):
    try:
        return pn.is_valid_number(pn.parse(text, None))
    except pn.NumberParseException:
        return False


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("out")
    ap.add_argument("--n", type=int, default=20)
    ap.add_argument("--seed", type=int, default=5)
    a = ap.parse_args()
    r = random.Random(a.seed)
    rows = []
    for region in REGIONS:
        for kind in (pn.PhoneNumberType.MOBILE, pn.PhoneNumberType.FIXED_LINE):
            ex = pn.example_number_for_type(region, kind)
            if ex is None:
                continue
            nat = str(ex.national_number)
            for _ in range(a.n):
                body = nat[:-4] + "".join(r.choice("0123456789") for _ in range(4))
                num = pn.parse("+" + str(ex.country_code) + body, None)
                national = pn.format_number(num, pn.PhoneNumberFormat.NATIONAL)
                intl = pn.format_number(num, pn.PhoneNumberFormat.INTERNATIONAL)
                rows.append({"region": region, "text": national, "intl": False, "valid": valid_any(national)})
                rows.append({"region": region, "text": intl, "intl": True, "valid": valid_intl(intl)})
        for _ in range(a.n):
            d = "0" + "".join(r.choice("0123456789") for _ in range(r.randint(8, 10)))
            rows.append({"region": region, "text": d, "intl": False, "valid": valid_any(d)})
            i = "+" + "".join(r.choice("123456789")) + "".join(r.choice("0123456789") for _ in range(r.randint(8, 11)))
            rows.append({"region": region, "text": i, "intl": True, "valid": valid_intl(i)})
    with open(a.out, "w") as fh:
        fh.write(json.dumps({"regions": REGIONS}) + "\n")
        for row in rows:
            fh.write(json.dumps(row, ensure_ascii=False) + "\n")


if __name__ == "__main__":
    main()
