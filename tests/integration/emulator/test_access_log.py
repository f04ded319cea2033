"""The structured access log: one JSON object per request, without tokens, keys or signatures."""

from __future__ import annotations

import json
import logging

import pytest

from direct_access_emulator.testing import RunningEmulator
from tests.integration.emulator.support import api_client, credentials, job_body, wait_for


def test_each_request_is_one_json_line_without_secrets(
    emulator: RunningEmulator, caplog: pytest.LogCaptureFixture
) -> None:
    """method, path, status, duration_ms and job_id are logged; credentials and URLs are not."""
    signed = "http://127.0.0.1:9/input.json?X-Amz-Signature=topsecretsignature"
    with caplog.at_level(logging.INFO, logger="direct_access_emulator.access"):
        headers = credentials(emulator)
        with api_client(emulator, headers) as client:
            assert (
                client.post("/v1/jobs", json=job_body("logged", input_url=signed)).status_code
                == 204
            )
            wait_for(
                lambda: client.get("/v1/jobs/logged").json()["status"],
                lambda status: status != "Running",
            )
            assert client.delete("/v1/jobs/logged").status_code == 204
    lines = [
        json.loads(record.getMessage())
        for record in caplog.records
        if record.name == "direct_access_emulator.access"
    ]
    create = next(line for line in lines if line["method"] == "POST" and line["path"] == "/v1/jobs")
    assert create["status"] == 204
    assert create["job_id"] == "logged"
    assert isinstance(create["duration_ms"], float)
    token_line = next(line for line in lines if line["path"] == "/identity/token")
    assert token_line["job_id"] is None
    assert {line["job_id"] for line in lines if line["path"] == "/v1/jobs/logged"} == {"logged"}
    token = headers["Authorization"].removeprefix("Bearer ")
    for secret in (token, "key-a", "topsecretsignature"):
        assert secret not in caplog.text
