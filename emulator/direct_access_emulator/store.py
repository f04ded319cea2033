"""Where the emulator keeps jobs: in memory, or in SQLite under a data directory.

The SQLite store commits each write before returning, so a job answered with 204 survives a
kill -9; jobs found Running when it opens come back Failed with a reason, never lost or stuck.
"""

from __future__ import annotations

import json
import operator
import sqlite3
import threading
from collections import Counter
from dataclasses import replace
from pathlib import Path

from direct_access_emulator.core import DuplicateJob, Job, JobStatus, utc_now
from direct_access_emulator.reasons import RESTARTED

__all__ = ["MemoryJobStore", "SqliteJobStore", "open_store"]

# How a listing orders jobs (`JobStore.list`); a stable sort keeps creation order for ties.
_CREATED_TIME = operator.attrgetter("created_time")


def _encode_if_final(job: Job) -> None:
    """Encode a finished job as it is stored, so that a listing only joins documents: the first
    list of 10,000 jobs spent 50 ms encoding them (bench/). A running job's document is made
    when first read: it is replaced when the job ends, most often before anyone reads it (a
    created job failing at its storage check encoded two documents, bench/)."""
    if job.terminal:
        job.document_json  # noqa: B018 - kept in the job


class MemoryJobStore:
    """Jobs in memory, gone when the process ends.

    Kept per instance (in creation order) with a count per backend, so that listing costs the
    caller's jobs only and the lane check on every create costs nothing (the benchmark showed a
    scan of all stored jobs per create); a finished job is encoded for answers as it is stored. An
    instance whose jobs were created in the order of their times (the clock's, unless it went
    back) is listed without a sort: sorting 1,000 jobs by time took a 1,000-job listing's own
    time (bench/).
    """

    def __init__(self) -> None:
        self._jobs: dict[str, dict[str, Job]] = {}
        self._held: Counter[str] = Counter()
        # The instances whose creation order is not the order of their jobs' times.
        self._unordered: set[str] = set()
        self._lock = threading.Lock()

    def insert(self, job: Job) -> None:
        _encode_if_final(job)
        with self._lock:
            jobs = self._jobs.setdefault(job.instance, {})
            if job.id in jobs:
                raise DuplicateJob(job.id)
            self._follow(job, jobs)
            jobs[job.id] = job
            self._held[job.backend] += 1

    def _follow(self, job: Job, jobs: dict[str, Job]) -> None:
        """Note whether ``job``, about to come last, is out of its instance's time order."""
        if not jobs or job.instance in self._unordered:
            return
        try:
            if job.created_time < next(reversed(jobs.values())).created_time:
                self._unordered.add(job.instance)
        except TypeError:  # a naive time beside an aware one: the sort will say so
            self._unordered.add(job.instance)

    def update(self, job: Job) -> None:
        _encode_if_final(job)
        with self._lock:
            jobs = self._jobs.setdefault(job.instance, {})
            stored = jobs.get(job.id)
            if stored is None:
                self._follow(job, jobs)
            elif stored.created_time != job.created_time:
                self._unordered.add(job.instance)
            jobs[job.id] = job

    def get(self, instance: str, job_id: str) -> Job | None:
        return self._jobs.get(instance, {}).get(job_id)

    def list(self, instance: str) -> list[Job]:
        with self._lock:
            jobs = list(self._jobs.get(instance, {}).values())
            ordered = instance not in self._unordered
        return jobs if ordered else sorted(jobs, key=_CREATED_TIME)

    def delete(self, instance: str, job_id: str) -> bool:
        with self._lock:
            job = self._jobs.get(instance, {}).pop(job_id, None)
            if job is None:
                return False
            self._held[job.backend] -= 1
            return True

    def count_backend(self, backend: str) -> int:
        return self._held[backend]

    def close(self) -> None:
        """Nothing to release."""


_SCHEMA = """
CREATE TABLE IF NOT EXISTS jobs (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    instance TEXT NOT NULL,
    id TEXT NOT NULL,
    backend TEXT NOT NULL,
    status TEXT NOT NULL,
    record TEXT NOT NULL,
    UNIQUE (instance, id)
);
CREATE INDEX IF NOT EXISTS jobs_backend ON jobs (backend);
"""


class SqliteJobStore:
    """Jobs in `<data_dir>/jobs.sqlite3`, each write committed (synchronous=FULL) on return."""

    def __init__(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self.path = path
        self._lock = threading.Lock()
        # One connection shared under a lock: the app calls from its event loop and the tests
        # from other threads.
        self._db = sqlite3.connect(path, check_same_thread=False, isolation_level=None)
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("PRAGMA synchronous=FULL")
        self._db.executescript(_SCHEMA)
        self._recover()

    def _recover(self) -> None:
        """A job Running in the file was cut off by a stop or a crash: it failed."""
        now = utc_now()
        running = [
            Job.from_record(json.loads(row[0]))
            for row in self._db.execute(
                "SELECT record FROM jobs WHERE status = ?", (str(JobStatus.RUNNING),)
            )
        ]
        for job in running:
            self.update(replace(job, status=JobStatus.FAILED, end_time=now, reason=RESTARTED))

    def insert(self, job: Job) -> None:
        with self._lock:
            try:
                self._db.execute(
                    "INSERT INTO jobs (instance, id, backend, status, record)"
                    " VALUES (?, ?, ?, ?, ?)",
                    (job.instance, job.id, job.backend, str(job.status), json.dumps(job.record())),
                )
            except sqlite3.IntegrityError:
                raise DuplicateJob(job.id) from None

    def update(self, job: Job) -> None:
        with self._lock:
            self._db.execute(
                "UPDATE jobs SET status = ?, record = ? WHERE instance = ? AND id = ?",
                (str(job.status), json.dumps(job.record()), job.instance, job.id),
            )

    def get(self, instance: str, job_id: str) -> Job | None:
        with self._lock:
            row = self._db.execute(
                "SELECT record FROM jobs WHERE instance = ? AND id = ?", (instance, job_id)
            ).fetchone()
        return None if row is None else Job.from_record(json.loads(row[0]))

    def list(self, instance: str) -> list[Job]:
        with self._lock:
            rows = self._db.execute(
                "SELECT record FROM jobs WHERE instance = ? ORDER BY seq", (instance,)
            ).fetchall()
        return sorted((Job.from_record(json.loads(row[0])) for row in rows), key=_CREATED_TIME)

    def delete(self, instance: str, job_id: str) -> bool:
        with self._lock:
            cursor = self._db.execute(
                "DELETE FROM jobs WHERE instance = ? AND id = ?", (instance, job_id)
            )
        return cursor.rowcount > 0

    def count_backend(self, backend: str) -> int:
        with self._lock:
            row = self._db.execute(
                "SELECT COUNT(*) FROM jobs WHERE backend = ?", (backend,)
            ).fetchone()
        return int(row[0])

    def close(self) -> None:
        with self._lock:
            self._db.close()


def open_store(data_dir: Path | None) -> MemoryJobStore | SqliteJobStore:
    """SQLite under ``data_dir`` when given, else memory."""
    if data_dir is None:
        return MemoryJobStore()
    return SqliteJobStore(data_dir / "jobs.sqlite3")
