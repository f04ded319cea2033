"""The contract suite can fail: each deliberate breakage of the emulator is caught by its check.

And it can pass against a service named only by URL and credentials: a second emulator process.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.conftest import ROOT

# Breakage -> the failure schemathesis reports for it (the failing check's failure class).
CAUGHT_BY = {
    "extra-field": "Custom check failed: `spec_drift`",  # an added field is drift
    "wrong-status": "UndefinedStatusCode",  # status_code_conformance
    "accepts-invalid-body": "AcceptedNegativeData",  # negative_data_rejection
    "ignores-token": "IgnoredAuth",  # ignored_auth
    "leaks-other-instance": "ObjectLevelAuthorizationViolation",  # object_level_authorization
}


def run_suite(*args: str, env: dict[str, str] | None = None, report: Path) -> tuple[int, str]:
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "pytest",
            "contract_tests",
            "-p",
            "no:cacheprovider",
            "--contract-max-examples",
            "3",
            "--contract-report-dir",
            str(report),
            *args,
        ],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    return result.returncode, result.stdout + result.stderr


@pytest.mark.timeout(300)
@pytest.mark.parametrize("breakage", sorted(CAUGHT_BY))
def test_suite_catches_a_broken_emulator(breakage: str, tmp_path: Path) -> None:
    """Each breakage (extra field, wrong status, accepted invalid body, ignored token, another
    instance's job visible) makes the suite fail with the check that names it."""
    code, output = run_suite("--contract-breakage", breakage, "-x", report=tmp_path)
    assert code == 1, output[-3000:]
    assert CAUGHT_BY[breakage] in output, output[-3000:]
    assert "X-Amz-Signature=" not in output  # presigned URLs are filtered from reports
    assert "X-Amz-Credential=AK" not in output


@pytest.mark.timeout(300)
def test_drift_is_named_and_fails_unless_allowed(tmp_path: Path) -> None:
    """Against a service adding `metrics` to jobs, the suite names each added field as drift per
    operation; it fails by default and passes with --allow-drift."""
    only_jobs = ("-k", "jobs or Stateful")  # metrics ride on job answers; backends add nothing
    code, output = run_suite(
        "--contract-breakage", "adds-metrics", "-x", *only_jobs, report=tmp_path / "strict"
    )
    assert code == 1, output[-3000:]
    assert "drift from the spec" in output
    assert "metrics" in output
    code, output = run_suite(
        "--contract-breakage",
        "adds-metrics",
        "--allow-drift",
        *only_jobs,
        report=tmp_path / "allowed",
    )
    assert code == 0, output[-3000:]
    drift = json.loads((tmp_path / "allowed" / "summary.json").read_text("utf-8"))["drift"]
    assert {"operation": "get_job", "status": 200, "field": "metrics"} in drift
    assert {"operation": "list_jobs", "status": 200, "field": "jobs/*/metrics"} in drift


@pytest.fixture
def emulator_process(tmp_path: Path) -> Iterator[dict[str, str]]:
    """`python -m direct_access_emulator --with-storage` in a process of its own: its settings."""
    process = subprocess.Popen(
        [sys.executable, "-m", "direct_access_emulator", "--with-storage", "--port", "0"],
        cwd=tmp_path,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    )
    try:
        assert process.stdout is not None
        line = process.stdout.readline()  # printed once bound; the process ends on failure
        assert line, "the emulator printed nothing"
        yield json.loads(line)
    finally:
        process.send_signal(signal.SIGTERM)
        process.wait(timeout=30)
        if process.stdout is not None:
            process.stdout.close()


@pytest.mark.timeout(300)
def test_suite_passes_against_a_deployment_by_url(
    emulator_process: dict[str, str], tmp_path: Path
) -> None:
    """Aimed by URL and credentials (--deployment) at a second emulator process, the suite passes
    and its report holds no secret."""
    env = {**os.environ, **emulator_process}
    code, output = run_suite("--deployment", env=env, report=tmp_path)
    assert code == 0, output[-3000:]
    summary = json.loads((tmp_path / "summary.json").read_text("utf-8"))
    assert summary["target"] == "deployment"
    assert summary["verdict"] == "passed"
    assert summary["cases"] > 100
    assert summary["jobs_created"] > 0
    written = output + (tmp_path / "summary.txt").read_text("utf-8")
    assert "X-Amz-Signature" not in written
    assert emulator_process["DIRECT_ACCESS_API_KEY"] not in written
    assert emulator_process["DIRECT_ACCESS_S3_SECRET_ACCESS_KEY"] not in written
