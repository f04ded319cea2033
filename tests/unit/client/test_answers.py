"""Bad answers typed: any malformed success answer (any depth, any shape, a wrong content type)
is an `InvalidResponseError` naming the operation; list methods return only models."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any

import httpx
import pytest

from direct_access import (
    APIError,
    AsyncClient,
    AuthenticationError,
    Client,
    InvalidResponseError,
    Job,
    Settings,
    StrictMode,
)
from tests.unit.client.conftest import Service, job_body

DEEP = "[" * 100_000 + "]" * 100_000
# Deep, yet within what json.loads reads: it is the checks after parsing that must not recurse.
MEDIUM = '{"jobs": ' + "[" * 900 + "]" * 900 + "}"


@pytest.fixture(params=[False, True], ids=["lenient", "strict"])
def strict(request: pytest.FixtureRequest) -> bool:
    """Both without and with strict mode."""
    return bool(request.param)


def _json(text: str, status: int = 200, content_type: str = "application/json") -> httpx.Response:
    return httpx.Response(status, content=text.encode(), headers={"Content-Type": content_type})


@pytest.mark.parametrize(
    "case",
    [
        ("/v1/jobs", Client.list_jobs, _json('{"jobs": [{"x": 1}]}')),
        ("/v1/jobs", Client.list_jobs, _json('{"jobs": "abc"}')),
        ("/v1/jobs", Client.list_jobs, _json('{"jobs": 5}')),
        ("/v1/jobs", Client.list_jobs, _json('{"jobs": [5]}')),
        ("/v1/jobs", Client.list_jobs, _json("[]")),
        ("/v1/jobs", Client.list_jobs, _json("5")),
        ("/v1/jobs", Client.list_jobs, _json(DEEP)),
        ("/v1/jobs", Client.list_jobs, _json('{"jobs": ' + DEEP + "}")),
        ("/v1/jobs", Client.list_jobs, _json(MEDIUM)),
        ("/v1/jobs", Client.list_jobs, _json('{"jobs": []}', content_type="text/html")),
        ("/v1/jobs/j", lambda c: c.get_job("j"), _json('"a string"')),
        ("/v1/jobs/j", lambda c: c.get_job("j"), _json('{"id": "j", "status": {"a": 1}}')),
        ("/v1/backends", Client.list_backends, _json('{"backends": [[]]}')),
        ("/versions", Client.list_versions, _json('{"versions": [1, 2]}')),
        ("/version", Client.get_version, _json("null")),
    ],
)
def test_a_malformed_success_answer_is_invalid_response_naming_the_operation(
    service: Service,
    settings: Settings,
    case: tuple[str, Callable[[Client], Any], httpx.Response],
    strict: bool,
) -> None:
    """Never a RecursionError, TypeError, raw dicts or characters: InvalidResponseError."""
    path, call, answer = case
    service.token()
    service.add("GET", path, answer)
    with (
        Client(settings, transport=service.transport(), strict=strict) as c,
        pytest.raises(InvalidResponseError) as caught,
    ):
        call(c)
    assert caught.value.operation_id is not None
    assert caught.value.operation_id in str(caught.value)


def test_list_jobs_returns_only_jobs(service: Service, settings: Settings) -> None:
    """A well-formed list gives Job models, and null gives an empty list."""
    service.token()
    service.json("GET", "/v1/jobs", 200, {"jobs": [job_body("a"), job_body("b")]})
    service.json("GET", "/v1/jobs", 200, {"jobs": None})
    with Client(settings, transport=service.transport()) as c:
        jobs = c.list_jobs()
        assert [type(j) for j in jobs] == [Job, Job]
        assert c.list_jobs() == []


def test_async_client_types_bad_answers_too(service: Service, settings: Settings) -> None:
    """The same check for AsyncClient: a 200 text/html is refused."""
    service.token()
    service.add("GET", "/v1/jobs", _json('{"jobs": []}', content_type="text/html"))

    async def main() -> None:
        async with AsyncClient(settings, transport=service.async_transport()) as c:
            await c.list_jobs()

    with pytest.raises(InvalidResponseError, match="list_jobs"):
        asyncio.run(main())


def test_a_deeply_nested_error_body_is_still_the_typed_error(
    service: Service, settings: Settings
) -> None:
    """A 404 whose body nests 100,000 deep: NotFoundError with the text, no RecursionError."""
    service.token()
    service.add("GET", "/v1/jobs/j", _json(DEEP, status=404))
    with (
        Client(settings, transport=service.transport(), strict=StrictMode()) as c,
        pytest.raises(APIError) as caught,
    ):
        c.get_job("j")
    assert caught.value.status_code == 404


def test_a_deeply_nested_iam_answer_is_an_authentication_error(
    service: Service, settings: Settings
) -> None:
    """IAM answering 200 with 100,000-deep JSON: IAMError (no token), not RecursionError."""
    service.add("POST", "/identity/token", _json(DEEP))
    with (
        Client(settings, transport=service.transport()) as c,
        pytest.raises(AuthenticationError),
    ):
        c.list_jobs()
