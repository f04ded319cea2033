"""CLI fixtures: the emulator and SeaweedFS as a shell user's environment, and the command in a
real subprocess for what only a process shows (signals, terminals, missing modules)."""

from __future__ import annotations

import os
import queue
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import IO

import pytest

from direct_access_emulator.config import EmulatorConfig, ExecutionConfig
from direct_access_emulator.seaweedfs import S3Settings
from direct_access_emulator.testing import RunningEmulator, serve
from tests.integration.client.conftest import SAMPLER_PARAMS, emulator

__all__ = ["SAMPLER_PARAMS", "Command", "emulator", "start"]


@pytest.fixture
def env(emulator: RunningEmulator, s3: S3Settings) -> dict[str, str]:
    """Everything `direct-access` reads, for the quick emulator."""
    return emulator.env() | s3.env()


@pytest.fixture(scope="module")
def slow_emulator() -> Iterator[RunningEmulator]:
    """An emulator whose jobs run for a minute: long enough to interrupt them."""
    with serve(EmulatorConfig(execution=ExecutionConfig(duration_secs=60))) as running:
        yield running


@pytest.fixture
def slow_env(slow_emulator: RunningEmulator, s3: S3Settings) -> dict[str, str]:
    """Everything `direct-access` reads, for the slow emulator."""
    return slow_emulator.env() | s3.env()


# SIGINT as a terminal sends it: a child started by a shell in the background would ignore it.
_PRELUDE = "import signal; signal.signal(signal.SIGINT, signal.default_int_handler)\n"


@dataclass
class Command:
    """`direct-access` in a subprocess, its stderr read line by line as it comes."""

    process: subprocess.Popen[str]
    lines: queue.Queue[str | None] = field(default_factory=queue.Queue)
    seen: list[str] = field(default_factory=list)
    out: list[str | None] = field(default_factory=list)
    _readers: list[threading.Thread] = field(default_factory=list)

    def __post_init__(self) -> None:
        assert self.process.stdout is not None
        assert self.process.stderr is not None
        self._readers = [
            threading.Thread(target=_pump, args=(self.process.stderr, self.lines.put), daemon=True),
            threading.Thread(
                target=_pump, args=(self.process.stdout, self.out.append), daemon=True
            ),
        ]
        for reader in self._readers:
            reader.start()

    def read_until(self, text: str, timeout: float = 30.0) -> str:
        """The first stderr line holding ``text``; fails at the deadline or at end of output."""
        deadline = time.monotonic() + timeout
        while (remaining := deadline - time.monotonic()) > 0:
            try:
                line = self.lines.get(timeout=remaining)
            except queue.Empty:
                break
            if line is None:
                break
            self.seen.append(line)
            if text in line:
                return line
        pytest.fail(f"{text!r} not on stderr within {timeout} s; saw {self.seen}")

    def close(self) -> None:
        """Kill the process if it still runs; close its pipes."""
        if self.process.poll() is None:
            self.process.kill()
            self.process.wait(timeout=10)
        for reader in self._readers:
            reader.join(timeout=10)
        for stream in (self.process.stdout, self.process.stderr):
            if stream is not None:
                stream.close()

    def interrupt(self) -> None:
        """Ctrl-C."""
        self.process.send_signal(signal.SIGINT)

    def finish(self, timeout: float = 60.0) -> tuple[int, str, str]:
        """Exit code, stdout and the rest of stderr, once it exits (within ``timeout``)."""
        code = self.process.wait(timeout=timeout)
        for reader in self._readers:
            reader.join(timeout=timeout)
        while (line := self.lines.get(timeout=timeout)) is not None:
            self.seen.append(line)
        self.close()
        return code, "".join(line for line in self.out if line), "".join(self.seen)


def _pump(stream: IO[str], put: Callable[[str | None], object]) -> None:
    for line in stream:
        put(line)
    put(None)


@pytest.fixture
def start() -> Iterator[Callable[..., Command]]:
    """Start `direct-access ARGS` with an environment (``prelude``: Python run first); every
    process still running at the end is killed."""
    started: list[Command] = []

    def run(args: list[str], env: dict[str, str], prelude: str = "") -> Command:
        code = _PRELUDE + prelude + "from direct_access.cli import main\nmain()\n"
        process = subprocess.Popen(
            [sys.executable, "-c", code, *args],
            env=os.environ | env | {"PYTHONUNBUFFERED": "1"},
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        command = Command(process)
        started.append(command)
        return command

    yield run
    for command in started:
        command.close()
