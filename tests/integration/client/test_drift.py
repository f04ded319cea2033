"""The client against a drifting deployment (the emulator's [drift] profile) over real HTTP."""

from __future__ import annotations

import datetime
from collections.abc import Iterator

import pytest

from direct_access import (
    AsyncClient,
    Client,
    DriftError,
    JobStatus,
    JobTimeoutError,
    Settings,
    job_metrics,
)
from direct_access.storage import S3Storage
from direct_access_api.models import Usage
from direct_access_emulator.config import DriftConfig, EmulatorConfig, ExecutionConfig
from direct_access_emulator.testing import RunningEmulator, serve
from tests.integration.client.conftest import SAMPLER_PARAMS

LAG_SECS = 2.0


@pytest.fixture(scope="module")
def emulator() -> Iterator[RunningEmulator]:
    """A deployment that adds metrics and reports Completed LAG_SECS before they are final."""
    config = EmulatorConfig(
        execution=ExecutionConfig(duration_secs=0.05),
        drift=DriftConfig(metrics=True, metrics_lag_secs=LAG_SECS),
    )
    with serve(config) as running:
        yield running


def _submit(c: Client, storage: S3Storage, job_id: str) -> str:
    prepared = storage.prepare(job_id, SAMPLER_PARAMS, 60)
    backend = c.list_backends()[0].name
    return c.submit(
        backend=backend, program_id="sampler", storage=prepared, timeout_secs=60, job_id=job_id
    )


def test_strict_mode_names_metrics_as_drift(settings: Settings, storage: S3Storage) -> None:
    """Get job and List jobs answer DriftError naming /metrics unless drift is allowed."""
    with Client(settings, strict=True) as c:
        job_id = _submit(c, storage, "drift-strict")
        with pytest.raises(DriftError) as caught:
            c.get_job(job_id)
        assert caught.value.fields == ("/metrics",)
        with pytest.raises(DriftError) as listed:
            c.list_jobs()
        assert listed.value.fields == ("/jobs/0/metrics",)
    with Client(settings, strict=True, allow_drift=True) as c:
        c.wait(job_id, timeout=30, poll_interval=0.05)
        c.delete_job(job_id)


def test_allowed_drift_reads_metrics_and_wait_until_they_are_final(
    settings: Settings, storage: S3Storage
) -> None:
    """Completed comes first without the execution time; wait(until_metrics=True) returns only
    once metrics hold it, and times out at its deadline before then."""
    with Client(settings, strict=True, allow_drift=True) as c:
        job_id = _submit(c, storage, "drift-allowed")
        running = c.get_job(job_id)
        metrics = job_metrics(running)
        assert metrics is not None
        assert metrics.created == running.created_time
        completed = c.wait(job_id, timeout=30, poll_interval=0.05)
        assert completed.status is JobStatus.COMPLETED
        early = job_metrics(completed)
        assert early is not None
        assert early.circuits_execution_time_ns is None
        assert early.finished is None
        with pytest.raises(JobTimeoutError) as caught:
            c.wait(job_id, timeout=0.2, poll_interval=0.05, until_metrics=True)
        assert caught.value.last is not None
        assert caught.value.last.status is JobStatus.COMPLETED
        final = c.wait(job_id, timeout=LAG_SECS + 30, poll_interval=0.05, until_metrics=True)
        done = job_metrics(final)
        assert done is not None
        assert isinstance(final.usage, Usage)
        assert done.circuits_execution_time_ns == final.usage.quantum_nanoseconds
        assert isinstance(final.end_time, datetime.datetime)
        assert done.finished is not None
        assert done.finished - final.end_time == datetime.timedelta(seconds=LAG_SECS)
        assert [job_metrics(j) for j in c.list_jobs()] == [done]
        c.delete_job(job_id)


@pytest.mark.anyio
async def test_the_async_client_waits_until_metrics_too(
    settings: Settings, storage: S3Storage
) -> None:
    """AsyncClient.wait(until_metrics=True) returns a job whose metrics hold the execution time."""
    with Client(settings, strict=True, allow_drift=True) as c:
        job_id = _submit(c, storage, "drift-async")
    async with AsyncClient(settings, strict=True, allow_drift=True) as c:
        final = await c.wait(job_id, timeout=LAG_SECS + 30, poll_interval=0.05, until_metrics=True)
        done = job_metrics(final)
        assert final.status is JobStatus.COMPLETED
        assert done is not None
        assert done.circuits_execution_time_ns is not None
        await c.delete_job(job_id)
