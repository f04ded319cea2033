"""Fixtures of the emulator's integration tests: emulators on free loopback ports."""

from __future__ import annotations

import socket
from collections.abc import Iterator

import pytest

from direct_access_emulator.config import BackendConfig, InstanceConfig
from direct_access_emulator.testing import RunningEmulator, serve
from tests.integration.emulator.support import fast_config

INSTANCE_A = "crn:v1:local:public:quantum-computing:local:a/emulator:instance-a::"
INSTANCE_B = "crn:v1:local:public:quantum-computing:local:a/emulator:instance-b::"


@pytest.fixture(scope="module")
def emulator() -> Iterator[RunningEmulator]:
    """An emulator with two instances and backends for every documented state."""
    config = fast_config(
        instances=(
            InstanceConfig(crn=INSTANCE_A, api_keys=("key-a",)),
            InstanceConfig(crn=INSTANCE_B, api_keys=("key-b",)),
        ),
        backends=(
            BackendConfig(name="fake_backend"),
            BackendConfig(name="one_lane", lanes=1),
            BackendConfig(name="reserved", always_reserved=True),
            BackendConfig(name="with_defaults", defaults={"qubit_freq_est": [5.1, 5.2]}),
        ),
    )
    with serve(config) as running:
        yield running


@pytest.fixture
def hanging_url() -> Iterator[str]:
    """A URL whose server accepts connections and never answers: a job reading it stays Running."""
    with socket.create_server(("127.0.0.1", 0)) as listener:
        port = listener.getsockname()[1]
        yield f"http://127.0.0.1:{port}/input.json"
