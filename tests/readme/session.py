"""What a reader of the README has at hand: a checkout, an emulator, a shell.

``checkout()`` lays out a fresh directory like the repository's root (links to its files and
``.venv``), so that blocks find ``make``, ``.venv/bin/...`` and the spec, and whatever they write
lands there. ``emulator()`` starts ``python -m direct_access_emulator`` as the README does and
reads the JSON line it prints. ``run_shell()`` runs a block in bash and ends everything it left
running.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import select
import signal
import subprocess
import sys
import time
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
#: What a block may find in the checkout besides the tracked files.
LOCAL = (".venv", ".venv-gen")
STOP_DEADLINE_SECS = 30.0
#: A secret's value as a block's output shows it: the emulator's JSON line and its env file.
_SECRET = re.compile(
    r"""((?:SECRET_ACCESS_KEY|_TOKEN)["']?(?::\s*"|=')?)[^"'\s]+""",
)


def redacted(text: str) -> str:
    """``text`` with the values of secret variables hidden, for failure messages."""
    return _SECRET.sub(r"\1[redacted]", text)


class Settings(dict[str, str]):
    """An emulator's variables, whose repr (in a failing test's report) hides the secrets."""

    def __repr__(self) -> str:
        return redacted(json.dumps(self))


class StaleVirtualenv(RuntimeError):
    """`.venv` is older than what it is installed from: a block's `make` would reinstall it."""


def checkout(directory: Path) -> Path:
    """``directory`` with a link to each top-level entry of the repository (tracked, and .venv).

    Refuses a `.venv` older than pyproject.toml or constraints.txt: a block's `make emulator`
    would reinstall the linked, real `.venv` from the checkout, pointing its scripts and its
    editable install at a temporary folder.
    """
    installed = ROOT / ".venv" / ".installed"
    sources = [ROOT / "pyproject.toml", ROOT / "constraints.txt"]
    if installed.exists() and any(s.stat().st_mtime > installed.stat().st_mtime for s in sources):
        raise StaleVirtualenv(".venv is older than pyproject.toml or constraints.txt: make venv")
    tracked = subprocess.run(
        ["git", "ls-files", "-z"], cwd=ROOT, check=True, capture_output=True
    ).stdout.decode()
    names = {name.split("/", 1)[0] for name in tracked.split("\0") if name}
    names.update(name for name in LOCAL if (ROOT / name).exists())
    directory.mkdir(parents=True, exist_ok=True)
    for name in sorted(names):
        if (ROOT / name).exists():
            (directory / name).symlink_to(ROOT / name)
    return directory


def reader_env(directory: Path, exported: Mapping[str, str]) -> dict[str, str]:
    """The environment of a reader's shell: ``.venv`` active and ``exported`` set.

    Variables of the machine's own DIRECT_ACCESS_* settings are dropped, so that a block sees only
    what the README tells the reader to export.
    """
    env = {k: v for k, v in os.environ.items() if not k.startswith("DIRECT_ACCESS_")}
    env.pop("PYTHONPATH", None)
    venv = directory / ".venv"
    env["VIRTUAL_ENV"] = str(venv)
    env["PATH"] = f"{venv / 'bin'}{os.pathsep}{env.get('PATH', '')}"
    env.update(exported)
    return env


def _end_group(process: subprocess.Popen[bytes]) -> bool:
    """SIGTERM to the process group (background jobs included), SIGKILL after the deadline.

    True when the group ended on SIGTERM, False when it had to be killed.
    """
    group = process.pid
    with contextlib.suppress(ProcessLookupError):
        os.killpg(group, signal.SIGTERM)
    deadline = time.monotonic() + STOP_DEADLINE_SECS
    while time.monotonic() < deadline:
        process.poll()
        try:
            os.killpg(group, 0)
        except ProcessLookupError:
            return True
        time.sleep(0.05)
    with contextlib.suppress(ProcessLookupError):
        os.killpg(group, signal.SIGKILL)
    process.wait(timeout=STOP_DEADLINE_SECS)
    return False


@dataclass(frozen=True)
class ShellResult:
    """How a block ended: its exit status, its output, and whether it stopped when asked."""

    returncode: int
    output: str
    stopped_on_sigterm: bool


def run_shell(
    script: str, directory: Path, env: Mapping[str, str], deadline_secs: float
) -> ShellResult:
    """Run ``script`` in bash, stopping at its first failing command (``-e -o pipefail``).

    Its own process group, ended afterwards: an emulator started in the background with ``&``
    stops with the block, as it would when the reader closes the terminal.
    """
    log = directory / ".block-output"
    with log.open("wb") as out:
        process = subprocess.Popen(
            ["bash", "-e", "-o", "pipefail", "-c", script],
            cwd=directory,
            env=dict(env),
            stdin=subprocess.DEVNULL,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        try:
            returncode = process.wait(timeout=deadline_secs)
        except subprocess.TimeoutExpired:
            returncode = -1
        finally:
            stopped = _end_group(process)
    output = redacted(log.read_text("utf-8", errors="replace"))
    if returncode == -1:
        output += f"\n[the block did not end within {deadline_secs:.0f} s]"
    return ShellResult(returncode, output, stopped)


@contextlib.contextmanager
def emulator(directory: Path, *args: str, deadline_secs: float = 120.0) -> Iterator[dict[str, str]]:
    """``python -m direct_access_emulator --with-storage ARGS`` in ``directory``: its variables."""
    log = directory / "emulator.log"
    with log.open("wb") as errors:
        process = subprocess.Popen(
            [sys.executable, "-m", "direct_access_emulator", "--with-storage", *args],
            cwd=directory,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=errors,
            start_new_session=True,
        )
    try:
        assert process.stdout is not None
        line = b""
        deadline = time.monotonic() + deadline_secs
        while not line.endswith(b"\n"):
            remaining = deadline - time.monotonic()
            ready, _, _ = select.select([process.stdout], [], [], max(remaining, 0))
            if not ready:
                raise RuntimeError(f"the emulator printed no line in {deadline_secs:.0f} s")
            chunk = os.read(process.stdout.fileno(), 65536)
            if not chunk:
                raise RuntimeError(f"the emulator exited: {log.read_text('utf-8')[-2000:]}")
            line += chunk
        yield Settings(json.loads(line))
    finally:
        _end_group(process)
        if process.stdout is not None:
            process.stdout.close()
