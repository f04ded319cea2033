"""Seeded fault injection: 503s, dropped connections, latency and create's 423/429, on demand."""

from __future__ import annotations

import time
from pathlib import Path

import httpx
import pytest

from direct_access_emulator.config import FaultConfig, OperationFaults
from direct_access_emulator.testing import serve
from tests.integration.emulator.support import (
    api_client,
    credentials,
    fast_config,
    job_body,
    wait_for,
)


def _statuses(seed: int) -> list[int]:
    faults = FaultConfig(seed=seed, operations={"get_version": OperationFaults(error_503=0.5)})
    with serve(fast_config(faults=faults)) as emulator, api_client(emulator) as client:
        return [client.get("/version").status_code for _ in range(40)]


def test_a_fixed_seed_gives_the_same_503s() -> None:
    """With probability 0.5, some answers are 503 (in the error shape), the same for one seed."""
    first = _statuses(seed=7)
    assert set(first) == {200, 503}
    assert _statuses(seed=7) == first
    assert _statuses(seed=8) != first


def test_a_dropped_connection_has_no_answer() -> None:
    """drop_connection closes the connection without a status line."""
    faults = FaultConfig(operations={"list_versions": OperationFaults(drop_connection=1.0)})
    with serve(fast_config(faults=faults)) as emulator:
        with pytest.raises(httpx.RemoteProtocolError, match="without sending"):
            httpx.get(f"{emulator.url}/versions")
        assert httpx.get(f"{emulator.url}/version").status_code == 200


def test_latency_is_added_before_answering() -> None:
    """latency_secs delays the answer of every operation under "*"."""
    faults = FaultConfig(operations={"*": OperationFaults(latency_secs=0.3)})
    with serve(fast_config(faults=faults)) as emulator:
        started = time.monotonic()
        assert httpx.get(f"{emulator.url}/version").status_code == 200
        assert time.monotonic() - started >= 0.3


@pytest.mark.parametrize(
    ("faults", "status", "code"),
    [
        (OperationFaults(reserved_423=1.0), 423, "1233"),
        (OperationFaults(lanes_full_429=1.0), 429, "1232"),
    ],
)
def test_create_can_be_told_to_answer_423_or_429(
    faults: OperationFaults, status: int, code: str
) -> None:
    """create_job's own faults answer its documented 423 and 429 after auth and validation."""
    config = fast_config(faults=FaultConfig(operations={"create_job": faults}))
    with serve(config) as emulator, api_client(emulator, credentials(emulator)) as client:
        assert client.post("/v1/jobs", json={"id": "x"}).status_code == 422
        response = client.post("/v1/jobs", json=job_body("f-1"))
        assert response.status_code == status
        assert response.json()["errors"][0]["code"] == code
        assert client.get("/v1/jobs").json() == {"jobs": []}


def test_a_create_whose_answer_is_dropped_after_commit_exists() -> None:
    """drop_after_commit: the job is created, then the connection closes without an answer."""
    faults = FaultConfig(operations={"create_job": OperationFaults(drop_after_commit=1.0)})
    with serve(fast_config(faults=faults)) as emulator:
        headers = credentials(emulator)
        with pytest.raises(httpx.RemoteProtocolError, match="without sending"):
            httpx.post(f"{emulator.url}/v1/jobs", json=job_body("lost-1"), headers=headers)
        with api_client(emulator, headers) as client:
            assert client.get("/v1/jobs/lost-1").status_code == 200
            # a failed create is not an action: its answer comes through
            assert client.post("/v1/jobs", json=job_body("lost-1")).status_code == 409


def test_a_delete_whose_answer_is_dropped_after_commit_is_done() -> None:
    """drop_after_commit on delete_job: the job is gone, though no answer came."""
    faults = FaultConfig(operations={"delete_job": OperationFaults(drop_after_commit=1.0)})
    with serve(fast_config(faults=faults)) as emulator:
        headers = credentials(emulator)
        with api_client(emulator, headers) as client:
            assert client.post("/v1/jobs", json=job_body("gone-1")).status_code == 204
            wait_for(
                lambda: client.get("/v1/jobs/gone-1").json()["status"], lambda s: s != "Running"
            )
            with pytest.raises(httpx.RemoteProtocolError):
                client.delete("/v1/jobs/gone-1")
            assert client.get("/v1/jobs/gone-1").status_code == 404


def test_a_late_answer_comes_after_the_job_exists() -> None:
    """late_answer: the job exists at once, the answer comes late_answer_secs later."""
    faults = FaultConfig(
        operations={"create_job": OperationFaults(late_answer=1.0, late_answer_secs=1.0)}
    )
    with serve(fast_config(faults=faults)) as emulator:
        headers = credentials(emulator)
        with pytest.raises(httpx.ReadTimeout):
            httpx.post(
                f"{emulator.url}/v1/jobs", json=job_body("late-1"), headers=headers, timeout=0.3
            )
        with api_client(emulator, headers) as client:
            # the client gave up before the answer, yet the job was created
            assert client.get("/v1/jobs/late-1").status_code == 200
            started = time.monotonic()
            assert client.post("/v1/jobs", json=job_body("late-2")).status_code == 204
            assert time.monotonic() - started >= 1.0


@pytest.mark.parametrize(
    ("faults", "status"),
    [(OperationFaults(reserved_423=1.0), 423), (OperationFaults(lanes_full_429=1.0), 429)],
)
def test_a_retried_create_of_a_stored_id_gets_409_before_an_injected_refusal(
    tmp_path: Path, faults: OperationFaults, status: int
) -> None:
    """Injected 423/429 come after the duplicate-id check, as real ones: a stored id gets 409."""
    with (
        serve(fast_config(), data_dir=tmp_path) as emulator,
        api_client(emulator, credentials(emulator)) as client,
    ):
        assert client.post("/v1/jobs", json=job_body("kept-1")).status_code == 204
    config = fast_config(faults=FaultConfig(operations={"create_job": faults}))
    with (
        serve(config, data_dir=tmp_path) as emulator,
        api_client(emulator, credentials(emulator)) as client,
    ):
        duplicate = client.post("/v1/jobs", json=job_body("kept-1"))
        assert duplicate.status_code == 409
        assert duplicate.json()["errors"][0]["code"] == "1231"
        assert client.post("/v1/jobs", json=job_body("new-1")).status_code == status
