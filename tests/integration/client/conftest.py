"""Client fixtures: an emulator on a free loopback port and clients configured for it."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from direct_access import Settings
from direct_access.storage import S3Storage
from direct_access_emulator.config import (
    AuthConfig,
    BackendConfig,
    EmulatorConfig,
    ExecutionConfig,
)
from direct_access_emulator.seaweedfs import S3Settings
from direct_access_emulator.testing import RunningEmulator, serve

#: Input the emulator's shape-checking executor accepts: one sampler pub.
SAMPLER_PARAMS = {
    "pubs": [["OPENQASM 3.0; qubit[1] q; bit[1] c; c[0] = measure q[0];", [], 16]],
    "shots": 16,
    "version": 2,
}


@pytest.fixture(scope="module")
def emulator() -> Iterator[RunningEmulator]:
    """An emulator with quick jobs, shared by a test module."""
    config = EmulatorConfig(
        auth=AuthConfig(token_lifetime_secs=3600),
        backends=(BackendConfig(defaults={"qubit_freq_est": [5.0]}),),
        execution=ExecutionConfig(duration_secs=0.05),
    )
    with serve(config) as running:
        yield running


@pytest.fixture
def settings(emulator: RunningEmulator) -> Settings:
    """Client settings from the emulator's environment, as a user would set them."""
    return Settings.from_env(emulator.env())


@pytest.fixture
def storage(s3: S3Settings) -> S3Storage:
    """The job store on the real SeaweedFS of the session."""
    return S3Storage(s3.endpoint, s3.bucket, s3.region, s3.access_key_id, s3.secret_access_key)
