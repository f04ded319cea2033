"""Settings from arguments and the environment; secrets hidden from reprs and messages."""

from __future__ import annotations

import pytest

from direct_access import Client, ConfigurationError, IAMAuth, Settings
from direct_access.storage import S3Storage

ENV = {
    "DIRECT_ACCESS_URL": "https://da.example.test/",
    "DIRECT_ACCESS_API_KEY": "env-key-5ecret",
    "DIRECT_ACCESS_SERVICE_CRN": "crn:v1:x",
}


def test_from_env_reads_every_variable() -> None:
    """All DIRECT_ACCESS_* variables land in their fields; the IAM URL has its default."""
    s = Settings.from_env(
        ENV | {"DIRECT_ACCESS_API_VERSION": "2025-08-15", "DIRECT_ACCESS_BACKEND": "ibm_x"}
    )
    assert (s.url, s.service_crn, s.api_key, s.token) == (
        "https://da.example.test",
        "crn:v1:x",
        "env-key-5ecret",
        None,
    )
    assert (s.iam_url, s.api_version, s.backend) == (
        "https://iam.cloud.ibm.com",
        "2025-08-15",
        "ibm_x",
    )


def test_an_acronym_stands_for_the_url() -> None:
    """A URL without a scheme is the client acronym of the production host."""
    s = Settings.from_env(ENV | {"DIRECT_ACCESS_URL": "RPI"})
    assert s.url == "https://direct-access-rpi.quantum-computing.cloud.ibm.com:30060"


@pytest.mark.parametrize(
    ("change", "named"),
    [
        ({"DIRECT_ACCESS_URL": ""}, "DIRECT_ACCESS_URL"),
        ({"DIRECT_ACCESS_URL": "not a host!"}, "DIRECT_ACCESS_URL"),
        ({"DIRECT_ACCESS_URL": "ftp://x"}, "DIRECT_ACCESS_URL"),
        ({"DIRECT_ACCESS_SERVICE_CRN": ""}, "DIRECT_ACCESS_SERVICE_CRN"),
        ({"DIRECT_ACCESS_API_KEY": ""}, "DIRECT_ACCESS_API_KEY"),
        ({"DIRECT_ACCESS_TOKEN": "t"}, "DIRECT_ACCESS_TOKEN"),
        ({"DIRECT_ACCESS_IAM_URL": "iam"}, "DIRECT_ACCESS_IAM_URL"),
    ],
)
def test_missing_or_contradictory_settings_name_the_variable(
    change: dict[str, str], named: str
) -> None:
    """Each problem is a ConfigurationError whose message names the variable to fix."""
    with pytest.raises(ConfigurationError, match=named) as caught:
        Settings.from_env(ENV | change)
    assert "env-key-5ecret" not in str(caught.value)


def test_reprs_hide_keys_and_tokens() -> None:
    """Settings, auth, client and storage reprs never show a key, token or secret."""
    s = Settings.from_env(ENV)
    t = Settings(url="https://x", service_crn="c", token="tok-5ecret")  # noqa: S106
    storage = S3Storage("http://s3", "b", "us-east-1", "AKIA", "s3-5ecret")
    shown = " ".join(repr(x) for x in (s, t, IAMAuth("env-key-5ecret"), Client(s), storage)) + str(
        s
    )
    for secret in ("env-key-5ecret", "tok-5ecret", "s3-5ecret"):
        assert secret not in shown
    assert "api_key=***" in repr(s)
    assert "token=***" in repr(t)
