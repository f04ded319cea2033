"""Authentication as `httpx.Auth`: IAM API-key exchange with a token cache, or a static token.

Both answer a 401 that survives their retry with an `AuthenticationError`, and mark their
requests (`HANDLES_401`) so that the client's response hook leaves those 401s to them; a 401 on a
request made with any other auth is an error at once.
"""

from __future__ import annotations

import asyncio
import json
import logging
import threading
import time
import weakref
from collections.abc import AsyncGenerator, Callable, Generator
from typing import Any, Final

import httpx

from direct_access._errors import IAMError, ServerError, error_from_response
from direct_access._operations import request_operation
from direct_access._secrets import redact_secrets, request_secrets
from direct_access_spec import DEFAULT_IAM_URL

__all__ = ["HANDLES_401", "BearerAuth", "IAMAuth"]

#: The request extension by which these flows say they answer a 401 themselves.
HANDLES_401: Final = "direct_access.handles_401"

_log = logging.getLogger("direct_access")
_GRANT_TYPE = "urn:ibm:params:oauth:grant-type:apikey"


def _json_or_none(text: str) -> Any:
    try:
        return json.loads(text)
    except (ValueError, RecursionError):
        return None


def _unauthorized(response: httpx.Response) -> Exception:
    op = request_operation(response.request)
    secrets = request_secrets(response.request)
    return error_from_response(
        response,
        documented=op is not None and op.documents(401),
        scrub=lambda text: redact_secrets(text, secrets),
    )


class BearerAuth(httpx.Auth):
    """A bearer token used as is (no refresh). A 401 raises `AuthenticationError`."""

    requires_response_body = True

    def __init__(self, token: str) -> None:
        self._token = token

    def __repr__(self) -> str:
        return "BearerAuth(token=***)"

    def auth_flow(self, request: httpx.Request) -> Generator[httpx.Request, httpx.Response, None]:
        request.headers["Authorization"] = f"Bearer {self._token}"
        request.extensions[HANDLES_401] = True
        response = yield request
        if response.status_code == 401:
            raise _unauthorized(response)


class IAMAuth(httpx.Auth):
    """Exchanges an IBM Cloud API key for IAM access tokens and caches them.

    Policy:

    - The token is fetched on first use (``POST {iam_url}/identity/token``, form body, API-key
      grant) and reused until ``refresh_ratio`` (90 %) of its ``expires_in`` has passed; the next
      request then fetches a new one, ahead of the real expiry.
    - One refresh is in flight at a time: synchronous flows serialise on a thread lock, async
      flows on an asyncio lock (one per event loop). A caller that waited for the lock uses the
      token the other caller fetched instead of fetching again.
    - A 401 from the API drops the token it was sent with, fetches a new one (once; others that
      got a 401 with the same old token reuse the new one) and re-sends the request once. A second
      401 raises `AuthenticationError`.
    - IAM's refusals (``errorCode`` such as BXNIM0415E) raise `IAMError` with that code; a 5xx
      from IAM raises `ServerError`, which the client's retry policy retries.
    - The key and tokens never appear in reprs, logs or messages.
    """

    requires_response_body = True

    def __init__(
        self,
        api_key: str,
        iam_url: str = DEFAULT_IAM_URL,
        *,
        refresh_ratio: float = 0.9,
        timeout: float = 30.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        if not 0 < refresh_ratio <= 1:
            raise ValueError("refresh_ratio must be in (0, 1]")
        self._api_key = api_key
        self._token_url = iam_url.rstrip("/") + "/identity/token"
        self._refresh_ratio = refresh_ratio
        self._timeout = httpx.Timeout(timeout)
        self._clock = clock
        self._token: str | None = None
        self._refresh_at = 0.0
        self._thread_lock = threading.Lock()
        # Guards the table of asyncio locks only; never held across I/O, so async code may take it.
        self._guard = threading.Lock()
        self._async_locks: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, asyncio.Lock] = (
            weakref.WeakKeyDictionary()
        )
        #: How many tokens were fetched (for tests and diagnostics).
        self.refreshes = 0

    def __repr__(self) -> str:
        return f"IAMAuth(api_key=***, iam_url={self._token_url.removesuffix('/identity/token')!r})"

    def _valid_token(self) -> str | None:
        if self._token is not None and self._clock() < self._refresh_at:
            return self._token
        return None

    def _token_request(self) -> httpx.Request:
        return httpx.Request(
            "POST",
            self._token_url,
            data={"grant_type": _GRANT_TYPE, "apikey": self._api_key},
            headers={"Accept": "application/json"},
            extensions={"timeout": self._timeout.as_dict()},
        )

    def _accept(self, response: httpx.Response) -> str:
        document = _json_or_none(response.text)
        if response.status_code >= 500:
            text = redact_secrets(response.text, (self._api_key,))
            raise ServerError("POST", self._token_url, response.status_code, None, text)
        token = document.get("access_token") if isinstance(document, dict) else None
        if response.status_code != 200 or not isinstance(token, str) or not token:
            # IAM's error document, read again with the key masked: IAM may echo it.
            scrubbed = _json_or_none(redact_secrets(response.text, (self._api_key,)))
            raise IAMError("POST", self._token_url, response.status_code, "", scrubbed)
        lifetime = document.get("expires_in")
        if not isinstance(lifetime, int | float) or lifetime <= 0:
            expiration = document.get("expiration")
            lifetime = expiration - time.time() if isinstance(expiration, int | float) else 3600.0
        self._token = token
        self._refresh_at = self._clock() + max(0.0, float(lifetime)) * self._refresh_ratio
        self.refreshes += 1
        _log.debug("IAM token obtained; refresh in %.0f s", float(lifetime) * self._refresh_ratio)
        return token

    def _drop(self, token: str) -> None:
        if self._token == token:
            self._token = None

    def _steps(self, request: httpx.Request) -> Generator[_Step, httpx.Response | None, None]:
        """The flow's decisions, once for both drivers: requests to send, and when to take and
        give back the refresh lock (`_TAKE`, `_GIVE`)."""
        request.extensions[HANDLES_401] = True
        token = self._valid_token()
        if token is None:
            yield _TAKE
            token = self._valid_token()  # another caller may have refreshed while we waited
            if token is None:
                token = self._accept(_answer((yield self._token_request())))
            yield _GIVE
        request.headers["Authorization"] = f"Bearer {token}"
        response = _answer((yield request))
        if response.status_code != 401:
            return
        _log.debug("401 from %s %s: refreshing the token once", request.method, request.url.path)
        yield _TAKE
        self._drop(token)
        fresh = self._valid_token()
        if fresh is None:
            fresh = self._accept(_answer((yield self._token_request())))
        yield _GIVE
        request.headers["Authorization"] = f"Bearer {fresh}"
        response = _answer((yield request))
        if response.status_code == 401:
            raise _unauthorized(response)

    def sync_auth_flow(
        self, request: httpx.Request
    ) -> Generator[httpx.Request, httpx.Response, None]:
        steps, held = self._steps(request), False
        try:
            step = next(steps)
            while True:
                reply = None
                if step is _TAKE:
                    self._thread_lock.acquire()
                    held = True
                elif step is _GIVE:
                    self._thread_lock.release()
                    held = False
                elif isinstance(step, httpx.Request):
                    reply = yield step
                step = steps.send(reply)
        except StopIteration:
            return
        finally:
            if held:
                self._thread_lock.release()

    def _async_lock(self) -> asyncio.Lock:
        loop = asyncio.get_running_loop()
        with self._guard:
            lock = self._async_locks.get(loop)
            if lock is None:
                lock = self._async_locks[loop] = asyncio.Lock()
            return lock

    async def async_auth_flow(
        self, request: httpx.Request
    ) -> AsyncGenerator[httpx.Request, httpx.Response]:
        steps, lock = self._steps(request), None
        try:
            step = next(steps)
            while True:
                reply = None
                if step is _TAKE:
                    lock = self._async_lock()
                    await lock.acquire()
                elif step is _GIVE and lock is not None:
                    lock.release()
                    lock = None
                elif isinstance(step, httpx.Request):
                    reply = yield step
                step = steps.send(reply)
        except StopIteration:
            return
        finally:
            if lock is not None:
                lock.release()


class _LockStep:
    def __init__(self, name: str) -> None:
        self.name = name

    def __repr__(self) -> str:
        return self.name


_TAKE = _LockStep("take the refresh lock")
_GIVE = _LockStep("give the refresh lock back")
_Step = httpx.Request | _LockStep


def _answer(response: httpx.Response | None) -> httpx.Response:
    if response is None:  # pragma: no cover - the drivers send a response for every request
        raise RuntimeError("the auth flow got no response")
    return response
