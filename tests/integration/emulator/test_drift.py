"""The drift profile: jobs carry `metrics` as newer deployments send them, lagging Completed."""

from __future__ import annotations

import datetime
import json
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from direct_access_emulator.config import CONFIG_REFERENCE, ConfigError, DriftConfig
from direct_access_emulator.config_file import config_from_mapping
from direct_access_emulator.seaweedfs import S3Settings
from direct_access_emulator.testing import RunningEmulator, serve
from direct_access_spec import violations
from tests.integration.emulator.support import credentials, fast_config, job_body, wait_for
from tests.integration.emulator.test_execution import BELL, Storage

LAG_SECS = 1.5


def _time(text: str) -> datetime.datetime:
    return datetime.datetime.fromisoformat(text)


@pytest.fixture(scope="module")
def drifting() -> Iterator[RunningEmulator]:
    with serve(fast_config(drift=DriftConfig(metrics=True, metrics_lag_secs=LAG_SECS))) as running:
        yield running


@pytest.fixture
def storage(s3: S3Settings) -> Storage:
    return Storage(s3)


@pytest.fixture
def client(drifting: RunningEmulator) -> Iterator[httpx.Client]:
    """Unchecked: these answers depart from the spec on purpose."""
    with httpx.Client(base_url=drifting.url, headers=credentials(drifting)) as plain:
        yield plain


def _job(client: httpx.Client, job_id: str) -> dict[str, Any]:
    document = client.get(f"/v1/jobs/{job_id}").json()
    assert isinstance(document, dict)
    return document


def test_completed_is_shown_before_metrics_hold_the_execution_time(
    client: httpx.Client, storage: Storage
) -> None:
    """Running and just-Completed jobs have only timestamps.created; metrics_lag_secs after the
    end they hold finished and circuits_execution_time_ns, in Get job and List jobs alike."""
    storage.put("input.json", json.dumps({"pubs": [[BELL, None, 10]], "version": 2}).encode())
    assert client.post("/v1/jobs", json=storage.job("drift-1")).status_code == 204
    running = _job(client, "drift-1")
    assert running["metrics"] == {"timestamps": {"created": running["created_time"]}}
    completed = wait_for(lambda: _job(client, "drift-1"), lambda j: j["status"] != "Running")
    assert completed["status"] == "Completed", completed
    assert "circuits_execution_time_ns" not in completed["metrics"]
    assert "finished" not in completed["metrics"]["timestamps"]
    finished = wait_for(
        lambda: _job(client, "drift-1"),
        lambda j: "circuits_execution_time_ns" in j["metrics"],
        deadline_secs=LAG_SECS + 10,
    )
    metrics = finished["metrics"]
    assert metrics["circuits_execution_time_ns"] == finished["usage"]["quantum_nanoseconds"] > 0
    assert metrics["timestamps"]["created"] == finished["created_time"]
    lag = _time(metrics["timestamps"]["finished"]) - _time(finished["end_time"])
    assert lag == datetime.timedelta(seconds=LAG_SECS)
    listed = client.get("/v1/jobs").json()["jobs"]
    assert [job["metrics"] for job in listed] == [metrics]
    # The only departure from the spec is the added field (drift, not a broken answer).
    found = violations("/components/schemas/Job", finished)
    assert [(v.keyword, v.location) for v in found] == [("additionalProperties", "/metrics")]
    assert client.delete("/v1/jobs/drift-1").status_code == 204


def test_metrics_are_off_by_default(emulator: RunningEmulator) -> None:
    """Without [drift] a job is the spec's Job: no metrics, in Get job or List jobs."""
    with httpx.Client(base_url=emulator.url, headers=credentials(emulator)) as plain:
        assert plain.post("/v1/jobs", json=job_body("no-drift")).status_code == 204
        ended = wait_for(lambda: _job(plain, "no-drift"), lambda j: j["status"] != "Running")
        assert "metrics" not in ended
        assert all("metrics" not in job for job in plain.get("/v1/jobs").json()["jobs"])
        assert plain.delete("/v1/jobs/no-drift").status_code == 204


def test_the_profile_is_a_documented_section_of_the_file() -> None:
    """[drift] is read from TOML, checked, and listed by --help with its defaults."""
    config = config_from_mapping({"drift": {"metrics": True, "metrics_lag_secs": 0.25}})
    assert config.drift == DriftConfig(metrics=True, metrics_lag_secs=0.25)
    assert config_from_mapping({}).drift.metrics is False
    with pytest.raises(ConfigError, match=r"drift\.metrics_lag_secs"):
        config_from_mapping({"drift": {"metrics_lag_secs": -1}})
    with pytest.raises(ConfigError, match=r"drift\.lag: unknown field"):
        config_from_mapping({"drift": {"lag": 1}})
    assert "[drift]" in CONFIG_REFERENCE
    assert "metrics = false" in CONFIG_REFERENCE
    assert "metrics_lag_secs = 1.0" in CONFIG_REFERENCE
