"""The README's Python blocks, run by pytest-markdown-docs (`pytest --markdown-docs README.md`).

Each block runs as a reader pastes it: in a fresh directory, with the variables of a running
emulator exported (`. .emulator/env` in the README). One emulator per session, with storage; a
block whose fence says `fixture:aer_emulator` gets the emulator started with the README's own
`aer.toml`. The rules for all blocks are in tests/readme/blocks.py.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.readme import blocks, session


@pytest.fixture(scope="session")
def readme_emulator(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, str]]:
    """`python -m direct_access_emulator --with-storage`, as the README starts it."""
    with session.emulator(tmp_path_factory.mktemp("readme-emulator")) as env:
        yield env


@pytest.fixture(scope="session")
def aer_emulator(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, str]]:
    """The emulator started with the README's `aer.toml` (Qiskit Aer executor)."""
    directory = tmp_path_factory.mktemp("readme-aer-emulator")
    (config,) = (b for b in blocks.blocks() if b.file_name == "aer.toml")
    (directory / "aer.toml").write_text(config.text, "utf-8")
    with session.emulator(directory, "--config", "aer.toml") as env:
        yield env


@pytest.fixture(autouse=True)
def _readme_python_block(
    request: pytest.FixtureRequest, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A README block gets a fresh directory and the emulator's variables; other tests nothing."""
    if request.node.get_closest_marker("markdown-docs") is None:
        return
    name = "aer_emulator" if "aer_emulator" in request.fixturenames else "readme_emulator"
    exported = request.getfixturevalue(name)
    monkeypatch.chdir(session.checkout(tmp_path / "checkout"))
    for key in [key for key in os.environ if key.startswith("DIRECT_ACCESS_")]:
        monkeypatch.delenv(key)
    for key, value in exported.items():
        monkeypatch.setenv(key, value)
