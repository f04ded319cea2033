"""The direct-access CLI against the emulator and SeaweedFS: a newcomer's walk-through."""

from __future__ import annotations

import json
from pathlib import Path

from typer.testing import CliRunner

from direct_access.cli import EXIT_TIMEOUT, EXIT_USAGE, app
from direct_access.storage import DEFAULT_PREFIX, S3Storage
from direct_access_emulator.seaweedfs import S3Settings
from direct_access_spec import VARIABLES
from tests.integration.cli.conftest import SAMPLER_PARAMS


def test_walk_through(env: dict[str, str], tmp_path: Path) -> None:
    """version, backends, submit --wait, get, list, result, logs, delete; no secret printed."""
    runner = CliRunner()
    params = tmp_path / "params.json"
    params.write_text(json.dumps(SAMPLER_PARAMS))
    outputs = []

    def run(*args: str, code: int = 0) -> str:
        result = runner.invoke(app, list(args), env=env)
        outputs.append(result.output)
        assert result.exit_code == code, result.output
        return result.stdout

    assert "API versions" in run("version")
    assert env["DIRECT_ACCESS_BACKEND"] in run("backends", "list")
    assert json.loads(run("backends", "get", env["DIRECT_ACCESS_BACKEND"], "--json"))["lanes"]
    job = json.loads(
        run("jobs", "submit", str(params), "--wait", "--keep", "--json", "--timeout-secs", "60")
    )
    assert job["status"] == "Completed"
    assert "X-Amz-Signature" not in json.dumps(job)
    assert job["id"] in run("jobs", "list")
    assert json.loads(run("jobs", "get", job["id"], "--json"))["id"] == job["id"]
    assert json.loads(run("jobs", "result", job["id"]))
    assert run("jobs", "logs", job["id"]).strip()
    run("jobs", "delete", job["id"])
    run("jobs", "get", job["id"], code=1)
    printed = "\n".join(outputs)
    assert env["DIRECT_ACCESS_API_KEY"] not in printed
    assert env["DIRECT_ACCESS_S3_SECRET_ACCESS_KEY"] not in printed


def test_exit_codes(env: dict[str, str], tmp_path: Path) -> None:
    """Missing settings exit 2 naming the variable; a wait that times out exits 3."""
    runner = CliRunner()
    result = runner.invoke(app, ["jobs", "list"], env={"DIRECT_ACCESS_URL": ""})
    assert result.exit_code == EXIT_USAGE
    assert "DIRECT_ACCESS_URL" in result.output
    assert runner.invoke(app, ["jobs", "nonsense"], env=env).exit_code == EXIT_USAGE
    params = tmp_path / "p.json"
    params.write_text(json.dumps(SAMPLER_PARAMS))
    from direct_access_emulator.config import EmulatorConfig, ExecutionConfig  # noqa: PLC0415
    from direct_access_emulator.testing import serve  # noqa: PLC0415

    with serve(EmulatorConfig(execution=ExecutionConfig(duration_secs=30))) as slow:
        slow_env = env | slow.env()
        job_id = runner.invoke(app, ["jobs", "submit", str(params)], env=slow_env).stdout.strip()
        waited = runner.invoke(app, ["jobs", "wait", job_id, "--timeout", "0.2"], env=slow_env)
        assert waited.exit_code == EXIT_TIMEOUT, waited.output
        assert runner.invoke(app, ["jobs", "cancel", job_id], env=slow_env).exit_code == 0


def test_help_lists_the_environment() -> None:
    """--help names every variable of the one DIRECT_ACCESS_* table, storage included."""
    result = CliRunner().invoke(app, ["--help"])
    assert result.exit_code == 0
    for variable in VARIABLES:
        assert f"{variable.name}:" in result.output


def test_a_bad_log_level_is_a_usage_error_before_any_upload(
    env: dict[str, str], tmp_path: Path, s3: S3Settings
) -> None:
    """jobs submit --log-level verbose exits 2 naming the option, uploads nothing, no traceback."""
    params = tmp_path / "p.json"
    params.write_text(json.dumps(SAMPLER_PARAMS))
    result = CliRunner().invoke(
        app,
        ["jobs", "submit", str(params), "--log-level", "verbose", "--job-id", "bad-level"],
        env=env,
    )
    assert result.exit_code == EXIT_USAGE, result.output
    assert "--log-level" in result.output
    assert "Traceback" not in result.output
    assert result.exception is None or isinstance(result.exception, SystemExit)
    with S3Storage(
        s3.endpoint, s3.bucket, s3.region, s3.access_key_id, s3.secret_access_key
    ) as store:
        listed = store.s3().list_objects_v2(Bucket=s3.bucket, Prefix=f"{DEFAULT_PREFIX}bad-level/")
    assert listed.get("KeyCount", 0) == 0
