"""With a data directory, jobs survive a restart and a kill -9; running ones come back Failed."""

from __future__ import annotations

from pathlib import Path

import httpx

from direct_access_emulator.testing import serve
from tests.integration.emulator.support import (
    Cli,
    api_client,
    credentials,
    fast_config,
    issue_token,
    job_body,
    wait_for,
)


def _status(client: httpx.Client, job_id: str) -> str:
    status = client.get(f"/v1/jobs/{job_id}").json()["status"]
    assert isinstance(status, str)
    return status


def test_jobs_survive_a_restart(tmp_path: Path, hanging_url: str) -> None:
    """A finished job is kept as it was; a job running at the stop comes back Failed (1007)."""
    config = fast_config()
    with (
        serve(config, data_dir=tmp_path) as emulator,
        api_client(emulator, credentials(emulator)) as client,
    ):
        assert client.post("/v1/jobs", json=job_body("done")).status_code == 204
        wait_for(lambda: _status(client, "done"), lambda s: s != "Running")
        before = client.get("/v1/jobs/done").json()
        assert (
            client.post("/v1/jobs", json=job_body("cut", input_url=hanging_url)).status_code == 204
        )
    with (
        serve(config, data_dir=tmp_path) as emulator,
        api_client(emulator, credentials(emulator)) as client,
    ):
        assert client.get("/v1/jobs/done").json() == before
        cut = client.get("/v1/jobs/cut").json()
        assert cut["status"] == "Failed"
        assert cut["reason_code"] == 1007
        assert "end_time" in cut
        assert [job["id"] for job in client.get("/v1/jobs").json()["jobs"]] == ["done", "cut"]
        # the duplicate check and the lanes still count the stored jobs
        assert client.post("/v1/jobs", json=job_body("done")).status_code == 409


def test_jobs_survive_a_kill_9(tmp_path: Path, hanging_url: str) -> None:
    """`python -m direct_access_emulator --data-dir` killed with SIGKILL loses no accepted job."""
    config = tmp_path / "emulator.toml"
    config.write_text("[execution]\nduration_secs = 0.05\n")
    first = Cli("--data-dir", str(tmp_path / "data"), "--config", str(config))
    try:
        url = first.env["DIRECT_ACCESS_URL"]
        headers = {
            "Authorization": f"Bearer {issue_token(url, first.env['DIRECT_ACCESS_API_KEY'])}",
            "Service-CRN": first.env["DIRECT_ACCESS_SERVICE_CRN"],
        }
        with httpx.Client(base_url=url, headers=headers) as client:
            assert client.post("/v1/jobs", json=job_body("done")).status_code == 204
            wait_for(lambda: _status(client, "done"), lambda s: s != "Running")
            body = job_body("running", input_url=hanging_url)
            assert client.post("/v1/jobs", json=body).status_code == 204
    finally:
        first.kill()
    second = Cli("--data-dir", str(tmp_path / "data"), "--config", str(config))
    try:
        url = second.env["DIRECT_ACCESS_URL"]
        headers = {
            "Authorization": f"Bearer {issue_token(url, second.env['DIRECT_ACCESS_API_KEY'])}",
            "Service-CRN": second.env["DIRECT_ACCESS_SERVICE_CRN"],
        }
        with httpx.Client(base_url=url, headers=headers) as client:
            jobs = {job["id"]: job for job in client.get("/v1/jobs").json()["jobs"]}
    finally:
        status, _, _ = second.terminate()
    # It finished before the kill (its input URL is unreachable), and keeps its own reason.
    assert (jobs["done"]["status"], jobs["done"]["reason_code"]) == ("Failed", 1001)
    assert jobs["running"]["status"] == "Failed"
    assert jobs["running"]["reason_code"] == 1007
    assert status == 0
