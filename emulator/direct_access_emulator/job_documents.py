"""Job documents as Get job and List jobs send them, with the drift profile's `metrics`.

Without drift a job's document is its cached `Job.document_json`, and a listing is reused while
its jobs are the very same objects. With ``[drift] metrics`` each job also carries `metrics` as
newer deployments send it (see
docs/api-notes.md, "Where deployments differ from the reference"):
``timestamps.created`` from the start, ``timestamps.finished`` and ``circuits_execution_time_ns``
only ``metrics_lag_secs`` after the job ended, so that `Completed` is shown before the job has
really finished.
"""

from __future__ import annotations

import datetime
import json
from collections.abc import Callable
from operator import is_
from typing import Any

from direct_access_emulator.config import DriftConfig
from direct_access_emulator.core import Job, format_time, utc_now

__all__ = ["JobDocuments", "job_metrics"]


def job_metrics(job: Job, lag_secs: float, now: datetime.datetime) -> dict[str, Any]:
    """The `metrics` a newer deployment sends for ``job`` at ``now``."""
    timestamps = {"created": format_time(job.created_time)}
    metrics: dict[str, Any] = {"timestamps": timestamps}
    if job.terminal and job.end_time is not None:
        finished = job.end_time + datetime.timedelta(seconds=lag_secs)
        if now >= finished:
            timestamps["finished"] = format_time(finished)
            if job.quantum_nanoseconds is not None:
                metrics["circuits_execution_time_ns"] = job.quantum_nanoseconds
    return metrics


class JobDocuments:
    """Encodes jobs for answers, as the configured deployment (the spec's, or a drifting one)."""

    def __init__(
        self, drift: DriftConfig, *, clock: Callable[[], datetime.datetime] = utc_now
    ) -> None:
        self.drift = drift
        self.clock = clock
        # Each instance's last list answer, with the jobs it encodes (see `listing`).
        self._listings: dict[str, tuple[list[Job], bytes]] = {}

    def job(self, job: Job) -> bytes:
        """One job's document, as Get job sends it."""
        if not self.drift.metrics:
            return job.document_json
        metrics = job_metrics(job, self.drift.metrics_lag_secs, self.clock())
        encoded = json.dumps(metrics, ensure_ascii=True, separators=(",", ":")).encode("ascii")
        # The cached document is a JSON object: add the field before its closing brace.
        return b"".join([job.document_json[:-1], b',"metrics":', encoded, b"}"])

    def listing(self, instance: str, jobs: list[Job]) -> bytes:
        """The list answer for ``jobs``. Without drift it is reused while they are the very same
        `Job` objects (a job is immutable; any change stores a new one): joining 10,000 encoded
        jobs into a 15 MB body took longer than sending it (bench/). Metrics change with time,
        so a drifting listing is encoded each time."""
        if self.drift.metrics:
            return self._encode(jobs)
        cached = self._listings.get(instance)
        if cached is not None and len(cached[0]) == len(jobs) and all(map(is_, cached[0], jobs)):
            return cached[1]
        body = self._encode(jobs)
        self._listings[instance] = (jobs, body)
        return body

    def _encode(self, jobs: list[Job]) -> bytes:
        return b"".join([b'{"jobs":[', b",".join(self.job(job) for job in jobs), b"]}"])
