"""Seeded generators of realistic fake values for every detector rule, and of hard
negatives. Used by make_detect_corpus.py (the labelled corpus) and to write the
rules' examples. Formats follow each provider's published token format."""
import base64
import hashlib
import json
import random
import string

ALNUM = string.ascii_letters + string.digits
B58 = "123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz"
HEX = "0123456789abcdef"


class Gen:
    def __init__(self, seed):
        self.r = random.Random(seed)

    def s(self, alphabet, n):
        return "".join(self.r.choice(alphabet) for _ in range(n))

    # ---- secrets -------------------------------------------------------------------
    def aws_access_key_id(self):
        return self.r.choice(["AKIA", "ASIA"]) + self.s("ABCDEFGHIJKLMNOPQRSTUVWXYZ234567", 16)

    def aws_secret_access_key(self):
        return self.s(ALNUM + "/+", 40)

    def github(self, prefix):
        return prefix + self.s(ALNUM, 36)

    def github_fine_grained(self):
        return "github_pat_" + self.s(ALNUM, 22) + "_" + self.s(ALNUM, 59)

    def gitlab(self, prefix="glpat-"):
        return prefix + self.s(ALNUM + "_-", 20)

    def slack_bot(self):
        return f"xoxb-{self.s(string.digits, 12)}-{self.s(string.digits, 13)}-{self.s(ALNUM, 24)}"

    def slack_user(self):
        return f"xoxp-{self.s(string.digits, 12)}-{self.s(string.digits, 12)}-{self.s(string.digits, 13)}-{self.s(HEX, 32)}"

    def slack_webhook(self):
        up = string.ascii_uppercase + string.digits
        return f"https://hooks.slack.com/services/T{self.s(up, 10)}/B{self.s(up, 10)}/{self.s(ALNUM, 24)}"

    def stripe(self):
        return self.r.choice(["sk_live_", "rk_live_", "sk_test_"]) + self.s(ALNUM, 24 + self.r.randrange(0, 76))

    def google_api_key(self):
        return "AIza" + self.s(ALNUM + "_-", 35)

    def gcp_oauth_secret(self):
        return "GOCSPX-" + self.s(ALNUM + "_-", 28)

    def azure_conn(self):
        key = base64.b64encode(bytes(self.r.randrange(256) for _ in range(64))).decode()
        return f"DefaultEndpointsProtocol=https;AccountName={self.s(string.ascii_lowercase + string.digits, 12)};AccountKey={key};EndpointSuffix=core.windows.net"

    def openai(self):
        return "sk-proj-" + self.s(ALNUM + "_-", 74) + "T3BlbkFJ" + self.s(ALNUM + "_-", 74)

    def anthropic(self):
        return "sk-ant-api03-" + self.s(ALNUM + "_-", 93) + "AA"

    def huggingface(self):
        return "hf_" + self.s(string.ascii_letters, 34)

    def npm(self):
        return "npm_" + self.s(ALNUM, 36)

    def pypi(self):
        return "pypi-AgEIcHlwaS5vcmc" + self.s(ALNUM + "_-", 120)

    def sendgrid(self):
        return "SG." + self.s(ALNUM + "_-", 22) + "." + self.s(ALNUM + "_-", 43)

    def twilio_key(self):
        return "SK" + self.s(HEX, 32)

    def mailgun(self):
        return "key-" + self.s(HEX, 32)

    def dockerhub(self):
        return "dckr_pat_" + self.s(ALNUM + "_-", 27)

    def jwt(self):
        def b64(o):
            return base64.urlsafe_b64encode(json.dumps(o).encode()).decode().rstrip("=")
        head = b64({"alg": "HS256", "typ": "JWT"})
        body = b64({"sub": str(self.r.randrange(10**9)), "name": self.s(string.ascii_letters, 8), "iat": 1700000000 + self.r.randrange(10**7)})
        return f"{head}.{body}.{self.s(ALNUM + '_-', 43)}"

    def pem_key(self, kind="RSA "):
        body = "\n".join(base64.b64encode(bytes(self.r.randrange(256) for _ in range(48))).decode() for _ in range(8))
        return f"-----BEGIN {kind}PRIVATE KEY-----\n{body}\n-----END {kind}PRIVATE KEY-----"

    def openssh_key(self):
        body = "\n".join(base64.b64encode(bytes(self.r.randrange(256) for _ in range(52))).decode() for _ in range(6))
        return f"-----BEGIN OPENSSH PRIVATE KEY-----\nb3BlbnNzaC1rZXktdjEAAAAA{body}\n-----END OPENSSH PRIVATE KEY-----"

    def password(self):
        return self.s(ALNUM, 6) + self.r.choice("!*-_.~") + self.s(ALNUM, 7)

    def db_uri(self):
        scheme = self.r.choice(["postgres", "postgresql", "mysql", "mongodb+srv", "redis", "amqp"])
        host = self.r.choice(["db.internal.acme-corp.net", "10.3.4.5", "cluster0.x1y2z.mongodb.net", "cache.prod.local"])
        return f"{scheme}://{self.s(string.ascii_lowercase, 6)}:{self.password()}@{host}:5432/app", None

    def generic_token(self):
        return self.s(ALNUM, 32)

    def telegram(self):
        return f"{self.r.randrange(10**8, 10**10)}:AA{self.s(ALNUM + '_-', 33)}"

    def shopify(self):
        return "shpat_" + self.s(HEX, 32)

    def digitalocean(self):
        return "dop_v1_" + self.s(HEX, 64)

    # ---- PII -----------------------------------------------------------------------
    def email(self):
        first = self.r.choice(["maria", "j.smith", "chen.wei", "a.kowalski", "olu", "priya_r", "t.nguyen"])
        dom = self.r.choice(["gmail.com", "outlook.de", "fastmail.fm", "uni-heidelberg.de", "acme-corp.co.uk", "proton.me"])
        return f"{first}{self.r.randrange(10, 999)}@{dom}"

    def phone_us(self):
        return f"({self.r.randrange(2, 10)}{self.s(string.digits, 2)}) {self.r.randrange(2, 10)}{self.s(string.digits, 2)}-{self.s(string.digits, 4)}"

    def phone_e164(self):
        cc = self.r.choice(["44", "49", "33", "81", "61", "91"])
        return f"+{cc}{self.r.randrange(1, 10)}{self.s(string.digits, 9)}"

    def ssn(self):
        while True:
            a = self.r.randrange(1, 900)
            if a != 666:
                break
        return f"{a:03d}-{self.r.randrange(1, 100):02d}-{self.r.randrange(1, 10000):04d}"

    def luhn_complete(self, prefix, length):
        digits = [int(c) for c in prefix] + [self.r.randrange(10) for _ in range(length - len(prefix) - 1)]
        for check in range(10):
            ds = digits + [check]
            total = 0
            for i, d in enumerate(reversed(ds)):
                if i % 2 == 1:
                    d *= 2
                    if d > 9:
                        d -= 9
                total += d
            if total % 10 == 0:
                return "".join(map(str, ds))

    def card(self):
        prefix, length = self.r.choice([("4", 16), ("51", 16), ("55", 16), ("2221", 16), ("34", 15), ("37", 15), ("6011", 16)])
        n = self.luhn_complete(prefix, length)
        sep = self.r.choice(["", " ", "-"])
        if length == 15:
            return sep.join([n[:4], n[4:10], n[10:]])
        return sep.join(n[i:i + 4] for i in range(0, 16, 4))

    IBAN_LEN = {"DE": 22, "GB": 22, "FR": 27, "NL": 18, "ES": 24, "IT": 27, "BE": 16, "CH": 21}

    def iban(self, valid=True):
        cc = self.r.choice(sorted(self.IBAN_LEN))
        n = self.IBAN_LEN[cc]
        if cc in ("GB", "NL"):
            bban = self.s(string.ascii_uppercase, 4) + self.s(string.digits, n - 8)
        else:
            bban = self.s(string.digits, n - 4)
        rearranged = bban + cc + "00"
        num = int("".join(str(int(c, 36)) for c in rearranged))
        check = 98 - num % 97
        if not valid:
            check = (check + 1 + self.r.randrange(1, 90)) % 97 + 2
        raw = f"{cc}{check:02d}{bban}"
        return " ".join(raw[i:i + 4] for i in range(0, len(raw), 4)) if self.r.random() < 0.5 else raw

    def ipv4(self):
        return f"{self.r.choice([23, 51, 84, 91, 141, 185, 212])}.{self.r.randrange(256)}.{self.r.randrange(256)}.{self.r.randrange(1, 255)}"

    def ipv6(self):
        return "2a01:" + ":".join(f"{self.r.randrange(65536):x}" for _ in range(7))

    def mac(self):
        sep = self.r.choice([":", "-"])
        return sep.join(f"{self.r.randrange(256):02X}" for _ in range(6))

    def btc(self):
        payload = bytes([0]) + bytes(self.r.randrange(256) for _ in range(20))
        chk = hashlib.sha256(hashlib.sha256(payload).digest()).digest()[:4]
        data = payload + chk
        n = int.from_bytes(data, "big")
        out = ""
        while n:
            n, rem = divmod(n, 58)
            out = B58[rem] + out
        pad = len(data) - len(data.lstrip(b"\0"))
        return "1" * pad + out

    # EIP-55 test vectors (checksummed addresses from the EIP)
    ETH = ["0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed", "0xfB6916095ca1df60bB79Ce92cE3Ea74c37c5d359",
           "0xdbF03B407c01E7cD3CBea99509d93f8DDDC8C6FB", "0xD1220A0cf47c7B9Be7A2E6BA89F429762e7b9aDb"]

    def eth(self):
        return self.r.choice(self.ETH)

    def dob(self):
        y, m, d = self.r.randrange(1940, 2005), self.r.randrange(1, 13), self.r.randrange(1, 29)
        return self.r.choice([f"{d:02d}/{m:02d}/{y}", f"{y}-{m:02d}-{d:02d}", f"{d} {['March', 'July', 'October'][m % 3]} {y}"])

    def passport(self):
        return self.s(string.ascii_uppercase, 1) + self.s(string.digits, 8)

    def driver_license(self):
        return self.s(string.ascii_uppercase, 1) + self.s(string.digits, 7)

    # ---- hard negatives ------------------------------------------------------------
    def negatives(self):
        r = self.r
        return [
            ("uuid", "-".join(self.s(HEX, n) for n in (8, 4, 4, 4, 12))),
            ("git sha", self.s(HEX, 40)),
            ("sha256", self.s(HEX, 64)),
            ("base64 blob", base64.b64encode(bytes(r.randrange(256) for _ in range(30))).decode()),
            ("luhn-invalid card", self._bad_card()),
            ("bad iban", self.iban(valid=False).replace(" ", "")),
            ("invalid ssn", r.choice(["000", "666", "912"]) + f"-{r.randrange(10, 99)}-{r.randrange(1000, 9999)}"),
            ("placeholder", r.choice(["AKIAIOSFODNN7EXAMPLE", "your-api-key-here", "<YOUR_TOKEN>", "xxxxxxxxxxxxxxxx", "changeme"])),
            ("template", r.choice(["${DB_PASSWORD}", "{{ secrets.API_TOKEN }}", "%(password)s", "$SECRET_KEY"])),
            ("version", f"{r.randrange(1, 9)}.{r.randrange(0, 20)}.{r.randrange(0, 50)}"),
            ("isbn", "978-" + f"{r.randrange(0, 9)}-{r.randrange(10000, 99999)}-{r.randrange(100, 999)}-{r.randrange(10)}"),
            ("date", f"{r.randrange(2000, 2025)}-{r.randrange(1, 13):02d}-{r.randrange(1, 29):02d}"),
            ("doc email", r.choice(["user@example.com", "jane.doe@example.org", "admin@localhost"])),
            ("doc ip", r.choice(["192.0.2.14", "198.51.100.7", "203.0.113.250", "127.0.0.1"])),
        ]

    def _bad_card(self):
        n = self.luhn_complete("4", 16)
        last = (int(n[-1]) + 1 + self.r.randrange(8)) % 10
        return n[:-1] + str(last)
