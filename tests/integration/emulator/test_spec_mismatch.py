"""A spec the emulator does not match: the start names the status and the file; --help works."""

from __future__ import annotations

import subprocess
import sys

import pytest

# Runs the emulator's command on openapi.yaml as a maintainer changed it: `change` edits the
# parsed spec before any emulator module reads it.
_RUN = """
import sys
from direct_access_spec import load_spec
statuses = load_spec()["components"]["schemas"]["JobStatus"]["enum"]
{change}
from direct_access_emulator.__main__ import main
sys.exit(main(sys.argv[1:]))
"""


def _run(change: str, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-c", _RUN.format(change=change), "--port", "0", *args],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def test_a_status_added_to_the_spec_names_itself_and_the_file_to_change() -> None:
    """A JobStatus without an emulator rule: exit 2, one line naming it and core.py, no trace."""
    done = _run("statuses.append('Queued')")
    assert done.returncode == 2, done.stderr
    assert "'Queued'" in done.stderr
    assert "direct_access_emulator/core.py" in done.stderr
    assert "Traceback" not in done.stderr
    assert done.stdout == ""


@pytest.mark.parametrize(
    ("change", "shown"),
    [
        ("statuses.append('Queued')", "Configuration file (TOML)"),
        ("statuses.remove('Failed')", "no value 'Failed', which"),
    ],
)
def test_help_still_answers_when_the_spec_changed(change: str, shown: str) -> None:
    """--help works with a status added, and with one removed (then saying what to change)."""
    done = _run(change, "--help")
    assert done.returncode == 0, done.stderr
    assert "--with-storage" in done.stdout
    assert shown in done.stdout


def test_a_status_removed_from_the_spec_is_refused_in_one_line() -> None:
    """A status the emulator names but the spec lost: exit 2, naming the value and core.py."""
    done = _run("statuses.remove('Failed')")
    assert done.returncode == 2
    assert "no value 'Failed'" in done.stderr
    assert "direct_access_emulator/core.py" in done.stderr
    assert "Traceback" not in done.stderr
