"""Storage calls of the executors: every failure becomes the job's documented reason."""

from __future__ import annotations

from urllib.parse import urlsplit

import httpx
import pytest

from direct_access_emulator.config import ExecutionConfig
from direct_access_emulator.executor import ExecutionFailed, ExecutionRequest, url_host
from direct_access_emulator.shape import ShapeCheckingExecutor

_GOOD = "http://127.0.0.1:9000/bucket/object"


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


def _request(**urls: str) -> ExecutionRequest:
    values = {"input_url": _GOOD, "results_url": _GOOD, "logs_url": _GOOD, **urls}
    return ExecutionRequest(
        job_id="j1", program_id="sampler", backend="fake_backend", log_level="info", **values
    )


def _unexpected(request: httpx.Request) -> httpx.Response:
    raise AssertionError(f"no request was expected: {request.method} {request.url.path}")


@pytest.mark.anyio
@pytest.mark.parametrize(
    ("role", "url", "code"),
    [
        ("input_url", "http://127.0.0.1:99999/x", 1001),
        ("input_url", "http://127.0.0.1:port/x", 1001),
        ("results_url", "http://127.0.0.1:99999/x", 1006),
        ("logs_url", "http://127.0.0.1:70000/x", 1006),
    ],
)
async def test_a_url_with_a_bad_port_fails_the_job_before_any_request(
    role: str, url: str, code: int
) -> None:
    """A port out of range or not a number fails the job with its role's code, unfetched."""
    executor = ShapeCheckingExecutor(
        ExecutionConfig(duration_secs=0), transport=httpx.MockTransport(_unexpected)
    )
    with pytest.raises(ExecutionFailed) as caught:
        await executor.execute(_request(**{role: url}))
    assert caught.value.reason.code == code
    assert "port" in caught.value.reason.message.lower()
    await executor.aclose()


class _Exploding(httpx.AsyncBaseTransport):
    """A transport failing as httpx's connection layer can: with a non-httpx exception."""

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        raise ExceptionGroup("connect", [OverflowError("port must be 0-65535.")])


@pytest.mark.anyio
async def test_an_unexpected_error_reading_the_input_fails_with_1001() -> None:
    """An exception that is not an httpx.HTTPError while reading the input gives reason 1001."""
    executor = ShapeCheckingExecutor(ExecutionConfig(duration_secs=0), transport=_Exploding())
    with pytest.raises(ExecutionFailed) as caught:
        await executor.execute(_request())
    assert caught.value.reason.code == 1001
    await executor.aclose()


@pytest.mark.anyio
async def test_an_unexpected_error_writing_fails_with_1006() -> None:
    """An exception that is not an httpx.HTTPError while writing results gives reason 1006."""
    executor = ShapeCheckingExecutor(ExecutionConfig(duration_secs=0), transport=_Exploding())
    with pytest.raises(ExecutionFailed) as caught:
        await executor._put(_GOOD, "results", b"{}", "application/json")
    assert caught.value.reason.code == 1006
    await executor.aclose()


def test_httpx_request_logs_hide_presigned_signatures(caplog: pytest.LogCaptureFixture) -> None:
    """Once an executor exists, httpx's INFO record of a storage call carries no URL query."""
    ShapeCheckingExecutor(ExecutionConfig())
    signed = f"{_GOOD}?X-Amz-Credential=AK%2Fscope&X-Amz-Signature=deadbeef"

    def answer(request: httpx.Request) -> httpx.Response:
        assert str(request.url) == signed  # the request itself keeps its signature
        return httpx.Response(200, content=b"{}")

    with (
        caplog.at_level("INFO", logger="httpx"),
        httpx.Client(transport=httpx.MockTransport(answer)) as http,
    ):
        http.get(signed)
    logged = "\n".join(record.getMessage() for record in caplog.records)
    assert "/bucket/object" in logged
    assert "deadbeef" not in logged
    assert "X-Amz-Credential" not in logged


def _urlsplit_verdict(url: str) -> str:
    """What the host check read from a URL before its authorities were kept: urlsplit's."""
    try:
        parts = urlsplit(url)
        host = (parts.hostname or "").lower()
        parts.port  # noqa: B018 - raises ValueError when out of range or not a number
    except ValueError as error:
        return f"ValueError: {error}"
    return host


def _verdict(url: str) -> str:
    try:
        return url_host(url)
    except ValueError as error:
        return f"ValueError: {error}"


_TRICKY_URLS = [
    _GOOD,
    "http://Storage.Example:8333/b/o?X-Amz-Signature=ab#frag",
    "HTTPS://UPPER.example/x",
    "http://127.0.0.1:99999/x",
    "http://127.0.0.1:port/x",
    "http://127.0.0.1:/x",
    "http://:80/x",
    "http:///x",
    "http://user:pw@evil.example@storage.example:1/x",
    "http://storage.example?x=/y",
    "http://storage.example#/y",
    "http://storage.example",
    "http://[::1]:8333/x",
    "http://[fe80::1%25eTh0]:1/x",
    "http://[::1/x",
    "http://::1]/x",
    "http://[v1.fe]/x",
    "http://st\torage.example/x",
    "http://storage.example\t:99999/x",
    "http:/\t/evil.example/x",
    " http://evil.example/x",
    "\x00http://evil.example/x",
    "http://storage.example /x",
    "http://storage.example:8\n0/x",
    "http://\uff21.example/x",
    "http://ex\u2100ample/x",
    "http://storage.example:\u0661\u0662/x",
    "http://storage.example:+80/x",
    "http://storage.example:-1/x",
    "http://storage.example:0/x",
    "http://storage.example:65535/x",
    "http://storage.example:65536/x",
    "ht!tp://storage.example/x",
    "1http://storage.example/x",
    "//storage.example/x",
    "storage.example/x",
    "mailto:someone@example",
    "",
]


@pytest.mark.parametrize("url", _TRICKY_URLS)
def test_the_host_check_reads_each_url_as_urlsplit_does(url: str) -> None:
    """Keeping each authority's verdict changes no host, and no refusal or its message."""
    assert _verdict(url) == _urlsplit_verdict(url)
    assert _verdict(url) == _urlsplit_verdict(url)  # again, from what was kept


def test_a_malformed_authority_is_refused_each_time() -> None:
    """A refused authority is not kept as a host: its next use is refused the same way."""
    url = "http://storage.example:99999/x"
    for _ in range(2):
        with pytest.raises(ValueError, match="out of range"):
            url_host(url)
