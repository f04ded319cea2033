"""Jobs over real HTTP: lifecycle, lanes, reservations, timeouts, isolation, validation, routing."""

from __future__ import annotations

import concurrent.futures
import datetime
import json
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from direct_access_emulator.config import BackendConfig, ExecutionConfig, Reservation
from direct_access_emulator.testing import RunningEmulator, serve
from direct_access_spec import violations
from tests.integration.emulator.support import (
    api_client,
    credentials,
    fast_config,
    job_body,
    wait_for,
)


@pytest.fixture
def client(emulator: RunningEmulator) -> Iterator[httpx.Client]:
    """Instance A's client; every answer is checked against the spec."""
    with api_client(emulator, credentials(emulator, 0)) as checked:
        yield checked


@pytest.fixture
def other(emulator: RunningEmulator) -> Iterator[httpx.Client]:
    """Instance B's client."""
    with api_client(emulator, credentials(emulator, 1)) as checked:
        yield checked


def _job(client: httpx.Client, job_id: str) -> dict[str, object]:
    response = client.get(f"/v1/jobs/{job_id}")
    assert response.status_code == 200, response.text
    document = response.json()
    assert isinstance(document, dict)
    return document


def _terminal(client: httpx.Client, job_id: str) -> dict[str, object]:
    return wait_for(lambda: _job(client, job_id), lambda job: job["status"] != "Running")


def test_an_accepted_job_is_running_with_the_default_log_level(
    client: httpx.Client, hanging_url: str
) -> None:
    """A job is Running from acceptance, created_time in UTC, with the spec's log_level default."""
    assert client.post("/v1/jobs", json=job_body("lc-1", input_url=hanging_url)).status_code == 204
    job = _job(client, "lc-1")
    assert job["status"] == "Running"
    assert job["log_level"] == "warning"
    assert str(job["created_time"]).endswith("Z")
    assert "end_time" not in job
    assert client.post("/v1/jobs/lc-1/cancel").status_code == 204
    cancelled = _job(client, "lc-1")
    assert cancelled["status"] == "Cancelled"
    assert str(cancelled["end_time"]) >= str(cancelled["created_time"])
    assert client.delete("/v1/jobs/lc-1").status_code == 204


def test_a_job_with_an_unreachable_input_fails_with_a_reason(client: httpx.Client) -> None:
    """An input URL nobody answers fails the job with reason code, message and solution."""
    assert client.post("/v1/jobs", json=job_body("lc-2")).status_code == 204
    job = _terminal(client, "lc-2")
    assert job["status"] == "Failed"
    assert job["reason_code"] == 1001
    assert "Input could not be read" in str(job["reason_message"])
    assert job["reason_solution"]
    assert "end_time" in job
    assert client.delete("/v1/jobs/lc-2").status_code == 204


def test_list_is_empty_array_then_ascending(client: httpx.Client, other: httpx.Client) -> None:
    """GET /v1/jobs answers {"jobs": []} when empty (never null), then oldest first."""
    assert other.get("/v1/jobs").json() == {"jobs": []}
    for job_id in ("order-3", "order-1", "order-2"):
        assert other.post("/v1/jobs", json=job_body(job_id)).status_code == 204
    jobs = other.get("/v1/jobs").json()["jobs"]
    assert [job["id"] for job in jobs] == ["order-3", "order-1", "order-2"]
    assert [job["created_time"] for job in jobs] == sorted(job["created_time"] for job in jobs)
    for job_id in ("order-3", "order-1", "order-2"):
        _terminal(other, job_id)
        assert other.delete(f"/v1/jobs/{job_id}").status_code == 204


def test_a_listing_follows_every_change_of_its_jobs(other: httpx.Client, hanging_url: str) -> None:
    """The list answer, reused while nothing changes, shows each create, cancel and delete."""

    def listed() -> list[tuple[str, str]]:
        return [(job["id"], job["status"]) for job in other.get("/v1/jobs").json()["jobs"]]

    for job_id in ("seen-1", "seen-2"):
        body = job_body(job_id, input_url=hanging_url)
        assert other.post("/v1/jobs", json=body).status_code == 204
    assert listed() == listed() == [("seen-1", "Running"), ("seen-2", "Running")]
    assert other.post("/v1/jobs/seen-1/cancel").status_code == 204
    assert listed() == [("seen-1", "Cancelled"), ("seen-2", "Running")]
    assert other.delete("/v1/jobs/seen-1").status_code == 204
    assert listed() == [("seen-2", "Running")]
    assert other.post("/v1/jobs/seen-2/cancel").status_code == 204
    assert other.delete("/v1/jobs/seen-2").status_code == 204
    assert listed() == []


def test_instances_do_not_see_each_others_jobs(
    client: httpx.Client, other: httpx.Client, hanging_url: str
) -> None:
    """Another instance gets 404 for a job, never lists it, and cannot cancel or delete it."""
    assert client.post("/v1/jobs", json=job_body("mine", input_url=hanging_url)).status_code == 204
    assert other.get("/v1/jobs/mine").status_code == 404
    assert other.post("/v1/jobs/mine/cancel").status_code == 404
    assert other.delete("/v1/jobs/mine").status_code == 404
    assert "mine" not in [job["id"] for job in other.get("/v1/jobs").json()["jobs"]]
    assert _job(client, "mine")["status"] == "Running"
    assert client.post("/v1/jobs/mine/cancel").status_code == 204
    assert client.delete("/v1/jobs/mine").status_code == 204


def test_a_lane_is_held_until_delete(client: httpx.Client) -> None:
    """With all lanes held the create answers 429 (1232); after a DELETE it answers 204."""
    assert client.post("/v1/jobs", json=job_body("lane-1", backend="one_lane")).status_code == 204
    _terminal(client, "lane-1")  # finished, but still holding its lane
    refused = client.post("/v1/jobs", json=job_body("lane-2", backend="one_lane"))
    assert refused.status_code == 429
    assert refused.json()["errors"][0]["code"] == "1232"
    lanes = client.get("/v1/backends/one_lane/lanes").json()
    assert lanes == {"hpc_workload_manager": {"lanes": 1}, "ibm_quantum_compute": {"lanes": 5}}
    assert client.delete("/v1/jobs/lane-1").status_code == 204
    assert client.post("/v1/jobs", json=job_body("lane-2", backend="one_lane")).status_code == 204
    _terminal(client, "lane-2")
    assert client.delete("/v1/jobs/lane-2").status_code == 204


def test_errors_carry_the_documented_codes(client: httpx.Client, hanging_url: str) -> None:
    """404 1216 / 1291, 409 1231 / 1306 / 1337, 423 1233: each answer names its code."""

    def code(response: httpx.Response) -> tuple[int, str]:
        return response.status_code, response.json()["errors"][0]["code"]

    assert code(client.post("/v1/jobs", json=job_body("c-1", backend="nope"))) == (404, "1216")
    assert code(client.get("/v1/jobs/nope")) == (404, "1291")
    assert code(client.post("/v1/jobs", json=job_body("c-1", backend="reserved"))) == (423, "1233")
    assert client.post("/v1/jobs", json=job_body("c-1", input_url=hanging_url)).status_code == 204
    assert code(client.post("/v1/jobs", json=job_body("c-1"))) == (409, "1231")
    assert code(client.delete("/v1/jobs/c-1")) == (409, "1337")
    assert client.post("/v1/jobs/c-1/cancel").status_code == 204
    assert code(client.post("/v1/jobs/c-1/cancel")) == (409, "1306")
    assert client.delete("/v1/jobs/c-1").status_code == 204


def test_each_violation_is_one_error_entry(client: httpx.Client) -> None:
    """A body breaking several rules gets 422, one entry per violation naming field and value."""
    body = job_body("bad id", timeout_secs=0, unexpected=True)
    body["storage"]["input"]["presigned_url"] = "ftp://example.com/x"
    response = client.post("/v1/jobs", json=body)
    assert response.status_code == 422
    errors = {error["target"]["name"]: error for error in response.json()["errors"]}
    assert set(errors) == {"/id", "/timeout_secs", "/unexpected", "/storage/input/presigned_url"}
    assert errors["/id"]["value"] == "bad id"
    assert errors["/timeout_secs"]["value"] == 0
    assert all(e["location"] == "body" and e["code"] == "1337" for e in errors.values())
    assert all(e["target"]["type"] == "field" for e in errors.values())


def test_patterns_follow_ecma_semantics(client: httpx.Client) -> None:
    """An id with a trailing newline does not match `...$` (ECMA-262), so it is refused."""
    response = client.post("/v1/jobs", json=job_body("job\n"))
    assert response.status_code == 422
    assert response.json()["errors"][0]["target"]["name"] == "/id"


def test_a_wrong_method_gets_405_with_allow(emulator: RunningEmulator) -> None:
    """Each path is one route: a wrong method answers 405 naming the allowed ones."""
    expected = {
        "/v1/jobs": {"GET", "HEAD", "POST"},
        "/v1/jobs/x": {"GET", "HEAD", "DELETE"},
        "/v1/jobs/x/cancel": {"POST"},
        "/v1/backends": {"GET", "HEAD"},
        "/v1/backends/fake_backend/lanes": {"GET", "HEAD"},
        "/version": {"GET", "HEAD"},
        "/identity/token": {"POST"},
    }
    with api_client(emulator) as anonymous:
        for path, allowed in expected.items():
            response = anonymous.request("PATCH", path)
            assert response.status_code == 405
            assert set(response.headers["allow"].replace(" ", "").split(",")) == allowed
            assert response.json()["errors"][0]["code"] == "405"


def test_an_unknown_path_gets_404_in_the_error_shape(emulator: RunningEmulator) -> None:
    """Paths the API does not have answer 404 with the documented error body."""
    with api_client(emulator) as anonymous:
        response = anonymous.get("/v2/nothing")
    assert response.status_code == 404
    assert response.json()["title"] == "Not Found"


def test_backends_report_status_lock_and_documents(client: httpx.Client) -> None:
    """Backends list every configured backend; a reserved one is locked; defaults only when set."""
    backends = {b["name"]: b for b in client.get("/v1/backends").json()["backends"]}
    assert set(backends) == {"fake_backend", "one_lane", "reserved", "with_defaults"}
    assert backends["reserved"]["locked"] is True
    assert backends["fake_backend"] == client.get("/v1/backends/fake_backend").json()
    configuration = client.get("/v1/backends/fake_backend/configuration").json()
    assert configuration["backend_name"] == "fake_backend"
    assert client.get("/v1/backends/with_defaults/defaults").json() == {
        "qubit_freq_est": [5.1, 5.2]
    }


def test_version_endpoints_need_no_credentials(emulator: RunningEmulator) -> None:
    """GET /version and /versions answer without a token."""
    with api_client(emulator) as anonymous:
        assert isinstance(anonymous.get("/version").json()["version"], str)
        assert anonymous.get("/versions").json()["versions"]


def test_timeout_secs_cancels_the_job_with_a_reason(hanging_url: str) -> None:
    """A job running past timeout_secs of execution time is Cancelled, and says why."""
    config = fast_config(execution=ExecutionConfig(duration_secs=30))
    with serve(config) as emulator, api_client(emulator, credentials(emulator)) as client:
        body = job_body("slow", input_url=hanging_url, timeout_secs=1)
        assert client.post("/v1/jobs", json=body).status_code == 204
        job = wait_for(
            lambda: _job(client, "slow"), lambda j: j["status"] != "Running", deadline_secs=8
        )
    assert job["status"] == "Cancelled"
    assert job["reason_code"] == 1008
    assert "timeout of 1 seconds" in str(job["reason_message"])
    assert "end_time" in job


def test_a_reservation_window_refuses_creates_inside_it() -> None:
    """Inside a configured window the create answers 423; a backend outside it accepts."""
    now = datetime.datetime.now(datetime.UTC)
    config = fast_config(
        backends=(
            BackendConfig(
                name="now",
                reservations=(
                    Reservation(
                        now - datetime.timedelta(hours=1), now + datetime.timedelta(hours=1)
                    ),
                ),
            ),
            BackendConfig(
                name="later",
                reservations=(
                    Reservation(
                        now + datetime.timedelta(hours=1), now + datetime.timedelta(hours=2)
                    ),
                ),
            ),
        )
    )
    with serve(config) as emulator, api_client(emulator, credentials(emulator)) as client:
        reserved = client.post("/v1/jobs", json=job_body("r-1", backend="now"))
        assert reserved.status_code == 423
        assert reserved.json()["errors"][0]["code"] == "1233"
        assert client.get("/v1/backends/now").json()["locked"] is True
        assert client.post("/v1/jobs", json=job_body("r-1", backend="later")).status_code == 204


@pytest.mark.parametrize("persistent", [False, True], ids=["memory", "sqlite"])
def test_concurrent_creates_with_the_same_id_accept_exactly_one(
    persistent: bool, tmp_path: Path
) -> None:
    """Twenty simultaneous creates of one id: exactly one 204, the others 409, in both stores."""
    with serve(fast_config(), data_dir=tmp_path if persistent else None) as emulator:
        headers = credentials(emulator)

        def create(_: int) -> int:
            with httpx.Client(base_url=emulator.url, headers=headers) as single:
                return single.post("/v1/jobs", json=job_body("same-id")).status_code

        with concurrent.futures.ThreadPoolExecutor(max_workers=20) as pool:
            statuses = list(pool.map(create, range(20)))
        with api_client(emulator, headers) as client:
            assert len(client.get("/v1/jobs").json()["jobs"]) == 1
    assert sorted(statuses) == [204] + [409] * 19


def test_the_same_id_in_another_instance_is_another_job(
    client: httpx.Client, other: httpx.Client
) -> None:
    """Job ids are per instance: both instances can use one id without seeing the other's job."""
    assert client.post("/v1/jobs", json=job_body("shared-id")).status_code == 204
    assert (
        other.post("/v1/jobs", json=job_body("shared-id", program_id="estimator")).status_code
        == 204
    )
    assert _job(client, "shared-id")["program_id"] == "sampler"
    assert _job(other, "shared-id")["program_id"] == "estimator"
    for each in (client, other):
        _terminal(each, "shared-id")
        assert each.delete("/v1/jobs/shared-id").status_code == 204


def test_kept_alive_answers_are_not_held_back(emulator: RunningEmulator) -> None:
    """Answers on a reused connection arrive at once (no ~40 ms Nagle/delayed-ACK stall).

    The stall holds back every answer written in two parts, so even the fastest of 15 takes
    ~40 ms with it; a loaded machine slows some answers, not all (the median did not hold)."""
    with httpx.Client(base_url=emulator.url) as plain:
        plain.get("/version")
        durations = []
        for _ in range(15):
            started = time.perf_counter()
            assert plain.get("/version").status_code == 200
            durations.append(time.perf_counter() - started)
    assert min(durations) < 0.025, sorted(durations)


def _strict_json(text: str) -> object:
    """JSON as RFC 8259 defines it: `Infinity` and `NaN` are refused."""

    def refuse(name: str) -> object:
        raise AssertionError(f"{name} is not JSON: {text}")

    return json.loads(text, parse_constant=refuse)


@pytest.mark.parametrize(
    ("field", "literal"),
    [("timeout_secs", "1e400"), ("extra", "-1e400"), ("timeout_secs", "1E+999")],
)
def test_a_number_beyond_float_range_gets_a_422_in_valid_json(
    client: httpx.Client, field: str, literal: str
) -> None:
    """A number too large for a float is named in the 422; the answer never holds Infinity."""
    body = job_body("big-number")
    body[field] = "@"
    raw = json.dumps(body).replace('"@"', literal).encode()
    response = client.post("/v1/jobs", content=raw, headers={"Content-Type": "application/json"})
    assert response.status_code == 422, response.text
    document = _strict_json(response.text)
    assert not violations("/components/schemas/ErrorResponse", document)
    assert isinstance(document, dict)
    errors = {error["target"]["name"]: error for error in document["errors"]}
    assert errors[f"/{field}"]["value"] == literal
    assert literal in errors[f"/{field}"]["message"]
