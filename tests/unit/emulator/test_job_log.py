"""A job's log: the lines at or above its level, each stamped when it was added."""

from __future__ import annotations

import datetime
import types

import pytest

from direct_access_emulator import job_log
from direct_access_emulator.job_log import JobLog

_NOON = datetime.datetime(2026, 3, 1, 12, 0, tzinfo=datetime.UTC)


class _Clock:
    """Stands for `datetime.datetime` in the module: `now` tells the time the test sets."""

    def __init__(self) -> None:
        self.moment = _NOON

    def now(self, tz: datetime.tzinfo | None = None) -> datetime.datetime:
        assert tz is datetime.UTC
        return self.moment


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> _Clock:
    clock = _Clock()
    monkeypatch.setattr(
        job_log, "datetime", types.SimpleNamespace(datetime=clock, UTC=datetime.UTC)
    )
    return clock


def test_a_line_carries_the_time_it_was_added_not_read(clock: _Clock) -> None:
    """Lines are formatted when read, with the time of their `add`."""
    log = JobLog("info")
    log.add("info", "first")
    clock.moment = _NOON + datetime.timedelta(seconds=1, microseconds=5)
    log.add("error", "second")
    clock.moment = _NOON + datetime.timedelta(minutes=9)
    assert log.lines == [
        "2026-03-01T12:00:00.000000Z INFO first",
        "2026-03-01T12:00:01.000005Z ERROR second",
    ]
    assert log.text() == "".join(f"{line}\n" for line in log.lines)


def test_lines_below_the_level_are_dropped_and_added_lines_keep_their_place(
    clock: _Clock,
) -> None:
    """Below the job's level nothing is kept; formatted lines added to `lines` (a simulation
    worker's) stay where they were added, and `text` takes extra lines after all."""
    log = JobLog("warning")
    log.add("info", "dropped")
    log.add("warning", "kept")
    log.lines.extend(["2026-03-01T11:59:00.000000Z INFO from a worker"])
    log.add("error", "last")
    assert log.text(["extra"]) == (
        "2026-03-01T12:00:00.000000Z WARNING kept\n"
        "2026-03-01T11:59:00.000000Z INFO from a worker\n"
        "2026-03-01T12:00:00.000000Z ERROR last\n"
        "extra\n"
    )


def test_an_unknown_level_keeps_the_specs_default() -> None:
    """A log level the spec does not have keeps lines from the spec's default level up."""
    log = JobLog("chatty")
    log.add("debug", "dropped")
    assert log.lines == []
