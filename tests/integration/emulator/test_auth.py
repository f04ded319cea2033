"""The IAM token endpoint and the API's credentials: tokens, keys, instances, expiry."""

from __future__ import annotations

import time

import httpx
import pytest

from direct_access_emulator.config import AuthConfig
from direct_access_emulator.testing import RunningEmulator, serve
from tests.integration.emulator.conftest import INSTANCE_A, INSTANCE_B
from tests.integration.emulator.support import (
    GRANT_TYPE,
    api_client,
    fast_config,
    issue_token,
    wait_for,
)


def test_the_token_answer_has_iams_shape(emulator: RunningEmulator) -> None:
    """A known API key gets access_token, refresh_token, Bearer, expires_in and expiration."""
    before = int(time.time())
    response = httpx.post(
        f"{emulator.url}/identity/token", data={"grant_type": GRANT_TYPE, "apikey": "key-a"}
    )
    assert response.status_code == 200
    answer = response.json()
    assert answer["token_type"] == "Bearer"  # noqa: S105 - a token type, not a secret
    assert answer["expires_in"] == emulator.config.auth.token_lifetime_secs
    assert before + answer["expires_in"] <= answer["expiration"] <= time.time() + 3600 + 1
    assert answer["access_token"] != answer["refresh_token"]


@pytest.mark.parametrize(
    ("form", "message"),
    [
        ({"grant_type": GRANT_TYPE, "apikey": "not-a-key"}, "could not be found"),
        ({"grant_type": GRANT_TYPE}, "could not be found"),
        ({"grant_type": "password", "apikey": "key-a"}, "grant type"),
        ({}, "grant type"),
    ],
)
def test_iam_refuses_bad_requests_in_its_own_shape(
    emulator: RunningEmulator, form: dict[str, str], message: str
) -> None:
    """Unknown or missing key, or a wrong grant type: 400 with errorCode BXNIM0415E and context."""
    response = httpx.post(f"{emulator.url}/identity/token", data=form)
    assert response.status_code == 400
    body = response.json()
    assert body["errorCode"] == "BXNIM0415E"
    assert message in body["errorMessage"]
    assert body["errorDetails"]
    assert body["context"]["requestType"] == "incoming.Identity_Token"
    assert "not-a-key" not in response.text


def _auth_code(emulator: RunningEmulator, headers: dict[str, str]) -> tuple[int, str]:
    with api_client(emulator, headers) as client:
        response = client.get("/v1/jobs")
    return response.status_code, response.json()["errors"][0]["code"] if response.is_error else ""


def test_missing_or_malformed_credentials_get_1200(emulator: RunningEmulator) -> None:
    """No token, a non-Bearer scheme, an empty token or no Service-CRN: 401 with code 1200."""
    token = issue_token(emulator.url, "key-a")
    assert _auth_code(emulator, {"Service-CRN": INSTANCE_A}) == (401, "1200")
    basic = {"Authorization": f"Basic {token}", "Service-CRN": INSTANCE_A}
    assert _auth_code(emulator, basic) == (401, "1200")
    assert _auth_code(emulator, {"Authorization": "Bearer", "Service-CRN": INSTANCE_A}) == (
        401,
        "1200",
    )
    assert _auth_code(emulator, {"Authorization": f"Bearer {token}"}) == (401, "1200")


def test_invalid_tokens_and_foreign_instances_get_1201(emulator: RunningEmulator) -> None:
    """A token the emulator did not issue, or a Service-CRN the key cannot use: 401, code 1201."""
    forged = {"Authorization": "Bearer forged-token", "Service-CRN": INSTANCE_A}
    assert _auth_code(emulator, forged) == (401, "1201")
    token = issue_token(emulator.url, "key-a")
    foreign = {"Authorization": f"Bearer {token}", "Service-CRN": INSTANCE_B}
    assert _auth_code(emulator, foreign) == (401, "1201")
    own = {"Authorization": f"Bearer {token}", "Service-CRN": INSTANCE_A}
    assert _auth_code(emulator, own) == (200, "")


def test_an_expired_token_gets_401() -> None:
    """Tokens expire after the configured lifetime; then the API answers 401 with code 1201."""
    with serve(fast_config(auth=AuthConfig(token_lifetime_secs=1))) as emulator:
        env = emulator.env()
        token = issue_token(emulator.url, env["DIRECT_ACCESS_API_KEY"])
        headers = {
            "Authorization": f"Bearer {token}",
            "Service-CRN": env["DIRECT_ACCESS_SERVICE_CRN"],
        }
        assert _auth_code(emulator, headers) == (200, "")
        assert wait_for(lambda: _auth_code(emulator, headers), lambda c: c[0] != 200) == (
            401,
            "1201",
        )
