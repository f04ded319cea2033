"""Keeping secrets out of messages, reprs and tracebacks, even when a server echoes them.

Credentials (the bearer token, the API key) are cut out of every answer before it is parsed or
put into an error; presigned URLs in models become `PresignedURL`, a `str` whose repr shows the
URL without its query (the signature), while its value stays the full URL.
"""

from __future__ import annotations

import functools
import json
import re
import urllib.parse
from collections.abc import Iterable

import httpx

from direct_access._errors import redact_url
from direct_access_api.models import Job
from direct_access_api.types import Unset

__all__ = [
    "MASK",
    "PresignedURL",
    "contains_secret",
    "hide_signatures",
    "redact_secrets",
    "request_secrets",
]

MASK = "***"
# Shorter strings are not credentials, and masking them would garble ordinary text.
_MIN_SECRET = 8
_BEARER = re.compile(r"(Bearer\s+)[A-Za-z0-9._~+/=-]+", re.IGNORECASE)


class PresignedURL(str):
    """A presigned URL: the full URL as a value (``str(url)``, f-strings, JSON), its repr
    without the query string that holds the signature."""

    __slots__ = ()

    def __repr__(self) -> str:
        return repr(redact_url(str(self)))


# Each answer is searched for the call's secrets: their forms are worked out once per secret (a
# client holds a few: its API key or token, the bearer tokens IAM hands out over time).
@functools.lru_cache(maxsize=64)
def _forms(secret: str) -> frozenset[str]:
    # As sent, as a JSON string escapes it, and as a URL or form body encodes it.
    return frozenset({secret, json.dumps(secret)[1:-1], urllib.parse.quote(secret, safe="")})


def redact_secrets(text: str, secrets: Iterable[str | None]) -> str:
    """``text`` with each secret (in its plain, JSON and URL forms) and any bearer token masked."""
    for secret in secrets:
        if secret and len(secret) >= _MIN_SECRET:
            for form in _forms(secret):
                text = text.replace(form, MASK)
    return _BEARER.sub(lambda m: m.group(1) + MASK, text)


def request_secrets(request: httpx.Request) -> tuple[str, ...]:
    """The credentials a request carried: its bearer token, the API key of an IAM exchange."""
    found: list[str] = []
    authorization = request.headers.get("Authorization", "")
    if authorization[:7].lower() == "bearer ":
        found.append(authorization[7:].strip())
    if request.headers.get("Content-Type", "").startswith("application/x-www-form-urlencoded"):
        try:
            form = urllib.parse.parse_qs(request.content.decode("ascii", errors="replace"))
        except httpx.RequestNotRead:  # pragma: no cover - our form bodies are bytes
            form = {}
        found.extend(form.get("apikey", []))
    return tuple(found)


def contains_secret(content: bytes, secrets: Iterable[str]) -> bool:
    """Whether ``content`` holds one of ``secrets`` in any of its forms (a few substring
    searches: cheap next to parsing, and nothing is rewritten unless one is found)."""
    return any(
        form.encode() in content
        for secret in secrets
        if secret and len(secret) >= _MIN_SECRET
        for form in _forms(secret)
    )


def hide_signatures(job: Job) -> Job:
    """``job`` with its storage locations' presigned URLs as `PresignedURL` (in place)."""
    storage = job.storage
    if isinstance(storage, Unset):
        return job
    for location in (storage.input_, storage.results, storage.logs):
        if isinstance(location, Unset):
            continue
        url = location.presigned_url
        if isinstance(url, str) and not isinstance(url, PresignedURL):
            location.presigned_url = PresignedURL(url)
    return job
