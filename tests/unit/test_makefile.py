"""The Makefile explains itself: `make help` lists every target and every variable."""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path


def help_text(root: Path) -> str:
    make = shutil.which("make")
    assert make is not None
    result = subprocess.run(
        [make, "-s", "help"], cwd=root, capture_output=True, text=True, check=True
    )
    return result.stdout


def test_help_lists_every_variable_with_its_meaning(root: Path) -> None:
    """Each `NAME ?= ...` of the Makefile is a line of `make help` with a description."""
    makefile = (root / "Makefile").read_text("utf-8")
    variables = re.findall(r"^([A-Z_]+) \?=", makefile, re.MULTILINE)
    assert {"ARGS", "CONTRACT_EXAMPLES", "PYTHON", "SPEC"} <= set(variables)
    lines = help_text(root).splitlines()
    for name in variables:
        (line,) = [line for line in lines if line.split()[:1] == [name]]
        description = line.split(None, 1)[1]
        assert not description.startswith("(default"), f"{name} has no comment above it"


def test_help_lists_every_target(root: Path) -> None:
    """Each phony target has a `## description` and so a line of `make help`."""
    makefile = (root / "Makefile").read_text("utf-8")
    phony = re.search(r"^\.PHONY:(.*?)(?<!\\)$", makefile, re.MULTILINE | re.DOTALL)
    assert phony is not None
    targets = phony.group(1).replace("\\\n", " ").split()
    listed = {line.split()[0] for line in help_text(root).splitlines() if line.startswith("  ")}
    assert set(targets) <= listed, set(targets) - listed
