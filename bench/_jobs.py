"""Jobs for the benchmarks: stored jobs as the emulator keeps them, and create bodies.

Presigned URLs point at ``storage.invalid``, a host the emulator never fetches: a created job
fails at once without any network traffic, so creates cost only what the API itself does.
Their length is that of real SigV4 URLs, so that bodies have a realistic size.
"""

from __future__ import annotations

import datetime
import json
from typing import Any

from direct_access_emulator.core import Job, JobStatus

__all__ = ["STORAGE_HOST", "create_body", "job_body", "storage", "stored_job"]

STORAGE_HOST = "storage.invalid"
_EPOCH = datetime.datetime(2026, 1, 1, tzinfo=datetime.UTC)
_SIGNATURE = "a3f1c2" * 10 + "abcd"  # 64 hex digits, as SigV4 has


def _presigned(key: str) -> str:
    return (
        f"http://{STORAGE_HOST}:8333/direct-access/{key}"
        "?X-Amz-Algorithm=AWS4-HMAC-SHA256"
        "&X-Amz-Credential=DA0123456789ABCDEF%2F20260101%2Fus-east-1%2Fs3%2Faws4_request"
        "&X-Amz-Date=20260101T000000Z&X-Amz-Expires=1200&X-Amz-SignedHeaders=host"
        f"&X-Amz-Signature={_SIGNATURE}"
    )


def storage(job_id: str) -> dict[str, Any]:
    """A create request's ``storage``: input, results and logs presigned URLs."""
    return {
        role: {"type": "s3_compatible", "presigned_url": _presigned(f"{job_id}/{name}")}
        for role, name in (("input", "input.json"), ("results", "results.json"), ("logs", "logs"))
    }


def stored_job(index: int, *, instance: str, backend: str) -> Job:
    """A finished job as the emulator stores it; ``index`` orders creation times."""
    job_id = f"bench-{index:08d}-0000-4000-8000-000000000000"
    created = _EPOCH + datetime.timedelta(seconds=index)
    return Job(
        id=job_id,
        instance=instance,
        program_id="sampler",
        backend=backend,
        log_level="warning",
        timeout_secs=300,
        storage=storage(job_id),
        created_time=created,
        status=JobStatus.COMPLETED,
        end_time=created + datetime.timedelta(seconds=2),
        quantum_nanoseconds=1_500_000_000,
    )


def job_body(*, backend: str = "fake_backend") -> bytes:
    """One job as Get job answers it (the baseline app's fixed answer)."""
    return json.dumps(
        stored_job(0, instance="-", backend=backend).document(), separators=(",", ":")
    ).encode()


def create_body(job_id: str, *, backend: str) -> dict[str, Any]:
    """A valid create-job body for ``backend``."""
    return {
        "id": job_id,
        "program_id": "sampler",
        "backend": backend,
        "timeout_secs": 300,
        "storage": storage(job_id),
    }
