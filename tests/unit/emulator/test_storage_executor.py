"""Storage calls of the executors: every failure becomes the job's documented reason."""

from __future__ import annotations

import httpx
import pytest

from direct_access_emulator.config import ExecutionConfig
from direct_access_emulator.executor import ExecutionFailed, ExecutionRequest
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
