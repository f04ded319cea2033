"""Server processes that end with the program that started them, even when it is killed.

`start_owned` starts a process that gets SIGKILL when its starter dies (Linux's parent-death
signal, armed in the child before it runs), so a `kill -9` of the emulator takes its SeaweedFS
with it. The signal follows the starting *thread*: start from a thread that outlives the process
(a `with` block does). Each start also writes an owner record into the process's folder;
`end_stale` ends a process left running on a folder by an owner that died (one started before
these guards, or on a system without the signal), since it holds the folder's locks.
"""

from __future__ import annotations

import contextlib
import ctypes
import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import IO

__all__ = ["FolderInUse", "end", "end_stale", "start_owned"]

_OWNER_FILE = "owner.json"
_PR_SET_PDEATHSIG = 1
_PROC = Path("/proc")


class FolderInUse(RuntimeError):
    """A live process owns the folder: two servers cannot share it."""


def _die_with_parent() -> Callable[[], None] | None:
    """A preexec function arming SIGKILL on the parent's death (Linux); None elsewhere."""
    if not sys.platform.startswith("linux"):
        return None
    # Looked up before the fork: the child only calls it.
    prctl = ctypes.CDLL(None, use_errno=True).prctl
    parent = os.getpid()

    def arm() -> None:
        if prctl(_PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0) != 0:
            os._exit(126)
        if os.getppid() != parent:  # the parent died before the signal was armed
            os._exit(126)

    return arm


def _started_at(pid: int) -> str | None:
    """The process's start time (clock ticks since boot), to tell it from a reused pid."""
    try:
        stat = (_PROC / str(pid) / "stat").read_text()
    except OSError:
        return None
    fields = stat.rpartition(")")[2].split()
    if fields[0] == "Z":  # a zombie holds nothing
        return None
    return fields[19]


def _alive(pid: int, started: str | None) -> bool:
    if _PROC.is_dir():
        now = _started_at(pid)
        return now is not None and (started is None or now == started)
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def start_owned(
    command: Sequence[str], folder: Path, *, log: IO[bytes], cwd: Path
) -> subprocess.Popen[bytes]:
    """Start ``command`` in its own session, ending when this thread's process dies.

    Records this process as the owner of ``folder`` (removed by `end`).
    """
    process = subprocess.Popen(  # noqa: S603 - the caller's fixed argument list
        list(command),
        stdin=subprocess.DEVNULL,
        stdout=log,
        stderr=subprocess.STDOUT,
        cwd=cwd,
        start_new_session=True,  # a Ctrl-C meant for the parent is handled by the parent
        preexec_fn=_die_with_parent(),  # noqa: PLW1509 - only calls prctl, looked up before
    )
    record = {
        "owner": os.getpid(),
        "owner_started": _started_at(os.getpid()),
        "pid": process.pid,
        "started": _started_at(process.pid),
    }
    (folder / _OWNER_FILE).write_text(json.dumps(record), "utf-8")
    return process


def _read_owner(folder: Path) -> dict[str, object] | None:
    try:
        record = json.loads((folder / _OWNER_FILE).read_text("utf-8"))
    except (OSError, ValueError):
        return None
    return record if isinstance(record, dict) else None


def _processes_naming(marker: str) -> Iterator[int]:
    """The pids of the processes whose arguments include ``marker`` (Linux)."""
    if not _PROC.is_dir():
        return
    for entry in _PROC.iterdir():
        if not entry.name.isdigit():
            continue
        with contextlib.suppress(OSError):
            if marker in (entry / "cmdline").read_bytes().decode(errors="replace").split("\0"):
                yield int(entry.name)


def _signal(pid: int, signum: int) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):
        if os.getpgid(pid) == pid:  # started in its own session: its children too
            os.killpg(pid, signum)
        else:
            os.kill(pid, signum)


def _wait_gone(pid: int, started: str | None, deadline_secs: float) -> bool:
    deadline = time.monotonic() + deadline_secs
    while _alive(pid, started):
        if time.monotonic() > deadline:
            return False
        time.sleep(0.05)
    return True


def _end_pid(pid: int, started: str | None, deadline_secs: float) -> None:
    """SIGTERM, then SIGKILL after the deadline; returns once the process is gone."""
    _signal(pid, signal.SIGTERM)
    if not _wait_gone(pid, started, deadline_secs):
        _signal(pid, signal.SIGKILL)
        _wait_gone(pid, started, deadline_secs)


def end_stale(folder: Path, marker: str, *, deadline_secs: float = 10.0) -> list[int]:
    """End the processes left on ``folder`` by an owner that died; the pids ended.

    ``marker`` is an argument such processes were started with (``-dir=<folder>/data``), for
    those started before owner records. Raises `FolderInUse` when the recorded owner lives.
    """
    record = _read_owner(folder) or {}
    owner = record.get("owner")
    if isinstance(owner, int):
        owner_started = record.get("owner_started")
        if _alive(owner, owner_started if isinstance(owner_started, str) else None):
            raise FolderInUse(f"{folder} is in use by process {owner}; stop it or use another")
    stale: dict[int, str | None] = {pid: _started_at(pid) for pid in _processes_naming(marker)}
    recorded, started = record.get("pid"), record.get("started")
    if isinstance(recorded, int) and isinstance(started, str) and _alive(recorded, started):
        stale[recorded] = started
    for pid, when in stale.items():
        _end_pid(pid, when, deadline_secs)
    (folder / _OWNER_FILE).unlink(missing_ok=True)
    return sorted(stale)


def end(
    process: subprocess.Popen[bytes],
    folder: Path,
    *,
    deadline_secs: float = 10.0,
    graceful: bool = True,
) -> None:
    """Stop ``process`` (SIGTERM to its group, SIGKILL after the deadline); drop the record.

    Not ``graceful``: SIGKILL at once, for a process whose files are thrown away anyway.
    """
    if process.poll() is None:
        stopped = False
        if graceful:
            _signal(process.pid, signal.SIGTERM)
            with contextlib.suppress(subprocess.TimeoutExpired):
                process.wait(timeout=deadline_secs)
                stopped = True
        if not stopped:
            _signal(process.pid, signal.SIGKILL)
            process.wait(timeout=deadline_secs)
    (folder / _OWNER_FILE).unlink(missing_ok=True)
