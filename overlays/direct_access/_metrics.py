"""`metrics`, the field newer deployments add to jobs (see
docs/api-notes.md, "Where deployments differ from the reference").

The spec follows the published reference, which lacks it, so the generated `Job` drops it; the
client keeps it beside each job it returns, readable with `job_metrics`. Strict mode still names
it as drift (`DriftError` unless ``allow_drift=True``).
"""

from __future__ import annotations

import datetime
import json
import weakref
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from direct_access_api.models import Job, JobStatus

__all__ = ["JobMetrics", "has_really_finished", "job_metrics", "keep_metrics"]

# Job id() -> its metrics, dropped with the job (attrs models compare by value, so they cannot
# key a WeakKeyDictionary).
_METRICS: dict[int, JobMetrics] = {}


@dataclass(frozen=True)
class JobMetrics:
    """A job's `metrics`: each part None until the deployment reports it."""

    circuits_execution_time_ns: int | None = None
    created: datetime.datetime | None = None
    finished: datetime.datetime | None = None

    @classmethod
    def from_document(cls, document: Mapping[str, Any]) -> JobMetrics:
        """Read `metrics` as the API sends it; a part of the wrong type is left None."""
        raw = document.get("circuits_execution_time_ns")
        timestamps = document.get("timestamps")
        timestamps = timestamps if isinstance(timestamps, Mapping) else {}
        return cls(
            circuits_execution_time_ns=raw
            if isinstance(raw, int) and not isinstance(raw, bool)
            else None,
            created=_moment(timestamps.get("created")),
            finished=_moment(timestamps.get("finished")),
        )


def _moment(raw: Any) -> datetime.datetime | None:
    if not isinstance(raw, str):
        return None
    try:
        return datetime.datetime.fromisoformat(raw)
    except ValueError:
        return None


def job_metrics(job: Job) -> JobMetrics | None:
    """The `metrics` the deployment sent with ``job`` (None when it sent none, as the reference
    does). Only jobs returned by a `Client` or `AsyncClient` carry them."""
    return _METRICS.get(id(job))


def has_really_finished(job: Job) -> bool:
    """Whether ``job`` has ended and, when Completed, its metrics hold the execution time:
    newer deployments report Completed a moment before (IBM's own client waits for it)."""
    if job.status != JobStatus.COMPLETED:
        return job.status in (JobStatus.CANCELLED, JobStatus.FAILED)
    metrics = job_metrics(job)
    return metrics is not None and metrics.circuits_execution_time_ns is not None


def keep_metrics(jobs: list[Job], content: bytes, *, listed: bool) -> None:
    """Keep the `metrics` of the answer ``content`` beside ``jobs`` (its job, or its listing's).

    The generated parser has already read the answer; it is read again only when it mentions
    `metrics`, so that answers of the reference cost nothing more (listings run to megabytes).
    """
    if b'"metrics"' not in content:
        return
    document = json.loads(content)
    documents = document.get("jobs") if listed else [document]
    if not isinstance(documents, list) or len(documents) != len(jobs):
        return
    for job, raw in zip(jobs, documents, strict=True):
        metrics = raw.get("metrics") if isinstance(raw, dict) else None
        if isinstance(metrics, Mapping):
            _METRICS[id(job)] = JobMetrics.from_document(metrics)
            weakref.finalize(job, _METRICS.pop, id(job), None)
