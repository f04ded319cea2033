"""Deliberate breakages of the emulator, to show that the contract suite catches each one.

Also `adds-metrics`, which makes the emulator answer like a newer deployment (drift).

Each is ASGI middleware put around the emulator's app (`serve(..., wrap=...)`) when the suite runs
with `--contract-breakage NAME`; tests/integration/test_contract_catches.py runs the suite once
per breakage and expects it to fail with the check that names the fault.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, MutableMapping
from dataclasses import dataclass, field

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from contract_tests._target import Identity

__all__ = ["BREAKAGES", "Breakage", "breakage"]

_JOB_PATH = re.compile(r"^/v1/jobs/[^/]+$")


@dataclass
class Breakage:
    """A fault to put in the emulator; `identities` are filled in once tokens exist."""

    name: str
    description: str
    build: Callable[[ASGIApp, Breakage], ASGIApp]
    identities: list[Identity] = field(default_factory=list)

    def wrap(self, app: ASGIApp) -> ASGIApp:
        return self.build(app, self)


async def _collect(app: ASGIApp, scope: Scope, receive: Receive) -> tuple[Message, bytes]:
    """Run the app and keep its whole answer: (start message, body)."""
    start: Message = {}
    chunks: list[bytes] = []

    async def keep(message: Message) -> None:
        nonlocal start
        if message["type"] == "http.response.start":
            start = message
        elif message["type"] == "http.response.body":
            chunks.append(message.get("body", b""))

    await app(scope, receive, keep)
    return start, b"".join(chunks)


async def _answer(send: Send, status: int, headers: list[tuple[bytes, bytes]], body: bytes) -> None:
    kept = [(k, v) for k, v in headers if k.lower() != b"content-length"]
    if body or status not in (204, 304):
        kept.append((b"content-length", str(len(body)).encode()))
    await send({"type": "http.response.start", "status": status, "headers": kept})
    await send({"type": "http.response.body", "body": body})


def _with_headers(scope: Scope, identity: Identity) -> Scope:
    headers = [
        (k, v) for k, v in scope["headers"] if k.lower() not in (b"authorization", b"service-crn")
    ]
    headers += [(k.lower().encode(), v.encode()) for k, v in identity.headers().items()]
    return {**scope, "headers": headers}


def _extra_field(app: ASGIApp, breakage: Breakage) -> ASGIApp:
    """A job answer carries a field the spec does not define."""

    async def broken(scope: Scope, receive: Receive, send: Send) -> None:
        if (
            scope["type"] != "http"
            or scope["method"] != "GET"
            or not _JOB_PATH.match(scope["path"])
        ):
            await app(scope, receive, send)
            return
        start, body = await _collect(app, scope, receive)
        if start["status"] == 200:
            document = json.loads(body)
            document["debug_trace"] = "internal"
            body = json.dumps(document).encode()
        await _answer(send, start["status"], list(start.get("headers", [])), body)

    return broken


def _adds_metrics(app: ASGIApp, breakage: Breakage) -> ASGIApp:
    """Like a newer deployment (api-notes): every job answer carries `metrics`, which the
    published reference, and so the spec, does not have. Drift, not a broken answer."""
    metrics = {
        "circuits_execution_time_ns": 1200,
        "timestamps": {"created": "2025-01-15T10:20:30Z", "finished": "2025-01-15T10:20:31Z"},
    }

    async def newer(scope: Scope, receive: Receive, send: Send) -> None:
        if (
            scope["type"] != "http"
            or scope["method"] != "GET"
            or (scope["path"] != "/v1/jobs" and not _JOB_PATH.match(scope["path"]))
        ):
            await app(scope, receive, send)
            return
        start, body = await _collect(app, scope, receive)
        if start["status"] == 200:
            document = json.loads(body)
            for job in document.get("jobs") or [] if "jobs" in document else [document]:
                job["metrics"] = metrics
            body = json.dumps(document).encode()
        await _answer(send, start["status"], list(start.get("headers", [])), body)

    return newer


def _wrong_status(app: ASGIApp, breakage: Breakage) -> ASGIApp:
    """A successful delete answers 200 with a body instead of the documented 204."""

    async def broken(scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] != "DELETE":
            await app(scope, receive, send)
            return
        start, body = await _collect(app, scope, receive)
        if start["status"] == 204:
            await _answer(send, 200, [(b"content-type", b"application/json")], b'{"deleted": true}')
            return
        await _answer(send, start["status"], list(start.get("headers", [])), body)

    return broken


def _accepts_invalid_body(app: ASGIApp, breakage: Breakage) -> ASGIApp:
    """A create body that breaks the schema is answered 204 instead of 422."""

    async def broken(scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] != "POST" or scope["path"] != "/v1/jobs":
            await app(scope, receive, send)
            return
        start, body = await _collect(app, scope, receive)
        if start["status"] == 422:
            await _answer(send, 204, [], b"")
            return
        await _answer(send, start["status"], list(start.get("headers", [])), body)

    return broken


def _ignores_token(app: ASGIApp, breakage: Breakage) -> ASGIApp:
    """A request with no credentials is served as if the first instance had sent it."""

    async def broken(scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and breakage.identities:
            names = {k.lower() for k, _ in scope["headers"]}
            if b"authorization" not in names:
                scope = _with_headers(scope, breakage.identities[0])
        await app(scope, receive, send)

    return broken


def _leaks_other_instance(app: ASGIApp, breakage: Breakage) -> ASGIApp:
    """A job another instance owns is returned instead of 404."""

    async def broken(scope: Scope, receive: Receive, send: Send) -> None:
        if (
            scope["type"] != "http"
            or scope["method"] != "GET"
            or not _JOB_PATH.match(scope["path"])
        ):
            await app(scope, receive, send)
            return
        start, body = await _collect(app, scope, receive)
        if start["status"] == 404:
            for identity in breakage.identities:
                again, other = await _collect(app, _with_headers(scope, identity), receive)
                if again["status"] == 200:
                    start, body = again, other
                    break
        await _answer(send, start["status"], list(start.get("headers", [])), body)

    return broken


BREAKAGES: MutableMapping[str, tuple[str, Callable[[ASGIApp, Breakage], ASGIApp]]] = {
    "extra-field": ("a job answer has a field the spec lacks", _extra_field),
    "adds-metrics": ("job answers carry metrics, as newer deployments do", _adds_metrics),
    "wrong-status": ("delete answers 200 instead of 204", _wrong_status),
    "accepts-invalid-body": ("an invalid create body is accepted", _accepts_invalid_body),
    "ignores-token": ("requests without a token are served", _ignores_token),
    "leaks-other-instance": ("another instance's job is visible", _leaks_other_instance),
}


def breakage(name: str) -> Breakage:
    """The named breakage, ready to wrap the app."""
    description, build = BREAKAGES[name]
    return Breakage(name=name, description=description, build=build)
