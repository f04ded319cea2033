"""Unit-test fixtures of the client: a strict fake service on `httpx.MockTransport`.

The `Service` answers only the (method, path) routes a test scripts; any other request fails
the test, so a client that sends an extra or wrong request cannot pass.
"""

from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import Callable, Iterator
from typing import Any

import httpx
import pytest
import stamina

from direct_access import Settings

API = "https://da.example.test"
IAM = "https://iam.example.test"
KEY = "unit-api-key-5ecret"
TOKEN = "unit-token-5ecret"  # noqa: S105 - a fake, for leak checks

Answer = httpx.Response | Callable[[httpx.Request], httpx.Response]


def error_body(status: int, code: str = "1291", message: str = "Job not found.") -> dict[str, Any]:
    """An ErrorResponse as the spec describes it."""
    return {
        "status_code": status,
        "title": "Error",
        "trace": "tr-1",
        "correlation_id": "co-1",
        "errors": [{"code": code, "message": message, "more_info": "https://docs.example"}],
    }


def job_body(job_id: str = "j-1", status: str = "Running", **extra: Any) -> dict[str, Any]:
    """A Job document valid under the spec."""
    return {
        "id": job_id,
        "backend": "ibm_test",
        "program_id": "sampler",
        "status": status,
        "created_time": "2025-01-15T10:20:30Z",
        **extra,
    }


class Service:
    """Scripted answers per route, consumed in order; the last one repeats if ``repeat``."""

    def __init__(self) -> None:
        self.routes: dict[tuple[str, str], list[Answer]] = defaultdict(list)
        self.repeat: set[tuple[str, str]] = set()
        self.requests: list[httpx.Request] = []

    def add(self, method: str, path: str, *answers: Answer, repeat: bool = False) -> None:
        self.routes[(method, path)].extend(answers)
        if repeat:
            self.repeat.add((method, path))

    def json(self, method: str, path: str, status: int, body: Any, **kw: Any) -> None:
        self.add(method, path, httpx.Response(status, json=body), **kw)

    def token(self, *, expires_in: int = 3600, token: str = TOKEN, repeat: bool = True) -> None:
        self.json(
            "POST",
            "/identity/token",
            200,
            {"access_token": token, "token_type": "Bearer", "expires_in": expires_in},
            repeat=repeat,
        )

    def calls(self, method: str, path: str) -> list[httpx.Request]:
        return [
            r
            for r in self.requests
            if r.method == method and r.url.raw_path.decode().split("?")[0] == path
        ]

    def handle(self, request: httpx.Request) -> httpx.Response:
        request.read()
        # A snapshot: auth flows mutate and re-send the same request object.
        self.requests.append(
            httpx.Request(
                request.method,
                request.url,
                headers=request.headers.copy(),
                content=request.content,
                extensions=dict(request.extensions),
            )
        )
        key = (request.method, request.url.raw_path.decode().split("?")[0])
        answers = self.routes.get(key)
        if not answers:
            pytest.fail(f"unexpected request {key}")
        answer = answers[0] if (len(answers) == 1 and key in self.repeat) else answers.pop(0)
        return answer(request) if callable(answer) else answer

    async def ahandle(self, request: httpx.Request) -> httpx.Response:
        await request.aread()
        return self.handle(request)

    def transport(self) -> httpx.MockTransport:
        return httpx.MockTransport(self.handle)

    def async_transport(self) -> httpx.MockTransport:
        return httpx.MockTransport(self.ahandle)


@pytest.fixture
def service() -> Service:
    """A fresh scripted service."""
    return Service()


@pytest.fixture
def settings() -> Settings:
    """Settings with an API key against the fake hosts."""
    return Settings(url=API, service_crn="crn:v1:unit", api_key=KEY, iam_url=IAM)


@pytest.fixture(autouse=True)
def no_retry_sleeps() -> Iterator[None]:
    """stamina's testing mode: retries happen without sleeping, attempts as configured."""
    with stamina.set_testing(True, attempts=100, cap=True):
        yield


def body_of(request: httpx.Request) -> Any:
    """The JSON body a request carried."""
    return json.loads(request.content)
