"""The README's "After a change of the spec", walked in the order written, in a scratch copy.

A newcomer adds `metrics` to `Job` as newer deployments send it, recording the departure from the
reference as the README says; `make generate` produces a new model file; `make check-generated`
says to `git add generated/` until they do; then the reference guard, the drift tests and the
generated client's tests pass, and the spec reader accepts a job with metrics.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
# The README's example of a recorded departure, under Job's properties.
METRICS = """\
        metrics:
          x-departure: newer deployments add metrics to every job; the reference does not print it
          type: object
          additionalProperties: false
          properties:
            circuits_execution_time_ns:
              type: integer
              format: int64
"""
JOB_PROPERTIES = (
    "      required: [id, program_id, backend, status, created_time]\n      properties:\n"
)


def scratch_copy(directory: Path) -> Path:
    """The repository's tracked files as they are now, in a git repository of their own."""
    tracked = subprocess.run(
        ["git", "ls-files", "-z"], cwd=ROOT, check=True, capture_output=True
    ).stdout.decode()
    for name in filter(None, tracked.split("\0")):
        source, target = ROOT / name, directory / name
        if not source.exists() and not source.is_symlink():
            continue  # deleted in the work tree, not yet committed
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(source, target, follow_symlinks=False)
    for local in (".venv", ".venv-gen"):
        (directory / local).symlink_to(ROOT / local)
    for command in (
        ["git", "init", "-q"],
        ["git", "add", "-A"],
        ["git", "-c", "user.name=t", "-c", "user.email=t@example.com", "commit", "-qm", "start"],
    ):
        subprocess.run(command, cwd=directory, check=True, capture_output=True)
    return directory


def run(directory: Path, *command: str) -> subprocess.CompletedProcess[str]:
    # The scratch copy's packages first: the virtualenv's editable install points at ROOT.
    packages = [directory / p for p in ("spec", "overlays", "emulator", "generated")]
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(map(str, [*packages, directory]))}
    return subprocess.run(
        command, cwd=directory, env=env, capture_output=True, text=True, check=False
    )


@pytest.mark.timeout(240)
def test_a_spec_change_in_the_written_order_passes(tmp_path: Path) -> None:
    """Edit, `make generate`, `git add`, then the checks pass; before `git add`, the error says
    what to run."""
    make = shutil.which("make")
    assert make is not None
    scratch = scratch_copy(tmp_path / "scratch")
    spec = scratch / "openapi.yaml"
    text = spec.read_text("utf-8")
    assert text.count(JOB_PROPERTIES) == 1
    spec.write_text(text.replace(JOB_PROPERTIES, JOB_PROPERTIES + METRICS), "utf-8")

    generated = run(scratch, make, "-s", "generate")
    assert generated.returncode == 0, generated.stderr
    assert (scratch / "generated/direct_access_api/models/job_metrics.py").exists()

    before = run(scratch, make, "-s", "check-generated")
    assert before.returncode != 0
    assert "job_metrics.py" in before.stderr
    assert "git add generated/" in before.stderr

    subprocess.run(["git", "add", "openapi.yaml", "generated/"], cwd=scratch, check=True)
    after = run(scratch, make, "-s", "check-generated")
    assert after.returncode == 0, after.stderr

    checks = run(
        scratch,
        sys.executable,
        "-m",
        "pytest",
        "-q",
        "-p",
        "no:cacheprovider",
        "tests/unit/test_reference.py",
        "tests/unit/client/test_strict.py",
        "tests/unit/test_generated.py",
    )
    assert checks.returncode == 0, checks.stdout[-4000:]

    job = {
        "id": "j-1",
        "program_id": "sampler",
        "backend": "b",
        "status": "Completed",
        "created_time": "2025-01-15T10:20:30Z",
        "metrics": {"circuits_execution_time_ns": 1200},
    }
    probe = (
        "import json, sys, direct_access_spec, direct_access_api.models.job_metrics\n"
        "assert direct_access_spec.__file__.startswith(sys.argv[2]), direct_access_spec.__file__\n"
        "job = json.loads(sys.argv[1])\n"
        "print(len(direct_access_spec.violations('/components/schemas/Job', job)))"
    )
    accepted = run(scratch, sys.executable, "-c", probe, json.dumps(job), str(scratch))
    assert accepted.returncode == 0, accepted.stderr
    assert accepted.stdout.strip() == "0"
