"""Credential redaction: what storage URIs and records may show in logs, messages and manifests."""
from __future__ import annotations

import re

# Greedy up to the last '@' before the path, so a password holding '@' is removed whole.
_USERINFO = re.compile(r"^([a-z][a-z0-9+.-]*://)[^/?#]*@", re.IGNORECASE)
_SECRET_NAME = re.compile(r"secret|password|passwd|token|credential|access_key|private_key|api_key", re.IGNORECASE)


def redact_uri(uri: str) -> str:
    """The URI without its user:secret@ part (s3://key:secret@bucket/p -> s3://bucket/p), safe for logs."""
    return _USERINFO.sub(r"\1", uri)


def redact_secrets(obj):
    """A copy with values under secret-looking keys masked, for records that may carry settings."""
    if isinstance(obj, dict):
        return {k: "***" if _SECRET_NAME.search(str(k)) else redact_secrets(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [redact_secrets(v) for v in obj]
    return obj
