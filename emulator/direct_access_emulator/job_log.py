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
        self.lines: list[str] = []

    def add(self, level: str, message: str) -> None:
        """Keep ``message`` when ``level`` (one of the spec's `LogLevel`) is at the threshold."""
        if LOG_LEVELS.index(level) >= self.threshold:
            now = format_time(datetime.datetime.now(datetime.UTC))
            self.lines.append(f"{now} {level.upper()} {message}")

    def text(self, extra: list[str] | None = None) -> str:
        """The lines as text, with ``extra`` lines (already formatted) after them."""
        return "".join(f"{line}\n" for line in [*self.lines, *(extra or [])])
