"""Writes a labelled corpus for the detectors, from a seed:

    python make_detect_corpus.py OUTDIR [--docs N] [--seed S]

OUTDIR/files/...     prose (.txt), source code (.py, .js), config (.yaml, .env, .json) and logs (.log)
OUTDIR/labels.jsonl  one line per planted value: file, start, end (byte offsets), line,
                     category (secret | pii), family

Every value format the rules cover is planted in every kind of document, with hard
negatives around it (UUIDs, git and SHA-256 hashes, base64 blobs, Luhn-invalid numbers,
bad IBAN checksums, invalid SSNs, placeholders, templated values, version strings, ISBNs,
dates, documentation emails and IPs), which are not labelled: a finding on one is a
false positive.
"""
import argparse
import json
import os
import random

from detect_values import Gen

WORDS = ("the of and to in is was for on that with as by at from this which or are have not had but they one were "
         "all we when there can been has more will would so what out up into do only new some could time these two may "
         "then first any like now such make over even most after also made many did must before back see through way "
         "where get much go well your know should down work year report server account customer release model data team").split()


def secret_values(g):
    """(family, value, context template) for every secret format; {v} is the value."""
    return [
        ("aws", g.aws_access_key_id(), None),
        ("aws", g.aws_secret_access_key(), "aws_secret_access_key = {v}"),
        ("github", g.github("ghp_"), None),
        ("github", g.github("gho_"), None),
        ("github", g.github_fine_grained(), None),
        ("gitlab", g.gitlab("glpat-"), None),
        ("slack", g.slack_bot(), None),
        ("slack", g.slack_user(), None),
        ("slack", g.slack_webhook(), None),
        ("stripe", g.stripe(), None),
        ("google", g.google_api_key(), None),
        ("google", g.gcp_oauth_secret(), None),
        ("azure", g.azure_conn(), None),
        ("openai", g.openai(), None),
        ("anthropic", g.anthropic(), None),
        ("huggingface", g.huggingface(), None),
        ("npm", g.npm(), None),
        ("pypi", g.pypi(), None),
        ("sendgrid", g.sendgrid(), None),
        ("twilio", g.twilio_key(), "TWILIO_API_KEY={v}"),
        ("mailgun", g.mailgun(), None),
        ("dockerhub", g.dockerhub(), None),
        ("jwt", g.jwt(), "Authorization: Bearer {v}"),
        ("private-key", g.pem_key(), None),
        ("private-key", g.openssh_key(), None),
        ("db-uri", g.db_uri()[0], None),
        ("generic-assignment", g.password(), "password = \"{v}\""),
        ("generic-assignment", g.generic_token(), "api_key: {v}"),
        ("generic-assignment", g.generic_token(), "SECRET_KEY = '{v}'"),
        ("telegram", g.telegram(), None),
        ("shopify", g.shopify(), None),
        ("digitalocean", g.digitalocean(), None),
    ]


def pii_values(g):
    return [
        ("email", g.email(), None),
        ("phone", g.phone_us(), "call {v}"),
        ("phone", g.phone_e164(), "phone: {v}"),
        ("ssn", g.ssn(), "SSN: {v}"),
        ("payment-card", g.card(), "card {v}"),
        ("iban", g.iban(), "IBAN {v}"),
        ("ip", g.ipv4(), "from {v}"),
        ("ip", g.ipv6(), "addr {v}"),
        ("mac", g.mac(), "hwaddr {v}"),
        ("crypto-wallet", g.btc(), "send to {v}"),
        ("crypto-wallet", g.eth(), "wallet {v}"),
        ("date-of-birth", g.dob(), "date of birth: {v}"),
        ("passport", g.passport(), "passport no. {v}"),
        ("drivers-licence", g.driver_license(), "driver's license: {v}"),
    ]


def prose(g, n):
    r = g.r
    return " ".join(r.choice(WORDS) for _ in range(n)).capitalize() + "."


def code_line(g):
    r = g.r
    return r.choice([
        f"def {r.choice(WORDS)}_{r.choice(WORDS)}(x, y=None):",
        f"    return {r.choice(WORDS)}(x) + {r.randrange(100)}",
        f"import {r.choice(['os', 'sys', 'json', 'numpy as np', 'requests'])}",
        f"VERSION = \"{r.randrange(1, 9)}.{r.randrange(20)}.{r.randrange(50)}\"",
        f"color = \"#{g.s('0123456789abcdef', 6)}\"",
        f"timeout = {r.randrange(1, 300)}  # seconds",
        f"url = \"https://api.{r.choice(WORDS)}.io/v{r.randrange(1, 4)}/{r.choice(WORDS)}\"",
        f"for i in range({r.randrange(2, 99)}):",
        f"    logger.info(\"processed %d {r.choice(WORDS)}s\", i)",
        f"const {r.choice(WORDS)}Id = \"{g.s('0123456789abcdef', 8)}-{g.s('0123456789abcdef', 4)}-4{g.s('0123456789abcdef', 3)}-a{g.s('0123456789abcdef', 3)}-{g.s('0123456789abcdef', 12)}\";",
        f"password = os.environ[\"{r.choice(WORDS).upper()}_PASSWORD\"]",
        f"token = get_token({r.choice(WORDS)})",
    ])


def log_line(g):
    r = g.r
    return (f"2024-{r.randrange(1, 13):02d}-{r.randrange(1, 29):02d}T{r.randrange(24):02d}:{r.randrange(60):02d}:{r.randrange(60):02d}Z "
            f"{r.choice(['INFO', 'WARN', 'DEBUG', 'ERROR'])} {r.choice(WORDS)}: {prose(g, r.randrange(4, 12))} "
            f"latency={r.randrange(1, 900)}ms req={g.s('0123456789abcdef', 16)}")


def negative_text(g):
    kind, v = g.r.choice(g.negatives())
    return g.r.choice([f"id {v} ok", f"ref: {v}", f"value = \"{v}\"", f"({v})"])


KINDS = [("txt", "prose"), ("py", "code"), ("js", "code"), ("yaml", "config"), ("env", "config"), ("json", "config"), ("log", "log")]


def document(g, kind, n_values):
    """Lines of one document and the labels (line index, char span in line, ...)."""
    lines, labels = [], []
    pool = [("secret",) + v for v in secret_values(g)] + [("pii",) + v for v in pii_values(g)]
    planted = g.r.sample(pool, n_values)
    for cat, family, value, ctx in planted:
        # background before
        for _ in range(g.r.randrange(1, 6)):
            lines.append(filler(g, kind))
        if g.r.random() < 0.5:
            lines.append(negative_text(g))
        text = (ctx or embed_template(g, kind, cat)).format(v=value)
        off = text.index(value)
        labels.append((len(lines), off, off + len(value), cat, family))
        lines.append(text)
    lines.append(filler(g, kind))
    return lines, labels


def embed_template(g, kind, cat):
    r = g.r
    if kind == "prose":
        return r.choice(["The value {v} appeared in the export.", "Contact: {v} (see ticket).", "It was {v}, apparently."])
    if kind == "code":
        return r.choice(["    client = Client(\"{v}\")", "KEY = \"{v}\"", "    send({v!r})".replace("{v!r}", "'{v}'")])
    if kind == "config":
        return r.choice(["value: {v}", "VALUE={v}", "\"value\": \"{v}\","])
    return "{ts} INFO request from user: {v}".replace("{ts}", "2024-05-01T10:00:00Z")


def filler(g, kind):
    if kind == "prose":
        return prose(g, g.r.randrange(8, 30))
    if kind == "code":
        return code_line(g)
    if kind == "log":
        return log_line(g)
    r = g.r
    return r.choice([f"{r.choice(WORDS)}_{r.choice(WORDS)}: {r.randrange(1000)}", f"enabled: {r.choice(['true', 'false'])}",
                     f"host: {r.choice(WORDS)}.internal", f"image: registry/{r.choice(WORDS)}:{r.randrange(1, 9)}.{r.randrange(10)}.{r.randrange(10)}",
                     f"region: {r.choice(['eu-west-1', 'us-east-2'])}", f"checksum: sha256:{g.s('0123456789abcdef', 64)}"])


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("out")
    ap.add_argument("--docs", type=int, default=400)
    ap.add_argument("--values-per-doc", type=int, default=6)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--background-mb", type=float, default=0.0, help="extra unlabelled-free filler per document kind (benchmarks)")
    a = ap.parse_args()
    g = Gen(a.seed)
    files_dir = os.path.join(a.out, "files")
    os.makedirs(files_dir, exist_ok=True)
    with open(os.path.join(a.out, "labels.jsonl"), "w") as lab:
        for d in range(a.docs):
            ext, kind = KINDS[d % len(KINDS)]
            lines, labels = document(g, kind, a.values_per_doc)
            if a.background_mb:
                per_doc = int(a.background_mb * 1e6 / a.docs)
                extra, size = [], 0
                while size < per_doc:
                    extra.append(filler(g, kind))
                    size += len(extra[-1]) + 1
                lines = extra + lines
                labels = [(li + len(extra),) + tuple(rest) for (li, *rest) in labels]
            name = f"doc{d:05d}.{ext}"
            text = "\n".join(lines) + "\n"
            data = text.encode()
            # byte offsets of each line start
            starts, pos = [], 0
            for ln in lines:
                starts.append(pos)
                pos += len(ln.encode()) + 1
            for li, cs, ce, cat, family in labels:
                line_text = lines[li]
                bs = starts[li] + len(line_text[:cs].encode())
                be = starts[li] + len(line_text[:ce].encode())
                lab.write(json.dumps({"file": name, "start": bs, "end": be, "line": data[:bs].count(b"\n") + 1,
                                      "category": cat, "family": family}) + "\n")
            with open(os.path.join(files_dir, name), "wb") as fh:
                fh.write(data)


if __name__ == "__main__":
    main()
