"""Deliberate breakages of the emulator, to show that the contract suite catches each one.

Also `adds-a-field`, which makes the emulator answer like a newer deployment (drift).

Each is ASGI middleware put around the emulator's app from outside (`serve(..., wrap=...)`),
never a change inside it, when the suite runs with `--breakage NAME` (repeatable: they combine,
each touching its own requests). tests/integration/test_contract_suite.py runs the suite once
with all of them and expects every one named in the summary.
"""

from __future__ import annotations

import json
import re
from collections.abc import Awaitable, Callable, MutableMapping
from dataclasses import dataclass, field
from typing import Any

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from contract_tests._target import Identity

__all__ = ["BREAKAGES", "Breakage", "breakage", "in_order"]

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


def _list_jobs(scope: Scope) -> bool:
    return bool(scope["method"] == "GET" and scope["path"] == "/v1/jobs")


def _debug_trace(document: Any) -> None:
    for job in document.get("jobs") or []:
        job["debug_trace"] = "internal"


# Every job of a list answer carries a field the spec does not define.
_extra_field = _rewriting(_list_jobs, _json_rewrite(_debug_trace))

# Like a newer deployment (which adds `metrics`): every job answer carries a field the spec does
# not have. Drift, not a broken answer. A made-up name, so that it stays drift when the spec
# gains the fields deployments really add.
_MADE_UP = {"unheard_of": 1200, "nested": {"at": "2025-01-15T10:20:30Z"}}


def _add_made_up(document: Any) -> None:
    for job in (document.get("jobs") or []) if "jobs" in document else [document]:
        job["made_up"] = _MADE_UP


_adds_a_field = _rewriting(
    lambda scope: scope["method"] == "GET" and (scope["path"] == "/v1/jobs" or _get_job(scope)),
    _json_rewrite(_add_made_up),
)


async def _delete_answers_200(scope: Scope, receive: Receive, answer: Answer) -> Answer:
    if answer[0] != 204:
        return answer
    return 200, [(b"content-type", b"application/json")], b'{"deleted": true}'


# A successful delete answers 200 with a body instead of the documented 204.
_wrong_status = _rewriting(lambda scope: scope["method"] == "DELETE", _delete_answers_200)


async def _read(receive: Receive) -> bytes:
    chunks = []
    while True:
        message = await receive()
        chunks.append(message.get("body", b""))
        if not message.get("more_body", False):
            return b"".join(chunks)


def _replay(body: bytes) -> Receive:
    async def receive() -> Message:
        return {"type": "http.request", "body": body, "more_body": False}

    return receive


def _create(scope: Scope) -> bool:
    return bool(
        scope["type"] == "http" and scope["method"] == "POST" and scope["path"] == "/v1/jobs"
    )


def _document(body: bytes) -> dict[str, Any] | None:
    try:
        document = json.loads(body)
    except ValueError:
        return None
    return document if isinstance(document, dict) else None


def _bad_timeout(document: dict[str, Any] | None) -> bool:
    value = (document or {}).get("timeout_secs")
    return document is not None and not (isinstance(value, int) and value >= 1)


# What a create breakage does with a create's body and the app's answer to it: the answer sent.
CreateRewrite = Callable[[ASGIApp, Scope, bytes, Answer], Awaitable[Answer]]


def _on_create(rewrite: Callable[[], CreateRewrite]) -> Callable[[ASGIApp, Breakage], ASGIApp]:
    """A breakage of creates: the app answers the create, then ``rewrite()`` (one per app, so
    that it may keep state) sees the body and the answer and returns the answer sent."""

    def build(app: ASGIApp, breakage: Breakage) -> ASGIApp:
        change = rewrite()

        async def broken(scope: Scope, receive: Receive, send: Send) -> None:
            if not _create(scope):
                await app(scope, receive, send)
                return
            body = await _read(receive)
            start, answer = await _collect(app, scope, _replay(body))
            sent = (start["status"], list(start.get("headers", [])), answer)
            await _answer(send, *await change(app, scope, body, sent))

        return broken

    return build


def _answers_202() -> CreateRewrite:
    async def change(app: ASGIApp, scope: Scope, body: bytes, answer: Answer) -> Answer:
        if answer[0] == 422 and _bad_timeout(_document(body)):
            return 202, [], b""
        return answer

    return change


# A create whose `timeout_secs` breaks its bounds is answered 202 (and not stored).
_accepts_invalid_body = _on_create(_answers_202)


_CREATE_FIELDS = frozenset({"id", "program_id", "backend", "log_level", "timeout_secs", "storage"})


def _lenient_create(app: ASGIApp, breakage: Breakage) -> ASGIApp:
    """Like a server that does not validate what it does not need: unknown fields are dropped
    and a storage type outside the enum is read as `s3_compatible`; the job is then stored."""

    async def broken(scope: Scope, receive: Receive, send: Send) -> None:
        if not _create(scope):
            await app(scope, receive, send)
            return
        body = await _read(receive)
        document = _document(body)
        if document is not None:
            document = {k: v for k, v in document.items() if k in _CREATE_FIELDS}
            storage = document.get("storage")
            for location in storage.values() if isinstance(storage, dict) else ():
                if isinstance(location, dict) and "type" in location:
                    location["type"] = "s3_compatible"
            body = json.dumps(document).encode()
        scope = {
            **scope,
            "headers": [
                (k, str(len(body)).encode() if k.lower() == b"content-length" else v)
                for k, v in scope["headers"]
            ],
        }
        await app(scope, _replay(body), send)

    return broken


def _stores_anyway() -> CreateRewrite:
    last_good: dict[str, Any] = {}

    async def change(app: ASGIApp, scope: Scope, body: bytes, answer: Answer) -> Answer:
        document = _document(body)
        if answer[0] == 204 and document is not None:
            last_good.clear()
            last_good.update(document)
        elif answer[0] == 422 and document is not None and last_good:
            job_id = document.get("id")
            if isinstance(job_id, str) and job_id != last_good.get("id"):
                repaired = json.dumps({**last_good, "id": job_id}).encode()
                await _collect(app, scope, _replay(repaired))
        return answer

    return change


# A create refused with 422 is stored all the same, its body repaired from the last create that
# succeeded (the refusal is what the client sees).
_stores_refused_job = _on_create(_stores_anyway)


def _ignores_service_crn(app: ASGIApp, breakage: Breakage) -> ASGIApp:
    """A known token is served as its own instance whatever `Service-CRN` says, or if absent."""

    async def broken(scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            headers = {k.lower(): v for k, v in scope["headers"]}
            sent = headers.get(b"authorization", b"").decode("latin-1")
            for identity in breakage.identities:
                if sent == f"Bearer {identity.token}":
                    scope = _with_headers(scope, identity)
                    break
        await app(scope, receive, send)

    return broken


async def _not_allowed(scope: Scope, receive: Receive, answer: Answer) -> Answer:
    if answer[0] != 404:
        return answer
    body = {"status_code": 405, "title": "Method Not Allowed", "errors": []}
    return 405, [(b"content-type", b"application/json")], json.dumps(body).encode()


# GET /v1/jobs/{job-id} of an unknown job answers 405 instead of 404, as behind a gateway that
# routes a path only once the service knows it.
_get_job_not_allowed = _rewriting(_get_job, _not_allowed)


def _null_error_fields(document: Any) -> None:
    document["trace"] = None


async def _nulls(scope: Scope, receive: Receive, answer: Answer) -> Answer:
    status, headers, body = answer
    if status < 400:
        return answer
    try:
        document = json.loads(body)
    except ValueError:
        return answer
    if isinstance(document, dict):
        _null_error_fields(document)
    return status, headers, json.dumps(document).encode()


# Error bodies carry `"trace": null` (the spec has a string, possibly empty).
_null_error_bodies = _rewriting(lambda scope: True, _nulls)


def _odd_character(scope: Scope) -> bool:
    if scope["method"] != "GET":
        return False
    match = _JOB_PATH.match(scope["path"])
    job_id = scope["path"].removeprefix("/v1/jobs/")
    return match is not None and re.search(r"[^A-Za-z0-9-]", job_id) is not None


async def _server_error(scope: Scope, receive: Receive, answer: Answer) -> Answer:
    return 500, [(b"content-type", b"text/plain")], b"Internal Server Error"


# Reading a job whose id has a character other than a letter, digit or '-' crashes the server.
_odd_id_crashes = _rewriting(_odd_character, _server_error)


def _ignores_token(app: ASGIApp, breakage: Breakage) -> ASGIApp:
    """A backend request with no credentials is served as if the first instance had sent it.

    Backends only: were jobs served so, every instance's jobs would be public, and a leak of one
    instance's jobs to another (object-level authorization) could not be told apart.
    """

    async def broken(scope: Scope, receive: Receive, send: Send) -> None:
        if (
            scope["type"] == "http"
            and breakage.identities
            and scope["path"].startswith("/v1/backends")
        ):
            names = {k.lower() for k, _ in scope["headers"]}
            if b"authorization" not in names:
                scope = _with_headers(scope, breakage.identities[0])
        await app(scope, receive, send)

    return broken


def _leaks_other_instance(app: ASGIApp, breakage: Breakage) -> ASGIApp:
    """Another instance's jobs are visible: a job it owns is returned instead of 404 (its owner's
    last answer, as through a cache shared by instances, else read again as each instance), and
    a list of jobs holds every instance's."""
    owners_answers: dict[str, Answer] = {}

    async def every_instances_list(scope: Scope, receive: Receive, answer: Answer) -> Answer:
        if answer[0] != 200:
            return answer
        document = json.loads(answer[2])
        jobs = list(document.get("jobs") or [])
        listed = {job.get("id") for job in jobs}
        for identity in breakage.identities:
            again, body = await _collect(app, _with_headers(scope, identity), receive)
            if again["status"] == 200:
                for job in json.loads(body).get("jobs") or []:
                    if job.get("id") not in listed:
                        jobs.append(job)
                        listed.add(job.get("id"))
        return answer[0], answer[1], json.dumps({**document, "jobs": jobs}).encode()

    async def anyones_job(scope: Scope, receive: Receive, answer: Answer) -> Answer:
        if answer[0] == 200:
            owners_answers[scope["path"]] = answer
        if answer[0] != 404:
            return answer
        if scope["path"] in owners_answers:
            return owners_answers[scope["path"]]
        for identity in breakage.identities:
            again, body = await _collect(app, _with_headers(scope, identity), receive)
            if again["status"] == 200:
                return 200, list(again.get("headers", [])), body
        return answer

    async def as_other_instances(scope: Scope, receive: Receive, answer: Answer) -> Answer:
        if _list_jobs(scope):
            return await every_instances_list(scope, receive, answer)
        return await anyones_job(scope, receive, answer)

    return _rewriting(lambda scope: _get_job(scope) or _list_jobs(scope), as_other_instances)(
        app, breakage
    )


# Name -> (what it breaks, middleware). In the order they are put around the app, innermost
# first, when several are combined.
BREAKAGES: MutableMapping[str, tuple[str, Callable[[ASGIApp, Breakage], ASGIApp]]] = {
    "stores-refused-job": ("a job is stored although its create was refused", _stores_refused_job),
    "lenient-create": ("spec-invalid create bodies are accepted and stored", _lenient_create),
    "accepts-invalid-body": (
        "a create with a bad timeout_secs is answered 202",
        _accepts_invalid_body,
    ),
    "leaks-other-instance": ("another instance's job is visible", _leaks_other_instance),
    "extra-field": ("jobs in a list answer have a field the spec lacks", _extra_field),
    "adds-a-field": (
        "job answers carry a field the spec lacks, as newer deployments do",
        _adds_a_field,
    ),
    "wrong-status": ("delete answers 200 instead of 204", _wrong_status),
    "get-job-405": ("GET /v1/jobs/{job-id} of an unknown job answers 405", _get_job_not_allowed),
    "odd-id-500": ("reading a job whose id has an odd character answers 500", _odd_id_crashes),
    "null-error-fields": ('error bodies have "trace": null', _null_error_bodies),
    "ignores-service-crn": ("Service-CRN is not checked", _ignores_service_crn),
    "ignores-token": ("backend requests without a token are served", _ignores_token),
}


def in_order(names: list[str]) -> list[str]:
    """``names`` in the order their middleware is put around the app, innermost first."""
    return [name for name in BREAKAGES if name in names]


def breakage(name: str) -> Breakage:
    """The named breakage, ready to wrap the app."""
    description, build = BREAKAGES[name]
    return Breakage(name=name, description=description, build=build)
