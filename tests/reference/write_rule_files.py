"""Writes patterns/secrets.toml and patterns/pii.toml: the rules, and examples made by
the seeded generators of detect_values.py. Run from the project root:
    python tests/reference/write_rule_files.py
"""
import json, sys
sys.path.insert(0, __import__("os").path.dirname(__import__("os").path.abspath(__file__)))
from detect_values import Gen
g = Gen(7)

def q(s):  # TOML basic string
    return json.dumps(s)

def rule(id, desc, cat, regex, keywords, pos, neg, group=None, min_entropy=None, validator=None,
         allowlist=(), stopwords=(), confidence=0.9, not_adjacent=None, window=None, shape=None, before=None):
    out = ["[[rules]]", f"id = {q(id)}", f"description = {q(desc)}", f"category = {q(cat)}",
           f"regex = '''{regex}'''"]
    if group is not None: out.append(f"group = {group}")
    out.append("keywords = [" + ", ".join(q(k) for k in keywords) + "]")
    if shape: out.append(f"shape = {q(shape)}")
    if before is not None: out.append(f"before = {before}")
    if min_entropy is not None: out.append(f"min_entropy = {min_entropy}")
    if validator: out.append(f"validator = {q(validator)}")
    if allowlist: out.append("allowlist = [" + ", ".join(f"'''{a}'''" for a in allowlist) + "]")
    if stopwords: out.append("stopwords = [" + ", ".join(q(s) for s in stopwords) + "]")
    if not_adjacent: out.append(f"not_adjacent = {q(not_adjacent)}")
    if window: out.append(f"window = {window}")
    out.append(f"confidence = {confidence}")
    out.append("examples.positive = [" + ", ".join(q(p) for p in pos) + "]")
    out.append("examples.negative = [" + ", ".join(q(n) for n in neg) + "]")
    return "\n".join(out) + "\n"

PLACEHOLDERS = ["example", "sample", "dummy", "placeholder", "your_", "your-", "changeme", "xxxxxxxx", "redacted", "<", "${", "{{", "%("]

S = []
S.append(rule("aws-access-key-id", "AWS access key ID (AKIA long-term, ASIA temporary)", "secret",
    r"(?:AKIA|ASIA|ABIA|ACCA|AGPA|AIDA|AROA|AIPA|ANPA|ANVA|APKA)[A-Z2-7]{16}", ["AKIA", "ASIA", "ABIA", "ACCA", "AGPA", "AIDA", "AROA", "AIPA", "ANPA", "ANVA", "APKA"],
    [f"aws_access_key_id = {g.aws_access_key_id()}", f"key: {g.aws_access_key_id()}"], ["AKIAIOSFODNN7EXAMPLE", "AKIA1234", "XAKIA" + "A"*16 + "B"],
    allowlist=["EXAMPLE"], not_adjacent="A-Za-z0-9", confidence=0.95))
S.append(rule("aws-secret-access-key", "AWS secret access key next to an AWS key name", "secret",
    r"(?i)aws.{0,24}?(?:secret|private)?.{0,16}?(?:key|sk)[\"']?\s{0,4}[:=]{1,2}>?\s{0,4}[\"']?([A-Za-z0-9/+]{40})", ["aws"],
    [f"aws_secret_access_key = {g.aws_secret_access_key()}", f"AWS_SECRET_ACCESS_KEY=\"{g.aws_secret_access_key()}\""],
    ["aws_secret_access_key = wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY", "aws_secret_access_key = ${AWS_SECRET_ACCESS_KEY}"],
    group=1, min_entropy=4.0, allowlist=["EXAMPLE"], not_adjacent="A-Za-z0-9/+=", confidence=0.9))
for pre, name in [("ghp_", "classic personal access token"), ("gho_", "OAuth access token"), ("ghu_", "user-to-server token"), ("ghs_", "server-to-server (app installation) token")]:
    S.append(rule(f"github-{ {'ghp_':'pat','gho_':'oauth','ghu_':'user-to-server','ghs_':'server-to-server'}[pre] }", f"GitHub {name}", "secret",
        pre + r"[A-Za-z0-9]{36}", [pre], [f"token {g.github(pre)}"], [pre + "short", pre + "x" * 36],
        not_adjacent="A-Za-z0-9_", min_entropy=3.0, confidence=0.95))
S.append(rule("github-refresh", "GitHub refresh token", "secret", r"ghr_[A-Za-z0-9]{36,255}", ["ghr_"],
    [f"refresh={g.github('ghr_')}"], ["ghr_tooshort"], not_adjacent="A-Za-z0-9_", min_entropy=3.0, confidence=0.95))
S.append(rule("github-fine-grained-pat", "GitHub fine-grained personal access token", "secret",
    r"github_pat_[A-Za-z0-9]{22}_[A-Za-z0-9]{59}", ["github_pat_"], [g.github_fine_grained()], ["github_pat_123"],
    not_adjacent="A-Za-z0-9_", confidence=0.97))
for pre, name in [("glpat-", "personal access token"), ("glrt-", "runner authentication token"), ("gldt-", "deploy token"), ("glcbt-", "CI/CD job token"), ("gloas-", "OAuth application secret")]:
    S.append(rule("gitlab-" + pre.rstrip("-"), f"GitLab {name}", "secret", pre.replace("-", r"\-") + r"[A-Za-z0-9_\-]{20,64}", [pre],
        [f"GITLAB_TOKEN={g.gitlab(pre)}"], [pre + "abc"], not_adjacent="A-Za-z0-9_", min_entropy=3.0, confidence=0.95))
S.append(rule("gitlab-pipeline-trigger", "GitLab pipeline trigger token", "secret", r"glptt-[0-9a-f]{40}", ["glptt-"],
    [f"glptt-{g.s('0123456789abcdef', 40)}"], ["glptt-xyz"], not_adjacent="A-Za-z0-9_", confidence=0.95))
S.append(rule("slack-bot-token", "Slack bot token", "secret", r"xoxb-[0-9]{10,13}-[0-9]{10,13}-[A-Za-z0-9]{24}", ["xoxb-"],
    [g.slack_bot()], ["xoxb-123-456-abc"], not_adjacent="A-Za-z0-9", confidence=0.97))
S.append(rule("slack-user-token", "Slack user or legacy workspace token", "secret", r"xox[pe]-[0-9]{10,13}-[0-9]{10,13}-[0-9]{10,13}-[a-f0-9]{32}", ["xoxp-", "xoxe-"],
    [g.slack_user()], ["xoxp-1-2-3-abc"], not_adjacent="A-Za-z0-9", confidence=0.97))
S.append(rule("slack-app-token", "Slack app-level token", "secret", r"xapp-1-[A-Z0-9]{9,12}-[0-9]{10,13}-[a-f0-9]{64}", ["xapp-"],
    [f"xapp-1-A{g.s('ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789', 10)}-{g.s('0123456789', 13)}-{g.s('0123456789abcdef', 64)}"], ["xapp-1-short"], not_adjacent="A-Za-z0-9", confidence=0.97))
S.append(rule("slack-webhook", "Slack incoming webhook URL", "secret", r"https://hooks\.slack\.com/(?:services|workflows|triggers)/T[A-Z0-9]{8,12}/[AB][A-Z0-9]{8,12}/[A-Za-z0-9]{23,24}", ["hooks.slack.com"],
    [g.slack_webhook()], ["https://hooks.slack.com/services/TXXXX/BXXXX/XXXX"], confidence=0.95))
S.append(rule("stripe-secret-key", "Stripe secret or restricted API key", "secret", r"(?:sk|rk)_(?:live|test)_[A-Za-z0-9]{24,99}", ["sk_live_", "rk_live_", "sk_test_", "rk_test_"],
    [f"stripe.api_key = \"{g.stripe()}\""], ["sk_live_short", "pk_live_" + "a" * 24], not_adjacent="A-Za-z0-9", min_entropy=3.5, confidence=0.95))
S.append(rule("stripe-webhook-secret", "Stripe webhook signing secret", "secret", r"whsec_[A-Za-z0-9]{32,64}", ["whsec_"],
    [f"whsec_{g.s('abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789', 32)}"], ["whsec_abc"], not_adjacent="A-Za-z0-9", min_entropy=3.5))
S.append(rule("google-api-key", "Google API key", "secret", r"AIza[0-9A-Za-z_\-]{35}", ["AIza"],
    [f"key={g.google_api_key()}"], ["AIzaShort"], not_adjacent="A-Za-z0-9_\\-", min_entropy=3.5, confidence=0.95))
S.append(rule("google-oauth-client-secret", "Google OAuth client secret", "secret", r"GOCSPX-[A-Za-z0-9_\-]{28}", ["GOCSPX-"],
    [g.gcp_oauth_secret()], ["GOCSPX-short"], not_adjacent="A-Za-z0-9_\\-", confidence=0.95))
S.append(rule("google-oauth-access-token", "Google OAuth access token", "secret", r"ya29\.[0-9A-Za-z_\-]{30,}", ["ya29."],
    [f"Bearer ya29.{g.s('abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_-', 60)}"], ["ya29.short"], min_entropy=3.5, confidence=0.9))
S.append(rule("gcp-service-account-key", "Google service-account private key (JSON key file)", "secret",
    r"\"private_key\"\s*:\s*\"-----BEGIN PRIVATE KEY-----\\n[A-Za-z0-9+/=\\n]{64,}-----END PRIVATE KEY-----(?:\\n)?\"", ["\"private_key\""],
    ["{\"type\": \"service_account\", \"private_key\": \"-----BEGIN PRIVATE KEY-----\\nMIIEvQIBADANBgkqhkiG9w0BAQEFAASCBKcwggSjAgEAAoIBAQC7" + g.s("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/", 64) + "\\n-----END PRIVATE KEY-----\\n\"}"],
    ["\"private_key\": \"\""], window=8192, confidence=0.97))
S.append(rule("azure-storage-connection-string", "Azure storage account connection string with key", "secret",
    r"AccountKey=([A-Za-z0-9+/]{86}==)", ["AccountKey="], [g.azure_conn()], ["AccountKey=abc==", "AccountKey=<key>"], group=1, confidence=0.97))
S.append(rule("azure-ad-client-secret", "Azure AD (Entra ID) client secret", "secret", r"[A-Za-z0-9_~.]{3}[0-9]Q~[A-Za-z0-9_~.\-]{31,34}", ["Q~"],
    [f"client_secret: {g.s('abcdefghijkl', 3)}8Q~{g.s('abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_.-', 34)}"], ["abc8Q~short"], not_adjacent="A-Za-z0-9_~.\\-", min_entropy=3.5, confidence=0.85))
S.append(rule("openai-api-key", "OpenAI API key (project, service account, admin or legacy)", "secret",
    r"sk-(?:(?:proj|svcacct|admin)-[A-Za-z0-9_\-]{20,200}T3BlbkFJ[A-Za-z0-9_\-]{20,200}|[A-Za-z0-9]{20}T3BlbkFJ[A-Za-z0-9]{20}|(?:proj|svcacct|admin)-[A-Za-z0-9_\-]{80,200})", ["sk-"],
    [f"OPENAI_API_KEY={g.openai()}", "sk-" + g.s("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789", 20) + "T3BlbkFJ" + g.s("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789", 20)],
    ["sk-proj-short", "sk-1234"], not_adjacent="A-Za-z0-9_\\-", confidence=0.97))
S.append(rule("anthropic-api-key", "Anthropic API key", "secret", r"sk-ant-(?:api03|admin01)-[A-Za-z0-9_\-]{93}AA", ["sk-ant-"],
    [g.anthropic()], ["sk-ant-api03-short"], not_adjacent="A-Za-z0-9_\\-", confidence=0.98))
S.append(rule("huggingface-token", "Hugging Face access token", "secret", r"hf_[A-Za-z]{34}", ["hf_"],
    [f"HF_TOKEN={g.huggingface()}"], ["hf_short", "hf_" + "a" * 34], not_adjacent="A-Za-z0-9_", min_entropy=3.5, confidence=0.9))
S.append(rule("npm-token", "npm access token", "secret", r"npm_[A-Za-z0-9]{36}", ["npm_"],
    [f"//registry.npmjs.org/:_authToken={g.npm()}"], ["npm_short"], not_adjacent="A-Za-z0-9_", min_entropy=3.5, confidence=0.95))
S.append(rule("pypi-token", "PyPI API token", "secret", r"pypi-AgEIcHlwaS5vcmc[A-Za-z0-9_\-]{50,}", ["pypi-AgEIcHlwaS5vcmc"],
    [f"password = {g.pypi()}"], ["pypi-AgEIcHlwaS5vcmc"], confidence=0.98))
S.append(rule("sendgrid-api-key", "SendGrid API key", "secret", r"SG\.[A-Za-z0-9_\-]{22}\.[A-Za-z0-9_\-]{43}", ["SG."],
    [g.sendgrid()], ["SG.short.key"], not_adjacent="A-Za-z0-9_\\-", confidence=0.97))
S.append(rule("twilio-api-key", "Twilio API key SID near the word Twilio", "secret", r"SK[0-9a-fA-F]{32}", ["twilio"],
    [f"TWILIO_API_KEY={g.twilio_key()}"], ["twilio SKabc"], not_adjacent="A-Za-z0-9", min_entropy=3.0, confidence=0.85))
S.append(rule("twilio-auth-token", "Twilio auth token assigned to a Twilio name", "secret", r"(?i)twilio.{0,20}?(?:auth|token|secret).{0,10}?[:=]\s{0,4}[\"']?([0-9a-f]{32})", ["twilio"],
    [f"TWILIO_AUTH_TOKEN={g.s('0123456789abcdef', 32)}"], ["TWILIO_AUTH_TOKEN=${TOKEN}"], group=1, min_entropy=3.0, not_adjacent="A-Za-z0-9", confidence=0.85))
S.append(rule("mailgun-api-key", "Mailgun private API key", "secret", r"key-[0-9a-f]{32}", ["key-"],
    [f"MAILGUN_API_KEY=\"{g.mailgun()}\""], ["key-1234"], not_adjacent="A-Za-z0-9", min_entropy=3.0, confidence=0.85))
S.append(rule("dockerhub-pat", "Docker Hub personal access token", "secret", r"dckr_pat_[A-Za-z0-9_\-]{27}", ["dckr_pat_"],
    [g.dockerhub()], ["dckr_pat_short"], not_adjacent="A-Za-z0-9_\\-", confidence=0.97))
S.append(rule("jwt", "JSON Web Token (header decodes to JSON with \"alg\")", "secret", r"eyJ[A-Za-z0-9_\-]{10,}\.eyJ[A-Za-z0-9_\-]{10,}\.[A-Za-z0-9_\-]{10,}", ["eyJ"],
    [f"Authorization: Bearer {g.jwt()}"], ["eyJhbGciOiJub25lIn0.eyJ.x", "eyJub3RhbGciOjF9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.c2lnbmF0dXJlMTIz"], validator="jwt", not_adjacent="A-Za-z0-9_\\-", window=8192, confidence=0.85))
S.append(rule("pem-private-key", "PEM private key block (RSA, EC, DSA, PKCS#8, encrypted)", "secret",
    r"-----BEGIN (?:RSA |EC |DSA |ENCRYPTED )?PRIVATE KEY-----[\sA-Za-z0-9+/=:,\-]{64,}?-----END (?:RSA |EC |DSA |ENCRYPTED )?PRIVATE KEY-----", ["PRIVATE KEY-----"],
    [g.pem_key(), g.pem_key("EC ")], ["-----BEGIN RSA PRIVATE KEY-----\n...\n-----END RSA PRIVATE KEY-----", "-----BEGIN PUBLIC KEY-----\nMFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAE\n-----END PUBLIC KEY-----"], window=16384, confidence=0.98))
S.append(rule("openssh-private-key", "OpenSSH private key block", "secret",
    r"-----BEGIN OPENSSH PRIVATE KEY-----[\sA-Za-z0-9+/=]{64,}?-----END OPENSSH PRIVATE KEY-----", ["OPENSSH PRIVATE KEY"], [g.openssh_key()], ["-----BEGIN OPENSSH PRIVATE KEY-----\n-----END OPENSSH PRIVATE KEY-----"], window=16384, confidence=0.98))
S.append(rule("pgp-private-key", "PGP private key block", "secret",
    r"-----BEGIN PGP PRIVATE KEY BLOCK-----[\sA-Za-z0-9+/=:\-.]{64,}?-----END PGP PRIVATE KEY BLOCK-----", ["PGP PRIVATE KEY BLOCK"],
    ["-----BEGIN PGP PRIVATE KEY BLOCK-----\n\nlQOYBGV" + g.s("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/", 120) + "\n=ab12\n-----END PGP PRIVATE KEY BLOCK-----"], ["-----BEGIN PGP PUBLIC KEY BLOCK-----"], window=16384, confidence=0.98))
S.append(rule("database-uri-password", "Database or broker URI with an embedded password", "secret",
    r"(?i)\b(?:postgres(?:ql)?|mysql|mariadb|mongodb(?:\+srv)?|redis|rediss|amqps?|mssql|sqlserver|oracle|clickhouse|cockroachdb)://[^\s:/@'\"`]{1,64}:([^\s@/'\"`]{3,128})@[^\s/'\"`]+", ["://"],
    [g.db_uri()[0], "DATABASE_URL=postgresql://app:S3cr3t-Pa55w0rd!@db.prod.acme.io:5432/main"], ["postgres://user:password@localhost/db", "mysql://root:${MYSQL_PASSWORD}@db/app", "redis://:@localhost:6379"],
    group=1, stopwords=["password", "passwd", "secret", "changeme", "example", "${", "{{", "<", "%("], min_entropy=2.5, before=24, window=320, confidence=0.9))
S.append(rule("url-password", "URL with an embedded password (http, ftp, ssh, …)", "secret",
    r"(?i)\b(?:https?|ftps?|sftp|ssh|git|svn|smtp|imap|ldaps?)://[^\s:/@'\"`]{1,64}:([^\s:@/'\"`]{3,128})@[A-Za-z0-9.\-]+", ["://"],
    ["git clone https://deploy:gH7$kq9!Lm2x@git.acme-corp.io/team/repo.git"], ["https://user:password@example.com", "http://user:pass@host", "ftp://anonymous:${PASS}@ftp"],
    group=1, stopwords=["password", "passwd", "pass", "secret", "changeme", "example", "${", "{{", "<", "%("], min_entropy=2.5, before=24, window=320, confidence=0.85))
S.append(rule("generic-password", "Password assigned in code, config or logs", "secret",
    r"(?i)\b(?:password|passwd|passwort|pwd|db_pass(?:word)?|admin_pass(?:word)?)\b[\"']?\s{0,4}(?:=|:=|:|=>)\s{0,4}[\"'`]?([^\s\"'`,;)}\]]{8,64})", ["pass", "pwd"],
    [f"password = \"{g.password()}\"", f"DB_PASSWORD: {g.password()}"], ["password = \"${DB_PASSWORD}\"", "password: changeme", "password = os.environ['PASSWORD']", "password = getpass()", "password=<your-password>", "password = None"],
    group=1, min_entropy=3.0, stopwords=PLACEHOLDERS + ["os.environ", "getenv", "getpass", "none", "null", "true", "false", "required", "process.env", "input(", "self.", "config.", "settings.", "args."], before=32, window=192, confidence=0.7))
S.append(rule("generic-secret", "Secret or private key assigned in code or config", "secret",
    r"(?i)\b(?:[a-z0-9_]*secret(?:_?key)?|client_secret|private_key|signing_key|encryption_key)\b[\"']?\s{0,4}(?:=|:=|:|=>)\s{0,4}[\"'`]?([A-Za-z0-9_\-+/=.!@#$%^&*]{12,128})", ["secret", "private_key", "signing_key", "encryption_key"],
    [f"SECRET_KEY = '{g.generic_token()}'", f"client_secret: {g.generic_token()}"], ["SECRET_KEY = os.environ.get('KEY')", "client_secret: your-client-secret", "secret: ${SECRET}"],
    group=1, min_entropy=3.5, stopwords=PLACEHOLDERS + ["os.environ", "getenv", "process.env", "settings.", "config."], before=32, window=192, confidence=0.7))
S.append(rule("generic-token", "Token assigned in code, config or logs", "secret",
    r"(?i)\b(?:[a-z0-9_]*token|bearer)\b[\"']?\s{0,4}(?:=|:=|:|=>)\s{0,4}[\"'`]?([A-Za-z0-9_\-+/=.]{16,256})", ["token", "bearer"],
    [f"access_token={g.generic_token()}", f"\"auth_token\": \"{g.generic_token()}\""], ["token = os.environ['TOKEN']", "token: ${{ secrets.TOKEN }}", "csrf_token = generate_token()", "token = xxxxxxxxxxxxxxxxxxxx"],
    group=1, min_entropy=3.5, stopwords=PLACEHOLDERS + ["os.environ", "getenv", "process.env", "generate", "settings.", "config."], before=32, window=192, confidence=0.65))
S.append(rule("generic-api-key", "API key assigned in code, config or headers", "secret",
    r"(?i)\b(?:[a-z0-9_]*api[_\-]?key|apikey|x-api-key|access[_\-]?key(?:[_\-]?id)?)\b[\"']?\s{0,4}(?:=|:=|:|=>)\s{0,4}[\"'`]?([A-Za-z0-9_\-]{16,128})", ["api_key", "apikey", "api-key", "x-api-key", "access_key", "access-key", "accesskey"],
    [f"API_KEY={g.generic_token()}", f"x-api-key: {g.generic_token()}"], ["api_key = your-api-key-here", "API_KEY=${API_KEY}", "apikey: 00000000000000000000"],
    group=1, min_entropy=3.5, stopwords=PLACEHOLDERS + ["os.environ", "getenv", "process.env"], before=32, window=192, confidence=0.7))
S.append(rule("authorization-header", "HTTP Authorization header with a bearer or basic credential", "secret",
    r"(?i)authorization\s{0,4}[:=]\s{0,4}[\"']?(?:bearer|basic|token)\s+([A-Za-z0-9_\-.=~+/]{20,})", ["authorization"],
    [f"Authorization: Bearer {g.generic_token()}"], ["Authorization: Bearer <token>", "Authorization: Bearer ${TOKEN}"],
    group=1, min_entropy=3.5, stopwords=PLACEHOLDERS, before=32, window=192, confidence=0.8))
S.append(rule("telegram-bot-token", "Telegram bot token", "secret", r"(?:bot)?([0-9]{8,10}:AA[0-9A-Za-z_\-]{33})", [":AA"],
    [f"https://api.telegram.org/bot{g.telegram()}/getMe"], ["12345678:AAshort"], group=1, not_adjacent="A-Za-z0-9_\\-", confidence=0.9))
S.append(rule("shopify-token", "Shopify access token, custom app or shared secret", "secret", r"shp(?:at|ca|pa|ss)_[a-fA-F0-9]{32}", ["shpat_", "shpca_", "shppa_", "shpss_"],
    [g.shopify()], ["shpat_1234"], not_adjacent="A-Za-z0-9", confidence=0.97))
S.append(rule("digitalocean-token", "DigitalOcean personal access or OAuth token", "secret", r"do[opr]_v1_[a-f0-9]{64}", ["dop_v1_", "doo_v1_", "dor_v1_"],
    [g.digitalocean()], ["dop_v1_short"], not_adjacent="A-Za-z0-9", confidence=0.97))
S.append(rule("square-access-token", "Square access token", "secret", r"(?:EAAA|sq0atp-)[A-Za-z0-9_\-]{22,60}", ["EAAA", "sq0atp-"],
    [f"sq0atp-{g.s('abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_-', 22)}"], ["sq0atp-short"], not_adjacent="A-Za-z0-9_\\-", min_entropy=3.5, confidence=0.85))
S.append(rule("databricks-token", "Databricks personal access token", "secret", r"dapi[a-f0-9]{32}(?:-[0-9])?", ["dapi"],
    [f"DATABRICKS_TOKEN=dapi{g.s('0123456789abcdef', 32)}"], ["dapi1234"], not_adjacent="A-Za-z0-9", min_entropy=3.0, confidence=0.9))
S.append(rule("linear-api-key", "Linear API key", "secret", r"lin_api_[A-Za-z0-9]{40}", ["lin_api_"],
    [f"lin_api_{g.s('abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789', 40)}"], ["lin_api_x"], not_adjacent="A-Za-z0-9", confidence=0.95))
S.append(rule("postman-api-key", "Postman API key", "secret", r"PMAK-[a-f0-9]{24}-[a-f0-9]{34}", ["PMAK-"],
    [f"PMAK-{g.s('0123456789abcdef', 24)}-{g.s('0123456789abcdef', 34)}"], ["PMAK-123"], not_adjacent="A-Za-z0-9", confidence=0.97))
S.append(rule("grafana-service-account-token", "Grafana service account token", "secret", r"glsa_[A-Za-z0-9]{32}_[A-Fa-f0-9]{8}", ["glsa_"],
    [f"glsa_{g.s('abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789', 32)}_{g.s('0123456789abcdef', 8)}"], ["glsa_x"], not_adjacent="A-Za-z0-9", confidence=0.97))
S.append(rule("new-relic-user-key", "New Relic user API key", "secret", r"NRAK-[A-Z0-9]{27}", ["NRAK-"],
    [f"NRAK-{g.s('ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789', 27)}"], ["NRAK-SHORT"], not_adjacent="A-Za-z0-9", confidence=0.95))
S.append(rule("hashicorp-vault-token", "HashiCorp Vault service token", "secret", r"hvs\.[A-Za-z0-9_\-]{24,}", ["hvs."],
    [f"VAULT_TOKEN=hvs.{g.s('abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789', 90)}"], ["hvs.short"], min_entropy=3.5, confidence=0.9))
S.append(rule("age-secret-key", "age encryption secret key", "secret", r"AGE-SECRET-KEY-1[QPZRY9X8GF2TVDW0S3JN54KHCE6MUA7L]{58}", ["AGE-SECRET-KEY-1"],
    [f"AGE-SECRET-KEY-1{g.s('QPZRY9X8GF2TVDW0S3JN54KHCE6MUA7L', 58)}"], ["AGE-SECRET-KEY-1SHORT"], confidence=0.98))
S.append(rule("doppler-token", "Doppler service token", "secret", r"dp\.(?:pt|st|sa|ct|scim|audit)\.[A-Za-z0-9]{40,44}", ["dp.pt.", "dp.st.", "dp.sa.", "dp.ct."],
    [f"dp.st.{g.s('abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789', 43)}"], ["dp.st.short"], not_adjacent="A-Za-z0-9", confidence=0.95))

P = []
P.append(rule("email", "Email address", "pii", r"[A-Za-z0-9][A-Za-z0-9._%+\-]{0,63}@[A-Za-z0-9](?:[A-Za-z0-9\-]{0,62}[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9\-]{0,62}[A-Za-z0-9])?)*\.[A-Za-z]{2,24}", ["@"],
    [f"write to {g.email()} today", f"<{g.email()}>"], ["user@example.com", "git@github.com:org/repo", "logo@2x.png", "a@b", "admin@localhost"],
    validator="email", not_adjacent="A-Za-z0-9", before=72, window=200, confidence=0.9))
P.append(rule("phone-e164", "Phone number in international (E.164-style) format", "pii",
    r"\+[1-9][0-9]{0,3}(?:[ .\-]?\(?[0-9]{1,4}\)?){2,5}", [],
    [f"call {g.phone_e164()}", "Tel: +44 20 7946 0734", "+1 (415) 555-2671"], ["+1", "version +1.2.3", "x = a +12 * b", "+49"],
    validator="phone", not_adjacent="0-9A-Za-z", shape="digits", confidence=0.8))
P.append(rule("phone-nanp", "North American phone number with separators", "pii",
    r"(?:\([2-9][0-9]{2}\)\s?|[2-9][0-9]{2}[.\-\s])[2-9][0-9]{2}[.\-\s][0-9]{4}", [],
    [f"Call me at {g.phone_us()}.", "phone: 415-555-2671"], ["1999-2003-2004", "ISBN 978-0-306-40615-7", "123-456-7890"],
    not_adjacent="0-9A-Za-z\\-", validator="phone", shape="digits", confidence=0.75))
P.append(rule("phone-national", "Phone number in a national format, next to a phone word", "pii",
    r"(?i)(?:phone|tel|telephone|mobile|cell|fax|call|ring|whatsapp|handy|telefon|t(?:\xC3\xA9|e)l(?:\xC3\xA9|e)phone)\b[^0-9\n]{0,15}(0[1-9](?:[ .\-/]?[0-9]){7,11})", [],
    ["Mobile: 07700 900123", "Tel. 030 1234 5678", "call 0161 496 0734"], ["call 0.5 seconds later", "phone: none"], group=1, validator="phone", not_adjacent="0-9", shape="digits", before=48, confidence=0.75))
P.append(rule("us-ssn", "US Social Security number (invalid areas, groups and serials rejected)", "pii",
    r"[0-9]{3}-[0-9]{2}-[0-9]{4}", [], [f"SSN: {g.ssn()}", "my social security number is 123-45-6789"], ["000-12-3456", "666-12-3456", "912-34-5678", "123-00-4567", "123-45-0000", "2024-01-1234"],
    validator="ssn", not_adjacent="0-9A-Za-z\\-", shape="digits", confidence=0.85))
P.append(rule("us-ssn-unformatted", "US Social Security number without dashes, next to SSN words", "pii",
    r"(?i)(?:ssn|social security(?: number| no\.?)?|soc\. sec\.)[^0-9\n]{0,12}([0-9]{9})", ["ssn", "social security", "soc. sec"],
    ["SSN 123456789", "social security number: 078051120"], ["SSN 000456789", "ssn: 12345"], group=1, validator="ssn", not_adjacent="0-9", confidence=0.8))
P.append(rule("payment-card", "Payment card number (Luhn, issuer prefix and length; spaces or dashes)", "pii",
    r"[0-9]{4}(?:[ \-]?[0-9]{2,7}){2,4}", [], [f"card {g.card()} exp 09/27", "Visa 4111 1111 1111 1111"], ["4111 1111 1111 1112", "1234 5678 9012 3456", "2024-2025-2026-2027", "0000 0000 0000 0000"],
    validator="card", not_adjacent="0-9A-Za-z\\-", shape="digits", confidence=0.9))
P.append(rule("iban", "International Bank Account Number (country length and mod-97 checksum)", "pii",
    r"[A-Z]{2}[0-9]{2}(?: ?[A-Z0-9]){11,30}", [], [f"IBAN: {g.iban()}", "GB82 WEST 1234 5698 7654 32"], ["GB82 WEST 1234 5698 7654 33", "DE00 1234 5678 9012 3456 78", "AB12 CDEF GHIJ KLMN"],
    validator="iban", not_adjacent="A-Za-z0-9", shape="iban", confidence=0.9))
P.append(rule("ipv4", "IPv4 address (loopback, unspecified, broadcast, documentation ranges and version strings rejected)", "pii",
    r"(?:(?:25[0-5]|2[0-4][0-9]|1[0-9]{2}|[1-9]?[0-9])\.){3}(?:25[0-5]|2[0-4][0-9]|1[0-9]{2}|[1-9]?[0-9])", [],
    [f"client {g.ipv4()} connected", "from 85.214.132.117 port 22"], ["127.0.0.1", "0.0.0.0", "192.0.2.14", "version 1.2.3.4", "v10.0.0.1", "1.2.3.4.5"],
    validator="ipv4", not_adjacent="0-9A-Za-z.", shape="dotted", confidence=0.7))
P.append(rule("ipv6", "IPv6 address (parsed; loopback and unspecified rejected)", "pii",
    r"(?i)[0-9a-f]{0,4}(?::[0-9a-f]{0,4}){2,7}", [], [f"addr {g.ipv6()}", "2001:4860:4860::8888"], ["::1", "std::vector", "12:30:45", "::", "a::b"],
    validator="ipv6", not_adjacent="0-9A-Za-z:", shape="hexcolon", confidence=0.7))
P.append(rule("mac-address", "MAC address", "pii", r"[0-9A-Fa-f]{2}(?::[0-9A-Fa-f]{2}){5}|[0-9A-Fa-f]{2}(?:-[0-9A-Fa-f]{2}){5}", [],
    [f"hw {g.mac()}", "ether 3c:22:fb:1a:9e:07"], ["00:00:00:00:00:00", "ff:ff:ff:ff:ff:ff", "12:34:56"], validator="mac", not_adjacent="0-9A-Za-z:\\-", shape="hexcolon", confidence=0.75))
P.append(rule("bitcoin-address", "Bitcoin address (base58check or bech32 checksum)", "pii",
    r"[13][1-9A-HJ-NP-Za-km-z]{25,34}|bc1[ac-hj-np-z02-9]{11,71}", [],
    [f"send to {g.btc()}", "bc1qar0srrr7xfkvy5l643lydnw9re59gtzzwf5mdq"], ["1BoatSLRHtKNngkdXEeobR76b53LETtpyX", "bc1qar0srrr7xfkvy5l643lydnw9re59gtzzwf5mdx"],
    validator="bitcoin", not_adjacent="0-9A-Za-z", shape="alnum26", confidence=0.85))
P.append(rule("ethereum-address", "Ethereum address (EIP-55 checksum where mixed case)", "pii", r"0x[0-9a-fA-F]{40}", ["0x"],
    [f"wallet {g.eth()}"], ["0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAeD", "0x" + "0" * 40], validator="ethereum", not_adjacent="0-9A-Za-z", confidence=0.85))
MONTHS = "jan(?:uary)?|feb(?:ruary)?|mar(?:ch)?|apr(?:il)?|may|june?|july?|aug(?:ust)?|sep(?:t(?:ember)?)?|oct(?:ober)?|nov(?:ember)?|dec(?:ember)?"
P.append(rule("date-of-birth", "Date of birth next to a birth word", "pii",
    r"(?i)(?:born(?: on)?|date of birth|d\.?o\.?b\.?|birth ?date|birthday|geboren(?: am)?|n(?:\xC3\xA9|e)e? le)[\s:,\-]{0,5}([0-9]{1,2}[/.\-][0-9]{1,2}[/.\-](?:19|20)[0-9]{2}|(?:19|20)[0-9]{2}-[0-9]{2}-[0-9]{2}|[0-9]{1,2}(?:st|nd|rd|th)? (?:" + MONTHS + r")\.?,? (?:19|20)[0-9]{2}|(?:" + MONTHS + r")\.? [0-9]{1,2}(?:st|nd|rd|th)?,? (?:19|20)[0-9]{2})",
    ["born", "birth", "dob", "d.o.b", "geboren", "née", "ne le"], [f"DOB: {g.dob()}", "born on 4 July 1976"], ["born in 1976", "DOB: 31/02/1980", "born 99/99/2000"], group=1, validator="date", confidence=0.85))
P.append(rule("passport-number", "Passport number next to the word passport", "pii",
    r"(?i)(?:passport|passeport|reisepass)(?:\s*(?:no\.?|number|num|#|nr\.?))?[\s:#]{0,5}([A-Z0-9]{6,9})", ["passport", "passeport", "reisepass"],
    [f"Passport No. {g.passport()}", "passport: 533380006"], ["passport photos", "passport: required"], group=1, validator="has_digit", not_adjacent="A-Za-z0-9", confidence=0.8))
P.append(rule("drivers-licence-number", "Driver's licence number next to licence words", "pii",
    r"(?i)(?:driver'?s?|driving)[ \-]?licen[cs]e(?:\s*(?:no\.?|number|num|#|nr\.?))?[\s:#]{0,5}([A-Z0-9\-]{5,16})", ["licence", "license"],
    [f"Driver's license: {g.driver_license()}", "driving licence no. MORGA753116SM9IJ"], ["driver's license: pending", "driving licence valid"], group=1, validator="has_digit", not_adjacent="A-Za-z0-9", confidence=0.8))

hdr = lambda fam: f"# memscan detector rules: {fam}.\n# Each regex is written from the provider's or standard's published token format.\n# Fields: id, description, category, regex, group, keywords (case-insensitive literal\n# prefilter; a rule runs only near one), min_entropy (bits/char of the value), validator,\n# allowlist (regexes that reject the value), stopwords (case-insensitive substrings that\n# reject it), not_adjacent (characters that must not touch the value), window (bytes\n# around a keyword searched), confidence, examples.positive / examples.negative.\n\n"
open("patterns/secrets.toml", "w").write(hdr("secrets") + "\n".join(S))
open("patterns/pii.toml", "w").write(hdr("personal data") + "\n".join(P))
print(len(S), len(P))
