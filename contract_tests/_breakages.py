"""Deliberate breakages of the emulator, to show that the contract suite catches each one.

Also `adds-metrics`, which makes the emulator answer like a newer deployment (drift).

Each is ASGI middleware put around the emulator's app (`serve(..., wrap=...)`) when the suite runs
with `--contract-breakage NAME`; tests/integration/test_contract_suite.py runs the suite once
per breakage and expects it to fail with the check that names the fault.
"""

from __future__ import annotations

import json
import re
from collections.abc import Awaitable, Callable, MutableMapping
from dataclasses import dataclass, field
from typing import Any

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


# An answer as the rewriting breakages see and return it: (status, headers, body).
Answer = tuple[int, list[tuple[bytes, bytes]], bytes]
Rewrite = Callable[[Scope, Receive, Answer], Awaitable[Answer]]


def _rewriting(
    applies: Callable[[Scope], bool], rewrite: Rewrite
) -> Callable[[ASGIApp, Breakage], ASGIApp]:
    """A breakage that runs the app for the requests it ``applies`` to, then rewrites the answer."""

    def build(app: ASGIApp, breakage: Breakage) -> ASGIApp:
        async def broken(scope: Scope, receive: Receive, send: Send) -> None:
            if scope["type"] != "http" or not applies(scope):
                await app(scope, receive, send)
                return
            start, body = await _collect(app, scope, receive)
            answer = (start["status"], list(start.get("headers", [])), body)
            await _answer(send, *await rewrite(scope, receive, answer))

        return broken

    return build


def _get_job(scope: Scope) -> bool:
    return scope["method"] == "GET" and _JOB_PATH.match(scope["path"]) is not None


def _json_rewrite(change: Callable[[Any], None]) -> Rewrite:
    """Rewrite a 200 JSON answer in place with ``change``; other answers pass unchanged."""

    async def rewrite(scope: Scope, receive: Receive, answer: Answer) -> Answer:
        status, headers, body = answer
        if status != 200:
            return answer
        document = json.loads(body)
        change(document)
        return status, headers, json.dumps(document).encode()

    return rewrite


# A job answer carries a field the spec does not define.
_extra_field = _rewriting(_get_job, _json_rewrite(lambda job: job.update(debug_trace="internal")))

# Like a newer deployment (api-notes): every job answer carries `metrics`, which the published
# reference, and so the spec, does not have. Drift, not a broken answer.
_METRICS = {
    "circuits_execution_time_ns": 1200,
    "timestamps": {"created": "2025-01-15T10:20:30Z", "finished": "2025-01-15T10:20:31Z"},
}


def _add_metrics(document: Any) -> None:
    for job in (document.get("jobs") or []) if "jobs" in document else [document]:
        job["metrics"] = _METRICS


_adds_metrics = _rewriting(
    lambda scope: scope["method"] == "GET" and (scope["path"] == "/v1/jobs" or _get_job(scope)),
    _json_rewrite(_add_metrics),
)


async def _delete_answers_200(scope: Scope, receive: Receive, answer: Answer) -> Answer:
    if answer[0] != 204:
        return answer
    return 200, [(b"content-type", b"application/json")], b'{"deleted": true}'


# A successful delete answers 200 with a body instead of the documented 204.
_wrong_status = _rewriting(lambda scope: scope["method"] == "DELETE", _delete_answers_200)


async def _accept(scope: Scope, receive: Receive, answer: Answer) -> Answer:
    return (204, [], b"") if answer[0] == 422 else answer


# A create body that breaks the schema is answered 204 instead of 422.
_accepts_invalid_body = _rewriting(
    lambda scope: scope["method"] == "POST" and scope["path"] == "/v1/jobs", _accept
)


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

    async def as_other_instances(scope: Scope, receive: Receive, answer: Answer) -> Answer:
        if answer[0] != 404:
            return answer
        for identity in breakage.identities:
            again, body = await _collect(app, _with_headers(scope, identity), receive)
            if again["status"] == 200:
                return 200, list(again.get("headers", [])), body
        return answer

    return _rewriting(_get_job, as_other_instances)(app, breakage)


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
