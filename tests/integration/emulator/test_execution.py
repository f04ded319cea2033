"""Jobs run through a real S3 store (SeaweedFS) with presigned URLs made by boto3."""

from __future__ import annotations

import json
import logging
import uuid
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

import boto3
import httpx
import pytest
from botocore.config import Config

from direct_access_emulator.seaweedfs import S3Settings
from direct_access_emulator.testing import RunningEmulator
from tests.integration.emulator.support import api_client, credentials, job_body, wait_for

if TYPE_CHECKING:
    from mypy_boto3_s3 import S3Client

BELL = (
    'OPENQASM 3.0;\ninclude "stdgates.inc";\nbit[2] c;\nqubit[2] q;\n'
    "h q[0];\ncx q[0], q[1];\nc = measure q;\n"
)


class Storage:
    """One job's objects in the bucket, and their presigned URLs."""

    def __init__(self, settings: S3Settings) -> None:
        self.bucket = settings.bucket
        self.prefix = f"jobs/{uuid.uuid4().hex}"
        self.s3: S3Client = boto3.client(
            "s3",
            endpoint_url=settings.endpoint,
            region_name=settings.region,
            aws_access_key_id=settings.access_key_id,
            aws_secret_access_key=settings.secret_access_key,
            config=Config(signature_version="s3v4", s3={"addressing_style": "path"}),
        )

    def put(self, name: str, body: bytes) -> None:
        self.s3.put_object(Bucket=self.bucket, Key=f"{self.prefix}/{name}", Body=body)

    def read(self, name: str) -> bytes:
        return self.s3.get_object(Bucket=self.bucket, Key=f"{self.prefix}/{name}")["Body"].read()

    def url(self, name: str, operation: str = "put_object", expires: int = 300) -> str:
        return self.s3.generate_presigned_url(
            operation,
            Params={"Bucket": self.bucket, "Key": f"{self.prefix}/{name}"},
            ExpiresIn=expires,
        )

    def job(self, job_id: str, **extra: Any) -> dict[str, Any]:
        """A create body reading input.json and writing results.json and logs.txt."""
        return job_body(
            job_id,
            input_url=self.url("input.json", "get_object"),
            results_url=self.url("results.json"),
            logs_url=self.url("logs.txt"),
            **extra,
        )


@pytest.fixture
def storage(s3: S3Settings) -> Storage:
    return Storage(s3)


@pytest.fixture
def client(emulator: RunningEmulator) -> Iterator[httpx.Client]:
    with api_client(emulator, credentials(emulator)) as checked:
        yield checked


def _finish(client: httpx.Client, job_id: str) -> dict[str, Any]:
    def job() -> dict[str, Any]:
        document = client.get(f"/v1/jobs/{job_id}").json()
        assert isinstance(document, dict)
        return document

    finished = wait_for(job, lambda j: j["status"] != "Running")
    assert client.delete(f"/v1/jobs/{job_id}").status_code == 204
    return finished


def test_a_sampler_job_runs_end_to_end(client: httpx.Client, storage: Storage) -> None:
    """Input read through the GET URL; a marked result and debug logs written through PUT URLs."""
    storage.put("input.json", json.dumps({"pubs": [[BELL, None, 100]], "version": 2}).encode())
    assert client.post("/v1/jobs", json=storage.job("e2e-1", log_level="debug")).status_code == 204
    job = _finish(client, "e2e-1")
    assert job["status"] == "Completed", job
    assert job["usage"]["quantum_nanoseconds"] > 0
    assert job["end_time"] >= job["created_time"]
    result = json.loads(storage.read("results.json"))
    assert result["executor"] == "shape-check"
    assert result["program_id"] == "sampler"
    assert result["pubs"] == 1
    logs = storage.read("logs.txt").decode()
    assert "DEBUG input:" in logs
    assert "shape-checking executor" in logs


def test_an_estimator_job_completes_and_logs_follow_the_level(
    client: httpx.Client, storage: Storage
) -> None:
    """At the default level (warning) the logs hold warnings only."""
    document = {"pubs": [[BELL, "ZZ", None, 0.01], [BELL, ["XX", "YY"]]], "version": 2}
    storage.put("input.json", json.dumps(document).encode())
    assert (
        client.post("/v1/jobs", json=storage.job("e2e-2", program_id="estimator")).status_code
        == 204
    )
    assert _finish(client, "e2e-2")["status"] == "Completed"
    assert json.loads(storage.read("results.json"))["pubs"] == 2
    lines = storage.read("logs.txt").decode().splitlines()
    assert lines
    assert all(" WARNING " in line for line in lines)


@pytest.mark.parametrize(
    ("content", "code", "words"),
    [
        (b"\x00 not json", 1002, "not a JSON document"),
        (json.dumps({"pubs": [[BELL]], "version": 1}).encode(), 1003, "version"),
        (json.dumps({"pubs": [[BELL, None, 0]], "version": 2}).encode(), 1003, "pubs[0][2]"),
        (json.dumps({"pubs": [["not qasm"]], "version": 2}).encode(), 1003, "OpenQASM 3"),
        (json.dumps({"pubs": [], "version": 2}).encode(), 1003, "pubs"),
    ],
)
def test_a_bad_input_fails_the_job_with_a_reason(
    client: httpx.Client, storage: Storage, content: bytes, code: int, words: str
) -> None:
    """A non-JSON input or one that is not a sampler's parameters fails, saying where."""
    storage.put("input.json", content)
    assert client.post("/v1/jobs", json=storage.job("bad-input")).status_code == 204
    job = _finish(client, "bad-input")
    assert job["status"] == "Failed"
    assert job["reason_code"] == code
    assert words in job["reason_message"]
    assert job["reason_solution"]
    assert " ERROR " in storage.read("logs.txt").decode()


def test_an_unknown_program_fails(client: httpx.Client, storage: Storage) -> None:
    """A program other than sampler or estimator is accepted, then fails (1004) like the service."""
    storage.put("input.json", json.dumps({"pubs": [[BELL]], "version": 2}).encode())
    assert client.post("/v1/jobs", json=storage.job("prog", program_id="qaoa")).status_code == 204
    job = _finish(client, "prog")
    assert (job["status"], job["reason_code"]) == ("Failed", 1004)


def test_a_refused_input_url_fails_the_job(client: httpx.Client, storage: Storage) -> None:
    """An input URL the store refuses (tampered signature: 403) fails with code 1001."""
    storage.put("input.json", b"{}")
    body = storage.job("tampered")
    url = body["storage"]["input"]["presigned_url"]
    body["storage"]["input"]["presigned_url"] = url.replace("input.json", "other.json")
    assert client.post("/v1/jobs", json=body).status_code == 204
    job = _finish(client, "tampered")
    assert (job["status"], job["reason_code"]) == ("Failed", 1001)
    assert "storage answered 403" in job["reason_message"]


def test_a_results_url_that_refuses_put_fails_the_job(
    client: httpx.Client, storage: Storage
) -> None:
    """A results URL signed for GET cannot be written: the job fails with code 1006."""
    storage.put("input.json", json.dumps({"pubs": [[BELL]], "version": 2}).encode())
    body = storage.job("no-put")
    body["storage"]["results"]["presigned_url"] = storage.url("results.json", "get_object")
    assert client.post("/v1/jobs", json=body).status_code == 204
    job = _finish(client, "no-put")
    assert (job["status"], job["reason_code"]) == ("Failed", 1006)


def test_a_host_not_allowed_is_never_fetched(client: httpx.Client, storage: Storage) -> None:
    """Storage URLs on hosts outside allowed_storage_hosts fail the job (1005), naming the host."""
    body = storage.job("elsewhere")
    body["storage"]["input"]["presigned_url"] = (
        "https://s3.example.com/jobs/input.json?X-Amz-Signature=abc"
    )
    assert client.post("/v1/jobs", json=body).status_code == 204
    job = _finish(client, "elsewhere")
    assert (job["status"], job["reason_code"]) == ("Failed", 1005)
    assert "s3.example.com" in job["reason_message"]


def test_an_input_url_with_a_port_out_of_range_fails_with_1001(
    client: httpx.Client, storage: Storage, caplog: pytest.LogCaptureFixture
) -> None:
    """A port beyond 65535 fails the job as unreadable input (1001), no executor error logged."""
    body = storage.job("bad-port")
    body["storage"]["input"]["presigned_url"] = "http://127.0.0.1:99999/input.json"
    with caplog.at_level(logging.INFO, logger="direct_access_emulator"):
        assert client.post("/v1/jobs", json=body).status_code == 204
        job = _finish(client, "bad-port")
    assert (job["status"], job["reason_code"]) == ("Failed", 1001)
    assert "out of range" in job["reason_message"]
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR]
