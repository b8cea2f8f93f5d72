"""Scrubbing of secret-looking text before anything leaves the healer.

Rules, applied in order to every free-text field (log lines, event messages, change causes,
termination reasons):

- known secret values (the Deployment's environment values) are replaced wherever they appear;
- PEM private key blocks, JWTs, cloud and chat tokens with well-known shapes;
- ``Authorization: Bearer ...`` / ``Basic ...`` credentials;
- ``key=value`` / ``key: value`` pairs whose key looks secret (password, token, api_key, ...);
- command-line credentials (``-u user:pass``, ``--password x``);
- credentials inside URLs (``scheme://user:pass@host``) and whole database connection strings;
- long base64 / hex blobs (32+ characters).

False positives only cost context; false negatives leak, so the rules lean towards redacting.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

REDACTED = "[REDACTED]"

_PRIVATE_KEY = re.compile(r"-----BEGIN [A-Z0-9 ]*PRIVATE KEY-----.*?(?:-----END [A-Z0-9 ]*PRIVATE KEY-----|$)", re.S)
_JWT = re.compile(r"\beyJ[A-Za-z0-9_-]{5,}\.[A-Za-z0-9_-]{5,}(?:\.[A-Za-z0-9_-]*)?")
_WELL_KNOWN_TOKENS = re.compile(
    r"\b(?:"
    r"AKIA[0-9A-Z]{16}"  # AWS access key id
    r"|AIza[0-9A-Za-z_-]{30,}"  # Google API key
    r"|ya29\.[0-9A-Za-z_.-]{10,}"  # Google OAuth access token
    r"|gh[pousr]_[A-Za-z0-9]{20,}"  # GitHub tokens
    r"|github_pat_[A-Za-z0-9_]{20,}"
    r"|xox[abposr]-[A-Za-z0-9-]{10,}"  # Slack tokens
    r"|sk-[A-Za-z0-9_-]{16,}"  # common API secret-key prefix
    r"|glpat-[A-Za-z0-9_-]{16,}"  # GitLab
    r")"
)
_AUTH_HEADER = re.compile(r"(?i)\b(bearer|basic|token|digest)(\s+)[A-Za-z0-9._~+/=:-]{6,}")
_SECRET_KEY_WORDS = (
    r"pass(?:word|wd|phrase)?|pwd|secret|token|api[_-]?key|apikey|access[_-]?key|private[_-]?key|"
    r"client[_-]?secret|credentials?|auth(?:orization)?|session(?:id)?|cookie|signature|dsn|"
    r"connection[_-]?string|conn[_-]?str"
)
# Every pattern is anchored at a token start or bounded, so matching stays linear in the input:
# log lines are attacker-controlled text.
_KEY_VALUE = re.compile(
    r"(?i)(?<![\w.-])(?P<key>[\w.-]{0,40}?(?:" + _SECRET_KEY_WORDS + r")[\w.-]{0,40}?)"
    r"(?P<sep>\"?\s{0,3}[:=]\s{0,3})"
    r"(?P<value>\"[^\"]{0,2000}\"|'[^']{0,2000}'|[^\s,;&\"']{1,2000})"
)
_CLI_CREDENTIALS = re.compile(r"(?i)(\s(?:-u|--user|--password|--pass)[\s=]+)\S+")
_URL_USERINFO = re.compile(r"(?i)(?<![a-z0-9+.-])([a-z][a-z0-9+.-]{0,30}://)[^\s/@:]{0,256}:[^\s/@]{0,256}@")
_CONNECTION_STRING = re.compile(
    r"(?i)\b(?:postgres(?:ql)?|mysql|mariadb|mongodb(?:\+srv)?|redis|rediss|amqps?|mssql|sqlserver|jdbc:[a-z]+)"
    r"://[^\s\"']+"
)
_BLOB_CANDIDATE = re.compile(r"[A-Za-z0-9+/_=.-]{32,}")
_BLOB_SEPARATORS = re.compile(r"[-_./=]")
_BLOB_SEGMENT = 20


def _redact_blob(match: re.Match[str]) -> str:
    """Redact a long run that has a random-looking segment (20+ chars mixing letters and digits).

    Dash-separated names (pods, ReplicaSets), paths and UUIDs have short segments and are kept.
    """
    candidate = match.group(0)
    mixed = any(c.isdigit() for c in candidate) and any(c.isalpha() for c in candidate)
    if mixed and ("+" in candidate or candidate.endswith("=")):
        return REDACTED  # base64 padding or alphabet: paths and names have neither
    for segment in _BLOB_SEPARATORS.split(candidate):
        if len(segment) >= _BLOB_SEGMENT and any(c.isdigit() for c in segment) and any(c.isalpha() for c in segment):
            return REDACTED
    return candidate


MAX_INPUT_CHARS = 4096
TRUNCATED = "[TRUNCATED]"


def _cap(text: str) -> str:
    """At most MAX_INPUT_CHARS, cut at whitespace so no token (and no secret) is split in two."""
    if len(text) <= MAX_INPUT_CHARS:
        return text
    head = text[: MAX_INPUT_CHARS - len(TRUNCATED) - 1]
    cut = max(head.rfind(" "), head.rfind("\t"), head.rfind("\n"))
    return (head[:cut] + " " if cut > 0 else "") + TRUNCATED


def scrub(text: str, known_secrets: Iterable[str] = ()) -> str:
    """``text`` (capped at MAX_INPUT_CHARS) with every secret-looking part replaced by ``[REDACTED]``."""
    out = _cap(text)
    for secret in sorted(set(known_secrets), key=len, reverse=True):
        if len(secret) >= 4:
            out = out.replace(secret, REDACTED)
    out = _PRIVATE_KEY.sub(REDACTED, out)
    out = _JWT.sub(REDACTED, out)
    out = _WELL_KNOWN_TOKENS.sub(REDACTED, out)
    out = _CONNECTION_STRING.sub(REDACTED, out)
    out = _URL_USERINFO.sub(lambda m: f"{m.group(1)}{REDACTED}@", out)
    out = _CLI_CREDENTIALS.sub(lambda m: f"{m.group(1)}{REDACTED}", out)
    out = _AUTH_HEADER.sub(lambda m: f"{m.group(1)}{m.group(2)}{REDACTED}", out)
    out = _KEY_VALUE.sub(lambda m: f"{m.group('key')}{m.group('sep')}{REDACTED}", out)
    out = _BLOB_CANDIDATE.sub(_redact_blob, out)
    return out


def scrub_image(image: str) -> str:
    """Image references are kept (tags and digests are useful), except credentials in a registry URL."""
    return _URL_USERINFO.sub(lambda m: f"{m.group(1)}{REDACTED}@", image)
