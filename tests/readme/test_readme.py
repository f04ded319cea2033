"""The README is a test: every shell block runs as pasted, every block follows the rule.

The Python blocks run through pytest-markdown-docs (`make test` passes `--markdown-docs
README.md`; the fixtures are in the root conftest.py). The rule is in tests/readme/blocks.py.
"""

from __future__ import annotations

import os
import tomllib
from pathlib import Path

import pytest
import yaml

from tests.readme import blocks, session

ALL = blocks.blocks()
SHELL = [b for b in ALL if b.language in blocks.SHELL and not b.illustrative]
#: Pasted blocks start an emulator, poll jobs and wait for them; none needs longer than this.
BLOCK_DEADLINE_SECS = 150.0


def test_every_block_has_a_known_kind() -> None:
    """Each fence is Python, shell, configuration or output: a new language is a decision."""
    known = blocks.PYTHON | blocks.SHELL | blocks.CONFIG | blocks.OUTPUT
    unknown = [(b.line, b.language) for b in ALL if b.language not in known]
    assert not unknown, f"README blocks of no known kind (see tests/readme/blocks.py): {unknown}"


def test_illustrative_blocks_say_so_visibly() -> None:
    """A `notest` block has `_Illustrative (why):_` just above it, and only such a block has."""
    unmarked = [b.line for b in ALL if b.illustrative and not blocks.ILLUSTRATIVE.match(b.before)]
    assert not unmarked, f"notest blocks without an _Illustrative (why):_ line above: {unmarked}"
    stray = [b.line for b in ALL if not b.illustrative and blocks.ILLUSTRATIVE.match(b.before)]
    assert not stray, f"blocks marked _Illustrative_ but run all the same (add notest): {stray}"
    runnable = blocks.PYTHON | blocks.SHELL
    wrong = [b.line for b in ALL if b.illustrative and b.language not in runnable]
    assert not wrong, f"notest on a block that is never run anyway: {wrong}"


CONFIG = [b for b in ALL if b.language in blocks.CONFIG]


@pytest.mark.parametrize("block", CONFIG, ids=lambda b: b.id)
def test_configuration_blocks_parse(block: blocks.Block) -> None:
    """A configuration block is valid TOML, YAML or JSON, as a reader would save it."""
    if block.language == "toml":
        tomllib.loads(block.text)
    else:
        yaml.safe_load(block.text)  # JSON is YAML


def _files_before(block: blocks.Block) -> dict[str, str]:
    """The files the reader has saved by then: named TOML blocks above ``block``."""
    return {b.file_name: b.text for b in ALL if b.file_name and b.line < block.line}


@pytest.mark.parametrize("block", SHELL, ids=lambda b: b.id)
def test_shell_block_runs_as_pasted(
    block: blocks.Block, tmp_path: Path, readme_emulator: dict[str, str]
) -> None:
    """The block exits 0 in a fresh checkout with `.venv` active and the emulator's variables
    exported; whatever it started in the background ends with it."""
    directory = session.checkout(tmp_path / "checkout")
    for name, text in _files_before(block).items():
        (directory / name).write_text(text, "utf-8")
    result = session.run_shell(
        block.text,
        directory,
        session.reader_env(directory, readme_emulator),
        deadline_secs=BLOCK_DEADLINE_SECS,
    )
    assert result.returncode == 0, f"README line {block.line}:\n{result.output[-4000:]}"
    assert result.stopped_on_sigterm, f"README line {block.line} left processes that ignore SIGTERM"


def test_a_blocks_output_and_the_emulators_variables_hide_secrets(
    tmp_path: Path, readme_emulator: dict[str, str]
) -> None:
    """What a failing block's report shows (its output, the emulator's variables) names the
    secret variables but not their values."""
    secret = readme_emulator["DIRECT_ACCESS_S3_SECRET_ACCESS_KEY"]
    result = session.run_shell(
        'KEY=DIRECT_ACCESS_S3_SECRET_ACCESS_KEY; echo "{\\"$KEY\\": \\"${!KEY}\\"}"\n'
        "echo \"export DIRECT_ACCESS_TOKEN='abc.def'\"",
        tmp_path,
        session.reader_env(tmp_path, readme_emulator),
        deadline_secs=BLOCK_DEADLINE_SECS,
    )
    assert result.returncode == 0, result.output
    assert secret not in result.output
    assert "abc.def" not in result.output
    assert result.output.count("[redacted]") == 2
    assert "DIRECT_ACCESS_S3_SECRET_ACCESS_KEY" in repr(readme_emulator)
    assert secret not in repr(readme_emulator)


def test_a_stale_virtualenv_is_refused_before_a_block_could_reinstall_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A `.venv` older than pyproject.toml: no checkout (its `make` would reinstall the real
    `.venv` from the temporary folder)."""
    root = tmp_path / "repository"
    (root / ".venv").mkdir(parents=True)
    (root / ".venv" / ".installed").touch()
    (root / "constraints.txt").touch()
    (root / "pyproject.toml").touch()
    os.utime(root / ".venv" / ".installed", (0, 0))
    monkeypatch.setattr(session, "ROOT", root)
    with pytest.raises(session.StaleVirtualenv, match="make venv"):
        session.checkout(tmp_path / "checkout")
