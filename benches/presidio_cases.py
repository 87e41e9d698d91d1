"""memscan's national-identifier rules on a public labelled set nobody on this project
wrote: the test cases of Microsoft Presidio's recognizers (presidio-analyzer/tests,
test_<country>_<id>_recognizer.py: each a text, the number of entities Presidio expects
and their spans). Not committed and not tuned to: pass the folder that holds those files.

    python benches/presidio_cases.py PRESIDIO_TESTS_DIR

Two readings, since the two tools decide differently:
- as labelled: an expected span counts as found when a finding of the identifier's rule
  overlaps it; every other finding of that rule is a false positive;
- issuer-valid only: Presidio also expects pattern-only matches its checksum does not
  back (it scores them low), and most cases are bare numbers with no words around them,
  where memscan anchors digit-only identifiers to their name. So the expected spans are
  split by whether the issuer's check passes (python-stdnum, or the algorithm where stdnum
  has none), and each case is also run with the identifier's name written before it
  ("<name>: <text>"), the way such numbers appear in documents.
"""
import argparse
import ast
import json
import os
import subprocess
import sys
import tempfile

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
MEMSCAN = os.environ.get("MEMSCAN_BIN", os.path.join(ROOT, "target", "release", "memscan"))
sys.path.insert(0, os.path.join(ROOT, "tests", "reference"))

# Presidio test file -> (memscan rule, the identifier's name as documents write it, kind
# in tests/reference/national_ids.py for the issuer check)
FILES = {
    "test_uk_nhs_recognizer.py": ("uk-nhs-number", "NHS number", "nhs"),
    "test_uk_nino_recognizer.py": ("uk-nino", "National Insurance number", "uk_nino"),
    "test_us_itin_recognizer.py": ("us-itin", "ITIN", "us_itin"),
    "test_aba_routing_recognizer.py": ("us-aba-routing", "Routing number", "aba_routing"),
    "test_us_npi_recognizer.py": ("us-npi", "NPI", "us_npi"),
    "test_ca_sin_recognizer.py": ("ca-sin", "SIN", "ca_sin"),
    "test_au_tfn_recognizer.py": ("au-tfn", "TFN", "au_tfn"),
    "test_au_abn_recognizer.py": ("au-abn", "ABN", "au_abn"),
    "test_au_medicare_recognizer.py": ("au-medicare", "Medicare number", "au_medicare"),
    "test_in_aadhaar_recognizer.py": ("in-aadhaar", "Aadhaar", "in_aadhaar"),
    "test_in_pan_recognizer.py": ("in-pan", "PAN", "in_pan"),
    "test_de_tax_id_recognizer.py": ("de-steuer-id", "Steuer-ID", "de_idnr"),
    "test_es_nif_recognizer.py": ("es-dni", "DNI", "es_dni"),
    "test_es_nie_recognizer.py": ("es-nie", "NIE", "es_nie"),
    "test_it_fiscal_code_recognizer.py": ("it-codice-fiscale", "codice fiscale", "it_codice_fiscale"),
    "test_pl_pesel_recognizer.py": ("pl-pesel", "PESEL", "pl_pesel"),
    "test_se_personnummer_recognizer.py": ("se-personnummer", "personnummer", "se_personnummer"),
    "test_kr_rrn_recognizer.py": ("kr-rrn", "RRN", "kr_rrn"),
    "test_sg_fin_recognizer.py": ("sg-nric", "NRIC", "sg_nric"),
    "test_tr_national_id_recognizer.py": ("tr-kimlik", "T.C. Kimlik No", "tr_kimlik"),
    "test_za_id_number_recognizer.py": ("za-id-number", "ID number", "za_id"),
}


def cases(path):
    """(text, [(start, end)]) of every parametrized case whose first three names are
    text, expected_len, expected_position(s)."""
    tree = ast.parse(open(path, encoding="utf-8").read())
    out = []
    for node in ast.walk(tree):
        if not (isinstance(node, ast.Call) and getattr(node.func, "attr", "") == "parametrize"):
            continue
        names = [n.strip() for n in ast.literal_eval(node.args[0]).split(",")]
        if names[:2] != ["text", "expected_len"]:
            continue
        # data only (tuples, lists, numbers, strings and `[x] * n`), evaluated without names
        rows = eval(compile(ast.Expression(node.args[1]), path, "eval"), {"__builtins__": {}})
        for row in rows:
            text, n, pos = row[0], row[1], list(row[2]) if len(row) > 2 else []
            if pos and isinstance(pos[0], int):  # one span written flat: (start, end)
                pos = [pos]
            spans = [tuple(p) for p in pos][:n] if n else []
            out.append((text, spans))
    return out


def issuer_valid(kind, value):
    import national_ids as ni  # python-stdnum and the documented algorithms
    refs = {k: v[2] for k, v in ni.kinds(ni.Gen(0)).items()}
    compact = "".join(c for c in value if c.isalnum()) if kind not in ("se_personnummer",) else value.strip()
    if kind == "se_personnummer":
        return refs[kind](compact)
    return refs[kind](compact.upper())


def detect(records):
    with tempfile.TemporaryDirectory() as d:
        p = os.path.join(d, "cases.jsonl")
        with open(p, "w") as fh:
            for i, t in enumerate(records):
                fh.write(json.dumps({"id": i, "text": t}) + "\n")
        r = subprocess.run([MEMSCAN, "-q", "detect", "--format", "jsonl", "--reveal", p],
                           capture_output=True, text=True)
        if r.returncode not in (0, 1):
            sys.exit(f"memscan detect exited {r.returncode}: {r.stderr.strip()}")
        found = {}
        for line in r.stdout.splitlines():
            f = json.loads(line)
            found.setdefault(f["id"], []).append(f)
        return found


def score(texts, labels, rule, kind, shift):
    """(tp, fn, fp, tp_valid, fn_valid) for one file's cases."""
    found = detect(texts)
    tp = fn = fp = tpv = fnv = 0
    for i, (text, spans) in enumerate(zip(texts, labels)):
        fs = [f for f in found.get(i, []) if f["rule_id"] in (rule, rule + "-unformatted")]
        # finding offsets are bytes; Presidio's are characters
        b2c = lambda b: len(text.encode("utf-8")[:b].decode("utf-8", "ignore"))
        got = [(b2c(f["start"]), b2c(f["end"])) for f in fs]
        used = set()
        for s, e in spans:
            s, e = s + shift, e + shift
            hit = next((k for k, (a, b) in enumerate(got) if a < e and s < b), None)
            valid = issuer_valid(kind, text[s:e])
            if hit is None:
                fn += 1
                fnv += valid
            else:
                used.add(hit)
                tp += 1
                tpv += valid
        fp += len(got) - len(used)
    return tp, fn, fp, tpv, fnv


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("presidio_tests")
    a = ap.parse_args()
    rows = []
    tot = [0] * 10
    for fname, (rule, name, kind) in FILES.items():
        path = os.path.join(a.presidio_tests, fname)
        if not os.path.exists(path):
            print(f"missing {path}", file=sys.stderr)
            continue
        cs = cases(path)
        texts = [t for t, _ in cs]
        labels = [s for _, s in cs]
        bare = score(texts, labels, rule, kind, 0)
        prefix = f"{name}: "
        named = score([prefix + t for t in texts], labels, rule, kind, len(prefix))
        rows.append((rule, len(cs), bare, named))
        for k in range(5):
            tot[k] += bare[k]
            tot[5 + k] += named[k]
    print("| rule | cases | expected | bare: found / FP | issuer-valid found (bare) | with its name: found / FP | issuer-valid found (with name) |")
    print("|---|---:|---:|---:|---:|---:|---:|")
    for rule, n, b, w in rows:
        print(f"| {rule} | {n} | {b[0] + b[1]} | {b[0]} / {b[2]} | {b[3]}/{b[3] + b[4]} | {w[0]} / {w[2]} | {w[3]}/{w[3] + w[4]} |")
    b, w = tot[:5], tot[5:]
    print(f"| all | {sum(r[1] for r in rows)} | {b[0] + b[1]} | {b[0]} / {b[2]} | {b[3]}/{b[3] + b[4]} | {w[0]} / {w[2]} | {w[3]}/{w[3] + w[4]} |")


if __name__ == "__main__":
    main()
