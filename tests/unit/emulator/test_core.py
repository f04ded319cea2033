"""The plain-Python core: lifecycle, lanes, reservations and ownership, on both stores."""

from __future__ import annotations

import datetime
import json
import sqlite3
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

import pytest

from direct_access_emulator.config import BackendConfig, EmulatorConfig, Reservation
from direct_access_emulator.core import (
    BackendReserved,
    CreateJob,
    DuplicateJob,
    JobNotCancellable,
    JobNotFound,
    JobNotTerminal,
    JobService,
    JobStatus,
    LanesFull,
    UnknownBackend,
)
from direct_access_emulator.reasons import Reason
from direct_access_emulator.store import MemoryJobStore, SqliteJobStore

NOON = datetime.datetime(2026, 3, 1, 12, 0, tzinfo=datetime.UTC)
STORAGE = {"input": {"type": "s3_compatible", "presigned_url": "http://127.0.0.1/i"}}


class Clock:
    def __init__(self) -> None:
        self.now = NOON

    def __call__(self) -> datetime.datetime:
        return self.now


@pytest.fixture(params=["memory", "sqlite"])
def service(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[JobService]:
    store = MemoryJobStore() if request.param == "memory" else SqliteJobStore(tmp_path / "j.db")
    config = EmulatorConfig(
        backends=(
            BackendConfig(name="b", lanes=2),
            BackendConfig(
                name="r",
                reservations=(Reservation(NOON, NOON + datetime.timedelta(hours=1)),),
            ),
        )
    )
    yield JobService(config, store, clock=Clock())
    store.close()


def _command(job_id: str, backend: str = "b") -> CreateJob:
    return CreateJob(
        job_id=job_id,
        program_id="sampler",
        backend=backend,
        log_level="warning",
        timeout_secs=10,
        storage=STORAGE,
    )


def _create(service: JobService, job_id: str, instance: str = "A", backend: str = "b") -> None:
    service.create(instance, _command(job_id, backend))


def test_a_job_runs_until_it_completes(service: JobService) -> None:
    """A created job is Running; completing it sets end_time and usage."""
    _create(service, "j1")
    assert service.get("A", "j1").status is JobStatus.RUNNING
    done = service.complete("A", "j1", 1500)
    assert done is not None
    assert done.status is JobStatus.COMPLETED
    assert done.document()["usage"] == {"quantum_nanoseconds": 1500}
    assert done.document()["end_time"] == "2026-03-01T12:00:00.000000Z"


def test_a_cancelled_job_ignores_a_late_outcome(service: JobService) -> None:
    """Once cancelled, a late completion or failure changes nothing; a second cancel is refused."""
    _create(service, "j1")
    service.cancel("A", "j1")
    assert service.complete("A", "j1", 1) is None
    assert service.fail("A", "j1", Reason(1, "m", "s")) is None
    assert service.get("A", "j1").status is JobStatus.CANCELLED
    with pytest.raises(JobNotCancellable):
        service.cancel("A", "j1")


def test_delete_needs_a_terminal_job_and_frees_its_lane(service: JobService) -> None:
    """Lanes are held until delete; deleting a running job is refused."""
    _create(service, "j1")
    _create(service, "j2")
    with pytest.raises(LanesFull):
        _create(service, "j3")
    with pytest.raises(JobNotTerminal):
        service.delete("A", "j1")
    service.fail("A", "j1", Reason(1001, "m", "s"))
    with pytest.raises(LanesFull):
        _create(service, "j3")
    service.delete("A", "j1")
    _create(service, "j3")
    assert service.lanes_held("b") == 2


def test_the_checks_come_in_the_order_a_retry_needs(service: JobService) -> None:
    """Unknown backend first, then a duplicate id, then the reservation, then the lanes."""
    with pytest.raises(UnknownBackend):
        _create(service, "j1", backend="nope")
    _create(service, "j1")
    _create(service, "j2")
    with pytest.raises(DuplicateJob):
        _create(service, "j1")
    with pytest.raises(BackendReserved):
        _create(service, "j9", backend="r")


def test_a_reservation_ends(service: JobService) -> None:
    """Outside the window the reserved backend accepts jobs again."""
    assert isinstance(service.clock, Clock)
    service.clock.now = NOON + datetime.timedelta(hours=1)
    _create(service, "j1", backend="r")
    assert not service.reserved("r")


def test_jobs_belong_to_their_instance(service: JobService) -> None:
    """Another instance neither finds nor lists the job, and may reuse its id."""
    _create(service, "j1", instance="A")
    with pytest.raises(JobNotFound):
        service.get("B", "j1")
    assert service.list("B") == []
    _create(service, "j1", instance="B")
    assert [job.instance for job in service.list("A") + service.list("B")] == ["A", "B"]


def test_a_time_out_cancels_with_a_reason(service: JobService) -> None:
    """time_out moves a running job to Cancelled with code 1008 naming the limit."""
    _create(service, "j1")
    job = service.time_out("A", "j1")
    assert job is not None
    assert job.status is JobStatus.CANCELLED
    assert job.reason is not None
    assert job.reason.code == 1008
    assert "10 seconds" in job.reason.message


def test_sqlite_recovers_running_jobs_as_failed(tmp_path: Path) -> None:
    """Jobs Running in the file when it opens come back Failed (1007); finished ones unchanged."""
    path = tmp_path / "jobs.db"
    store = SqliteJobStore(path)
    service = JobService(EmulatorConfig(), store, clock=Clock())
    for job_id in ("done", "cut"):
        service.create("A", _command(job_id, backend="fake_backend"))
    service.complete("A", "done", 7)
    store.close()
    reopened = SqliteJobStore(path)
    done, cut = reopened.get("A", "done"), reopened.get("A", "cut")
    assert done is not None
    assert cut is not None
    assert (done.status, done.quantum_nanoseconds) == (JobStatus.COMPLETED, 7)
    assert cut.status is JobStatus.FAILED
    assert cut.reason is not None
    assert cut.reason.code == 1007
    assert cut.end_time is not None
    reopened.close()
    with sqlite3.connect(path) as db:
        record = json.loads(db.execute("SELECT record FROM jobs WHERE id = 'cut'").fetchone()[0])
    assert record["status"] == "Failed"


@pytest.mark.parametrize(
    ("injected", "refusal"),
    [({"reserved": True}, BackendReserved), ({"lanes_full": True}, LanesFull)],
)
def test_injected_refusals_come_after_the_duplicate_check(
    service: JobService, injected: dict[str, bool], refusal: type[Exception]
) -> None:
    """An injected 423/429 refuses a new id, but a stored id is a duplicate first."""
    _create(service, "j1")
    with pytest.raises(DuplicateJob):
        service.create("A", _command("j1"), **injected)
    with pytest.raises(refusal):
        service.create("A", _command("j2"), **injected)
    assert [job.id for job in service.list("A")] == ["j1"]


@pytest.mark.parametrize(
    "program_id",
    ["sampler", 'quo"te\\back\nline\ttab\x01\x7f', "caf\u00e9 \u91cf\u5b50 \U0001f600"],
)
def test_a_job_document_is_encoded_as_json_dumps_encodes_it(
    service: JobService, program_id: str
) -> None:
    """The cached encoding (orjson) is the bytes `json.dumps` gives, ASCII only, escapes and all."""
    service.create("A", replace(_command("j1"), program_id=program_id))
    job = service.get("A", "j1")
    expected = json.dumps(job.document(), ensure_ascii=True, separators=(",", ":"))
    assert job.document_json.decode("ascii") == expected
    assert json.loads(job.document_json)["program_id"] == program_id


def test_a_listing_is_oldest_first_even_when_the_clock_went_back(service: JobService) -> None:
    """Jobs are listed by created_time, equal times in creation order, whatever the clock did."""
    clock = service.clock
    assert isinstance(clock, Clock)
    service.config = replace(service.config, backends=(BackendConfig(name="b", lanes=10),))
    for job_id, minutes in [("t0", 0), ("t5", 5), ("t5-later", 5)]:
        clock.now = NOON + datetime.timedelta(minutes=minutes)
        _create(service, job_id)
    assert [job.id for job in service.list("A")] == ["t0", "t5", "t5-later"]
    clock.now = NOON + datetime.timedelta(minutes=2)  # the clock went back
    _create(service, "t2")
    clock.now = NOON + datetime.timedelta(minutes=9)
    _create(service, "t9")
    assert [job.id for job in service.list("A")] == ["t0", "t2", "t5", "t5-later", "t9"]
    assert [job.id for job in service.list("B")] == []


def test_a_stored_job_whose_time_changes_is_listed_at_its_new_time(service: JobService) -> None:
    """A store update that moves a job's created_time moves it in the listing."""
    clock = service.clock
    assert isinstance(clock, Clock)
    for job_id, minutes in [("a", 0), ("b", 1)]:
        clock.now = NOON + datetime.timedelta(minutes=minutes)
        _create(service, job_id)
    moved = replace(service.get("A", "a"), created_time=NOON + datetime.timedelta(minutes=3))
    service.store.update(moved)
    assert [job.id for job in service.list("A")] == ["b", "a"]
