"""Submit throughput and end-to-end latency: `Client.submit` and `Client.run` against the same
sequence done by hand with raw httpx and boto3, on one emulator with local SeaweedFS storage.

Submits send presigned URLs to a host the emulator never fetches (the jobs fail at once); the
end-to-end runs use real storage and the shape-checking executor with a 10 ms run, and both sides
poll with the same schedule (every 20 ms, growing by half each time, as `Client.wait` does).
"""

from __future__ import annotations

import json
import statistics
import time
import uuid
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import httpx

from bench._jobs import create_body, storage
from bench._report import Figure, Results
from bench._sizes import Sizes
from direct_access import Client, Settings
from direct_access.storage import S3Storage
from direct_access_emulator.config import BackendConfig, EmulatorConfig, ExecutionConfig
from direct_access_emulator.seaweedfs import S3Settings, local_s3
from direct_access_emulator.testing import serve

if TYPE_CHECKING:
    from mypy_boto3_s3 import S3Client

__all__ = ["run"]

_BACKEND = "fake_backend"
_POLL_SECS = 0.02
_POLL_GROWTH = 1.5  # as direct_access's wait: each poll interval half again the one before
_RUN_DEADLINE_SECS = 60.0
_SAMPLER_INPUT = {
    "pubs": [["OPENQASM 3.0; qubit[1] q; bit[1] c; c[0] = measure q[0];", [], 16]],
    "shots": 16,
    "version": 2,
}
_TERMINAL = ("Completed", "Failed", "Cancelled")


def _token(http: httpx.Client, api_key: str) -> str:
    answer = http.post(
        "/identity/token",
        data={"grant_type": "urn:ibm:params:oauth:grant-type:apikey", "apikey": api_key},
    )
    answer.raise_for_status()
    return str(answer.json()["access_token"])


def _alternate(
    sides: dict[str, Callable[[], object]], rounds: int, per_round: int
) -> dict[str, list[float]]:
    """Time ``per_round`` calls of each side in turn, ``rounds`` times; the single-call times."""
    samples: dict[str, list[float]] = {key: [] for key in sides}
    for _ in range(rounds):
        for key, call in sides.items():
            for _ in range(per_round):
                started = time.perf_counter()
                call()
                samples[key].append(time.perf_counter() - started)
    return samples


def _boto3(s3: S3Settings) -> S3Client:
    import boto3  # noqa: PLC0415 - the storage extra, like direct_access.storage
    from botocore.config import Config  # noqa: PLC0415

    client: S3Client = boto3.client(
        "s3",
        endpoint_url=s3.endpoint,
        region_name=s3.region,
        aws_access_key_id=s3.access_key_id,
        aws_secret_access_key=s3.secret_access_key,
        config=Config(signature_version="s3v4", s3={"addressing_style": "path"}),
    )
    return client


class _RawRun:
    """`Client.run`'s sequence by hand: upload, presign, create, poll, read, delete."""

    def __init__(self, http: httpx.Client, s3: S3Client, bucket: str) -> None:
        self.http = http
        self.s3 = s3
        self.bucket = bucket

    def __call__(self) -> dict[str, Any]:
        job_id = str(uuid.uuid4())
        keys = {name: f"raw/{job_id}/{name}" for name in ("input.json", "results.json", "logs")}
        self.s3.put_object(
            Bucket=self.bucket,
            Key=keys["input.json"],
            Body=json.dumps(_SAMPLER_INPUT).encode(),
        )

        def presign(method: str, key: str) -> dict[str, str]:
            url = self.s3.generate_presigned_url(
                method, Params={"Bucket": self.bucket, "Key": key}, ExpiresIn=900
            )
            return {"type": "s3_compatible", "presigned_url": url}

        body = {
            "id": job_id,
            "program_id": "sampler",
            "backend": _BACKEND,
            "timeout_secs": 60,
            "storage": {
                "input": presign("get_object", keys["input.json"]),
                "results": presign("put_object", keys["results.json"]),
                "logs": presign("put_object", keys["logs"]),
            },
        }
        self.http.post("/v1/jobs", json=body).raise_for_status()
        deadline = time.monotonic() + _RUN_DEADLINE_SECS
        delay = _POLL_SECS
        while True:
            job = self.http.get(f"/v1/jobs/{job_id}").json()
            if job["status"] in _TERMINAL:
                break
            if time.monotonic() > deadline:
                raise RuntimeError(f"job {job_id} did not finish in time")
            time.sleep(delay)  # the polling schedule being measured, against the deadline
            delay *= _POLL_GROWTH
        result = self.s3.get_object(Bucket=self.bucket, Key=keys["results.json"])["Body"].read()
        self.s3.get_object(Bucket=self.bucket, Key=keys["logs"])["Body"].read()
        self.http.delete(f"/v1/jobs/{job_id}").raise_for_status()
        document: dict[str, Any] = json.loads(result)
        return document


def _submit_figure(sizes: Sizes, client: Client, http: httpx.Client) -> Figure:
    def through_client() -> object:
        job_id = str(uuid.uuid4())
        return client.submit(
            backend=_BACKEND,
            program_id="sampler",
            storage=storage(job_id),
            timeout_secs=300,
            job_id=job_id,
        )

    def raw() -> object:
        answer = http.post("/v1/jobs", json=create_body(str(uuid.uuid4()), backend=_BACKEND))
        answer.raise_for_status()
        return answer

    rounds = max(1, sizes.submit_rounds)
    _alternate({"client": through_client, "raw": raw}, 1, 3)  # warm-up
    samples = _alternate(
        {"client": through_client, "raw": raw}, rounds, max(1, sizes.submit_jobs // rounds)
    )
    # From the median submit: the mean would follow the shared machine's worst moments.
    value = 1 / statistics.median(samples["client"])
    base = 1 / statistics.median(samples["raw"])
    return Figure(
        name="submit.sync",
        value=value,
        unit="jobs/s (higher is better)",
        baseline="raw httpx.Client POST /v1/jobs",
        baseline_value=base,
        notes=(
            f"1 / median of {len(samples['client'])} sequential submits per side; mean "
            f"{statistics.fmean(samples['client']) * 1000:.2f} ms vs "
            f"{statistics.fmean(samples['raw']) * 1000:.2f} ms"
        ),
        details={"jobs": len(samples["client"])},
    )


def _run_figure(sizes: Sizes, client: Client, http: httpx.Client, s3: S3Settings) -> Figure:
    store = S3Storage(
        endpoint=s3.endpoint,
        bucket=s3.bucket,
        region=s3.region,
        access_key_id=s3.access_key_id,
        secret_access_key=s3.secret_access_key,
    )

    def through_client() -> object:
        return client.run(
            _BACKEND,
            "sampler",
            _SAMPLER_INPUT,
            storage=store,
            timeout_secs=60,
            wait_timeout=_RUN_DEADLINE_SECS,
            poll_interval=_POLL_SECS,
        )

    raw = _RawRun(http, _boto3(s3), s3.bucket)
    _alternate({"client": through_client, "raw": raw}, 1, 1)  # warm-up: boto3, connections
    samples = _alternate({"client": through_client, "raw": raw}, sizes.run_repeats, 1)
    return Figure(
        name="run.end_to_end",
        value=statistics.median(samples["client"]) * 1000,
        unit="ms per job (lower is better)",
        baseline="raw httpx + boto3, same steps",
        baseline_value=statistics.median(samples["raw"]) * 1000,
        notes=(
            "Client.run with S3Storage on SeaweedFS: upload, presign, submit, poll every 20 ms "
            f"(x1.5), Completed, read result and logs, delete; 10 ms job; "
            f"median of {len(samples['client'])}"
        ),
        details={"runs": len(samples["client"])},
    )


def run(sizes: Sizes, results: Results) -> None:
    """Measure submits and end-to-end runs, and add the figures to ``results``."""
    config = EmulatorConfig(
        backends=(BackendConfig(name=_BACKEND, lanes=1_000_000),),
        execution=ExecutionConfig(duration_secs=0.01),
    )
    with local_s3() as s3, serve(config) as emulator:
        settings = Settings.from_env(emulator.env())
        assert settings.api_key is not None
        with httpx.Client(base_url=emulator.url, timeout=30) as http:
            token = _token(http, settings.api_key)
            http.headers.update(
                {"Authorization": f"Bearer {token}", "Service-CRN": settings.service_crn}
            )
            with Client(settings) as client:
                results.add(_submit_figure(sizes, client, http))
                results.add(_run_figure(sizes, client, http, s3))
