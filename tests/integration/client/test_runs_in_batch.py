"""Runs in a batch on a shared `AsyncClient`: one run's failure neither closes the client nor
strands other runs' jobs; every run frees its lane and removes its objects on every exit path."""

from __future__ import annotations

import asyncio
import threading
import uuid
from collections.abc import Iterator
from dataclasses import fields
from typing import Any

import pytest

from direct_access import (
    AsyncClient,
    Client,
    JobTimeoutError,
    RetryPolicy,
    RunResult,
    Settings,
    TooManyJobsError,
)
from direct_access.storage import PreparedStorage, S3Storage
from direct_access_emulator.config import EmulatorConfig, ExecutionConfig
from direct_access_emulator.testing import RunningEmulator, serve
from tests.integration.client.conftest import SAMPLER_PARAMS

RUNS = 7  # on the emulator's backend of 5 lanes
#: Long enough that 7 submits made together meet 5 busy lanes.
JOB_SECS = 1.5


@pytest.fixture(scope="module")
def slow_emulator() -> Iterator[RunningEmulator]:
    """An emulator whose jobs take JOB_SECS, with the default 5 lanes."""
    with serve(EmulatorConfig(execution=ExecutionConfig(duration_secs=JOB_SECS))) as running:
        yield running


def _left(settings: Settings) -> list[str]:
    with Client(settings) as c:
        return [job.id for job in c.list_jobs()]


def _objects(storage: S3Storage, job_id: str) -> int:
    listed = storage.s3().list_objects_v2(
        Bucket=storage.bucket, Prefix=f"{storage.prefix}{job_id}/"
    )
    return int(listed.get("KeyCount", 0))


async def _batch(
    client: AsyncClient, settings: Settings, storage: S3Storage, ids: list[str], **gather: bool
) -> list[RunResult | BaseException]:
    runs = [
        client.run(
            settings.backend or "",
            "sampler",
            SAMPLER_PARAMS,
            storage=storage,
            timeout_secs=60,
            wait_timeout=30,
            poll_interval=0.1,
            job_id=job_id,
        )
        for job_id in ids
    ]
    return list(await asyncio.gather(*runs, **gather))


def test_a_failed_run_leaves_the_shared_client_open_and_the_others_finish(
    slow_emulator: RunningEmulator, storage: S3Storage
) -> None:
    """7 runs on 5 lanes with return_exceptions: the refused ones raise TooManyJobsError, the
    others complete, the client still works, and no job or object is left."""
    settings = Settings.from_env(slow_emulator.env())
    ids = [f"batch-{uuid.uuid4()}" for _ in range(RUNS)]

    async def main() -> tuple[list[RunResult | BaseException], int]:
        async with AsyncClient(settings) as client:
            outcomes = await _batch(client, settings, storage, ids, return_exceptions=True)
            return outcomes, len(await client.list_backends())

    outcomes, backends = asyncio.run(main())
    refused = [o for o in outcomes if isinstance(o, TooManyJobsError)]
    done = [o for o in outcomes if isinstance(o, RunResult)]
    assert len(refused) + len(done) == RUNS, outcomes
    assert refused, outcomes
    assert len(done) >= 5, outcomes
    assert backends >= 1  # the client was not closed by the failures
    assert _left(settings) == []
    assert [_objects(storage, job_id) for job_id in ids] == [0] * RUNS


def test_leaving_the_client_with_runs_in_flight_strands_no_job(
    slow_emulator: RunningEmulator, storage: S3Storage
) -> None:
    """gather without return_exceptions inside ``async with``: the first 429 leaves the block,
    the client cancels the runs still in flight and deletes their jobs before it closes."""
    settings = Settings.from_env(slow_emulator.env())
    ids = [f"strand-{uuid.uuid4()}" for _ in range(RUNS)]

    async def main() -> None:
        async with AsyncClient(settings) as client:
            await _batch(client, settings, storage, ids)

    with pytest.raises(TooManyJobsError):
        asyncio.run(main())
    assert _left(settings) == []
    assert [_objects(storage, job_id) for job_id in ids] == [0] * RUNS


def test_the_patient_batch_runs_every_job(
    slow_emulator: RunningEmulator, storage: S3Storage
) -> None:
    """The README's batch pattern: waiting for free lanes, all 7 runs complete."""
    settings = Settings.from_env(slow_emulator.env())
    ids = [f"patient-{uuid.uuid4()}" for _ in range(RUNS)]
    policy = RetryPolicy(retry_lanes_full=True, busy_wait=0.2, busy_wait_max=0.5)

    async def main() -> list[RunResult | BaseException]:
        async with AsyncClient(settings, retry=policy) as client:
            return await _batch(client, settings, storage, ids, return_exceptions=True)

    outcomes = asyncio.run(main())
    assert all(isinstance(o, RunResult) for o in outcomes), outcomes
    assert _left(settings) == []


def test_a_run_keeps_its_objects_only_when_asked(
    slow_emulator: RunningEmulator, storage: S3Storage
) -> None:
    """keep_objects=True leaves input, results and logs; by default they go, also when the
    run ends in JobTimeoutError."""
    settings = Settings.from_env(slow_emulator.env())
    kept, timed_out = f"kept-{uuid.uuid4()}", f"timeout-{uuid.uuid4()}"
    with Client(settings) as c:
        c.run(
            settings.backend or "",
            "sampler",
            SAMPLER_PARAMS,
            storage=storage,
            timeout_secs=60,
            wait_timeout=30,
            poll_interval=0.1,
            job_id=kept,
            keep_objects=True,
        )
        with pytest.raises(JobTimeoutError):
            c.run(
                settings.backend or "",
                "sampler",
                SAMPLER_PARAMS,
                storage=storage,
                timeout_secs=60,
                wait_timeout=0.3,
                poll_interval=0.1,
                job_id=timed_out,
            )
    assert _objects(storage, kept) >= 2  # input and results (logs too when written)
    assert _objects(storage, timed_out) == 0
    assert storage.delete_job_objects(kept) >= 2
    assert _objects(storage, kept) == 0
    assert _left(settings) == []


class _HeldUpload(S3Storage):
    """The real storage, whose upload waits (in its worker thread) until released."""

    started: threading.Event
    release: threading.Event

    def prepare(self, job_id: str, params: Any, timeout_secs: int) -> PreparedStorage:
        self.started.set()
        assert self.release.wait(30), "the test never released the upload"
        return super().prepare(job_id, params, timeout_secs)


def test_a_run_cancelled_during_its_upload_leaves_no_object(
    slow_emulator: RunningEmulator, storage: S3Storage
) -> None:
    """Cancelled while the input is being uploaded (a thread that cannot be stopped): the
    cancellation waits for the upload, then the cleanup removes what it wrote; no job is made."""
    settings = Settings.from_env(slow_emulator.env())
    held = _HeldUpload(**{f.name: getattr(storage, f.name) for f in fields(S3Storage) if f.init})
    held.started, held.release = threading.Event(), threading.Event()
    job_id = f"upload-{uuid.uuid4()}"

    async def main() -> None:
        async with AsyncClient(settings) as client:
            run = asyncio.ensure_future(_batch(client, settings, held, [job_id]))
            assert await asyncio.to_thread(held.started.wait, 30)
            run.cancel()  # while the upload is held: the run is awaiting its thread
            held.release.set()
            with pytest.raises(asyncio.CancelledError):
                await run

    asyncio.run(main())
    assert _objects(storage, job_id) == 0
    assert _left(settings) == []
