"""The emulator's IAM: API keys exchanged for bearer tokens, and the check of every API call.

`POST /identity/token` is IBM Cloud IAM's (not in openapi.yaml) and answers in IAM's own shape,
errors included. Tokens live in memory only. Issuing one costs the same whatever the number
held: tokens expire in the order they were issued (one lifetime for all), so the expired ones
are dropped from the front of a queue, never by rebuilding the table.
"""

from __future__ import annotations

import collections
import secrets
import threading
import time
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qs

from starlette.requests import Request
from starlette.responses import Response

from direct_access_emulator.config import EmulatorConfig
from direct_access_emulator.core import format_time, utc_now
from direct_access_emulator.http_errors import ApiError, JsonAnswer

__all__ = ["GRANT_TYPE", "TokenIssuer", "authenticate", "token_answer"]

#: The only grant type the emulator's IAM accepts, as IBM Cloud IAM's API-key exchange.
GRANT_TYPE = "urn:ibm:params:oauth:grant-type:apikey"


@dataclass(frozen=True)
class _Token:
    api_key: str
    expires_at: float


class TokenIssuer:
    """Issues and checks the IAM access tokens; tokens live in memory only.

    ``clock`` (seconds, `time.time` by default) lets tests move time.
    """

    def __init__(self, config: EmulatorConfig, *, clock: Callable[[], float] = time.time) -> None:
        self.lifetime = config.auth.token_lifetime_secs
        self.clock = clock
        self._instances: dict[str, set[str]] = {}
        for instance in config.instances:
            for key in instance.api_keys:
                self._instances.setdefault(key, set()).add(instance.crn)
        self._tokens: dict[str, _Token] = {}
        # Tokens in the order issued, which is the order they expire (one lifetime for all).
        self._by_expiry: collections.deque[tuple[float, str]] = collections.deque()
        self._lock = threading.Lock()

    def __len__(self) -> int:
        """How many tokens are held (issued, not yet dropped as expired)."""
        return len(self._tokens)

    def known_key(self, api_key: str) -> bool:
        """Whether ``api_key`` is one of the configuration's."""
        return api_key in self._instances

    def issue(self, api_key: str) -> dict[str, Any]:
        """A new token for ``api_key``, as IAM answers it; expired tokens are dropped."""
        now = self.clock()
        token = secrets.token_urlsafe(32)
        expires_at = now + self.lifetime
        with self._lock:
            self._drop_expired(now)
            self._tokens[token] = _Token(api_key, expires_at)
            self._by_expiry.append((expires_at, token))
        return {
            "access_token": token,
            "refresh_token": secrets.token_urlsafe(32),
            "token_type": "Bearer",
            "expires_in": self.lifetime,
            "expiration": int(expires_at),
            "scope": "ibm openid",
        }

    def _drop_expired(self, now: float) -> None:
        while self._by_expiry and self._by_expiry[0][0] <= now:
            _, token = self._by_expiry.popleft()
            del self._tokens[token]

    def instances_of(self, token: str) -> set[str] | None:
        """The instances the token may use; None when it is unknown or expired."""
        with self._lock:
            found = self._tokens.get(token)
        if found is None or found.expires_at <= self.clock():
            return None
        return self._instances.get(found.api_key, set())


def authenticate(tokens: TokenIssuer, headers: Mapping[str, str]) -> str:
    """The caller's instance CRN, from its `Authorization` and `Service-CRN` headers, or a 401."""
    authorization = headers.get("authorization", "")
    scheme, _, token = authorization.partition(" ")
    token = token.strip()
    if scheme.lower() != "bearer" or not token:
        raise ApiError(
            401, "1200", "Not authorized: an 'Authorization: Bearer <token>' header is needed."
        )
    crn = headers.get("service-crn", "").strip()
    if not crn:
        raise ApiError(401, "1200", "Not authorized: a 'Service-CRN' header is needed.")
    instances = tokens.instances_of(token)
    if instances is None:
        raise ApiError(401, "1201", "Invalid credentials: the token is invalid or expired.")
    if crn not in instances:
        raise ApiError(
            401, "1201", "Invalid credentials: the token's API key cannot use this Service-CRN."
        )
    return crn


def _iam_error(request: Request, message: str, details: str) -> Response:
    now = format_time(utc_now())
    body = {
        "errorCode": "BXNIM0415E",
        "errorMessage": message,
        "errorDetails": details,
        "context": {
            "requestId": uuid.uuid4().hex,
            "requestType": "incoming.Identity_Token",
            "userAgent": request.headers.get("user-agent", ""),
            "url": str(request.base_url).rstrip("/"),
            "instanceId": "direct-access-emulator",
            "threadId": uuid.uuid4().hex[:8],
            "host": request.url.hostname or "",
            "startTime": now,
            "endTime": now,
            "elapsedTime": "0",
            "locale": "en_US",
            "clusterName": "direct-access-emulator",
        },
    }
    return JsonAnswer(body, status_code=400)


def token_answer(tokens: TokenIssuer, request: Request, body: bytes) -> Response:
    """IAM's answer to a token request's form body: a token, or a 400 in IAM's error shape."""
    try:
        form = parse_qs(body.decode("utf-8"), keep_blank_values=True)
    except UnicodeDecodeError:
        form = {}
    grant_type = (form.get("grant_type") or [""])[0]
    api_key = (form.get("apikey") or [""])[0]
    if grant_type != GRANT_TYPE:
        return _iam_error(
            request, "Provided grant type is not supported.", f"Use grant_type={GRANT_TYPE}."
        )
    if not api_key:
        return _iam_error(
            request, "Provided API key could not be found.", "The apikey field is missing."
        )
    if not tokens.known_key(api_key):
        return _iam_error(
            request,
            "Provided API key could not be found.",
            "The API key is not one of this emulator's (see its configuration).",
        )
    return JsonAnswer(tokens.issue(api_key))
