"""The contract suite finds every departure at once, keeps baselines, and leaves nothing behind.

Each run is `python -m contract_tests` in a process of its own (schemathesis' engine, the suite's
hooks), against the emulator broken on purpose, or a second emulator process named by URL.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import signal
import subprocess
import sys
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from xml.etree import ElementTree

import pytest

from tests.conftest import ROOT

Failure = dict[str, Any]
# A presigned URL's signature (reports show `X-Amz-Signature=[Filtered]`).
SIGNATURE = re.compile(r"X-Amz-Signature=[0-9a-f]{8}")

# Breakage -> how the summary names it: a failure of this check, on this operation, ...
NAMED_BY: dict[str, Callable[[Failure], bool]] = {
    "extra-field": lambda f: f["check"] == "spec_drift" and "debug_trace" in f["cause"],
    "wrong-status": lambda f: (
        f["check"] == "status_code_conformance"
        and f["operation"] == "DELETE /v1/jobs/{job-id}"
        and f["status"] == 200
    ),
    "accepts-invalid-body": lambda f: (
        f["check"] == "negative_data_rejection" and f["status"] == 202
    ),
    "lenient-create": lambda f: (
        f["check"] == "negative_data_rejection"
        and f["operation"] == "POST /v1/jobs"
        and f["status"] == 204
        and "breaks" in f["cause"]
    ),
    "ignores-token": lambda f: (
        f["check"] == "ignored_auth" and f["operation"].startswith("GET /v1/backends")
    ),
    # Named whatever the seed: object_level_authorization judges one stateful read per run.
    "leaks-other-instance": lambda f: f["check"] == "instances_apart",
    "ignores-service-crn": lambda f: (
        f["check"] == "one_credential_at_a_time" and "`Service-CRN`" in f["cause"]
    ),
    "get-job-405": lambda f: (
        f["check"] == "status_code_conformance"
        and f["operation"] == "GET /v1/jobs/{job-id}"
        and f["status"] == 405
    ),
    "null-error-fields": lambda f: (
        f["check"] == "response_schema_conformance" and "`/trace`" in f["cause"]
    ),
    "odd-id-500": lambda f: f["check"] == "not_a_server_error" and f["status"] == 500,
    "stores-refused-job": lambda f: f["check"] == "stored_after_refusal",
}


def run_suite(
    *args: str, report: Path, env: dict[str, str] | None = None, examples: int = 10
) -> tuple[int, str]:
    """`python -m contract_tests` in ``report``'s parent (schemathesis writes caches there)."""
    report.parent.mkdir(parents=True, exist_ok=True)
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "contract_tests",
            "-n",
            str(examples),
            "--report-dir",
            str(report),
            *args,
        ],
        cwd=report.parent,
        env={**(env or os.environ), "PYTHONPATH": str(ROOT)},
        capture_output=True,
        text=True,
        timeout=400,
        check=False,
    )
    return result.returncode, result.stdout + result.stderr


def summary(report: Path) -> dict[str, Any]:
    document: dict[str, Any] = json.loads((report / "summary.json").read_text("utf-8"))
    return document


def breakages(*names: str) -> list[str]:
    return [argument for name in names for argument in ("--breakage", name)]


@dataclass(frozen=True)
class Run:
    """One `python -m contract_tests` run: its exit code, its output and its report folder."""

    code: int
    output: str
    report: Path

    @property
    def summary(self) -> dict[str, Any]:
        return summary(self.report)


# The runs the tests below share: each proves several things, and costs ~10 s.
@pytest.fixture(scope="module")
def broken_run(tmp_path_factory: pytest.TempPathFactory) -> Run:
    """Every breakage at once, and a field the spec lacks added to job answers (drift)."""
    report = tmp_path_factory.mktemp("contract") / "broken"
    code, output = run_suite(*breakages(*NAMED_BY, "adds-a-field"), report=report)
    return Run(code, output, report)


@pytest.fixture(scope="module")
def drift_only_run(tmp_path_factory: pytest.TempPathFactory) -> Run:
    """The emulator adding a field to job answers, and nothing else wrong, with --allow-drift."""
    report = tmp_path_factory.mktemp("contract") / "drift-allowed"
    code, output = run_suite(*breakages("adds-a-field"), "--allow-drift", report=report)
    return Run(code, output, report)


# One worker runs both tests that share the module's runs (`make test`: --dist loadgroup), so
# that each run happens once.
SHARED_RUNS = pytest.mark.xdist_group("contract-shared-runs")


@SHARED_RUNS
@pytest.mark.timeout(600)
def test_one_run_names_every_breakage_and_leaves_no_job(
    broken_run: Run, drift_only_run: Run
) -> None:
    """With all breakages at once, one run names each in summary.json, sweeps every job it
    created (those stored after a refused create too), and spends its budget like a run
    against an emulator that departs from the spec only where the run allows it."""
    assert broken_run.code == 1, broken_run.output[-3000:]
    broken = broken_run.summary
    failures = broken["failures"]
    unnamed = [name for name, named in NAMED_BY.items() if not any(map(named, failures))]
    # The seed first: with it, `--seed N` replays the run that missed a breakage.
    assert not unnamed, f"seed {broken['seed']}: " + json.dumps(failures, indent=1)[-6000:]
    assert broken["jobs"]["swept"] > 0
    assert broken["jobs"]["not_removed"] == {}
    assert broken["jobs"]["listed_after_sweep"] == []
    # Failures sharing a cause are grouped: the null `trace` is one cause on many operations.
    trace = [g for g in broken["groups"] if "`/trace`" in g["cause"]]
    assert len(trace) == 1, broken["groups"]
    assert len(trace[0]["operations"]) > 5, trace
    text = (broken_run.report / "summary.txt").read_text("utf-8")
    assert "causes (" in text
    assert "$DIRECT_ACCESS_TOKEN" in text  # reproductions take the token as a variable
    # JUnit: one test case per failure, its message one readable line.
    suite = ElementTree.parse(broken_run.report / "junit.xml").getroot()  # noqa: S314 - ours
    messages = [element.get("message", "") for element in suite.iter("failure")]
    assert len(messages) == len(failures)
    assert all(message and "\n" not in message for message in messages)
    written = broken_run.output + text + (broken_run.report / "summary.json").read_text("utf-8")
    assert not SIGNATURE.search(written)
    assert "Bearer ey" not in written

    assert drift_only_run.code == 0, drift_only_run.output[-3000:]
    allowed = drift_only_run.summary
    unit_phases = ("examples", "coverage", "fuzzing")
    sent = {name: sum(run["cases_per_phase"].get(p, 0) for p in unit_phases)
            for name, run in (("broken", broken), ("allowed", allowed))}  # fmt: skip
    assert abs(sent["broken"] - sent["allowed"]) <= 0.3 * sent["allowed"], sent
    assert broken["cases"] >= 0.7 * allowed["cases"], (broken["cases"], allowed["cases"])


@SHARED_RUNS
@pytest.mark.timeout(600)
def test_drift_is_named_and_fails_unless_allowed(broken_run: Run, drift_only_run: Run) -> None:
    """Against a service adding a field to jobs, the suite names each added field as drift per
    operation, never as a schema violation; it fails by default and passes with --allow-drift."""
    failures = broken_run.summary["failures"]
    made_up = [f for f in failures if "made_up" in f["cause"]]
    assert made_up, json.dumps(failures, indent=1)[-6000:]
    assert {f["check"] for f in made_up} == {"spec_drift"}, made_up
    assert {f["operation"] for f in made_up} >= {"GET /v1/jobs", "GET /v1/jobs/{job-id}"}, made_up
    text = (broken_run.report / "summary.txt").read_text("utf-8")
    assert "drift from the spec (fails the run)" in text
    assert drift_only_run.code == 0, drift_only_run.output[-3000:]
    allowed = drift_only_run.summary
    assert allowed["failures"] == []
    assert allowed["drift_allowed"] is True
    assert {"operation": "list_jobs", "status": 200, "field": "jobs/*/made_up"} in allowed["drift"]
    assert {"operation": "get_job", "status": 200, "field": "made_up"} in allowed["drift"]


@pytest.mark.timeout(600)
def test_a_baseline_accepts_known_departures_and_names_only_new_ones(tmp_path: Path) -> None:
    """Recorded once, a baseline lets the same departures pass; a new breakage fails, and only
    it is named; --baseline-update accepts it, --baseline-prune drops what was fixed."""
    baseline = tmp_path / "baseline.json"
    # Creates and lists only (the lists then hold jobs), without the stateful phase's links.
    only_lists = ("--include-path-regex", "^/v1/jobs$", "--phases", "examples,coverage,fuzzing")
    record = ("--baseline", str(baseline))

    def run(*args: str, report: Path) -> tuple[int, str]:
        return run_suite(*args, report=report, examples=3)  # four runs: a small budget

    # The first run with a new file records it.
    code, output = run(*breakages("extra-field"), *record, *only_lists, report=tmp_path / "a")
    assert baseline.is_file(), output[-3000:]
    entries = json.loads(baseline.read_text("utf-8"))["entries"]
    assert {entry["check"] for entry in entries} == {"spec_drift"}, entries

    # A new departure besides the known one: the run fails naming the new one only (an update
    # reports against the baseline as it was loaded), and records it.
    both = breakages("extra-field", "null-error-fields")
    code, output = run(*both, *record, "--baseline-update", *only_lists, report=tmp_path / "b")
    assert code == 1, output[-3000:]
    checks = {f["check"] for f in summary(tmp_path / "b")["failures"]}
    assert checks == {"response_schema_conformance"}, summary(tmp_path / "b")["failures"]
    assert summary(tmp_path / "b")["baseline"]["known_failures"] >= 1

    # Both departures known: the run passes.
    code, output = run(*both, *record, *only_lists, report=tmp_path / "c")
    assert code == 0, output[-3000:]
    assert summary(tmp_path / "c")["failures"] == []
    assert summary(tmp_path / "c")["baseline"]["known_failures"] >= 2

    # Fixed: pruning drops every entry. A few cases per operation do, the coverage phase
    # left out (an entry is kept only for an operation the run did not test).
    prune = ("--include-path-regex", "^/v1/jobs$", "--phases", "examples,fuzzing")
    code, output = run(*record, "--baseline-prune", *prune, report=tmp_path / "d")
    assert json.loads(baseline.read_text("utf-8"))["entries"] == [], output[-3000:]


@contextlib.contextmanager
def emulator_in_process(cwd: Path, *args: str) -> Iterator[dict[str, str]]:
    """`python -m direct_access_emulator --with-storage [args]` in a process of its own: its
    settings (the JSON line it prints)."""
    process = subprocess.Popen(
        [sys.executable, "-m", "direct_access_emulator", "--with-storage", "--port", "0", *args],
        cwd=cwd,
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


@pytest.fixture
def emulator_process(tmp_path: Path) -> Iterator[dict[str, str]]:
    """The emulator in a process of its own, with its default configuration."""
    with emulator_in_process(tmp_path) as settings:
        yield settings


@pytest.mark.timeout(300)
def test_suite_passes_against_a_deployment_by_url(
    emulator_process: dict[str, str], tmp_path: Path
) -> None:
    """Aimed by URL and credentials (--deployment) at a second emulator process, the suite
    passes, says why object_level_authorization did not run, sweeps its jobs, and its report
    holds no secret."""
    env = {**os.environ, **emulator_process}
    code, output = run_suite("--deployment", env=env, examples=3, report=tmp_path / "report")
    assert code == 0, output[-3000:]
    document = summary(tmp_path / "report")
    assert document["target"]["kind"] == "deployment"
    assert document["verdict"] == "passed"
    assert document["cases"] > 100
    assert document["jobs"]["swept"] > 0
    assert document["jobs"]["listed_after_sweep"] == []
    assert document["object_level_authorization"]["ran"] is False
    written = output + (tmp_path / "report" / "summary.txt").read_text("utf-8")
    written += "".join(p.read_text("utf-8") for p in (tmp_path / "report").rglob("*.*"))
    assert not SIGNATURE.search(written)
    assert emulator_process["DIRECT_ACCESS_API_KEY"] not in written
    assert emulator_process["DIRECT_ACCESS_S3_SECRET_ACCESS_KEY"] not in written


def test_missing_variables_are_named_at_once(tmp_path: Path) -> None:
    """A deployment run without its variables names every missing one, one line each with the
    command to set it, and no traceback."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("DIRECT_ACCESS_")}
    env["DIRECT_ACCESS_SERVICE_CRN"] = "crn:v1:bluemix:public:quantum-computing:us-east:a/1:2::"
    code, output = run_suite("--deployment", env=env, report=tmp_path / "report")
    assert code == 2, output
    assert "Traceback" not in output
    for name in (
        "DIRECT_ACCESS_URL",
        "DIRECT_ACCESS_API_KEY",
        "DIRECT_ACCESS_BACKEND",
        "DIRECT_ACCESS_S3_ENDPOINT",
        "DIRECT_ACCESS_S3_BUCKET",
        "DIRECT_ACCESS_S3_ACCESS_KEY_ID",
        "DIRECT_ACCESS_S3_SECRET_ACCESS_KEY",
    ):
        assert f"export {name}=" in output, output
    assert "export DIRECT_ACCESS_SERVICE_CRN=" not in output
