#!/usr/bin/env python3
"""Deterministic corpus of real-looking source trees with planted fake secrets.

Usage: make_corpus.py SIZE_MB OUTDIR [--seed N]

Writes OUTDIR/tree/** (the files to scan, about SIZE_MB MiB) and OUTDIR/truth.jsonl (one JSON
object per planted item, outside the scanned tree so it is never scanned itself):

    {"file": "<path relative to tree/>", "line": N, "end_line": M, "kind": "secret"|"placeholder",
     "family": "...", "value": "...", "parts": [...], "encoding": "base64"|null}

`line`..`end_line` is the 1-based line span the item occupies; `value` is the secret as a scanner
should report it (for base64-encoded plants, the decoded value); `parts` lists other strings that
identify the same item (the AWS key id next to its secret key, the password inside a URI ...).

Every secret is fake but format-correct (GitHub/npm tokens carry a valid CRC32 checksum). The same
seed and size always give byte-identical output. Content is assembled from pools of pre-rendered
code blocks plus fresh random data per file (digests, UUIDs, base64 blobs), so generation runs at
well over 50 MB/s.
"""

import argparse
import base64
import hashlib
import json
import os
import random
import string
import sys
import time
import zlib

B62 = string.digits + string.ascii_uppercase + string.ascii_lowercase
ALNUM = string.ascii_letters + string.digits
URLSAFE = ALNUM + "-_"
B32UP = string.ascii_uppercase + "234567"
HEXL = "0123456789abcdef"

# ----------------------------------------------------------------------------------------------
# Vocabulary

NOUNS = """account address agent alert archive asset audit balance batch billing blob bucket buffer
build bundle cache campaign cart catalog channel charge checkout claim client cluster cohort
comment config connection consumer container content contract coupon credit cursor customer
dashboard dataset deadline delivery deployment device digest discount dispatch document domain
draft endpoint engine entry event export feature feed field filter fleet flow forecast gateway
grant graph group handler header health histogram host import incident index inventory invoice
item job journal kernel label ledger lease limit listing locale lookup manifest margin member
merchant message metric migration mirror model module monitor namespace node notice offer order
owner package page parcel partition payload payment payout period permission pipeline plan
policy pool portfolio preference price probe product profile project promotion provider queue
quota rate receipt record refund region registry release replica report request reservation
resource response result retry review revision role route rule runner sample schedule schema
scope segment sensor series server service shard shipment signal snapshot source span stage
statement status storage stream subscription summary supplier survey table tenant threshold
ticket timeline topic trace transfer trigger upload usage user variant vendor version volume
warehouse webhook widget window worker workflow workspace zone""".split()
VERBS = """apply archive assign attach build cancel capture check clear close collect compute
convert create decode delete deliver detect dispatch emit encode enqueue evaluate expand export
fetch filter flush format handle import index ingest init load lookup merge migrate normalize
notify parse persist prepare process publish purge query rebuild reconcile record refresh
register reload remove render replay report reset resolve restore retry rotate route sanitize
save schedule scan serialize snapshot sort split start stop submit sync track transform trim
update upload upsert validate verify watch""".split()
ADJS = """active archived async batched cached canonical cold compact current default deferred
derived dirty dynamic effective empty expired external failed final global hidden idle inbound
internal invalid last latest legacy local locked lower max merged min missing native nested
next normalized optional outbound parent partial pending primary private public queued raw
ready recent remote required resolved retained root scheduled secondary shared signed stale
static strict temp total trusted unique unsigned upper valid verified visible warm""".split()
WORDS = """the a an of to for with from on in by when while after before each every if then
returns updates current value new list all any are is be not only this that which should can
may will into over under between across per""".split()
ORGS = ["acme", "globex", "initech", "umbrella", "hooli", "vandelay", "stark", "wayne",
        "wonka", "soylent", "tyrell", "cyberdyne", "aperture", "gringotts", "oscorp"]
TLDS = ["com", "io", "net", "dev", "cloud", "internal"]
PYMODS = ["os", "sys", "json", "logging", "re", "time", "datetime", "typing", "collections",
          "dataclasses", "functools", "itertools", "pathlib", "uuid", "hashlib", "base64",
          "asyncio", "contextlib", "enum", "decimal", "threading", "urllib.parse", "http.client"]
JSPKGS = ["express", "react", "lodash", "axios", "zod", "dayjs", "uuid", "pino", "redis",
          "pg", "knex", "jsonwebtoken", "cors", "helmet", "ioredis", "@aws-sdk/client-s3",
          "@nestjs/common", "rxjs", "graphql", "prisma", "next/router", "vue", "yup"]
GOPKGS = ["context", "fmt", "errors", "time", "strings", "net/http", "encoding/json", "sync",
          "io", "os", "sort", "strconv", "database/sql", "log/slog", "crypto/sha256",
          "github.com/google/uuid", "go.uber.org/zap", "github.com/prometheus/client_golang/prometheus"]
JAVAPKGS = ["java.util.List", "java.util.Map", "java.util.Optional", "java.time.Instant",
            "java.util.concurrent.CompletableFuture", "org.slf4j.Logger", "org.slf4j.LoggerFactory",
            "org.springframework.stereotype.Service", "org.springframework.beans.factory.annotation.Autowired",
            "com.fasterxml.jackson.databind.ObjectMapper", "java.util.UUID", "java.io.IOException",
            "javax.annotation.Nullable", "java.util.stream.Collectors"]
IMAGES = ["python:3.12-slim", "node:20-alpine", "golang:1.22", "eclipse-temurin:21-jre",
          "nginx:1.27", "debian:bookworm-slim", "alpine:3.20", "redis:7", "postgres:16"]


class Gen:
    """All randomness flows through one seeded generator, consumed in a fixed order."""

    def __init__(self, seed):
        self.r = random.Random(seed)

    def choice(self, seq):
        return seq[int(self.r.random() * len(seq))]

    def chars(self, alphabet, n):
        rnd = self.r.random
        k = len(alphabet)
        return "".join([alphabet[int(rnd() * k)] for _ in range(n)])

    def hexs(self, n):
        return self.r.randbytes((n + 1) // 2).hex()[:n]

    def b64(self, nbytes):
        return base64.b64encode(self.r.randbytes(nbytes)).decode()

    def uuid(self):
        h = self.r.randbytes(16).hex()
        return f"{h[:8]}-{h[8:12]}-4{h[13:16]}-a{h[17:20]}-{h[20:32]}"

    # identifiers -------------------------------------------------------------------------------
    def noun(self):
        return self.choice(NOUNS)

    def snake(self, k=None):
        k = k or self.r.randint(2, 4)
        parts = [self.choice(ADJS)] if self.r.random() < 0.4 else []
        parts += [self.noun() for _ in range(k - len(parts))]
        return "_".join(parts)

    def fn(self):
        return self.choice(VERBS) + "_" + self.snake(self.r.randint(1, 3))

    def camel(self, s=None):
        s = s or self.snake()
        p = s.split("_")
        return p[0] + "".join(w.capitalize() for w in p[1:])

    def pascal(self, s=None):
        s = s or self.snake()
        return "".join(w.capitalize() for w in s.split("_"))

    def sentence(self, n=None):
        n = n or self.r.randint(5, 14)
        ws = [self.choice(WORDS) if self.r.random() < 0.35 else self.choice(NOUNS + VERBS + ADJS)
              for _ in range(n)]
        return " ".join(ws).capitalize()

    def host(self):
        return f"{self.noun()}-{self.choice(['api', 'svc', 'gw', 'db', 'cdn', 'auth'])}.{self.choice(ORGS)}.{self.choice(TLDS)}"

    def url(self):
        path = "/".join(self.noun() + ("s" if self.r.random() < 0.5 else "") for _ in range(self.r.randint(1, 4)))
        q = f"?{self.noun()}={self.r.randint(1, 9999)}" if self.r.random() < 0.3 else ""
        return f"https://{self.host()}/v{self.r.randint(1, 3)}/{path}{q}"

    def num(self):
        return str(self.r.choice([self.r.randint(0, 100), self.r.randint(100, 100000), 1024, 4096, 30, 60, 3600]))


class Slots(dict):
    """Template slot values, each computed on first use only (str.format_map)."""

    def __init__(self, g):
        super().__init__()
        self.g = g

    def __missing__(self, key):
        g = self.g
        if key in ("fn", "fn2"):
            v = g.fn()
        elif key in ("var", "var2", "arg2"):
            v = g.snake(2)
        elif key in ("var3", "arg"):
            v = g.snake(1)
        elif key in ("cls", "cls2", "Camel"):
            v = g.pascal()
        elif key in ("camel", "camel2", "camel3"):
            v = g.camel()
        elif key == "Camel2":
            v = g.pascal()
        elif key in ("CONST", "CONST2"):
            v = g.snake().upper()
        elif key in ("noun", "noun2"):
            v = g.noun()
        elif key == "verb":
            v = g.choice(VERBS)
        elif key == "adj":
            v = g.choice(ADJS)
        elif key in ("doc", "doc2"):
            v = g.sentence()
        elif key == "msg":
            v = g.sentence(4).lower()
        elif key in ("num", "num2"):
            v = g.num()
        elif key == "url":
            v = g.url()
        elif key == "host":
            v = g.host()
        elif key == "uuid":
            v = g.uuid()
        elif key == "hex40":
            v = g.hexs(40)
        elif key == "hex64":
            v = g.hexs(64)
        elif key == "b64":
            v = g.b64(g.r.randint(24, 90))
        elif key == "b64s":
            v = g.b64(32).rstrip("=")
        elif key == "org":
            v = g.choice(ORGS)
        elif key == "tld":
            v = g.choice(TLDS)
        elif key == "acct":
            v = str(g.r.randint(10**11, 10**12 - 1))
        elif key == "image":
            v = g.choice(IMAGES)
        elif key == "port":
            v = g.choice(["80", "443", "3000", "5432", "6379", "8000", "8080", "8443", "9090"])
        else:
            raise KeyError(key)
        self[key] = v
        return v


# ----------------------------------------------------------------------------------------------
# Block templates per language (pre-rendered into pools)

T_PY = [
    '''def {fn}(self, {arg}, {arg2}=None):
    """{doc}."""
    {var} = self._{var2}.get({arg})
    if {var} is None:
        raise {cls}Error(f"{msg}: {{{arg}}}")
    for item in {var}.{noun}s:
        item.{verb}({arg2})
    return {var}

''',
    '''class {cls}({cls2}):
    """{doc}."""

    {CONST} = {num}
    ENDPOINT = "{url}"

    def __init__(self, {arg}, timeout={num2}):
        self.{arg} = {arg}
        self.timeout = timeout
        self._{var} = {{}}

''',
    '''    async def {fn}(self, {arg}: "{cls}") -> list[dict]:
        # {doc}
        async with self.session.get(f"{url}/{{{arg}.id}}") as resp:
            resp.raise_for_status()
            payload = await resp.json()
        return [{var3} for {var3} in payload["{noun}s"] if {var3}.get("{adj}")]

''',
    '''{CONST} = "{uuid}"
{CONST2}_SHA256 = "{hex64}"
logger = logging.getLogger(__name__)

''',
    '''@dataclass(frozen=True)
class {cls}:
    {var}: str
    {var2}: int = {num}
    {var3}_id: str = "{uuid}"
    created_at: datetime = field(default_factory=datetime.utcnow)

''',
    '''def {fn}({arg}: bytes) -> str:
    # {doc}
    digest = hashlib.sha256({arg}).hexdigest()
    if digest == "{hex64}":
        logger.debug("{msg} %s", digest)
    return base64.b64encode({arg}).decode("ascii")

''',
    '''    def {fn}(self):
        try:
            {var} = self.client.{verb}({noun}_id=self.{noun2}_id, limit={num})
        except {cls}Error as exc:  # {msg}
            logger.warning("{doc}: %s", exc)
            return None
        return {var}

''',
    '''ICON_PNG = (
    "{b64}"
    "{b64}"
)

''',
]

T_JS = [
    '''export async function {camel}({camel2}, options = {{}}) {{
  // {doc}
  const res = await fetch(`{url}/${{{camel2}.id}}`, {{ method: "GET", ...options }});
  if (!res.ok) {{
    throw new {Camel}Error(`{msg}: ${{res.status}}`);
  }}
  return res.json();
}}

''',
    '''const {camel3} = {{
  {camel}: {num},
  {camel2}: "{adj}",
  endpoint: "{url}",
  requestId: "{uuid}",
}};

''',
    '''class {cls} extends {cls2} {{
  constructor({camel}, {camel2}) {{
    super();
    this.{camel} = {camel};
    this.{camel2} = {camel2} ?? {num};
  }}

  {camel3}() {{
    return this.{camel}.filter((x) => x.{noun} !== undefined).map((x) => x.{noun2});
  }}
}}

''',
    '''/**
 * {doc}
 * @param {{string}} {camel} - {msg}
 */
export const {camel2} = ({camel}) => {camel}.split(",").map((s) => s.trim()).filter(Boolean);

''',
    '''  "{noun}": {{
    "version": "{num}.{num2}.0",
    "resolved": "https://registry.{org}.{tld}/{noun}/-/{noun}-{num}.tgz",
    "integrity": "sha512-{b64}"
  }},
''',
    '''router.{verb}("/{noun}s/:id", async (req, res) => {{
  const {camel} = await {camel2}.findById(req.params.id);
  if (!{camel}) return res.status(404).json({{ error: "{msg}" }});
  res.json({camel});
}});

''',
]

T_GO = [
    '''// {Camel} {doc}.
func (s *{cls}) {Camel}(ctx context.Context, {camel2} string) (*{cls2}, error) {{
	{camel3}, err := s.store.Get(ctx, {camel2})
	if err != nil {{
		return nil, fmt.Errorf("{msg}: %w", err)
	}}
	for _, item := range {camel3}.{Camel2}s {{
		item.{verb}()
	}}
	return {camel3}, nil
}}

''',
    '''type {cls} struct {{
	{Camel}   string        `json:"{var}"`
	{Camel2}  int           `json:"{var2}"`
	Timeout   time.Duration `json:"timeout"`
	Endpoint  string        `json:"endpoint"`
}}

''',
    '''const (
	default{Camel} = {num}
	{camel2}Digest = "sha256:{hex64}"
	{camel3}ID     = "{uuid}"
)

''',
    '''func {camel}(w http.ResponseWriter, r *http.Request) {{
	// {doc}
	if r.Method != http.MethodPost {{
		http.Error(w, "{msg}", http.StatusMethodNotAllowed)
		return
	}}
	var req {cls}
	if err := json.NewDecoder(r.Body).Decode(&req); err != nil {{
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}}
	w.WriteHeader(http.StatusAccepted)
}}

''',
    '''var {camel}Fixture = []byte("{b64}")

''',
]

T_JAVA = [
    '''    /**
     * {doc}.
     */
    public Optional<{cls}> {camel}(String {camel2}, int limit) {{
        List<{cls}> {camel3} = repository.findBy{Camel2}({camel2}, limit);
        if ({camel3}.isEmpty()) {{
            log.debug("{msg} {{}}", {camel2});
            return Optional.empty();
        }}
        return {camel3}.stream().filter({cls}::is{Camel}).findFirst();
    }}

''',
    '''    private static final String {CONST} = "{url}";
    private static final long {CONST2}_TIMEOUT_MS = {num}L;
    private static final UUID {CONST2}_ID = UUID.fromString("{uuid}");

''',
    '''    @Override
    public CompletableFuture<{cls}> {camel}({cls2} request) {{
        // {doc}
        return CompletableFuture.supplyAsync(() -> {{
            {cls} result = mapper.convertValue(request.get{Camel2}(), {cls}.class);
            result.set{Camel}(Instant.now());
            return result;
        }}, executor);
    }}

''',
    '''    static final String {CONST}_CHECKSUM = "{hex64}";
    static final String {CONST2}_BLOB = "{b64}";

''',
]

T_YAML = [
    '''{var}:
  enabled: true
  endpoint: {url}
  timeout_seconds: {num}
  retries: {num2}
  labels:
    team: {noun}
    tier: {adj}
''',
    '''  - name: {var}
    image: registry.{org}.io/{noun}/{noun2}@sha256:{hex64}
    ports:
      - {port}
''',
    '''# {doc}
{var2}:
  host: {host}
  port: {port}
  pool_size: {num}
  request_id: "{uuid}"
''',
    '''logging:
  level: info
  format: json
  {var}: "{msg}"
''',
]

T_JSON = [
    '''  "{var}": {{
    "enabled": true,
    "url": "{url}",
    "limit": {num},
    "id": "{uuid}"
  }},
''',
    '''  "{var2}_sha256": "{hex64}",
  "{var3}": "{msg}",
''',
    '''  "{var}": ["{noun}", "{noun2}", "{adj}"],
  "{var2}_timeout": {num},
''',
]

T_ENV = [
    '''# {doc}
{CONST}={num}
{CONST2}_URL={url}
''',
    '''{CONST}_HOST={host}
{CONST}_PORT={port}
''',
    '''{CONST}_ENABLED=true
{CONST2}_ID={uuid}
''',
]

T_DOCKER = [
    '''RUN apt-get update && apt-get install -y --no-install-recommends \\
    ca-certificates curl {noun} \\
    && rm -rf /var/lib/apt/lists/*
''',
    '''COPY {noun}/ /app/{noun}/
WORKDIR /app/{noun}
ENV {CONST}={num}
''',
    '''# {doc}
RUN curl -fsSL {url} -o /tmp/{noun}.tar.gz \\
    && echo "{hex64}  /tmp/{noun}.tar.gz" | sha256sum -c - \\
    && tar -xzf /tmp/{noun}.tar.gz -C /opt
''',
    '''EXPOSE {port}
HEALTHCHECK CMD curl -f http://localhost:{port}/health || exit 1
''',
]

T_MD = [
    '''## {cls}

{doc}. {doc2}.

''',
    '''```bash
curl -s {url} | jq '.{noun}s[] | .id'
```

''',
    '''| {noun} | {noun2} | {adj} |
|---|---|---|
| `{var}` | {num} | {msg} |
| `{var2}` | {num2} | see {url} |

''',
    '''- **{var}**: {doc}.
- **{var2}**: {doc2} (request id `{uuid}`).

''',
]

T_TF = [
    '''resource "aws_s3_bucket" "{var}" {{
  bucket = "{org}-{noun}-{num}"
  tags = {{
    Team        = "{noun2}"
    Environment = "{adj}"
  }}
}}

''',
    '''variable "{var}" {{
  description = "{doc}"
  type        = string
  default     = "{adj}"
}}

''',
    '''module "{var2}" {{
  source  = "git::https://git.{org}.io/infra/{noun}.git?ref=v{num}"
  name    = "{noun}-{noun2}"
  subnets = ["subnet-{hex40}"]
}}

''',
]

T_K8S = [
    '''---
apiVersion: apps/v1
kind: Deployment
metadata:
  name: {noun}-{noun2}
  labels:
    app: {noun}
spec:
  replicas: {num}
  template:
    spec:
      containers:
        - name: {noun}
          image: registry.{org}.io/{noun}@sha256:{hex64}
          ports:
            - containerPort: {port}
          env:
            - name: {CONST}
              value: "{adj}"
''',
    '''---
apiVersion: v1
kind: Service
metadata:
  name: {noun}-{noun2}
spec:
  selector:
    app: {noun}
  ports:
    - port: {port}
''',
    '''---
apiVersion: v1
kind: ConfigMap
metadata:
  name: {noun}-config
data:
  {var}: "{num}"
  {var2}_url: "{url}"
''',
]

# lang -> (extension choices, templates, size range in KiB, weight)
LANGS = {
    "py": (["py"], T_PY, (4, 64), 16),
    "js": (["js", "mjs"], T_JS, (4, 64), 10),
    "ts": (["ts", "tsx"], T_JS, (4, 64), 10),
    "go": (["go"], T_GO, (4, 64), 12),
    "java": (["java"], T_JAVA, (4, 64), 10),
    "yaml": (["yaml", "yml"], T_YAML, (2, 24), 8),
    "json": (["json"], T_JSON, (2, 32), 6),
    "env": ([".env"], T_ENV, (1, 4), 3),
    "docker": (["Dockerfile"], T_DOCKER, (1, 6), 3),
    "md": (["md"], T_MD, (2, 32), 7),
    "tf": (["tf"], T_TF, (2, 24), 5),
    "k8s": (["yaml"], T_K8S, (2, 24), 6),
}

HEADERS = {
    "py": lambda g: "".join(f"import {g.choice(PYMODS)}\n" for _ in range(g.r.randint(3, 8))) + "from dataclasses import dataclass, field\nfrom datetime import datetime\n\n",
    "js": lambda g: "".join(f'import {g.camel(g.noun())} from "{g.choice(JSPKGS)}";\n' for _ in range(g.r.randint(3, 8))) + "\n",
    "ts": lambda g: "".join(f'import {{ {g.pascal()} }} from "{g.choice(JSPKGS)}";\n' for _ in range(g.r.randint(3, 8))) + "\n",
    "go": lambda g: f"package {g.noun()}\n\nimport (\n" + "".join(f'\t"{g.choice(GOPKGS)}"\n' for _ in range(g.r.randint(3, 7))) + ")\n\n",
    "java": lambda g: f"package com.{g.choice(ORGS)}.{g.noun()}.{g.noun()};\n\n" + "".join(f"import {g.choice(JAVAPKGS)};\n" for _ in range(g.r.randint(3, 8))) + f"\n@Service\npublic class {g.pascal()} {{\n\n",
    "yaml": lambda g: f"# {g.sentence()}\nversion: {g.r.randint(1, 3)}\n",
    "json": lambda g: "{\n",
    "env": lambda g: f"# {g.sentence()}\n",
    "docker": lambda g: f"FROM {g.choice(IMAGES)}\n\n",
    "md": lambda g: f"# {g.pascal()}\n\n{g.sentence()}.\n\n",
    "tf": lambda g: 'terraform {\n  required_version = ">= 1.5"\n}\n\n',
    "k8s": lambda g: f"# {g.sentence()}\n",
}
FOOTERS = {"java": "}\n", "json": '  "_generated": true\n}\n'}

# Fresh per-file data lines (unique content in every file: digests, UUIDs, base64 of binary).
FRESH = {
    "py": ['{CONST}_DIGEST = "{hex64}"\n', 'SCHEMA_ID = "{uuid}"\n', 'THUMBNAIL = "{b64}"\n'],
    "js": ['export const {CONST}_HASH = "{hex64}";\n', 'const traceId = "{uuid}";\n', 'const FONT_DATA = "data:font/woff2;base64,{b64}";\n'],
    "ts": ['export const {CONST}_HASH: string = "{hex64}";\n', 'const traceId: string = "{uuid}";\n', 'const LOGO = "data:image/png;base64,{b64}";\n'],
    "go": ['var {camel}Sum = "{hex64}"\n', 'const schemaID = "{uuid}"\n', 'var iconPNG = "{b64}"\n'],
    "java": ['    static final String {CONST}_SHA = "{hex64}";\n', '    static final String TRACE = "{uuid}";\n', '    static final String ICON = "{b64}";\n'],
    "yaml": ['checksum: sha256:{hex64}\n', 'build_id: "{uuid}"\n', 'ca_bundle_fingerprint: "{hex64}"\n'],
    "json": ['  "{var}_digest": "{hex64}",\n', '  "trace": "{uuid}",\n', '  "icon": "{b64}",\n'],
    "env": ['BUILD_SHA={hex40}\n', 'DEPLOYMENT_ID={uuid}\n'],
    "docker": ['LABEL org.opencontainers.image.revision="{hex40}"\n'],
    "md": ['Commit `{hex40}` ({uuid}).\n\n', 'SHA-256: `{hex64}`\n\n'],
    "tf": ['  # revision {hex40}\n', 'locals {{ build = "{uuid}" }}\n'],
    "k8s": ['# digest sha256:{hex64}\n', '# rollout {uuid}\n'],
}

# Realistic non-secrets that look secret-ish (false-positive traps). Not in truth: a finding on
# one of these counts as an unplanned finding.
TRAPS = {
    "py": ['    idempotency_key = "{uuid}"\n', 'TOKEN_URL = "{url}"\n', 'PUBLIC_KEY_FINGERPRINT = "SHA256:{b64s}"\n', 'cache_key = f"{noun}:{{user_id}}:{noun2}"\n'],
    "js": ['const tokenEndpoint = "{url}";\n', '  idempotencyKey: "{uuid}",\n', 'const passwordMinLength = {num};\n'],
    "ts": ['const tokenEndpoint: string = "{url}";\n', '  idempotencyKey: "{uuid}",\n'],
    "go": ['const tokenURL = "{url}"\n', '\tCacheKey: "{noun}:{noun2}:%s",\n'],
    "java": ['    private static final String TOKEN_URI = "{url}";\n', '    private static final String KEY_ALIAS = "{noun}-{noun2}";\n'],
    "yaml": ['  token_url: {url}\n', '  key_id: "{uuid}"\n'],
    "json": ['  "token_uri": "{url}",\n', '  "key_id": "{hex40}",\n'],
    "env": ['AUTH_TOKEN_URL={url}\n', 'KEY_ROTATION_DAYS={num}\n'],
    "docker": ['ARG KEY_ID={hex40}\n'],
    "md": ['Set `api_key_header` to `X-{Camel}-Key`.\n\n'],
    "tf": ['  kms_key_id = "arn:aws:kms:us-east-1:{acct}:key/{uuid}"\n'],
    "k8s": ['    checksum/secret: {hex64}\n'],
}


def build_pools(g, per_lang=1500):
    pools = {}
    for lang, (_, templates, _, _) in LANGS.items():
        blocks = []
        for _ in range(per_lang):
            t = templates[g.r.randrange(len(templates))]
            blocks.append(t.format_map(Slots(g)))
        pools[lang] = (blocks, [b.count("\n") for b in blocks], [len(b) for b in blocks])
    return pools


def fresh_line(g, lang, templates):
    slots = Slots(g)
    slots["b64"] = g.b64(g.choice([48, 96, 300, 900, 3000]))
    return g.choice(templates).format_map(slots)


# ----------------------------------------------------------------------------------------------
# Secrets (fake, format-correct)

def b62_checksum(payload):
    n = zlib.crc32(payload.encode())
    s = ""
    while n:
        s = B62[n % 62] + s
        n //= 62
    return s.rjust(6, "0")


def gh_style(g, prefix):
    payload = g.chars(B62, 30)
    return prefix + payload + b62_checksum(payload)


def b64url(b):
    return base64.urlsafe_b64encode(b).decode().rstrip("=")


def pem_body(g, lead, nbytes, width=64):
    body = base64.b64encode(lead + g.r.randbytes(nbytes - len(lead))).decode()
    return [body[i:i + width] for i in range(0, len(body), width)]


def words_secret_name(g, options):
    return g.choice(options)


# Each generator returns dict(family, assigns=[(ident, value)...] or block=(ident, [lines]),
# value, parts)
def s_aws(g):
    kid = g.choice(["AKIA", "AKIA", "AKIA", "ASIA"]) + g.chars(B32UP, 16)
    sk = g.chars(ALNUM + "+/", 40)
    pre = g.choice(["aws", "s3", "backup_aws", "ci_aws"])
    return dict(family="aws", assigns=[(f"{pre}_access_key_id", kid), (f"{pre}_secret_access_key", sk)], value=sk, parts=[kid])


def s_github(g):
    return dict(family="github-pat", assigns=[(g.choice(["github_token", "gh_token", "github_pat", "git_token"]), gh_style(g, "ghp_"))])


def s_github_fg(g):
    v = "github_pat_" + g.chars(ALNUM, 22) + "_" + g.chars(ALNUM, 59)
    return dict(family="github-fine-grained", assigns=[(g.choice(["github_token", "gh_pat", "repo_token"]), v)])


def s_gitlab(g):
    v = "glpat-" + g.chars(ALNUM, 1) + g.chars(URLSAFE, 18) + g.chars(ALNUM, 1)
    return dict(family="gitlab-pat", assigns=[(g.choice(["gitlab_token", "ci_job_token_override", "gl_token"]), v)])


def s_slack_bot(g):
    v = f"xoxb-{g.r.randint(10**10, 10**11 - 1)}-{g.r.randint(10**12, 10**13 - 1)}-{g.chars(ALNUM, 24)}"
    return dict(family="slack-bot", assigns=[(g.choice(["slack_bot_token", "slack_token"]), v)])


def s_slack_webhook(g):
    v = f"https://hooks.slack.com/services/T{g.chars(B32UP[:26] + string.digits, 8)}/B{g.chars(B32UP[:26] + string.digits, 10)}/{g.chars(ALNUM, 24)}"
    return dict(family="slack-webhook", assigns=[(g.choice(["slack_webhook_url", "alerts_webhook"]), v)])


def s_stripe(g):
    n = g.choice([24, 99])
    v = "sk_live_" + ("51" + g.chars(ALNUM, 97) if n == 99 else g.chars(ALNUM, 24))
    return dict(family="stripe", assigns=[(g.choice(["stripe_secret_key", "stripe_api_key", "payments_key"]), v)])


def s_openai(g):
    v = "sk-proj-" + g.chars(URLSAFE, 74) + "T3BlbkFJ" + g.chars(URLSAFE, 73) + g.chars(ALNUM, 1)
    return dict(family="openai", assigns=[(g.choice(["openai_api_key", "llm_api_key"]), v)])


def s_anthropic(g):
    v = "sk-ant-api03-" + g.chars(URLSAFE, 93) + "AA"
    return dict(family="anthropic", assigns=[(g.choice(["anthropic_api_key", "claude_api_key"]), v)])


def s_google(g):
    v = "AIzaSy" + g.chars(URLSAFE, 32) + g.chars(ALNUM, 1)
    return dict(family="google-api-key", assigns=[(g.choice(["google_api_key", "maps_api_key", "firebase_api_key"]), v)])


def s_sendgrid(g):
    v = "SG." + g.chars(URLSAFE, 22) + "." + g.chars(URLSAFE, 42) + g.chars(ALNUM, 1)
    return dict(family="sendgrid", assigns=[(g.choice(["sendgrid_api_key", "mail_api_key"]), v)])


def s_twilio(g):
    v = "SK" + g.hexs(32)
    return dict(family="twilio", assigns=[(g.choice(["twilio_api_key", "twilio_key_sid"]), v)])


def s_npm(g):
    return dict(family="npm", assigns=[(g.choice(["npm_token", "npm_auth_token"]), gh_style(g, "npm_"))])


def s_pypi(g):
    raw = b"\x02\x01\x08pypi.org\x02\x24" + g.uuid().encode() + b"\x00\x02\x06" + g.r.randbytes(g.r.randint(60, 110))
    v = "pypi-" + b64url(raw)
    assert v.startswith("pypi-AgEIcHlwaS5vcmc")
    return dict(family="pypi", assigns=[(g.choice(["pypi_token", "twine_password", "pypi_api_token"]), v)])


def s_private_key(g):
    kind = g.choice(["rsa", "ec", "openssh", "pkcs8"])
    if kind == "rsa":
        head, body = "RSA PRIVATE KEY", pem_body(g, bytes.fromhex("308204a40201000282010100"), 1192)
    elif kind == "ec":
        head, body = "EC PRIVATE KEY", pem_body(g, bytes.fromhex("30770201010420"), 121)
    elif kind == "openssh":
        head, body = "OPENSSH PRIVATE KEY", pem_body(g, b"openssh-key-v1\x00\x00\x00\x00\x04none\x00\x00\x00\x04none", 400, 70)
    else:
        head, body = "PRIVATE KEY", pem_body(g, bytes.fromhex("308204bd020100300d06092a864886f70d0101010500048204a7"), 1217)
    lines = [f"-----BEGIN {head}-----"] + body + [f"-----END {head}-----"]
    return dict(family="private-key", block=(g.choice(["private_key", "ssh_private_key", "tls_key", "signing_key"]), lines),
                value=body[0], parts=[body[-1]])


def s_jwt(g):
    header = b64url(json.dumps({"alg": g.choice(["HS256", "RS256"]), "typ": "JWT"}, separators=(",", ":")).encode())
    claims = {"sub": g.uuid(), "iss": f"https://{g.host()}", "iat": g.r.randint(1.6e9, 1.8e9), "scope": g.choice(["admin", "read write", "svc"])}
    claims["exp"] = claims["iat"] + 31536000
    payload = b64url(json.dumps(claims, separators=(",", ":")).encode())
    sig = b64url(g.r.randbytes(32 if claims["sub"][0] < "8" else 256))
    return dict(family="jwt", assigns=[(g.choice(["auth_token", "service_jwt", "bearer_token", "access_token"]), f"{header}.{payload}.{sig}")])


PW_SYMS = ALNUM + "!#%^*-_+=?@"


def s_db_uri(g):
    user = g.choice(["app", "admin", "svc_" + g.noun(), "root", "reporting", g.noun()])
    pw = g.chars(ALNUM, 2) + g.chars(ALNUM + "-_.~", g.r.randint(12, 22)) + g.chars(ALNUM, 2)
    kind = g.choice(["postgres", "postgresql", "mysql", "mongodb+srv", "mongodb"])
    db = g.noun()
    if kind.startswith("postgres"):
        host = g.choice([f"{db}.cluster-{g.chars(string.ascii_lowercase + string.digits, 12)}.us-east-1.rds.amazonaws.com", f"pg-{g.noun()}-{g.r.randint(1, 9)}.{g.choice(ORGS)}.internal"])
        v = f"{kind}://{user}:{pw}@{host}:5432/{db}?sslmode=require"
    elif kind == "mysql":
        v = f"mysql://{user}:{pw}@mysql-{g.noun()}.{g.choice(ORGS)}.internal:3306/{db}"
    elif kind == "mongodb+srv":
        v = f"mongodb+srv://{user}:{pw}@cluster0.{g.chars(string.ascii_lowercase + string.digits, 5)}.mongodb.net/{db}?retryWrites=true&w=majority"
    else:
        v = f"mongodb://{user}:{pw}@mongo-0.{g.choice(ORGS)}.internal:27017,mongo-1.{g.choice(ORGS)}.internal:27017/{db}?replicaSet=rs0"
    return dict(family="db-uri", assigns=[(g.choice(["database_url", "db_uri", "mongo_url", "dsn", "connection_string"]), v)], value=v, parts=[pw])


def s_password(g):
    v = g.chars(ALNUM, 1) + g.chars(PW_SYMS, g.r.randint(12, 22)) + g.choice("!#%*?@")
    v = "".join(c for c in v)
    return dict(family="generic-password", assigns=[(g.choice(["password", "db_password", "admin_password", "smtp_password", "redis_password", "passwd", "ldap_bind_password"]), v)])


def s_azure(g):
    key = g.b64(64)
    v = f"DefaultEndpointsProtocol=https;AccountName=st{g.noun()}{g.r.randint(100, 999)};AccountKey={key};EndpointSuffix=core.windows.net"
    return dict(family="azure-storage", assigns=[(g.choice(["azure_storage_connection_string", "storage_connection", "blob_connection_string"]), v)], value=key, parts=[v])


SECRET_GENS = [s_aws, s_github, s_github_fg, s_gitlab, s_slack_bot, s_slack_webhook, s_stripe, s_openai,
               s_anthropic, s_google, s_sendgrid, s_twilio, s_npm, s_pypi, s_private_key, s_jwt, s_db_uri,
               s_password, s_azure]


# Placeholders: must NOT be reported.
def p_aws(g):
    return dict(family="aws-example", assigns=[("aws_access_key_id", "AKIAIOSFODNN7EXAMPLE"), ("aws_secret_access_key", "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY")], value="AKIAIOSFODNN7EXAMPLE")


def p_simple(family, idents, values):
    def gen(g):
        return dict(family=family, assigns=[(g.choice(idents), g.choice(values))])
    return gen


# placeholders that plausibly appear base64-encoded in a Secret's data: (templates/env refs do not)
B64_OK_PLACEHOLDERS = {"aws-example", "changeme", "x-filled", "your-key-here", "redacted"}

PLACEHOLDER_GENS = [
    p_aws,
    p_simple("changeme", ["password", "db_password", "admin_password"], ["changeme", "CHANGEME", "change-me"]),
    p_simple("env-reference", ["db_password", "api_token", "secret_key"], ["${DB_PASSWORD}", "${API_TOKEN}", "$SECRET_KEY", "${env:SECRET_KEY}"]),
    p_simple("template", ["token", "api_key", "password"], ["{{ .Values.token }}", "{{ .Values.apiKey }}", "{{ secrets.password }}"]),
    p_simple("your-key-here", ["api_key", "openai_api_key", "stripe_api_key"], ["your-api-key-here", "YOUR_API_KEY_HERE", "insert-your-key-here"]),
    p_simple("x-filled", ["secret_key", "api_secret", "client_secret"], ["xxxxxxxxxxxxxxxx", "XXXXXXXXXXXXXXXXXXXXXXXX", "****************"]),
    p_simple("stripe-x", ["stripe_secret_key", "stripe_key"], ["sk_live_" + "x" * 24, "sk_live_" + "X" * 32, "sk_test_xxxxxxxxxxxxxxxxxxxxxxxx"]),
    p_simple("github-x", ["github_token", "gh_token"], ["ghp_" + "x" * 36, "ghp_XXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXX", "github_pat_<your-token>"]),
    p_simple("angle-bracket", ["github_token", "auth_token", "api_key"], ["<YOUR_TOKEN>", "<your-api-key>", "<TOKEN>"]),
    p_simple("localhost-uri", ["database_url", "db_uri"], ["postgres://user:password@localhost", "postgres://user:password@localhost:5432/mydb", "mysql://root:password@localhost:3306/test", "mongodb://user:pass@localhost:27017"]),
    p_simple("redacted", ["password", "token"], ["REPLACE_ME", "<redacted>", "TODO", "dummy", "example-password"]),
]


# ----------------------------------------------------------------------------------------------
# Rendering a plant in a language's syntax. Returns (lines, first_offset, last_offset).

def ident_style(g, ident, style):
    if style == "upper":
        return ident.upper()
    if style == "camel":
        return g.camel(ident)
    if style == "kebab":
        return ident.replace("_", "-")
    if style == "dotted":
        return ident.replace("_", ".")
    return ident


def render_assign(g, lang, ident, value):
    r = g.r.random()
    if lang == "py":
        if r < 0.5:
            return f'{ident.upper()} = "{value}"'
        if r < 0.8:
            return f'    "{ident}": "{value}",'
        return f"os.environ.setdefault(\"{ident.upper()}\", '{value}')"
    if lang in ("js", "ts"):
        if r < 0.4:
            return f'const {g.camel(ident)} = "{value}";'
        if r < 0.8:
            return f"  {g.camel(ident)}: '{value}',"
        return f'process.env.{ident.upper()} = "{value}";'
    if lang == "go":
        if r < 0.5:
            return f'const {g.camel(ident)} = "{value}"'
        if r < 0.8:
            return f'\t{g.pascal(ident)}: "{value}",'
        return f'\tos.Setenv("{ident.upper()}", "{value}")'
    if lang == "java":
        if r < 0.6:
            return f'    private static final String {ident.upper()} = "{value}";'
        return f'        props.setProperty("{ident.replace("_", ".")}", "{value}");'
    if lang == "yaml":
        return f'  {ident}: "{value}"' if r < 0.5 else f"  {ident}: {value}"
    if lang == "json":
        return f'  "{ident}": "{value}",'
    if lang == "env":
        return f"{ident.upper()}={value}" if r < 0.6 else f'{ident.upper()}="{value}"'
    if lang == "docker":
        return f"ENV {ident.upper()}={value}" if r < 0.6 else f'ARG {ident.upper()}="{value}"'
    if lang == "md":
        return f"export {ident.upper()}={value}" if r < 0.7 else f"    {ident}: {value}"
    if lang == "tf":
        return f'  {ident} = "{value}"'
    raise ValueError(lang)


def render(g, lang, item, allow_b64=True):
    """Lines for one planted item; returns (lines, first, last, encoding)."""
    if "block" in item:
        ident, key_lines = item["block"]
        if lang in ("json", "env", "docker"):
            joined = "\\n".join(key_lines) + "\\n"
            if lang == "json":
                return [f'  "{ident}": "{joined}",'], 0, 0, None
            if lang == "env":
                return [f'{ident.upper()}="{joined}"'], 0, 0, None
            return [f'RUN printf "{joined}" > /root/.ssh/id_key'], 0, 0, None
        if lang == "py":
            lines = [f'{ident.upper()} = """{key_lines[0]}'] + key_lines[1:-1] + [key_lines[-1] + '"""']
        elif lang in ("js", "ts"):
            lines = [f"const {g.camel(ident)} = `{key_lines[0]}"] + key_lines[1:-1] + [key_lines[-1] + "`;"]
        elif lang == "go":
            lines = [f"const {g.camel(ident)} = `{key_lines[0]}"] + key_lines[1:-1] + [key_lines[-1] + "`"]
        elif lang == "java":
            lines = [f'    static final String {ident.upper()} = """'] + ["        " + x for x in key_lines] + ['        """;']
            return lines, 1, len(lines) - 2, None
        elif lang in ("yaml",):
            lines = [f"  {ident}: |"] + ["    " + x for x in key_lines]
            return lines, 1, len(lines) - 1, None
        elif lang == "k8s":
            if allow_b64 and g.r.random() < 0.5:
                enc = base64.b64encode(("\n".join(key_lines) + "\n").encode()).decode()
                lines = ["---", "apiVersion: v1", "kind: Secret", "metadata:", f"  name: {g.noun()}-tls", "type: kubernetes.io/tls", "data:", f"  tls.key: {enc}"]
                return lines, 7, 7, "base64"
            lines = ["---", "apiVersion: v1", "kind: Secret", "metadata:", f"  name: {g.noun()}-tls", "stringData:", "  tls.key: |"] + ["    " + x for x in key_lines]
            return lines, 7, len(lines) - 1, None
        elif lang == "md":
            lines = ["```"] + key_lines + ["```", ""]
            return lines, 1, len(lines) - 3, None
        elif lang == "tf":
            lines = [f"  {ident} = <<EOF"] + key_lines + ["EOF"]
            return lines, 1, len(lines) - 2, None
        else:
            raise ValueError(lang)
        return lines, 0, len(lines) - 1, None

    assigns = item["assigns"]
    if lang == "k8s":
        r = g.r.random()
        if allow_b64 and r < 0.45:
            lines = ["---", "apiVersion: v1", "kind: Secret", "metadata:", f"  name: {g.noun()}-{g.noun()}", "type: Opaque", "data:"]
            for ident, value in assigns:
                lines.append(f"  {ident.replace('_', '-')}: {base64.b64encode(value.encode()).decode()}")
            return lines, 7, len(lines) - 1, "base64"
        if r < 0.7:
            lines = ["---", "apiVersion: v1", "kind: Secret", "metadata:", f"  name: {g.noun()}-{g.noun()}", "type: Opaque", "stringData:"]
            for ident, value in assigns:
                lines.append(f'  {ident.replace("_", "-")}: "{value}"')
            return lines, 7, len(lines) - 1, None
        lines = []
        for ident, value in assigns:
            lines += [f"            - name: {ident.upper()}", f'              value: "{value}"']
        return lines, 0, len(lines) - 1, None
    lines = [render_assign(g, lang, ident, value) for ident, value in assigns]
    if lang == "md" and lines[0].startswith("export"):
        lines = ["```bash"] + lines + ["```", ""]
        return lines, 1, len(lines) - 3, None
    return lines, 0, len(lines) - 1, None


# ----------------------------------------------------------------------------------------------

DIRS = {
    "py": ["src/{p}", "src/{p}/handlers", "src/{p}/services", "tests", "scripts"],
    "js": ["src", "src/routes", "src/lib", "test", "scripts"],
    "ts": ["src", "src/components", "src/api", "src/utils", "test"],
    "go": ["cmd/{p}", "internal/{p}", "internal/store", "pkg/{p}"],
    "java": ["src/main/java/com/{o}/{p}", "src/main/java/com/{o}/{p}/service", "src/test/java/com/{o}/{p}"],
    "yaml": ["config", "deploy", ".github/workflows", "conf"],
    "json": ["config", "fixtures", "data"],
    "env": ["", "deploy", "config"],
    "docker": ["", "docker", "build"],
    "md": ["docs", "", "docs/runbooks"],
    "tf": ["infra", "infra/modules/{p}", "terraform"],
    "k8s": ["k8s", "deploy/k8s", "charts/{p}/templates", "manifests"],
}


POOLS = None  # built once in the parent, shared with forked workers


def lang_table():
    langs = list(LANGS)
    cum, acc = [], 0
    for l in langs:
        acc += LANGS[l][3]
        cum.append(acc)
    return langs, cum, acc


def gen_project(job):
    """Write one project; returns (truth records, counts, bytes, files). Depends only on job."""
    idx, seed, budget, tree, secret_every, ph_every = job
    g = Gen(seed * 1_000_003 + idx)
    pools = POOLS
    langs, cum, acc = lang_table()
    project = f"{g.noun()}-{g.choice(['service', 'api', 'worker', 'web', 'lib', 'cli', 'infra'])}-{idx:05d}"
    total = 0
    nfiles = 0
    secret_budget = g.r.random()
    ph_budget = g.r.random()
    counts = {}
    all_recs = []
    made_dirs = set()
    while total < budget:
        x = g.r.random() * acc
        lang = langs[next(i for i, c in enumerate(cum) if x < c)]
        exts, _, (lo, hi), _ = LANGS[lang]
        size = int(1024 * (lo * (hi / lo) ** g.r.random()))
        d = g.choice(DIRS[lang]).format(p=g.noun(), o=g.choice(ORGS))
        ext = g.choice(exts)
        if ext == "Dockerfile":
            name = "Dockerfile" if g.r.random() < 0.5 else f"Dockerfile.{g.noun()}"
        elif ext == ".env":
            name = g.choice([".env", ".env.production", ".env.staging", ".env.local", f"{g.noun()}.env"])
        else:
            name = f"{g.snake(g.r.randint(1, 3))}_{nfiles}.{ext}" if lang != "k8s" else f"{g.noun()}-{g.choice(['deployment', 'secrets', 'manifest', 'values'])}-{nfiles}.{ext}"
        rel = os.path.join(project, d, name) if d else os.path.join(project, name)

        # body blocks
        pool_text, pool_nl, pool_len = pools[lang]
        npool = len(pool_text)
        head = HEADERS[lang](g)
        blocks = [head]
        nls = [head.count("\n")]
        cur = len(head)
        fresh = FRESH[lang]
        rnd = g.r.random
        while cur < size:
            x = rnd()
            if x < 0.075:
                b = fresh_line(g, lang, fresh if x < 0.06 else TRAPS[lang])
                blocks.append(b)
                nls.append(b.count("\n"))
                cur += len(b)
            else:
                i = int(rnd() * npool)
                blocks.append(pool_text[i])
                nls.append(pool_nl[i])
                cur += pool_len[i]
        footer = FOOTERS.get(lang, "")

        # plants
        secret_budget += cur / secret_every
        ph_budget += cur / ph_every
        plants = []
        while secret_budget >= 1:
            secret_budget -= 1
            plants.append(("secret", SECRET_GENS[g.r.randrange(len(SECRET_GENS))](g)))
        while ph_budget >= 1:
            ph_budget -= 1
            plants.append(("placeholder", PLACEHOLDER_GENS[g.r.randrange(len(PLACEHOLDER_GENS))](g)))
        inserts = {}
        for p in plants:
            pos = 1 + int(g.r.random() * len(blocks))  # never before the header
            inserts.setdefault(pos, []).append(p)

        out = []
        line = 1
        recs = []
        prev = 0
        for pos in sorted(inserts):
            out.extend(blocks[prev:pos])
            line += sum(nls[prev:pos])
            prev = pos
            for kind, item in inserts[pos]:
                lines, first, last, enc = render(g, lang, item, allow_b64=kind == "secret" or item["family"] in B64_OK_PLACEHOLDERS)
                text = "\n".join(lines) + "\n"
                value = item.get("value") or item["assigns"][0][1]
                parts = list(item.get("parts", []))
                for _, v in item.get("assigns", ()):
                    if v != value and v not in parts:
                        parts.append(v)
                recs.append({"file": rel, "line": line + first, "end_line": line + last, "kind": kind,
                             "family": item["family"], "value": value, "parts": parts, "encoding": enc})
                counts[(kind, item["family"])] = counts.get((kind, item["family"]), 0) + 1
                out.append(text)
                line += len(lines)
        out.extend(blocks[prev:])
        out.append(footer)
        data = "".join(out).encode()

        full = os.path.join(tree, rel)
        dn = os.path.dirname(full)
        if dn not in made_dirs:
            os.makedirs(dn, exist_ok=True)
            made_dirs.add(dn)
        if os.path.exists(full):  # same name drawn twice in a project: disambiguate
            full += f".{nfiles}"
            for r in recs:
                r["file"] = rel + f".{nfiles}"
        with open(full, "wb") as f:
            f.write(data)
        total += len(data)
        nfiles += 1
        all_recs.extend(recs)
    return all_recs, counts, total, nfiles


def main(argv=None):
    global POOLS
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("size_mb", type=float)
    ap.add_argument("outdir")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--secret-every-kb", type=float, default=50.0)
    ap.add_argument("--placeholder-every-kb", type=float, default=100.0)
    ap.add_argument("--jobs", type=int, default=os.cpu_count() or 1, help="worker processes (output does not depend on it)")
    a = ap.parse_args(argv)

    t0 = time.time()
    g = Gen(a.seed)
    target = int(a.size_mb * 1024 * 1024)
    tree = os.path.join(a.outdir, "tree")
    if os.path.exists(tree) and os.listdir(tree):
        sys.exit(f"{tree} exists and is not empty; remove it first")
    os.makedirs(tree, exist_ok=True)
    POOLS = build_pools(g)
    # Project byte budgets are drawn up front, so the output is the same for any --jobs.
    jobs, planned = [], 0
    while planned < target:
        b = min(int(1024 * 1024 * (0.5 + 5.5 * g.r.random())), target - planned)
        b = max(b, 4096)
        jobs.append((len(jobs), a.seed, b, tree, a.secret_every_kb * 1024, a.placeholder_every_kb * 1024))
        planned += b

    counts = {}
    total = nfiles = 0
    with open(os.path.join(a.outdir, "truth.jsonl"), "w", buffering=1 << 20) as truth:
        if a.jobs > 1:
            import multiprocessing as mp
            with mp.get_context("fork").Pool(a.jobs) as pool:
                results = pool.imap(gen_project, jobs, chunksize=1)
                for recs, c, nb, nf in results:
                    for r in recs:
                        truth.write(json.dumps(r, separators=(",", ":")) + "\n")
                    for k, v in c.items():
                        counts[k] = counts.get(k, 0) + v
                    total += nb
                    nfiles += nf
        else:
            for job in jobs:
                recs, c, nb, nf = gen_project(job)
                for r in recs:
                    truth.write(json.dumps(r, separators=(",", ":")) + "\n")
                for k, v in c.items():
                    counts[k] = counts.get(k, 0) + v
                total += nb
                nfiles += nf
    dt = time.time() - t0
    summary = {"seed": a.seed, "size_mb_requested": a.size_mb, "bytes": total, "files": nfiles,
               "secrets": sum(v for (k, _), v in counts.items() if k == "secret"),
               "placeholders": sum(v for (k, _), v in counts.items() if k == "placeholder"),
               "by_family": {f"{k}:{f}": v for (k, f), v in sorted(counts.items())},
               "seconds": round(dt, 2)}
    with open(os.path.join(a.outdir, "corpus.json"), "w") as f:
        json.dump(summary, f, indent=1)
    print(f"corpus: {nfiles} files, {total / 1e6:.1f} MB, {summary['secrets']} secrets, "
          f"{summary['placeholders']} placeholders in {dt:.1f}s ({total / 1e6 / max(dt, 1e-9):.0f} MB/s)",
          file=sys.stderr)


if __name__ == "__main__":
    main()
