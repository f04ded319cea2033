"""Waiting for a job from the shell: progress on stderr, and Ctrl-C that never loses the job.

On a terminal the progress is one live line with the status and the time elapsed; elsewhere (CI
logs, pipes) it is one line per status change. Ctrl-C cancels and deletes the job (unless
``--keep``) and prints its id either way, so a pipeline never leaves a ghost holding a lane.
"""

from __future__ import annotations

import signal
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from types import FrameType
from typing import NoReturn

import typer
from rich.console import Console
from rich.text import Text

from direct_access import (
    Client,
    ConflictError,
    DirectAccessError,
    Job,
    JobStatus,
    JobTimeoutError,
    NotFoundError,
)
from direct_access.cli._app import EXIT_INTERRUPTED, EXIT_TIMEOUT, fail, say, stderr

#: How long an interrupted command waits for a cancelled job to end before deleting it.
CANCEL_TIMEOUT_SECS = 30.0


def elapsed(seconds: float) -> str:
    """``seconds`` as ``4.2 s`` under a minute, else ``12 min 05 s``."""
    if seconds < 60:
        return f"{seconds:.1f} s"
    minutes, rest = divmod(int(seconds), 60)
    return f"{minutes} min {rest:02d} s"


class Progress:
    """A job's progress on stderr, fed by `Client.wait`'s ``on_status``."""

    def __init__(self, job_id: str, console: Console | None = None) -> None:
        self.job_id = job_id
        self.console = console or stderr()
        self.status: JobStatus | None = None
        self._start = time.monotonic()
        self._live = False

    def _since(self) -> str:
        return elapsed(time.monotonic() - self._start)

    def __rich__(self) -> Text:
        # Rendered at each refresh of the live line, so the time moves between polls.
        shown = self.status.value if self.status else "waiting"
        return Text(f"job {self.job_id}: {shown}, {self._since()}")

    def _print_status(self) -> None:
        if self.status is not None:
            line = f"job {self.job_id}: {self.status.value} after {self._since()}"
            self.console.print(line, markup=False)

    def __call__(self, job: Job) -> None:
        if job.status == self.status:
            return
        self.status = job.status
        if not self._live:
            self._print_status()

    @contextmanager
    def shown(self) -> Iterator[Progress]:
        """The live line while the block runs (on a terminal only), then the last status."""
        if not self.console.is_terminal:
            yield self
            return
        with self.console.status(self):
            self._live = True
            try:
                yield self
            finally:
                self._live = False
        self._print_status()


def _raise_interrupt(signum: int, frame: FrameType | None) -> NoReturn:
    raise KeyboardInterrupt


@contextmanager
def announced_interrupt(
    job_id: str, *, keep: bool, console: Console | None = None
) -> Iterator[None]:
    """Say at once what Ctrl-C does to ``job_id``, then raise `KeyboardInterrupt` as usual
    (``console``: the one showing the progress, so the message goes above its live line)."""
    if (
        threading.current_thread() is not threading.main_thread()  # signals reach main only
        or signal.getsignal(signal.SIGINT) is signal.SIG_IGN  # started in the background
    ):
        yield
        return

    def handler(signum: int, frame: FrameType | None) -> NoReturn:
        signal.signal(signal.SIGINT, _raise_interrupt)  # a second Ctrl-C interrupts the clean-up
        done = "leaving it as it is (--keep)" if keep else "cancelling and deleting it"
        (console or stderr()).print(f"interrupted: job {job_id}, {done}", markup=False)
        raise KeyboardInterrupt

    previous = signal.signal(signal.SIGINT, handler)
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, previous)


def release(c: Client, job_id: str) -> None:
    """Cancel ``job_id`` if it runs, wait (bounded) for it to end, and delete it: only a
    DELETE frees its lane. API errors are reported, not raised."""
    try:
        with suppress(ConflictError):  # it ended meanwhile
            c.cancel_job(job_id)
        try:
            c.delete_job(job_id)
        except ConflictError:  # cancelled but not ended yet: the service gets to it
            c.wait(job_id, timeout=CANCEL_TIMEOUT_SECS, poll_interval=0.2)
            c.delete_job(job_id)
    except NotFoundError:
        pass  # gone already
    except DirectAccessError as exc:
        say(f"job {job_id} may still hold a lane: {exc}")
        return
    say(f"job {job_id} cancelled and deleted")


def interrupted(c: Client, job_id: str, *, keep: bool) -> NoReturn:
    """After Ctrl-C: free the job unless ``keep``, print its id either way, exit 130."""
    if keep:
        say(f"job {job_id} left as it is; cancel it with: direct-access jobs cancel {job_id}")
    else:
        try:
            release(c, job_id)
        except KeyboardInterrupt:
            say(f"job {job_id} may still be running: direct-access jobs cancel {job_id}")
    raise typer.Exit(EXIT_INTERRUPTED)


@contextmanager
def guarded(
    c: Client, job_id: str, *, keep: bool, console: Console | None = None
) -> Iterator[None]:
    """Ctrl-C inside the block: say so, free the job unless ``keep``, print its id, exit 130."""
    try:
        with announced_interrupt(job_id, keep=keep, console=console):
            yield
    except KeyboardInterrupt:
        interrupted(c, job_id, keep=keep)


def wait_for(c: Client, job_id: str, *, timeout: float, poll_interval: float, keep: bool) -> Job:
    """`Client.wait` with progress; Ctrl-C frees the job (unless ``keep``) and exits 130."""
    progress = Progress(job_id)
    try:
        with guarded(c, job_id, keep=keep, console=progress.console), progress.shown():
            return c.wait(job_id, timeout=timeout, poll_interval=poll_interval, on_status=progress)
    except JobTimeoutError as exc:
        fail(f"{exc}; left as it is, to free it: direct-access jobs cancel {job_id}", EXIT_TIMEOUT)
