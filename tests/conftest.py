"""Shared fixtures: where the repository and the reference material are."""

from __future__ import annotations

from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="session")
def root() -> Path:
    """The repository's root folder."""
    return ROOT


@pytest.fixture(scope="session")
def reference_text() -> str:
    """The published Jobs reference (a verbatim copy in tests/data, the source of the spec)."""
    return (ROOT / "tests" / "data" / "direct-access-api-jobs.txt").read_text("utf-8")
