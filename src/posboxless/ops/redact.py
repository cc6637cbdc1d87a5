"""Removing secrets from text that leaves the till in a support bundle."""

from __future__ import annotations

import re
from collections.abc import Iterable

REDACTED = "<redacted>"

# TOML keys whose values are secrets: admin_token, any *token, *password, *secret, *key
# (tls_key is only a path, but a key is where people paste PEM text by mistake).
_SECRET_KEY = re.compile(
    r"""^(?P<head>\s*["']?(?P<key>[A-Za-z0-9_.-]*?(token|password|passwd|secret|key))["']?\s*=\s*)
        (?P<value>.*)$""",
    re.IGNORECASE | re.VERBOSE,
)
_PEM_BLOCK = re.compile(
    r"-----BEGIN [A-Z ]*PRIVATE KEY-----.*?-----END [A-Z ]*PRIVATE KEY-----", re.S
)


def redact_toml(text: str) -> str:
    """The configuration with every secret value replaced; comments and layout kept."""
    lines = []
    for line in _PEM_BLOCK.sub(REDACTED, text).splitlines():
        match = _SECRET_KEY.match(line)
        if match and not line.lstrip().startswith("#"):
            line = f'{match.group("head")}"{REDACTED}"'
        lines.append(line)
    return "\n".join(lines) + ("\n" if text.endswith("\n") else "")


def redact_values(text: str, secrets: Iterable[str]) -> str:
    """Remove known secret values wherever they appear (a token echoed in a log line)."""
    text = _PEM_BLOCK.sub(REDACTED, text)
    for secret in sorted({s for s in secrets if len(s) >= 4}, key=len, reverse=True):
        text = text.replace(secret, REDACTED)
    return text
