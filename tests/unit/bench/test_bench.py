"""Smoke runs of `python -m bench --quick`: each benchmark runs and saves figures with baselines."""

from __future__ import annotations

import json
import math
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[3]
FIGURE_KEYS = {"name", "value", "unit", "baseline", "baseline_value", "ratio", "notes"}
# The figure name prefixes each benchmark writes.
PREFIXES = {
    "parsing": "parse.",
    "client": "client.",
    "submit": ("submit.", "run."),
    "emulator": "emulator.",
    "contract": "contract.",
    "codegen": "codegen.",
}


def _bench(*arguments: str, timeout: float) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "bench", *arguments],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )


def _check_figure(figure: dict[str, Any]) -> None:
    assert figure.keys() >= FIGURE_KEYS, figure
    for key in ("name", "unit", "baseline"):
        assert isinstance(figure[key], str), (figure["name"], key)
        assert figure[key], (figure["name"], key)
    assert isinstance(figure["notes"], str)
    for key in ("value", "baseline_value", "ratio"):
        assert isinstance(figure[key], int | float), (figure["name"], key)
        assert math.isfinite(figure[key]), (figure["name"], key)
        assert figure[key] >= 0, (figure["name"], key)
    assert figure["baseline_value"] > 0, figure["name"]
    assert figure["ratio"] == pytest.approx(figure["value"] / figure["baseline_value"], rel=1e-3)
    assert all(isinstance(line, str) for line in figure["profile"])


@pytest.mark.timeout(300)
def test_quick_run_saves_every_benchmarks_figures_with_baselines(tmp_path: Path) -> None:
    """A quick run exits 0, prints the machine and the table, and saves every figure with its
    baseline and ratio; only codegen may be skipped (without .venv-gen)."""
    out = tmp_path / "results.json"
    done = _bench("--quick", "--out", str(out), timeout=280)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    assert done.stdout.startswith("machine: ")
    assert "| figure | value | unit | baseline | baseline value | ratio | notes |" in done.stdout

    document = json.loads(out.read_text("utf-8"))
    assert document["quick"] is True
    assert {"cpu", "cores", "python", "date"} <= document["machine"].keys()
    figures = document["figures"]
    for figure in figures:
        _check_figure(figure)
    names = [figure["name"] for figure in figures]
    assert len(names) == len(set(names)), "figure names are unique"
    skipped = {entry["name"] for entry in document["skipped"]}
    assert skipped <= {"codegen.generate"}, document["skipped"]
    for benchmark, prefix in PREFIXES.items():
        if benchmark == "codegen" and skipped:
            continue
        assert any(name.startswith(prefix) for name in names), benchmark


def test_only_runs_the_named_benchmark(tmp_path: Path) -> None:
    """--only parsing measures the parsing figures and nothing else."""
    out = tmp_path / "parsing.json"
    done = _bench("--quick", "--only", "parsing", "--out", str(out), timeout=100)
    assert done.returncode == 0, done.stderr[-3000:]
    names = [figure["name"] for figure in json.loads(out.read_text("utf-8"))["figures"]]
    assert names, "parsing wrote figures"
    assert all(name.startswith("parse.") for name in names), names


def test_an_unknown_benchmark_name_is_refused_with_the_choices(tmp_path: Path) -> None:
    """--only with a name that is not a benchmark exits 2 and lists the benchmarks."""
    out = tmp_path / "none.json"
    done = _bench("--only", "nonesuch", "--out", str(out), timeout=60)
    assert done.returncode == 2
    assert "unknown benchmark nonesuch" in done.stderr
    assert "parsing, client, submit, emulator, contract, codegen" in done.stderr
    assert not out.exists()
