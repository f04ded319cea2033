"""Fixtures shared by the integration tests: real servers on free loopback ports."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from direct_access_emulator.seaweedfs import S3Settings, local_s3


@pytest.fixture(scope="session")
def s3() -> Iterator[S3Settings]:
    """A real SeaweedFS S3 server with signature checking, once per test session."""
    with local_s3() as settings:
        yield settings
