"""The app in process: an unexpected exception answers the documented error shape, no traceback."""

from __future__ import annotations

import asyncio
import json
import logging

import httpx
import pytest

from direct_access_emulator.app import create_app
from direct_access_emulator.config import EmulatorConfig, FaultConfig, OperationFaults
from direct_access_emulator.core import JobService
from direct_access_emulator.executor import ExecutionRequest, ExecutionResult
from direct_access_spec import violations


async def _sign_in(client: httpx.AsyncClient, config: EmulatorConfig) -> str:
    """Exchange the dev API key for a token; the client sends it and the first instance's CRN."""
    answer = await client.post(
        "/identity/token",
        data={"grant_type": "urn:ibm:params:oauth:grant-type:apikey", "apikey": "da-dev-key-1"},
    )
    token = str(answer.json()["access_token"])
    client.headers["Authorization"] = f"Bearer {token}"
    client.headers["Service-CRN"] = config.instances[0].crn
    return token


def _job_body(job_id: str, **fields: object) -> dict[str, object]:
    """A valid create body whose storage URLs point at a closed loopback port."""
    url = "http://127.0.0.1:9/{}"
    return {
        "id": job_id,
        "program_id": "sampler",
        "backend": "fake_backend",
        "timeout_secs": 5,
        **fields,
        "storage": {
            "input": {"type": "s3_compatible", "presigned_url": url.format("i")},
            "results": {"type": "s3_compatible", "presigned_url": url.format("r")},
        },
    }


@pytest.mark.anyio
async def test_an_unexpected_exception_answers_500_in_the_error_shape(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    """A bug inside a handler gives 500 with the ErrorResponse body, no traceback in it."""
    app = create_app(EmulatorConfig())

    def broken(self: JobService, instance: str) -> list[object]:
        raise RuntimeError("secret internals")

    monkeypatch.setattr(JobService, "list", broken)
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://emulator") as client:
        token = await _sign_in(client, EmulatorConfig())
        with caplog.at_level(logging.INFO, logger="direct_access_emulator"):
            response = await client.get("/v1/jobs")
    assert response.status_code == 500
    assert not violations("/components/schemas/ErrorResponse", response.json())
    assert "secret internals" not in response.text
    assert "Traceback" not in response.text
    access = [json.loads(r.getMessage()) for r in caplog.records if r.name.endswith(".access")]
    assert access[-1]["status"] == 500
    assert token not in caplog.text


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


class _RecordingExecutor:
    """An executor that completes each job at once and remembers what it was asked."""

    def __init__(self) -> None:
        self.requests: list[ExecutionRequest] = []
        self.closed = False

    async def execute(self, request: ExecutionRequest) -> ExecutionResult:
        self.requests.append(request)
        return ExecutionResult(quantum_nanoseconds=42)

    async def aclose(self) -> None:
        self.closed = True


@pytest.mark.anyio
async def test_an_injected_executor_runs_the_jobs() -> None:
    """create_app(executor=...) runs jobs through the given Executor (the seam later ones use)."""
    executor = _RecordingExecutor()
    app = create_app(EmulatorConfig(), executor=executor)
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://emulator") as client:
        await _sign_in(client, EmulatorConfig())
        body = _job_body("injected", log_level="debug")
        assert (await client.post("/v1/jobs", json=body)).status_code == 204
        deadline = asyncio.get_running_loop().time() + 5
        job = (await client.get("/v1/jobs/injected")).json()
        while job["status"] == "Running":
            assert asyncio.get_running_loop().time() < deadline
            await asyncio.sleep(0.01)
            job = (await client.get("/v1/jobs/injected")).json()
    assert job["usage"] == {"quantum_nanoseconds": 42}
    assert executor.requests[0].log_level == "debug"
    assert executor.requests[0].logs_url is None


@pytest.mark.anyio
async def test_in_process_a_drop_after_commit_answers_503_and_the_job_exists() -> None:
    """Without a server that can drop connections (ASGI in process), the lost answer is a 503."""
    faults = FaultConfig(operations={"create_job": OperationFaults(drop_after_commit=1.0)})
    config = EmulatorConfig(faults=faults)
    app = create_app(config, executor=_RecordingExecutor())
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://emulator") as client:
        await _sign_in(client, config)
        lost = await client.post("/v1/jobs", json=_job_body("committed"))
        assert lost.status_code == 503
        assert not violations("/components/schemas/ErrorResponse", lost.json())
        assert (await client.get("/v1/jobs/committed")).status_code == 200
