"""A job's log: lines at or above its log level, each stamped as the service prints times.

One format for every executor and the simulation workers: `<RFC 3339 UTC, microseconds> LEVEL
message`. Pure Python, so that worker processes can keep their lines too.
"""

from __future__ import annotations

import datetime

from direct_access_emulator.core import format_time
from direct_access_emulator.spec_values import DEFAULT_LOG_LEVEL, LOG_LEVELS

__all__ = ["JobLog"]


class JobLog:
    """Log lines of one job, kept when at or above its level (the spec's default if unknown)."""

    def __init__(self, level: str) -> None:
        known = level if level in LOG_LEVELS else DEFAULT_LOG_LEVEL
        self.threshold = LOG_LEVELS.index(known)
        self._lines: list[str] = []
        # Lines kept since `lines` was last read, formatted when it is: the log of a job whose
        # log is not written (no logs URL, or one refused) is never formatted (bench/).
        self._unformatted: list[tuple[datetime.datetime, str, str]] = []

    @property
    def lines(self) -> list[str]:
        """The kept lines, in order; lines already formatted may be added to it."""
        if self._unformatted:
            self._lines.extend(
                f"{format_time(moment)} {level.upper()} {message}"
                for moment, level, message in self._unformatted
            )
            self._unformatted.clear()
        return self._lines

    def add(self, level: str, message: str) -> None:
        """Keep ``message`` when ``level`` (one of the spec's `LogLevel`) is at the threshold."""
        if LOG_LEVELS.index(level) >= self.threshold:
            self._unformatted.append((datetime.datetime.now(datetime.UTC), level, message))

    def text(self, extra: list[str] | None = None) -> str:
        """The lines as text, with ``extra`` lines (already formatted) after them."""
        return "".join(f"{line}\n" for line in [*self.lines, *(extra or [])])
