"""The client against the emulator over real HTTP: every method, sync and async, and run."""

from __future__ import annotations

import json
import logging
import uuid
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest
from typer.testing import CliRunner

from direct_access import (
    AsyncClient,
    BackendStatus,
    Client,
    JobStatus,
    NotFoundError,
    Settings,
)
from direct_access.cli import app
from direct_access.storage import S3Storage
from direct_access_emulator.seaweedfs import S3Settings
from direct_access_emulator.testing import RunningEmulator
from tests.integration.client.conftest import SAMPLER_PARAMS


def test_every_method_sync(settings: Settings, storage: S3Storage) -> None:
    """Submit, list, get, wait, cancel, delete, backends and versions, strict, in one session."""
    backend = settings.backend or ""
    with Client(settings, strict=True) as c:
        assert c.get_version()
        assert c.list_versions()
        assert [b.name for b in c.list_backends()] == [backend]
        assert c.get_backend(backend).status is BackendStatus.ONLINE
        assert isinstance(c.get_backend_configuration(backend), dict)
        assert isinstance(c.get_backend_properties(backend), dict)
        assert isinstance(c.get_backend_defaults(backend), dict)
        assert c.get_backend_lanes(backend).ibm_quantum_compute.lanes >= 1
        prepared = storage.prepare("sync-every-method", SAMPLER_PARAMS, 60)
        job_id = c.submit(
            backend=backend,
            program_id="sampler",
            storage=prepared,
            timeout_secs=60,
            job_id="sync-every-method",
            log_level="info",
        )
        assert job_id == "sync-every-method"
        assert job_id in [j.id for j in c.list_jobs()]
        assert c.get_job(job_id).backend == backend
        job = c.wait(job_id, timeout=30, poll_interval=0.05)
        assert job.status is JobStatus.COMPLETED
        assert "pubs" in str(storage.fetch_result(prepared))
        c.delete_job(job_id)
        with pytest.raises(NotFoundError):
            c.get_job(job_id)


@pytest.mark.anyio
async def test_every_method_async(settings: Settings, storage: S3Storage) -> None:
    """The same session through AsyncClient."""
    backend = settings.backend or ""
    async with AsyncClient(settings, strict=True) as c:
        assert await c.get_version()
        assert await c.list_versions()
        assert [b.name for b in await c.list_backends()] == [backend]
        assert (await c.get_backend(backend)).name == backend
        assert isinstance(await c.get_backend_configuration(backend), dict)
        assert isinstance(await c.get_backend_properties(backend), dict)
        assert isinstance(await c.get_backend_defaults(backend), dict)
        assert (await c.get_backend_lanes(backend)).hpc_workload_manager.lanes >= 1
        prepared = storage.prepare("async-every-method", SAMPLER_PARAMS, 60)
        job_id = await c.submit(
            backend=backend,
            program_id="sampler",
            storage=prepared,
            timeout_secs=60,
            job_id="async-every-method",
        )
        assert job_id in [j.id for j in await c.list_jobs()]
        assert (await c.wait(job_id, timeout=30, poll_interval=0.05)).status is JobStatus.COMPLETED
        await c.delete_job(job_id)
        with pytest.raises(NotFoundError):
            await c.get_job(job_id)


def test_cancel_a_running_job(emulator: RunningEmulator, storage: S3Storage) -> None:
    """A long job is cancelled, ends Cancelled, and can then be deleted."""
    from direct_access_emulator.config import EmulatorConfig, ExecutionConfig  # noqa: PLC0415
    from direct_access_emulator.testing import serve  # noqa: PLC0415

    with serve(EmulatorConfig(execution=ExecutionConfig(duration_secs=30))) as slow:
        settings = Settings.from_env(slow.env())
        with Client(settings, strict=True) as c:
            prepared = storage.prepare("to-cancel", SAMPLER_PARAMS, 60)
            c.submit(
                backend=settings.backend or "",
                program_id="sampler",
                storage=prepared,
                timeout_secs=60,
                job_id="to-cancel",
            )
            c.cancel_job("to-cancel")
            assert c.wait("to-cancel", timeout=10, poll_interval=0.05).status is JobStatus.CANCELLED
            c.delete_job("to-cancel")


def test_run_reads_input_writes_results_and_logs_and_deletes_the_job(
    settings: Settings, storage: S3Storage
) -> None:
    """run: input uploaded and read by the service, results and logs read back, job deleted."""
    with Client(settings, strict=True) as c:
        outcome = c.run(
            settings.backend or "",
            "sampler",
            SAMPLER_PARAMS,
            storage=storage,
            timeout_secs=60,
            wait_timeout=30,
            poll_interval=0.05,
            log_level="info",
        )
        assert outcome.job.status is JobStatus.COMPLETED
        assert outcome.result
        assert json.loads(outcome.result_text) == outcome.result
        assert outcome.logs.strip()
        with pytest.raises(NotFoundError):
            c.get_job(outcome.job.id)


def test_run_uses_the_job_id_given(settings: Settings, storage: S3Storage) -> None:
    """run(job_id=...) submits under that id, so a caller knows it before the job ends."""
    chosen = f"run-{uuid.uuid4()}"
    seen: list[str] = []
    with Client(settings) as c:
        outcome = c.run(
            settings.backend or "",
            "sampler",
            SAMPLER_PARAMS,
            storage=storage,
            timeout_secs=60,
            wait_timeout=30,
            poll_interval=0.05,
            on_status=lambda job: seen.append(job.id),
            job_id=chosen,
        )
    assert outcome.job.id == chosen
    assert set(seen) == {chosen}
    assert outcome.result["job_id"] == chosen


@pytest.mark.anyio
async def test_async_run(settings: Settings, storage: S3Storage) -> None:
    """The async run does the same."""
    async with AsyncClient(settings, strict=True) as c:
        outcome = await c.run(
            settings.backend or "",
            "sampler",
            SAMPLER_PARAMS,
            storage=storage,
            timeout_secs=60,
            wait_timeout=30,
            poll_interval=0.05,
        )
        assert outcome.job.status is JobStatus.COMPLETED
        assert outcome.result
        assert json.loads(outcome.result_text) == outcome.result
        with pytest.raises(NotFoundError):
            await c.get_job(outcome.job.id)
        chosen = f"async-run-{uuid.uuid4()}"
        again = await c.run(
            settings.backend or "",
            "sampler",
            SAMPLER_PARAMS,
            storage=storage,
            timeout_secs=60,
            wait_timeout=30,
            poll_interval=0.05,
            job_id=chosen,
        )
        assert again.job.id == chosen


def test_no_secret_in_run_result_logs_or_cli(
    emulator: RunningEmulator,
    storage: S3Storage,
    s3: S3Settings,
    tmp_path: Path,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """A run and a CLI session with a known key and token: repr(RunResult), the logs and every
    line the CLI prints hold neither, nor the S3 secret, nor a presigned URL's signature."""
    caplog.set_level(logging.DEBUG)
    env = emulator.env()
    key = env["DIRECT_ACCESS_API_KEY"]
    token = httpx.post(
        f"{env['DIRECT_ACCESS_IAM_URL']}/identity/token",
        data={"grant_type": "urn:ibm:params:oauth:grant-type:apikey", "apikey": key},
    ).json()["access_token"]
    with Client(Settings.from_env(env), strict=True) as c:
        outcome = c.run(
            env["DIRECT_ACCESS_BACKEND"],
            "sampler",
            SAMPLER_PARAMS,
            storage=storage,
            timeout_secs=60,
            wait_timeout=30,
            poll_interval=0.05,
        )
    signature = parse_qs(
        urlsplit(outcome.job.to_dict()["storage"]["input"]["presigned_url"]).query
    )["X-Amz-Signature"][0]
    texts = [repr(outcome), str(outcome)]
    params = tmp_path / "params.json"
    params.write_text(json.dumps(SAMPLER_PARAMS))
    s3_env = {
        "DIRECT_ACCESS_S3_ENDPOINT": s3.endpoint,
        "DIRECT_ACCESS_S3_BUCKET": s3.bucket,
        "DIRECT_ACCESS_S3_REGION": s3.region,
        "DIRECT_ACCESS_S3_ACCESS_KEY_ID": s3.access_key_id,
        "DIRECT_ACCESS_S3_SECRET_ACCESS_KEY": s3.secret_access_key,
    }
    runner = CliRunner()
    for cli_env in (env, env | {"DIRECT_ACCESS_API_KEY": "", "DIRECT_ACCESS_TOKEN": token}):
        submitted = runner.invoke(
            app,
            ["jobs", "submit", str(params), "--wait", "--keep", "--json"],
            env=cli_env | s3_env,
        )
        assert submitted.exit_code == 0, submitted.output
        job_id = json.loads(submitted.stdout)["id"]
        texts.append(submitted.output)
        for args in (["jobs", "get", job_id], ["jobs", "get", job_id, "--json"], ["jobs", "list"]):
            shown = runner.invoke(app, args, env=cli_env | s3_env)
            assert shown.exit_code == 0, shown.output
            texts.append(shown.output)
        texts.append(runner.invoke(app, ["jobs", "delete", job_id], env=cli_env).output)
        texts.append(runner.invoke(app, ["jobs", "get", "missing"], env=cli_env).output)
    # The client's records: botocore's DEBUG records show what it signs, and the in-process
    # emulator's httpx records show the presigned URLs it writes to.
    ours = [r.getMessage() for r in caplog.records if r.name.split(".")[0] == "direct_access"]
    assert ours
    everything = "\n".join(texts + ours)
    for secret in (key, token, s3.secret_access_key, signature, "X-Amz-Signature"):
        assert secret not in everything
