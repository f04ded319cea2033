"""Seeded fault injection: 503s, dropped connections, latency and create's 423/429, on demand."""

from __future__ import annotations

import time

import httpx
import pytest

from direct_access_emulator.config import FaultConfig, OperationFaults
from direct_access_emulator.testing import serve
from tests.integration.emulator.support import api_client, credentials, fast_config, job_body


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
