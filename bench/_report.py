"""Figures and their baselines: the table printed at the end of a run and the JSON saved with it.

A figure's ratio is always ``value / baseline_value``: above 1 a time is slower or a rate higher
than its baseline, so each unit says which way is better.
"""

from __future__ import annotations

import datetime
import json
import os
import platform
import sys
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

__all__ = ["Figure", "Results", "Skipped", "machine"]


@dataclass(frozen=True)
class Figure:
    """One measured figure and its baseline from the same run."""

    name: str
    value: float
    unit: str
    baseline: str
    baseline_value: float
    notes: str = ""
    details: dict[str, Any] = field(default_factory=dict)
    profile: tuple[str, ...] = ()

    @property
    def ratio(self) -> float:
        """``value / baseline_value`` (infinity when the baseline is zero)."""
        return self.value / self.baseline_value if self.baseline_value else float("inf")

    def as_json(self) -> dict[str, Any]:
        document = asdict(self)
        document["ratio"] = round(self.ratio, 4)
        document["profile"] = list(self.profile)
        return document


@dataclass(frozen=True)
class Skipped:
    """A figure that could not be measured in this run, and why."""

    name: str
    reason: str


@dataclass
class Results:
    """What a run measured, in the order it measured it."""

    figures: list[Figure] = field(default_factory=list)
    skipped: list[Skipped] = field(default_factory=list)

    def add(self, figure: Figure) -> Figure:
        self.figures.append(figure)
        return figure

    def skip(self, name: str, reason: str) -> None:
        self.skipped.append(Skipped(name, reason))

    def as_json(self, *, quick: bool, seconds: float) -> dict[str, Any]:
        return {
            "machine": machine(),
            "quick": quick,
            "seconds": round(seconds, 2),
            "figures": [f.as_json() for f in self.figures],
            "skipped": [asdict(s) for s in self.skipped],
        }

    def write(self, path: Path, *, quick: bool, seconds: float) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        document = self.as_json(quick=quick, seconds=seconds)
        path.write_text(json.dumps(document, indent=2) + "\n", "utf-8")

    def table(self) -> str:
        """The figures as a Markdown table (pastes into the README as is)."""
        rows = [
            (
                f.name,
                _number(f.value),
                f.unit,
                f.baseline,
                _number(f.baseline_value),
                f"{f.ratio:.2f}",
                f.notes,
            )
            for f in self.figures
        ]
        header = ("figure", "value", "unit", "baseline", "baseline value", "ratio", "notes")
        lines = ["| " + " | ".join(header) + " |", "|" + "|".join("---" for _ in header) + "|"]
        lines += ["| " + " | ".join(row) + " |" for row in rows]
        return "\n".join(lines)


def _number(value: float) -> str:
    if value == 0 or abs(value) >= 100:
        return f"{value:,.0f}"
    if abs(value) >= 1:
        return f"{value:.2f}"
    return f"{value:.3g}"


def _cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text("utf-8").splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def machine() -> dict[str, Any]:
    """Where the figures were taken: CPU, cores, Python, OS and when."""
    usable = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    return {
        "cpu": _cpu_model(),
        "cores": usable,
        "python": sys.version.split()[0],
        "implementation": platform.python_implementation(),
        "system": f"{platform.system()} {platform.release()}",
        "date": datetime.datetime.now(datetime.UTC).isoformat(timespec="seconds"),
    }
