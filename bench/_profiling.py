"""cProfile for the figures that show too much overhead: the top entries, as lines for the report.

cProfile records one thread, so a served app is profiled by switching the profiler on and off
inside its own event loop's thread.
"""

from __future__ import annotations

import asyncio
import cProfile
import io
import pstats
from collections.abc import Callable, Iterator
from concurrent.futures import Future
from contextlib import contextmanager

__all__ = ["TOP_ENTRIES", "profiled", "profiled_loop", "top_entries"]

#: How many functions a profile keeps (those with the most own time).
TOP_ENTRIES = 12
# Where the project's own code lives (the overlay, the generated client, the emulator).
_PROJECT_FOLDERS = ("overlays", "generated", "emulator")


def top_entries(profile: cProfile.Profile, count: int = TOP_ENTRIES) -> tuple[str, ...]:
    """The ``count`` functions with the most own time, as pstats prints them, then the project's
    own functions with the most cumulative time (what of ours the time is spent under)."""
    out = io.StringIO()
    stats = pstats.Stats(profile, stream=out)
    ours = _ours(stats, count // 2)
    stats.strip_dirs().sort_stats(pstats.SortKey.TIME).print_stats(count)
    lines = out.getvalue().splitlines()
    start = next((i for i, line in enumerate(lines) if line.lstrip().startswith("ncalls")), None)
    if start is None:
        return ()
    own = [line.rstrip() for line in lines[start : start + count + 1] if line.strip()]
    return (*own, "project code by cumulative time:", *ours)


def _ours(stats: pstats.Stats, count: int) -> list[str]:
    rows = []
    for (filename, line, function), entry in stats.stats.items():  # type: ignore[attr-defined]
        path = filename.replace("\\", "/")
        package = next((p for p in _PROJECT_FOLDERS if f"/{p}/" in path), None)
        if package is None:
            continue
        calls, cumulative = entry[1], entry[3]
        where = path.split(f"/{package}/", 1)[1]
        rows.append((cumulative, calls, f"{where}:{line}({function})"))
    rows.sort(reverse=True)
    return [
        f"  {cum:8.3f} s cumulative {calls:8d} calls  {name}" for cum, calls, name in rows[:count]
    ]


@contextmanager
def profiled() -> Iterator[cProfile.Profile]:
    """Profile the calling thread for the block's duration."""
    profile = cProfile.Profile()
    profile.enable()
    try:
        yield profile
    finally:
        profile.disable()


def _in_loop(loop: asyncio.AbstractEventLoop, action: Callable[[], object]) -> None:
    done: Future[None] = Future()

    def call() -> None:
        try:
            action()
            done.set_result(None)
        except BaseException as error:  # handed to the waiting thread
            done.set_exception(error)

    loop.call_soon_threadsafe(call)
    done.result(timeout=10)


@contextmanager
def profiled_loop(loop: asyncio.AbstractEventLoop) -> Iterator[cProfile.Profile]:
    """Profile the thread running ``loop`` (a served app) for the block's duration."""
    profile = cProfile.Profile()
    _in_loop(loop, profile.enable)
    try:
        yield profile
    finally:
        _in_loop(loop, profile.disable)
