#!/usr/bin/env python3
"""Random parts and check digits for the hand-written detect_docs documents.

This script only COMPUTES values (random token bodies in each provider's
published charset/length, and check digits per the relevant standard).  The
documents in this folder were written by hand and the printed values pasted
into them; nothing here writes or templates a document.

    python make_values.py            # prints "name<TAB>value" lines

Formats used (from providers' docs / public standards):
  AWS access key id   AKIA|ASIA + 16 [A-Z2-7]; secret key 40 [A-Za-z0-9/+]
  GitHub              ghp_/gho_/ghs_ + 36 [A-Za-z0-9]; github_pat_ 22 _ 59
  GitLab              glpat- + 20 [A-Za-z0-9_-]
  Slack               xoxb-<digits>-<digits>-24 alnum; webhook T../B../24
  Stripe              sk_live_/rk_live_ + alnum; whsec_ + 32
  Google API key      AIza + 35 [A-Za-z0-9_-]; OAuth secret GOCSPX- + 28
  Azure storage key   base64 of 64 bytes (88 chars); AAD secret xxx8Q~ + 34
  OpenAI              sk-proj-/sk- ... T3BlbkFJ ...
  Anthropic           sk-ant-api03- + 86 + '-' + 6 + 'AA'
  Hugging Face        hf_ + 34 [A-Za-z]
  npm                 npm_ + 36 alnum;   PyPI pypi-AgEIcHlwaS5vcmc + base64url
  SendGrid            SG. + 22 + . + 43
  Twilio              SK + 32 hex (API key sid), 32 hex secret
  Mailgun             key- + 32 hex
  Docker Hub          dckr_pat_ + 27 [A-Za-z0-9_-]
  Telegram bot        <8-10 digits>:35 [A-Za-z0-9_-]
  Shopify             shpat_/shpss_ + 32 hex
  DigitalOcean        dop_v1_ + 64 hex
  Discord bot token   base64(user id) . 6 . 38; webhook id/68
  Atlassian           ATATT3xFfGF0 + base64url + '=' + 8 hex
  Sentry              sntryu_ + 64 hex; sntrys_ + base64(json) + _ + 43
  Datadog             api key 32 hex, app key 40 hex
  Mailchimp           32 hex + -us<n>
  Terraform Cloud     14 alnum .atlasv1. 67 alnum
  Pulumi              pul- + 40 hex
  SonarQube           squ_/sqp_ + 40 hex
  Alibaba             LTAI + 20 alnum; secret 30 alnum
  Cards               ISO/IEC 7812 IIN ranges, Luhn
  IBAN                ISO 13616 / SWIFT registry lengths, mod-97 = 1
  SSN                 area 001-665,667-899; group 01-99; serial 0001-9999
  UK NINO             prefix rules (no D F I Q U V; not BG GB NK KN TN NT ZZ)
  NHS number          mod 11, weights 10..2
  Canadian SIN        Luhn, first digit not 0/8
  Aadhaar             Verhoeff, first digit 2-9
"""
import base64
import hashlib
import hmac
import json
import random
import string

R = random.Random(20240917)
ALNUM = string.ascii_letters + string.digits
URLSAFE = ALNUM + "-_"
HEX = "0123456789abcdef"
B32 = string.ascii_uppercase + "234567"


def rs(n, alphabet=ALNUM):
    return "".join(R.choice(alphabet) for _ in range(n))


def digits(n):
    return "".join(R.choice(string.digits) for _ in range(n))


# ---------------------------------------------------------------- check digits
def luhn_check(body):
    total = 0
    for i, ch in enumerate(reversed(body)):
        d = int(ch)
        if i % 2 == 0:
            d *= 2
            if d > 9:
                d -= 9
        total += d
    return str((10 - total % 10) % 10)


def luhn_ok(num):
    return luhn_check(num[:-1]) == num[-1]


def card(prefix, length):
    body = prefix + digits(length - len(prefix) - 1)
    return body + luhn_check(body)


def iban(country, bban):
    rearranged = bban + country + "00"
    numeric = "".join(str(int(c, 36)) for c in rearranged)
    check = 98 - int(numeric) % 97
    return f"{country}{check:02d}{bban}"


def iban_ok(s):
    s = s.replace(" ", "").replace("-", "")
    r = s[4:] + s[:4]
    return int("".join(str(int(c, 36)) for c in r)) % 97 == 1


def nhs(first9=None):
    while True:
        d = first9 or digits(9)
        total = sum(int(c) * w for c, w in zip(d, range(10, 1, -1)))
        chk = 11 - total % 11
        if chk == 11:
            chk = 0
        if chk != 10:
            return d + str(chk)
        first9 = None


def sin():
    first = R.choice("1234567")
    body = first + digits(7)
    return body + luhn_check(body)


VERHOEFF_D = [
    [0, 1, 2, 3, 4, 5, 6, 7, 8, 9], [1, 2, 3, 4, 0, 6, 7, 8, 9, 5],
    [2, 3, 4, 0, 1, 7, 8, 9, 5, 6], [3, 4, 0, 1, 2, 8, 9, 5, 6, 7],
    [4, 0, 1, 2, 3, 9, 5, 6, 7, 8], [5, 9, 8, 7, 6, 0, 4, 3, 2, 1],
    [6, 5, 9, 8, 7, 1, 0, 4, 3, 2], [7, 6, 5, 9, 8, 2, 1, 0, 4, 3],
    [8, 7, 6, 5, 9, 3, 2, 1, 0, 4], [9, 8, 7, 6, 5, 4, 3, 2, 1, 0]]
VERHOEFF_P = [
    [0, 1, 2, 3, 4, 5, 6, 7, 8, 9], [1, 5, 7, 6, 2, 8, 3, 0, 9, 4],
    [5, 8, 0, 3, 7, 9, 6, 1, 4, 2], [8, 9, 1, 6, 0, 4, 3, 5, 2, 7],
    [9, 4, 5, 3, 1, 2, 6, 8, 7, 0], [4, 2, 8, 6, 5, 7, 3, 9, 0, 1],
    [2, 7, 9, 3, 8, 0, 6, 4, 1, 5], [7, 0, 4, 6, 9, 1, 3, 2, 5, 8]]
VERHOEFF_INV = [0, 4, 3, 2, 1, 5, 6, 7, 8, 9]


def verhoeff_check(body):
    c = 0
    for i, ch in enumerate(reversed(body)):
        c = VERHOEFF_D[c][VERHOEFF_P[(i + 1) % 8][int(ch)]]
    return str(VERHOEFF_INV[c])


def verhoeff_ok(num):
    c = 0
    for i, ch in enumerate(reversed(num)):
        c = VERHOEFF_D[c][VERHOEFF_P[i % 8][int(ch)]]
    return c == 0


def aadhaar():
    body = R.choice("23456789") + digits(10)
    return body + verhoeff_check(body)


def nino():
    bad1, bad2 = set("DFIQUV"), set("DFIOQUV")
    banned = {"BG", "GB", "NK", "KN", "TN", "NT", "ZZ"}
    while True:
        a = R.choice([c for c in string.ascii_uppercase if c not in bad1])
        b = R.choice([c for c in string.ascii_uppercase if c not in bad2])
        if a + b not in banned:
            return a + b + digits(6) + R.choice("ABCD")


def ssn():
    while True:
        area = R.randint(1, 899)
        if area != 666:
            return f"{area:03d}-{R.randint(1, 99):02d}-{R.randint(1, 9999):04d}"


def fr_rib_key(bank, branch, account):
    return f"{97 - (89 * int(bank) + 15 * int(branch) + 3 * int(account)) % 97:02d}"


def es_dc(bank, branch, account):
    w = [1, 2, 4, 8, 5, 10, 9, 7, 3, 6]

    def dc(s):
        v = 11 - sum(int(c) * x for c, x in zip(s, w)) % 11
        return {11: 0, 10: 1}.get(v, v)
    return f"{dc('00' + bank + branch)}{dc(account)}"


def b64url(b):
    return base64.urlsafe_b64encode(b).rstrip(b"=").decode()


def jwt(payload, key):
    header = b64url(json.dumps({"alg": "HS256", "typ": "JWT"}, separators=(",", ":")).encode())
    body = b64url(json.dumps(payload, separators=(",", ":")).encode())
    sig = b64url(hmac.new(key, f"{header}.{body}".encode(), hashlib.sha256).digest())
    return f"{header}.{body}.{sig}"


def main():
    out = []

    def put(name, value):
        out.append((name, value))

    # ---------------------------------------------------------------- secrets
    for i in range(4):
        put(f"aws_akid_{i}", "AKIA" + rs(16, B32))
        put(f"aws_secret_{i}", rs(40, ALNUM + "/+"))
    put("aws_asia", "ASIA" + rs(16, B32))
    put("aws_session_token", "IQoJb3JpZ2luX2VjE" + rs(300, ALNUM + "/+") + "==")
    for i in range(3):
        put(f"ghp_{i}", "ghp_" + rs(36))
    put("gho_0", "gho_" + rs(36))
    put("ghs_0", "ghs_" + rs(36))
    for i in range(2):
        put(f"github_pat_{i}", "github_pat_" + rs(22) + "_" + rs(59))
    for i in range(3):
        put(f"glpat_{i}", "glpat-" + rs(20, URLSAFE))
    put("glrt_0", "glrt-" + rs(20, URLSAFE))
    for i in range(2):
        put(f"xoxb_{i}", f"xoxb-{digits(12)}-{digits(13)}-{rs(24)}")
    put("xoxp_0", f"xoxp-{digits(12)}-{digits(12)}-{digits(13)}-{rs(32, HEX)}")
    for i in range(2):
        put(f"slack_webhook_{i}",
            f"https://hooks.slack.com/services/T{rs(8, string.ascii_uppercase + string.digits)}"
            f"/B{rs(10, string.ascii_uppercase + string.digits)}/{rs(24)}")
    put("stripe_sk_live_0", "sk_live_" + rs(24))
    put("stripe_sk_live_1", "sk_live_51" + rs(97))
    put("stripe_rk_live_0", "rk_live_51" + rs(97))
    put("stripe_whsec_0", "whsec_" + rs(32))
    for i in range(4):
        put(f"google_api_{i}", "AIza" + rs(35, URLSAFE))
    put("google_oauth_secret", "GOCSPX-" + rs(28, URLSAFE))
    for i in range(2):
        put(f"azure_storage_{i}", base64.b64encode(R.randbytes(64)).decode())
    put("azure_ad_secret", rs(3) + "8Q~" + rs(34, ALNUM + "~_.-"))
    put("openai_legacy", "sk-" + rs(20) + "T3BlbkFJ" + rs(20))
    for i in range(2):
        put(f"openai_proj_{i}", "sk-proj-" + rs(74, URLSAFE) + "T3BlbkFJ" + rs(74, URLSAFE))
    for i in range(2):
        put(f"anthropic_{i}", "sk-ant-api03-" + rs(86, URLSAFE) + "-" + rs(6, URLSAFE) + "AA")
    for i in range(2):
        put(f"hf_{i}", "hf_" + rs(34, string.ascii_letters))
    for i in range(2):
        put(f"npm_{i}", "npm_" + rs(36))
    put("pypi_0", "pypi-AgEIcHlwaS5vcmc" + rs(160, URLSAFE))
    for i in range(2):
        put(f"sendgrid_{i}", "SG." + rs(22, URLSAFE) + "." + rs(43, URLSAFE))
    put("twilio_sk", "SK" + rs(32, HEX))
    put("twilio_secret", rs(32, ALNUM))
    put("twilio_auth_token", rs(32, HEX))
    put("mailgun_0", "key-" + rs(32, HEX))
    for i in range(2):
        put(f"dockerhub_{i}", "dckr_pat_" + rs(27, URLSAFE))
    for i in range(2):
        put(f"telegram_{i}", f"{R.randint(10**8, 7 * 10**9)}:AA{rs(33, URLSAFE)}")
    put("shopify_shpat", "shpat_" + rs(32, HEX))
    put("shopify_shpss", "shpss_" + rs(32, HEX))
    for i in range(2):
        put(f"do_{i}", "dop_v1_" + rs(64, HEX))
    uid = str(R.randint(10**17, 2 * 10**18))
    put("discord_bot", b64url(uid.encode()) + "." + rs(6, URLSAFE) + "." + rs(38, URLSAFE))
    put("discord_webhook", f"https://discord.com/api/webhooks/{digits(19)}/{rs(68, URLSAFE)}")
    put("atlassian_0", "ATATT3xFfGF0" + rs(170, URLSAFE) + "=" + rs(8, "0123456789ABCDEF"))
    put("sentry_user", "sntryu_" + rs(64, HEX))
    sj = b64url(json.dumps({"iat": 1718301425.2, "url": "https://sentry.io", "region_url": "https://us.sentry.io", "org": "ledgerline"}, separators=(",", ":")).encode())
    put("sentry_org", "sntrys_" + sj + "_" + rs(43, URLSAFE))
    put("sentry_dsn_key", rs(32, HEX))
    put("datadog_api", rs(32, HEX))
    put("datadog_app", rs(40, HEX))
    put("mailchimp_0", rs(32, HEX) + "-us14")
    put("tfc_0", rs(14) + ".atlasv1." + rs(67))
    put("pulumi_0", "pul-" + rs(40, HEX))
    put("sonar_squ", "squ_" + rs(40, HEX))
    put("sonar_sqp", "sqp_" + rs(40, HEX))
    put("alibaba_id", "LTAI" + rs(20))
    put("alibaba_secret", rs(30))
    put("django_secret", "django-insecure-" + rs(50, string.ascii_lowercase + string.digits + "!@#%^&*(-_=+)"))
    for i in range(4):
        put(f"hex32_{i}", rs(32, HEX))
        put(f"hex64_{i}", rs(64, HEX))
        put(f"b64_{i}", base64.b64encode(R.randbytes(32)).decode())
    for i in range(8):
        put(f"wp_salt_{i}", rs(64, ALNUM + "!@#$%^&*()-_[]{}<>~+=,.;:/?|"))
    put("jwt_0", jwt({"sub": "usr_81422", "email": "d.mwangi@lumencart.io", "role": "admin", "iat": 1710423113, "exp": 1710509513}, R.randbytes(32)))
    put("jwt_1", jwt({"iss": "https://auth.harborview-health.org", "sub": "svc-claims-sync", "scope": "claims:write", "iat": 1715871012}, R.randbytes(32)))
    put("jwt_2", jwt({"uid": 40211, "tenant": "acme-eu", "exp": 1893456000}, R.randbytes(32)))
    put("jwt_secret_0", base64.b64encode(R.randbytes(48)).decode())

    # ------------------------------------------------------------------- cards
    specs = [("visa16", "4", 16), ("visa16b", "4", 16), ("visa16c", "4", 16),
             ("visa19", "4", 19), ("visa13", "4", 13),
             ("mc51", "51", 16), ("mc55", "55", 16), ("mc2", "2" + str(R.randint(221, 720)), 16),
             ("amex34", "34", 15), ("amex37", "37", 15),
             ("disc6011", "6011", 16), ("disc65", "65", 16), ("disc644", "644", 16),
             ("diners36", "36", 14), ("diners300", "300", 14), ("diners38", "38", 14),
             ("jcb16", str(R.randint(3528, 3589)), 16), ("jcb16b", str(R.randint(3528, 3589)), 16),
             ("jcb15", "2131", 15), ("jcb15b", "1800", 15),
             ("maestro16", "6759", 16), ("maestro19", "5018", 19), ("maestro12", "6304", 12),
             ("unionpay16", "62", 16), ("unionpay19", "62", 19),
             ("mir", "220" + str(R.randint(0, 4)), 16), ("troy", "9792", 16)]
    for name, pfx, n in specs:
        c = card(pfx, n)
        put(f"card_{name}", c)
    for i in range(4):
        c = card("4", 16)
        bad = c[:-1] + str((int(c[-1]) + 3) % 10)
        assert not luhn_ok(bad)
        put(f"card_luhn_bad_{i}", bad)

    # ------------------------------------------------------------------- IBANs
    put("iban_de", iban("DE", digits(8) + digits(10)))
    put("iban_de2", iban("DE", digits(8) + digits(10)))
    put("iban_gb", iban("GB", "NWBK" + digits(6) + digits(8)))
    put("iban_gb2", iban("GB", "BARC" + digits(6) + digits(8)))
    b, br, acc = digits(5), digits(5), digits(11)
    put("iban_fr", iban("FR", b + br + acc + fr_rib_key(b, br, acc)))
    b, br, acc = digits(4), digits(4), digits(10)
    put("iban_es", iban("ES", b + br + es_dc(b, br, acc) + acc))
    put("iban_nl", iban("NL", "INGB" + digits(10)))
    acc = digits(10)
    put("iban_be", iban("BE", acc + f"{(int(acc) % 97) or 97:02d}"))
    put("iban_ch", iban("CH", digits(5) + digits(12)))
    put("iban_pl", iban("PL", digits(24)))
    put("iban_at", iban("AT", digits(5) + digits(11)))
    put("iban_ie", iban("IE", "AIBK" + digits(6) + digits(8)))
    put("iban_no", iban("NO", digits(11)))
    put("iban_it", iban("IT", R.choice(string.ascii_uppercase) + digits(5) + digits(5) + digits(12)))
    for cc, bb in (("DE", digits(18)), ("GB", "HBUK" + digits(14)), ("FR", digits(23))):
        good = iban(cc, bb)
        bad = good[:2] + f"{(int(good[2:4]) + 11) % 100:02d}" + good[4:]
        assert not iban_ok(bad)
        put(f"iban_bad_{cc.lower()}", bad)

    # --------------------------------------------------------------- national
    for i in range(8):
        put(f"ssn_{i}", ssn())
    for i in range(3):
        put(f"nino_{i}", nino())
    for i in range(3):
        put(f"nhs_{i}", nhs())
    bad = nhs()
    put("nhs_bad", bad[:-1] + str((int(bad[-1]) + 1) % 10))
    for i in range(3):
        put(f"sin_{i}", sin())
    s = sin()
    put("sin_bad", s[:-1] + str((int(s[-1]) + 5) % 10))
    for i in range(3):
        put(f"aadhaar_{i}", aadhaar())
    a = aadhaar()
    put("aadhaar_bad", a[:-1] + str((int(a[-1]) + 1) % 10))

    # --------------------------------------------------------------- negatives
    for i in range(3):
        put(f"git_sha_{i}", rs(40, HEX))
        put(f"sha256_{i}", rs(64, HEX))
    put("csrf_0", rs(64))
    put("csrf_1", rs(43, URLSAFE) + "=")
    put("csrf_2", rs(40))

    # ------------------------------------------------ extra secrets (round 2)
    put("aws_secret_4", rs(40, ALNUM + "/+"))
    put("stripe_sk_live_2", "sk_live_51" + rs(97))
    put("hf_2", "hf_" + rs(34, string.ascii_letters))
    put("openai_legacy_1", "sk-" + rs(20) + "T3BlbkFJ" + rs(20))
    put("machine_validation", rs(128, "0123456789ABCDEF"))
    put("machine_decryption", rs(64, "0123456789ABCDEF"))
    put("hex64_4", rs(64, HEX))
    put("hex32_4", rs(32, HEX))
    put("gldt_0", "gldt-" + rs(20, URLSAFE))
    put("telegram_2", f"{R.randint(10**8, 7 * 10**9)}:AA{rs(33, URLSAFE)}")

    # ------------------------------------- encodings of hand-chosen credentials
    def b64(s):
        return base64.b64encode(s.encode()).decode()
    put("basic_deployer", b64("deployer:Hx7!rT4p-Wq9"))
    put("k8s_db_user", b64("claims_sync"))
    put("k8s_db_password", b64("Hv-claims!9Qz2Lw"))
    put("k8s_api_token", b64("5bf16cdde285e777ea5f7af8b80ac599"))
    inner = b64("harborview-bot:ghp_wvgVXGgmIfR14hvc8RDk6ObN4w7J3wFTCRSf")
    put("k8s_dockerconfigjson", b64(json.dumps({"auths": {"ghcr.io": {"auth": inner}}}, separators=(",", ":"))))
    put("docker_auth_hub", b64("brightfernci:dckr_pat_MmyMLwGGBcF7BJm58w-qbkuTqrq"))
    put("docker_auth_gitlab", b64("gitlab-ci-token:glpat-HatWABlpVcVeF0SGmcik"))
    put("iban_de3", iban("DE", digits(8) + digits(10)))
    put("iban_at2", iban("AT", digits(5) + digits(11)))
    put("verhoeff_482913776105", str(verhoeff_ok("482913776105")))
    put("luhn_siret_73282932000074", str(luhn_ok("73282932000074")))

    for name, value in out:
        print(f"{name}\t{value}")

    # self-checks
    for name, value in out:
        if name.startswith("card_") and "bad" not in name:
            assert luhn_ok(value), name
        if name.startswith("iban_") and "bad" not in name:
            assert iban_ok(value), name
        if name.startswith("aadhaar_") and "bad" not in name:
            assert verhoeff_ok(value), name


if __name__ == "__main__":
    main()
