"""Contract suite: test cases per second of `python -m contract_tests` against the emulator,
against `schemathesis run` alone sending the same spec's cases, with the same settings, to the
minimal app (one cheap check, no hooks).

Both run as subprocesses and are timed from start to end, start-up included (the suite starts
SeaweedFS and the emulator; the baseline only imports). The suite's count is the ``cases`` of
its summary.json; the baseline's is the requests the minimal app answered.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from bench._jobs import job_body
from bench._report import Figure, Results
from bench._serving import BaselineApp, serve_app
from bench._sizes import Sizes

__all__ = ["ROOT", "run"]

ROOT = Path(__file__).resolve().parent.parent
_DEADLINE_SECS = 240.0


def _timed(command: list[str], cwd: Path, env: dict[str, str]) -> tuple[float, int, str]:
    started = time.perf_counter()
    done = subprocess.run(  # noqa: S603 - this interpreter, fixed arguments
        command,
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=_DEADLINE_SECS,
        check=False,
    )
    tail = (done.stdout + done.stderr).strip().splitlines()[-1:] or [""]
    return time.perf_counter() - started, done.returncode, tail[0]


def run(sizes: Sizes, results: Results) -> None:
    """Run the suite and the baseline, and add the figure to ``results``."""
    examples = str(sizes.contract_examples)
    only = sizes.contract_only
    # A word naming the operations run, matched against their paths (None: all, stateful too).
    selection = (
        ["--include-path-regex", only, "--phases", "examples,coverage,fuzzing"] if only else []
    )
    with tempfile.TemporaryDirectory(prefix="bench-contract-") as scratch:
        report_dir = Path(scratch) / "report"
        suite_s, suite_code, suite_tail = _timed(
            [
                sys.executable,
                "-m",
                "contract_tests",
                "-n",
                examples,
                "--report-dir",
                str(report_dir),
                *selection,
            ],
            Path(scratch),
            {**os.environ, "PYTHONPATH": str(ROOT)},
        )
        summary = report_dir / "summary.json"
        if not summary.is_file():
            results.skip(
                "contract.cases_per_second",
                f"the suite wrote no summary.json (exit {suite_code}: {suite_tail})",
            )
            return
        cases = int(json.loads(summary.read_text("utf-8"))["cases"])

        app = BaselineApp(job_body())
        with serve_app(app.app) as served:
            base_s, base_code, base_tail = _timed(
                [
                    sys.executable,
                    "-m",
                    "schemathesis.cli",
                    "--config-file",
                    str(ROOT / "schemathesis.toml"),
                    "run",
                    str(ROOT / "openapi.yaml"),
                    "--url",
                    served.url,
                    "-n",
                    examples,
                    "--checks",
                    "not_a_server_error",
                    *selection,
                ],
                Path(scratch),
                dict(os.environ),
            )
        base_cases = app.requests
    notes = (
        f"{cases} cases in {suite_s:.1f} s (suite exit {suite_code}) vs {base_cases} in "
        f"{base_s:.1f} s; -n {examples}; wall time with start-up"
    )
    if only:
        notes += f"; only the operations matching {only!r}"

    if base_code not in (0, 1):  # 1: the minimal app fails a check, which is not measured
        notes += f"; baseline exit {base_code}: {base_tail}"
    results.add(
        Figure(
            name="contract.cases_per_second",
            value=cases / suite_s,
            unit="cases/s (higher is better)",
            baseline="schemathesis alone, minimal app, one cheap check",
            baseline_value=base_cases / base_s if base_s else 0.0,
            notes=notes,
            details={
                "cases": cases,
                "seconds": round(suite_s, 2),
                "exit_code": suite_code,
                "baseline_cases": base_cases,
                "baseline_seconds": round(base_s, 2),
            },
        )
    )
