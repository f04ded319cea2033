"""Contract suite: test cases per second of `pytest contract_tests` against the emulator, against
schemathesis alone sending the same spec's cases to the minimal app (no checks, no hooks).

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

# The baseline's test module: schemathesis' own loop over openapi.yaml, cases sent, not checked.
_BASELINE_MODULE = '''\
"""schemathesis over openapi.yaml against the benchmark's minimal app: cases sent, not checked."""
import os
from pathlib import Path

import schemathesis
from schemathesis.config import SchemathesisConfig

from direct_access_spec import load_spec

settings = SchemathesisConfig.from_path(Path(os.environ["BENCH_ROOT"]) / "schemathesis.toml")
project = settings.projects.default
project.update(base_url=os.environ["BENCH_BASE_URL"])
project.generation.update(max_examples=int(os.environ["BENCH_MAX_EXAMPLES"]))
schema = schemathesis.openapi.from_dict(load_spec(), config=settings)


@schema.parametrize()
def test_case_is_sent(case):
    case.call()
'''


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
    suite_filter = ["-k", f"test_operation_honours_the_spec and {only}"] if only else []
    with tempfile.TemporaryDirectory(prefix="bench-contract-") as scratch:
        report_dir = Path(scratch) / "report"
        suite_s, suite_code, suite_tail = _timed(
            [
                sys.executable,
                "-m",
                "pytest",
                "contract_tests",
                "-p",
                "no:cacheprovider",
                "-q",
                "--contract-max-examples",
                examples,
                "--contract-report-dir",
                str(report_dir),
                *suite_filter,
            ],
            ROOT,
            dict(os.environ),
        )
        summary = report_dir / "summary.json"
        if not summary.is_file():
            results.skip(
                "contract.cases_per_second",
                f"the suite wrote no summary.json (exit {suite_code}: {suite_tail})",
            )
            return
        cases = int(json.loads(summary.read_text("utf-8"))["cases"])

        module = Path(scratch) / "baseline" / "test_baseline.py"
        module.parent.mkdir()
        module.write_text(_BASELINE_MODULE, "utf-8")
        app = BaselineApp(job_body())
        with serve_app(app.app) as served:
            env = {
                **os.environ,
                "BENCH_ROOT": str(ROOT),
                "BENCH_BASE_URL": served.url,
                "BENCH_MAX_EXAMPLES": examples,
            }
            base_s, base_code, base_tail = _timed(
                [
                    sys.executable,
                    "-m",
                    "pytest",
                    str(module),
                    "-p",
                    "no:cacheprovider",
                    "-q",
                    *(["-k", only] if only else []),
                ],
                module.parent,
                env,
            )
        base_cases = app.requests
    notes = (
        f"{cases} cases in {suite_s:.1f} s (suite exit {suite_code}) vs {base_cases} in "
        f"{base_s:.1f} s; --contract-max-examples {examples}; wall time with start-up"
    )
    if only:
        notes += f"; only the operations matching {only!r}"

    if base_code != 0:
        notes += f"; baseline exit {base_code}: {base_tail}"
    results.add(
        Figure(
            name="contract.cases_per_second",
            value=cases / suite_s,
            unit="cases/s (higher is better)",
            baseline="schemathesis alone, minimal app, no checks",
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
