"""A corpus of fake-but-realistic secrets planted in the files of a small real project.

Every value is generated here from a seeded random source with the shape (prefix, alphabet,
length, checksum-free) and entropy of the real credential, so none of them is a real credential.
:func:`build` returns the files (path -> text) and what was planted where. Formats: Python,
JavaScript, TypeScript, YAML, INI, TOML, JSON, .env, shell, Dockerfile, compose, .properties,
kubeconfig and a service-account JSON.
"""

# ruff: noqa: E501
# (a table of shapes reads best one per line)
from __future__ import annotations

import base64
import json
import random
import string
from collections.abc import Callable
from dataclasses import dataclass

__all__ = ["Planted", "build"]

ALNUM = string.ascii_letters + string.digits
UPPER_NUM = string.ascii_uppercase + string.digits
HEX = "0123456789abcdef"
B64 = ALNUM + "+/"
B64URL = ALNUM + "-_"
PASSWORD_CHARS = ALNUM + "!#%&*+-=?@^_~"


@dataclass(frozen=True)
class Planted:
    shape: str
    path: str
    value: str


class _Gen:
    def __init__(self, seed: int) -> None:
        self.rng = random.Random(seed)

    def s(self, alphabet: str, n: int) -> str:
        return "".join(self.rng.choice(alphabet) for _ in range(n))

    def password(self, n: int = 14) -> str:
        while True:  # at least one of each class, like a generated password
            value = self.s(PASSWORD_CHARS, n)
            if (any(c.isdigit() for c in value) and any(c.isupper() for c in value)
                    and any(c.islower() for c in value) and any(not c.isalnum() for c in value)):
                return value

    def b64(self, nbytes: int) -> str:
        return base64.b64encode(self.rng.randbytes(nbytes)).decode()

    def jwt(self) -> str:
        def part(obj: dict[str, object]) -> str:
            return base64.urlsafe_b64encode(json.dumps(obj).encode()).decode().rstrip("=")
        sig = base64.urlsafe_b64encode(self.rng.randbytes(32)).decode().rstrip("=")
        return f"{part({'alg': 'HS256', 'typ': 'JWT'})}.{part({'sub': self.s(HEX, 12), 'iat': 1700000000})}.{sig}"

    def pem(self, label: str) -> str:
        body = base64.b64encode(self.rng.randbytes(180)).decode()
        lines = [body[i:i + 64] for i in range(0, len(body), 64)]
        return f"-----BEGIN {label}-----\n" + "\n".join(lines) + f"\n-----END {label}-----"


# shape -> (file, how the value is made, how the line reads)
_Shape = tuple[str, str, Callable[[_Gen], str], str]


def _shapes() -> list[_Shape]:
    return [
        # Python
        ("aws_access_key_id", "app/settings.py", lambda g: "AKIA" + g.s(UPPER_NUM, 16), 'AWS_ACCESS_KEY_ID = "{v}"'),
        ("aws_secret_access_key", "app/settings.py", lambda g: g.s(B64, 40), 'AWS_SECRET_ACCESS_KEY = "{v}"'),
        ("django_secret_key", "app/settings.py", lambda g: g.s(ALNUM + "!@#%^&*(-_=+)", 50),
         "SECRET_KEY = '{v}'"),
        ("python_db_password", "app/settings.py", lambda g: g.password(), 'DATABASES_PASSWORD = "{v}"'),
        ("stripe_live_secret", "app/billing.py", lambda g: "sk_live_" + g.s(ALNUM, 24), 'stripe.api_key = "{v}"'),
        ("stripe_restricted", "app/billing.py", lambda g: "rk_live_" + g.s(ALNUM, 24),
         'RESTRICTED_KEY = "{v}"'),
        ("anthropic_key", "app/ai.py", lambda g: "sk-ant-api03-" + g.s(B64URL, 93) + "AA",
         'client = Anthropic(api_key="{v}")'),
        ("openai_project_key", "app/ai.py", lambda g: "sk-proj-" + g.s(B64URL, 64), 'OPENAI_KEY = "{v}"'),
        ("openai_legacy_key", "app/ai.py", lambda g: "sk-" + g.s(ALNUM, 20) + "T3BlbkFJ" + g.s(ALNUM, 20),
         'openai.api_key = "{v}"'),
        ("huggingface_token", "app/ai.py", lambda g: "hf_" + g.s(string.ascii_letters, 34),
         'login(token="{v}")'),
        ("slack_bot_token", "app/notify.py",
         lambda g: f"xoxb-{g.s(string.digits, 12)}-{g.s(string.digits, 13)}-{g.s(ALNUM, 24)}",
         'SLACK_BOT = "{v}"'),
        ("slack_webhook", "app/notify.py",
         lambda g: f"https://hooks.slack.com/services/T{g.s(UPPER_NUM, 8)}/B{g.s(UPPER_NUM, 10)}/{g.s(ALNUM, 24)}",
         'requests.post("{v}", json=payload)'),
        ("sendgrid_key", "app/notify.py", lambda g: f"SG.{g.s(B64URL, 22)}.{g.s(B64URL, 43)}",
         'sg = SendGridAPIClient("{v}")'),
        ("twilio_api_key", "app/notify.py", lambda g: "SK" + g.s(HEX, 32), 'TWILIO_KEY_SID = "{v}"'),
        ("mailgun_key", "app/notify.py", lambda g: "key-" + g.s(ALNUM, 32), 'auth=("api", "{v}")'),
        ("redis_url_empty_user", "app/cache.py", lambda g: g.password(16),
         'REDIS_URL = "redis://:{v}@cache.internal:6379/0"'),
        ("private_key_inline", "app/sign.py", lambda g: g.pem("RSA PRIVATE KEY"), 'SIGNING_KEY = """{v}"""'),
        # JavaScript / TypeScript
        ("google_api_key", "web/src/maps.js", lambda g: "AIza" + g.s(B64URL, 35), "const mapsKey = '{v}';"),
        ("js_api_key_object", "web/src/api.js", lambda g: g.s(ALNUM, 32), "  apiKey: '{v}',"),
        ("npm_token", "web/src/publish.js", lambda g: "npm_" + g.s(ALNUM, 36), "const NPM_TOKEN = '{v}';"),
        ("github_pat", "web/src/github.ts", lambda g: "ghp_" + g.s(ALNUM, 36), 'const token: string = "{v}";'),
        ("github_oauth", "web/src/github.ts", lambda g: "gho_" + g.s(ALNUM, 36), 'headers["X-OAuth"] = "{v}";'),
        ("github_fine_grained", "web/src/github.ts",
         lambda g: "github_pat_" + g.s(ALNUM, 22) + "_" + g.s(ALNUM, 59), 'export const GH = "{v}";'),
        ("ts_client_secret", "web/src/auth.ts", lambda g: g.s(B64URL, 40),
         'export const clientSecret = "{v}";'),
        ("jwt_literal", "web/src/auth.ts", lambda g: g.jwt(), "const session = '{v}';"),
        ("auth_header_bearer", "web/src/auth.ts", lambda g: g.s(B64URL, 40),
         "fetch(url, {{ headers: {{ Authorization: 'Bearer {v}' }} }});"),
        ("google_oauth_secret", "web/src/auth.ts", lambda g: "GOCSPX-" + g.s(B64URL, 28),
         'const GOOGLE_SECRET = "{v}";'),
        # YAML
        ("yaml_password_unquoted", "config/app.yaml", lambda g: g.password(), "  password: {v}"),
        ("yaml_api_key_quoted", "config/app.yaml", lambda g: g.s(HEX, 32), "  api_key: '{v}'"),
        ("yaml_secret_key", "config/app.yaml", lambda g: g.s(ALNUM, 40), "  secret_key: {v}"),
        ("gitlab_token", "config/ci.yaml", lambda g: "glpat-" + g.s(B64URL, 20), "    GITLAB_TOKEN: {v}"),
        ("pypi_token", "config/ci.yaml", lambda g: "pypi-AgEIcHlwaS5vcmc" + g.s(B64URL, 70),
         "    TWINE_PASSWORD: {v}"),
        # INI / TOML
        ("ini_password", "config/db.ini", lambda g: g.password(), "password = {v}"),
        ("ini_secret", "config/db.ini", lambda g: g.s(ALNUM, 28), "client_secret={v}"),
        ("mysql_url", "config/db.ini", lambda g: g.password(12), "url = mysql://app:{v}@db.internal/shop"),
        ("toml_token", "config/deploy.toml", lambda g: g.s(B64URL, 36), 'token = "{v}"'),
        ("vault_token", "config/deploy.toml", lambda g: "hvs." + g.s(B64URL, 90), 'vault_token = "{v}"'),
        ("digitalocean_token", "config/deploy.toml", lambda g: "dop_v1_" + g.s(HEX, 64), 'do_token = "{v}"'),
        ("shopify_token", "config/deploy.toml", lambda g: "shpat_" + g.s(HEX, 32), 'shopify = "{v}"'),
        ("shopify_shared_secret", "config/deploy.toml", lambda g: "shpss_" + g.s(HEX, 32),
         'webhook_verify = "{v}"'),
        # JSON
        ("json_password", "config/appsettings.json", lambda g: g.password(), '  "password": "{v}",'),
        ("azure_storage_conn", "config/appsettings.json", lambda g: g.b64(64),
         '  "Storage": "DefaultEndpointsProtocol=https;AccountName=shopdata;AccountKey={v};'
         'EndpointSuffix=core.windows.net",'),
        ("azure_servicebus_conn", "config/appsettings.json", lambda g: g.b64(32),
         '  "Bus": "Endpoint=sb://shop.servicebus.windows.net/;SharedAccessKeyName=Root;'
         'SharedAccessKey={v}",'),
        ("json_client_secret", "config/appsettings.json", lambda g: g.s(ALNUM + "~._-", 40),
         '  "ClientSecret": "{v}",'),
        ("mongodb_srv", "config/appsettings.json", lambda g: g.password(18),
         '  "Mongo": "mongodb+srv://shop:{v}@cluster0.abcde.mongodb.net/shop"'),
        # .env format (a file name outside the secret patterns, so its text is checked)
        ("env_db_password", "deploy/runtime-env.txt", lambda g: g.password(), "DB_PASSWORD={v}"),
        ("env_stripe_secret", "deploy/runtime-env.txt", lambda g: "sk_test_" + g.s(ALNUM, 24),
         "STRIPE_SECRET={v}"),
        ("env_datadog_key", "deploy/runtime-env.txt", lambda g: g.s(HEX, 32), "DD_API_KEY={v}"),
        ("env_heroku_key", "deploy/runtime-env.txt",
         lambda g: f"{g.s(HEX, 8)}-{g.s(HEX, 4)}-4{g.s(HEX, 3)}-a{g.s(HEX, 3)}-{g.s(HEX, 12)}",
         "HEROKU_API_KEY={v}"),
        # shell
        ("curl_user", "scripts/deploy.sh", lambda g: g.password(), "curl -u deploy:{v} https://ci.internal/api/jobs"),
        ("curl_user_long", "scripts/deploy.sh", lambda g: g.password(),
         "curl --user 'admin:{v}' -X POST https://registry.internal/v2/"),
        ("shell_export_token", "scripts/deploy.sh", lambda g: g.s(ALNUM, 40), "export API_TOKEN={v}"),
        ("shell_auth_header", "scripts/deploy.sh", lambda g: g.s(ALNUM, 36),
         'curl -H "Authorization: token {v}" https://api.github.com/user'),
        ("shell_basic_header", "scripts/deploy.sh", lambda g: g.b64(18),
         "curl -H 'Authorization: Basic {v}' https://ci.internal/"),
        ("shell_api_key_header", "scripts/deploy.sh", lambda g: g.s(ALNUM, 32),
         'curl -H "X-Api-Key: {v}" https://api.internal/v1/orders'),
        # Dockerfile / compose
        ("dockerfile_env_pass", "Dockerfile", lambda g: g.password(), "ENV DB_PASS={v}"),
        ("dockerfile_arg_token", "Dockerfile", lambda g: g.s(ALNUM, 32), "ARG NPM_AUTH_TOKEN={v}"),
        ("compose_postgres_password", "docker-compose.yml", lambda g: g.password(),
         "      - POSTGRES_PASSWORD={v}"),
        ("compose_amqp_url", "docker-compose.yml", lambda g: g.password(12),
         "      BROKER_URL: amqp://shop:{v}@rabbit:5672/"),
        # .properties
        ("properties_password", "config/application.properties", lambda g: g.password(),
         "spring.datasource.password={v}"),
        ("properties_jwt_secret", "config/application.properties", lambda g: g.s(B64, 44),
         "jwt.secret = {v}"),
        ("properties_mail_password", "config/application.properties", lambda g: g.password(),
         "spring.mail.password: {v}"),
        # kubeconfig
        ("kubeconfig_token", "deploy/kubeconfig", lambda g: g.jwt(), "    token: {v}"),
        ("kubeconfig_client_key", "deploy/kubeconfig", lambda g: g.b64(120), "    client-key-data: {v}"),
        ("kubeconfig_password", "deploy/kubeconfig", lambda g: g.password(), "    password: {v}"),
        # service-account JSON (a name outside the secret patterns)
        ("sa_private_key", "deploy/gcp-runtime.json", lambda g: g.pem("PRIVATE KEY").replace("\n", "\\n"),
         '  "private_key": "{v}\\n",'),
        ("sa_private_key_id", "deploy/gcp-runtime.json", lambda g: g.s(HEX, 40), '  "private_key_id": "{v}",'),
        # others
        ("telegram_bot_token", "app/bots.py", lambda g: f"{g.rng.randint(10**8, 10**9)}:AA{g.s(B64URL, 33)}",
         'TELEGRAM = "{v}"'),
        ("discord_bot_token", "app/bots.py",
         lambda g: f"M{g.s(ALNUM, 23)}.{g.s(B64URL, 6)}.{g.s(B64URL, 27)}", 'DISCORD_TOKEN = "{v}"'),
        ("mailchimp_key", "app/bots.py", lambda g: g.s(HEX, 32) + "-us12", 'MAILCHIMP = "{v}"'),
        ("artifactory_key", "app/bots.py", lambda g: "AKCp" + g.s(ALNUM, 69), 'ARTIFACTORY = "{v}"'),
        ("pip_index_url", "config/pip.conf.txt", lambda g: g.s(ALNUM, 32),
         "index-url = https://__token__:{v}@pypi.internal/simple"),
    ]


# Real code around the secrets: the files a project has anyway.
_PROLOGUE = {
    "app/settings.py": '"""Settings of the shop service."""\n\nimport os\n\nDEBUG = os.environ.get("DEBUG") == "1"\n'
                       'ALLOWED_HOSTS = ["shop.example.com"]\n',
    "app/billing.py": "import stripe\n\n\ndef charge(cents: int, customer: str) -> str:\n"
                      "    return stripe.Charge.create(amount=cents, customer=customer).id\n\n",
    "app/ai.py": "from anthropic import Anthropic\n\n\ndef summarise(text: str) -> str:\n"
                 "    return text[:100]\n\n",
    "app/notify.py": "import requests\n\npayload = {\"text\": \"deployed\"}\n\n",
    "app/cache.py": "import redis\n\n\ndef connect():\n    return redis.Redis.from_url(REDIS_URL)\n\n",
    "app/sign.py": "import hmac\n\n\ndef sign(data: bytes) -> str:\n    return hmac.new(b'k', data, 'sha256').hexdigest()\n\n",
    "app/bots.py": "\"\"\"Chat bots.\"\"\"\n\n",
    "web/src/maps.js": "export function center() {\n  return { lat: 52.52, lng: 13.40 };\n}\n",
    "web/src/api.js": "export const config = {\n  baseUrl: '/api',\n",
    "web/src/publish.js": "import { execSync } from 'child_process';\n",
    "web/src/github.ts": "const headers: Record<string, string> = {};\n",
    "web/src/auth.ts": "export function loggedIn(): boolean {\n  return document.cookie.includes('session');\n}\n",
    "config/app.yaml": "server:\n  port: 8080\ndatabase:\n  host: db.internal\n  user: shop\n",
    "config/ci.yaml": "stages: [test, publish]\npublish:\n  variables:\n",
    "config/db.ini": "[database]\nhost = db.internal\nport = 5432\nuser = shop\n",
    "config/deploy.toml": "[deploy]\nregion = \"eu-west-1\"\nreplicas = 3\n",
    "config/appsettings.json": "{\n  \"Logging\": {\"LogLevel\": {\"Default\": \"Information\"}},\n",
    "deploy/runtime-env.txt": "APP_ENV=production\nPORT=8080\n",
    "scripts/deploy.sh": "#!/bin/sh\nset -eu\necho \"deploying $1\"\n",
    "Dockerfile": "FROM python:3.12-slim\nWORKDIR /app\nCOPY . .\n",
    "docker-compose.yml": "services:\n  db:\n    image: postgres:16\n    environment:\n",
    "config/application.properties": "server.port=8080\nspring.datasource.url=jdbc:postgresql://db/shop\n"
                                     "spring.datasource.username=shop\n",
    "deploy/kubeconfig": "apiVersion: v1\nkind: Config\nclusters:\n- name: prod\n  cluster:\n"
                         "    server: https://k8s.internal:6443\nusers:\n- name: deployer\n  user:\n",
    "deploy/gcp-runtime.json": "{\n  \"type\": \"service_account\",\n  \"project_id\": \"shop-prod\",\n",
    "config/pip.conf.txt": "[global]\ntimeout = 30\n",
}
_EPILOGUE = {
    "web/src/api.js": "};\n",
    "config/appsettings.json": "  \"AllowedHosts\": \"*\"\n}\n",
    "deploy/gcp-runtime.json": "  \"client_email\": \"runtime@shop-prod.iam.gserviceaccount.com\"\n}\n",
    "Dockerfile": "CMD [\"python\", \"-m\", \"app\"]\n",
    "docker-compose.yml": "  web:\n    build: .\n    environment:\n",
}


def build(seed: int = 20261202) -> tuple[dict[str, str], list[Planted]]:
    """(files: path -> text, planted secrets). The same seed gives the same corpus."""
    gen = _Gen(seed)
    lines: dict[str, list[str]] = {path: [text.rstrip("\n")] for path, text in _PROLOGUE.items()}
    planted: list[Planted] = []
    for shape, path, make, template in _shapes():
        value = make(gen)
        lines.setdefault(path, []).append(template.format(v=value))
        planted.append(Planted(shape, path, value))
    files = {path: "\n".join(body) + "\n" + _EPILOGUE.get(path, "") for path, body in lines.items()}
    return files, planted
