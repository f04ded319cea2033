"""The generated client parses the spec's examples, speaks its HTTP and is reproducible."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path
from typing import Any

import httpx
import pytest

from direct_access_api import AuthenticatedClient
from direct_access_api.api.jobs import create_job, get_job, list_jobs
from direct_access_api.errors import UnexpectedStatus
from direct_access_api.models import (
    CreateJobRequest,
    CreateJobStorage,
    CreateJobStorageLocation,
    ErrorResponse,
    Job,
    JobList,
    JobStatus,
    StorageType,
)
from direct_access_spec import load_spec

BASE_URL = "http://direct-access.test"


def example(name: str) -> Any:
    return load_spec()["components"]["examples"][name]["value"]


def client_for(
    expected: list[tuple[str, str, httpx.Response]], sent: list[httpx.Request] | None = None
) -> AuthenticatedClient:
    """A client whose transport answers the expected requests in order and fails on any other."""
    queue = list(expected)

    def handle(request: httpx.Request) -> httpx.Response:
        assert queue, f"unexpected request {request.method} {request.url}"
        method, path, response = queue.pop(0)
        assert (request.method, request.url.path) == (method, path)
        assert request.headers["Authorization"] == "Bearer token-1"
        if sent is not None:
            sent.append(request)
        return response

    return AuthenticatedClient(
        base_url=BASE_URL,
        token="token-1",  # noqa: S106 - a fake token for a fake transport
        raise_on_unexpected_status=True,
        httpx_args={"transport": httpx.MockTransport(handle)},
    )


@pytest.mark.parametrize("name", ["RunningJob", "FailedJob"])
def test_job_examples_parse_and_round_trip(name: str) -> None:
    """The spec's job examples parse into Job models that serialise back to equal models."""
    job = Job.from_dict(example(name))
    assert job.id == example(name)["id"]
    assert isinstance(job.status, JobStatus)
    assert Job.from_dict(job.to_dict()) == job


def test_job_list_may_be_null() -> None:
    """`{"jobs": null}` parses as no jobs, as the reference allows."""
    assert JobList.from_dict({"jobs": None}).jobs is None
    assert len(JobList.from_dict(example("RunningJobs")).jobs or []) == 1


def test_create_job_sends_the_body_and_reads_204() -> None:
    """create_job posts the request as JSON to /v1/jobs and a 204 answers with no parsed body."""
    body = CreateJobRequest(
        id="job-1",
        program_id="sampler",
        backend="fake_backend",
        timeout_secs=60,
        storage=CreateJobStorage(
            input_=CreateJobStorageLocation(
                type_=StorageType.S3_COMPATIBLE, presigned_url="http://127.0.0.1/b/in"
            ),
            results=CreateJobStorageLocation(
                type_=StorageType.S3_COMPATIBLE, presigned_url="http://127.0.0.1/b/out"
            ),
        ),
    )
    sent: list[httpx.Request] = []
    client = client_for([("POST", "/v1/jobs", httpx.Response(204))], sent)
    response = create_job.sync_detailed(client=client, body=body)
    assert response.status_code == 204
    assert [json.loads(request.content) for request in sent] == [
        {
            "id": "job-1",
            "program_id": "sampler",
            "backend": "fake_backend",
            "timeout_secs": 60,
            "storage": {
                "input": {"type": "s3_compatible", "presigned_url": "http://127.0.0.1/b/in"},
                "results": {"type": "s3_compatible", "presigned_url": "http://127.0.0.1/b/out"},
            },
        }
    ]


def test_documented_error_status_parses_the_error_body() -> None:
    """A documented 404 comes back as an ErrorResponse carrying the service's code."""
    error = {
        "status_code": 404,
        "title": "Job not found",
        "trace": "t",
        "errors": [{"code": "1291", "message": "Job not found.", "more_info": "https://x"}],
    }
    client = client_for([("GET", "/v1/jobs/nope", httpx.Response(404, json=error))])
    parsed = get_job.sync(job_id="nope", client=client)
    assert isinstance(parsed, ErrorResponse)
    assert parsed.errors[0].code == "1291"


def test_undocumented_status_raises_with_raise_on_unexpected_status() -> None:
    """A status the spec does not list raises instead of returning None."""
    client = client_for([("GET", "/v1/jobs", httpx.Response(503, text="busy"))])
    with pytest.raises(UnexpectedStatus) as raised:
        list_jobs.sync_detailed(client=client)
    assert raised.value.status_code == 503


def test_check_generated_names_the_file_a_spec_change_affects(root: Path, tmp_path: Path) -> None:
    """Changing one field of the spec makes `make check-generated` fail and name the file."""
    spec = (root / "openapi.yaml").read_text("utf-8")
    changed = spec.replace(
        "          description: Time when job was created.\n",
        "          description: Time when the job was created.\n",
        1,
    )
    assert changed != spec
    modified = tmp_path / "openapi.yaml"
    modified.write_text(changed, "utf-8")
    make = shutil.which("make")
    assert make is not None
    result = subprocess.run(
        [make, "-s", "check-generated", f"SPEC={modified}"],
        cwd=root,
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode != 0
    assert "models/job.py" in result.stdout + result.stderr


@pytest.mark.parametrize("value", ["Finished", "completed", 3, None, ["Completed"]])
def test_a_value_no_enum_member_has_fails_as_calling_the_enum_does(value: Any) -> None:
    """The generated parser's enum look-up (generator-templates/) raises the enum's ValueError."""
    document = {**example("RunningJob"), "status": value}
    with pytest.raises(ValueError, match="is not a valid JobStatus") as parsed:
        Job.from_dict(document)
    with pytest.raises(ValueError, match="is not a valid JobStatus") as called:
        JobStatus(value)
    assert str(parsed.value) == str(called.value)


def test_each_enum_value_parses_to_its_member() -> None:
    """Every value of every generated enum the parser meets comes back as that very member."""
    for enum in (JobStatus, StorageType):
        for member in enum:
            assert enum._member(member.value) is member
            assert enum._member(str(member.value)) is member
