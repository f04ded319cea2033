"""Every documented status of every operation is reachable on purpose, and conforms to the spec."""

from __future__ import annotations

import dataclasses

import httpx

from direct_access_emulator.config import OperationFaults
from direct_access_emulator.testing import RunningEmulator, serve
from tests.integration.emulator.support import (
    Recorder,
    api_client,
    check_conforms,
    credentials,
    documented_statuses,
    job_body,
    raw_exchange,
    raw_response,
    wait_for,
)

AUTHENTICATED = [
    ("POST", "/v1/jobs"),
    ("GET", "/v1/jobs"),
    ("GET", "/v1/jobs/some-job"),
    ("DELETE", "/v1/jobs/some-job"),
    ("POST", "/v1/jobs/some-job/cancel"),
    ("GET", "/v1/backends"),
    ("GET", "/v1/backends/fake_backend"),
    ("GET", "/v1/backends/fake_backend/configuration"),
    ("GET", "/v1/backends/fake_backend/properties"),
    ("GET", "/v1/backends/fake_backend/defaults"),
    ("GET", "/v1/backends/fake_backend/lanes"),
]


def _status(client: httpx.Client, job_id: str) -> str:
    status = client.get(f"/v1/jobs/{job_id}").json()["status"]
    assert isinstance(status, str)
    return status


def test_every_documented_status_is_reachable_and_conforms(
    emulator: RunningEmulator, hanging_url: str
) -> None:
    """Each (operation, status) pair in the spec is provoked; every answer validates against it."""
    recorder = Recorder()
    with (
        api_client(emulator, recorder=recorder) as anonymous,
        api_client(emulator, credentials(emulator), recorder) as client,
    ):
        _provoke_each_status(emulator, anonymous, client, recorder, hanging_url)
    assert recorder.seen == documented_statuses()


def _provoke_each_status(
    emulator: RunningEmulator,
    anonymous: httpx.Client,
    client: httpx.Client,
    recorder: Recorder,
    hanging_url: str,
) -> None:

    assert anonymous.get("/version").status_code == 200
    assert anonymous.get("/versions").status_code == 200
    for method, path in AUTHENTICATED:
        assert anonymous.request(method, path).status_code == 401

    # create: 204, 400, 422, 404, 409, 413, 408, 423, 429
    assert client.post("/v1/jobs", json=job_body("job-1")).status_code == 204
    assert client.post("/v1/jobs", content=b"{not json").status_code == 400
    assert client.post("/v1/jobs", content=b"[1, 2]").status_code == 400
    assert client.post("/v1/jobs", json={"id": "x"}).status_code == 422
    assert client.post("/v1/jobs", json=job_body("job-2", backend="nope")).status_code == 404
    assert client.post("/v1/jobs", json=job_body("job-1")).status_code == 409
    assert client.post("/v1/jobs", content=b"x" * (65 * 1024)).status_code == 413
    head = (
        "POST /v1/jobs HTTP/1.1\r\nHost: emulator\r\nContent-Type: application/json\r\n"
        f"Authorization: {client.headers['Authorization']}\r\n"
        f"Service-CRN: {client.headers['Service-CRN']}\r\nContent-Length: 100\r\n\r\n"
    )
    answer = raw_exchange(emulator.url, head, [b'{"id": '])
    assert answer[0] == 408
    recorder.note(check_conforms(raw_response(emulator.url, "POST", "/v1/jobs", answer)))
    assert client.post("/v1/jobs", json=job_body("job-3", backend="reserved")).status_code == 423
    assert client.post("/v1/jobs", json=job_body("job-4", backend="one_lane")).status_code == 204
    assert client.post("/v1/jobs", json=job_body("job-5", backend="one_lane")).status_code == 429

    # get and list
    assert client.get("/v1/jobs").status_code == 200
    assert client.get("/v1/jobs/job-1").status_code == 200
    assert client.get("/v1/jobs/unknown").status_code == 404

    # cancel: 204 on a running job, 409 once it terminated, 404 when unknown
    assert (
        client.post("/v1/jobs", json=job_body("hang-1", input_url=hanging_url)).status_code == 204
    )
    assert client.post("/v1/jobs/hang-1/cancel").status_code == 204
    assert client.post("/v1/jobs/hang-1/cancel").status_code == 409
    assert client.post("/v1/jobs/unknown/cancel").status_code == 404

    # delete: 409 while running, 204 once terminated, 404 when unknown
    assert (
        client.post("/v1/jobs", json=job_body("hang-2", input_url=hanging_url)).status_code == 204
    )
    assert client.delete("/v1/jobs/hang-2").status_code == 409
    wait_for(lambda: _status(client, "job-1"), lambda s: s != "Running")
    assert client.delete("/v1/jobs/job-1").status_code == 204
    assert client.delete("/v1/jobs/job-1").status_code == 404

    # backends
    assert client.get("/v1/backends").status_code == 200
    for suffix in ("", "/configuration", "/properties", "/lanes"):
        assert client.get(f"/v1/backends/fake_backend{suffix}").status_code == 200
        assert client.get(f"/v1/backends/nope{suffix}").status_code == 404
    assert client.get("/v1/backends/with_defaults/defaults").status_code == 200
    assert client.get("/v1/backends/fake_backend/defaults").status_code == 404

    # cancel's documented 500, through an emulator told to fail it
    faulty = dataclasses.replace(
        emulator.config,
        faults=dataclasses.replace(
            emulator.config.faults, operations={"cancel_job": OperationFaults(error_500=1.0)}
        ),
    )
    with serve(faulty) as failing, api_client(failing, credentials(failing), recorder) as other:
        assert other.post("/v1/jobs/job-1/cancel").status_code == 500
