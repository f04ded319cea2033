"""The contract suite aimed at the emulator's drift profile: `metrics` on jobs is named as drift."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from tests.integration.test_contract_suite import emulator_in_process, run_suite, summary

DRIFT_PROFILE = "[drift]\nmetrics = true\nmetrics_lag_secs = 0.2\n"


@pytest.mark.timeout(300)
def test_the_suite_names_metrics_as_drift_and_passes_when_allowed(tmp_path: Path) -> None:
    """Against a deployment adding `metrics` to jobs (by URL), the suite fails naming
    metrics as drift on Get job and List jobs, and passes with --allow-drift."""
    config = tmp_path / "drift.toml"
    config.write_text(DRIFT_PROFILE, "utf-8")
    only_jobs = ("--include-path-regex", "^/v1/jobs")
    with emulator_in_process(tmp_path, "--config", str(config)) as settings:
        env = {**os.environ, **settings}
        code, output = run_suite(
            "--deployment", *only_jobs, env=env, examples=3, report=tmp_path / "strict"
        )
        assert code == 1, output[-3000:]
        strict = summary(tmp_path / "strict")
        assert {f["check"] for f in strict["failures"]} == {"spec_drift"}, strict["failures"]
        causes = " ".join(f["cause"] for f in strict["failures"])
        assert "metrics" in causes
        code, output = run_suite(
            "--deployment",
            "--allow-drift",
            *only_jobs,
            env=env,
            examples=3,
            report=tmp_path / "allowed",
        )
    assert code == 0, output[-3000:]
    drift = summary(tmp_path / "allowed")["drift"]
    fields = {(d["operation"], d["field"]) for d in drift}
    assert {("get_job", "metrics"), ("list_jobs", "jobs/*/metrics")} <= fields, drift
