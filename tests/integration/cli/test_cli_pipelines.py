"""The CLI in pipelines: one-shot runs, clean-up on every exit, progress in CI logs, Ctrl-C,
deadlines, and errors that say what to do. Against the emulator and SeaweedFS over real HTTP."""

from __future__ import annotations

import json
import os
import pty
import re
import select
import subprocess
import sys
import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
import typer
from typer.testing import CliRunner, Result

import direct_access
from direct_access import Client, JobStatus, NotFoundError, Settings
from direct_access.cli import (
    EXIT_API_ERROR,
    EXIT_FAILED_JOB,
    EXIT_INTERRUPTED,
    EXIT_TIMEOUT,
    EXIT_USAGE,
    app,
)
from direct_access.storage import DEFAULT_PREFIX, S3Storage
from direct_access_emulator.config import (
    BackendConfig,
    EmulatorConfig,
    ExecutionConfig,
    FaultConfig,
    OperationFaults,
)
from direct_access_emulator.seaweedfs import S3Settings
from direct_access_emulator.testing import serve
from tests.integration.cli.conftest import SAMPLER_PARAMS, Command

Start = Callable[..., Command]


@pytest.fixture
def params(tmp_path: Path) -> str:
    """A sampler input file."""
    path = tmp_path / "params.json"
    path.write_text(json.dumps(SAMPLER_PARAMS))
    return str(path)


def cli(env: dict[str, str], *args: str, code: int = 0) -> Result:
    """`direct-access ARGS` in-process; asserts the exit code."""
    result = CliRunner().invoke(app, list(args), env=env)
    assert result.exit_code == code, (result.stdout, result.stderr, result.exception)
    return result


@pytest.fixture
def api(env: dict[str, str]) -> Iterator[Client]:
    with Client(Settings.from_env(env)) as c:
        yield c


def gone(env: dict[str, str], job_id: str) -> bool:
    """Whether the service no longer has the job (deleted)."""
    with Client(Settings.from_env(env)) as c:
        try:
            c.get_job(job_id)
        except NotFoundError:
            return True
    return False


def free(env: dict[str, str], job_id: str) -> None:
    """Test clean-up: cancel and delete a job left running."""
    with Client(Settings.from_env(env)) as c:
        c.cancel_job(job_id)
        c.wait(job_id, timeout=30, poll_interval=0.1)
        c.delete_job(job_id)


def objects(s3: S3Settings, job_id: str) -> int:
    """How many objects the store holds for the job."""
    with S3Storage(
        s3.endpoint, s3.bucket, s3.region, s3.access_key_id, s3.secret_access_key
    ) as store:
        listed = store.s3().list_objects_v2(Bucket=s3.bucket, Prefix=f"{DEFAULT_PREFIX}{job_id}/")
    return int(listed.get("KeyCount", 0))


def test_run_prints_the_result_and_deletes_the_job_and_its_objects(
    env: dict[str, str], params: str, s3: S3Settings
) -> None:
    """jobs run uploads, submits, waits, prints the result, deletes the job and removes its S3
    objects; --keep-objects keeps them for jobs result and jobs logs."""
    job_id = str(uuid.uuid4())
    result = cli(env, "jobs", "run", params, "--program", "sampler", "--job-id", job_id, "--json")
    document = json.loads(result.stdout)
    assert document["job"]["status"] == "Completed"
    assert document["result"]["shots"] == SAMPLER_PARAMS["shots"]
    assert f"job {job_id} deleted" in result.stderr
    assert gone(env, job_id)
    assert objects(s3, job_id) == 0
    kept = str(uuid.uuid4())
    plain = cli(env, "jobs", "run", params, "--job-id", kept, "--keep-objects")
    assert json.loads(plain.stdout)["pubs"] == 1  # the result document, as jobs result shows it
    assert gone(env, kept)
    assert objects(s3, kept) == 3  # input, result, logs
    assert json.loads(cli(env, "jobs", "result", kept).stdout) == json.loads(plain.stdout)


def test_submit_wait_deletes_the_finished_job_unless_keep(env: dict[str, str], params: str) -> None:
    """jobs submit --wait deletes the ended job (its result stays readable); --keep keeps it."""
    deleted, kept = str(uuid.uuid4()), str(uuid.uuid4())
    job = json.loads(
        cli(env, "jobs", "submit", params, "--wait", "--json", "--job-id", deleted).stdout
    )
    assert job["status"] == "Completed"
    assert gone(env, deleted)
    assert json.loads(cli(env, "jobs", "result", deleted).stdout)["pubs"] == 1
    cli(env, "jobs", "submit", params, "--wait", "--keep", "--job-id", kept)
    assert not gone(env, kept)
    cli(env, "jobs", "delete", kept)


def test_progress_is_one_line_per_status_change_when_stderr_is_no_terminal(
    s3: S3Settings, params: str
) -> None:
    """In a CI log (stderr not a terminal) a wait writes one line per status change."""
    with serve(EmulatorConfig(execution=ExecutionConfig(duration_secs=2.0))) as emulator:
        env = emulator.env() | s3.env()
        job_id = str(uuid.uuid4())
        result = cli(
            env, "jobs", "submit", params, "--wait", "--poll-interval", "0.1", "--job-id", job_id
        )
    progress = [line for line in result.stderr.splitlines() if line.startswith(f"job {job_id}:")]
    assert [line.split()[2] for line in progress] == ["Running", "Completed"], result.stderr
    assert re.fullmatch(rf"job {job_id}: Completed after \d+\.\d s", progress[1])


_ANSI = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]")


def test_progress_on_a_terminal_shows_the_time_elapsed(
    slow_env: dict[str, str], params: str
) -> None:
    """On a terminal the live line's elapsed time moves between polls."""
    job_id = cli(slow_env, "jobs", "submit", params).stdout.strip()
    master, terminal = pty.openpty()
    process = subprocess.Popen(
        [sys.executable, "-m", "direct_access.cli", "jobs", "wait", job_id, "--timeout", "2"],
        env=os.environ | slow_env | {"TERM": "xterm", "COLUMNS": "120"},
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
        stderr=terminal,
    )
    os.close(terminal)
    shown = b""
    deadline = time.monotonic() + 60
    while (remaining := deadline - time.monotonic()) > 0:
        if not select.select([master], [], [], remaining)[0]:
            break
        try:
            chunk = os.read(master, 65536)
        except OSError:  # EIO: the command closed the terminal
            break
        if not chunk:
            break
        shown += chunk
    os.close(master)
    assert process.wait(timeout=30) == EXIT_TIMEOUT  # the job runs for a minute
    free(slow_env, job_id)
    text = _ANSI.sub("", shown.decode(errors="replace"))
    times = set(re.findall(rf"job {job_id}: Running, (\d+\.\d) s", text))
    assert len(times) >= 3, text


@pytest.mark.parametrize(
    ("command", "keep"),
    [
        (["jobs", "submit", "PARAMS", "--wait"], False),
        (["jobs", "run", "PARAMS"], False),
        (["jobs", "wait", "JOB", "--keep"], True),
        (["jobs", "wait", "JOB"], False),
    ],
    ids=["submit-wait", "run", "wait-keep", "wait"],
)
def test_ctrl_c_frees_the_job_unless_keep_and_prints_its_id(
    slow_env: dict[str, str], params: str, start: Start, command: list[str], keep: bool
) -> None:
    """SIGINT during a wait: exit 130, the job's id on stderr, the job cancelled and deleted
    (with --keep: still Running)."""
    job_id = str(uuid.uuid4())
    if "JOB" in command:
        cli(slow_env, "jobs", "submit", params, "--job-id", job_id)
        args = [job_id if a == "JOB" else a for a in command]
    else:
        args = [params if a == "PARAMS" else a for a in command] + ["--job-id", job_id]
    running = start([*args, "--poll-interval", "0.2"], slow_env)
    running.read_until(f"job {job_id}: Running")
    running.interrupt()
    code, _, stderr = running.finish()
    assert code == EXIT_INTERRUPTED, stderr
    assert "Traceback" not in stderr
    assert f"interrupted: job {job_id}" in stderr
    if keep:
        assert f"direct-access jobs cancel {job_id}" in stderr
        with Client(Settings.from_env(slow_env)) as c:
            assert c.get_job(job_id).status is JobStatus.RUNNING
        free(slow_env, job_id)
    else:
        assert f"job {job_id} cancelled and deleted" in stderr
        assert gone(slow_env, job_id)


def test_result_of_a_failed_or_cancelled_job_says_so_at_once(
    env: dict[str, str], slow_env: dict[str, str], params: str, api: Client
) -> None:
    """jobs result of a Failed or Cancelled job exits 4 at once with its status and reason (its
    logs stay readable); of a Running job it says so."""
    failed = cli(env, "jobs", "submit", params, "--program", "nonsense").stdout.strip()
    api.wait(failed, timeout=30, poll_interval=0.05)
    started = time.monotonic()
    result = cli(env, "jobs", "result", failed, code=EXIT_FAILED_JOB)
    assert time.monotonic() - started < 5
    assert "ended Failed" in result.stderr
    assert "Unknown program_id 'nonsense'" in result.stderr
    assert "written" not in result.stderr  # no blaming the store
    assert "Unknown program_id" in cli(env, "jobs", "logs", failed).stdout  # its logs tell why
    cancelled = cli(slow_env, "jobs", "submit", params).stdout.strip()
    cli(slow_env, "jobs", "cancel", cancelled)
    with Client(Settings.from_env(slow_env)) as c:
        c.wait(cancelled, timeout=30, poll_interval=0.05)
    started = time.monotonic()
    result = cli(slow_env, "jobs", "result", cancelled, code=EXIT_FAILED_JOB)
    assert time.monotonic() - started < 5
    assert "ended Cancelled" in result.stderr
    cli(slow_env, "jobs", "delete", cancelled)
    running = cli(slow_env, "jobs", "submit", params).stdout.strip()
    result = cli(slow_env, "jobs", "result", running, code=EXIT_API_ERROR)
    assert "still Running" in result.stderr
    free(slow_env, running)


def test_tables_never_cut_the_status_at_80_columns(env: dict[str, str], params: str) -> None:
    """jobs list at 80 columns shows every status and id whole, within 80 columns."""
    completed = json.loads(cli(env, "jobs", "submit", params, "--wait", "--keep", "--json").stdout)
    narrow = env | {"COLUMNS": "80"}
    shown = cli(narrow, "jobs", "list").stdout
    assert all(len(line) <= 80 for line in shown.splitlines()), shown
    assert "Completed" in shown
    assert completed["id"] in shown
    assert "online" in cli(narrow, "backends", "list").stdout
    cli(env, "jobs", "delete", completed["id"])


def test_version_needs_no_service() -> None:
    """--version prints the toolkit's version without any setting."""
    result = cli({"DIRECT_ACCESS_URL": ""}, "--version")
    assert result.stdout.strip() == f"direct-access-toolkit {direct_access.__version__}"


def _leaves(command: object, path: tuple[str, ...] = ()) -> Iterator[tuple[str, object]]:
    children = getattr(command, "commands", None)
    if not children:
        yield " ".join(path), command
        return
    for name, child in children.items():
        yield from _leaves(child, (*path, name))


def test_every_command_takes_json_and_verbose() -> None:
    """Every command has --json (for scripts) and --verbose."""
    leaves = dict(_leaves(typer.main.get_command(app)))
    assert {"jobs run", "jobs prune", "jobs cancel", "jobs logs", "version"} <= set(leaves)
    for name, command in leaves.items():
        options = {opt for param in command.params for opt in param.opts}  # type: ignore[attr-defined]
        assert {"--json", "--verbose"} <= options, name


def test_list_filters_and_prune_frees_lanes(s3: S3Settings, params: str) -> None:
    """jobs list --status/--backend filter; jobs prune deletes only ended jobs, freeing lanes."""
    config = EmulatorConfig(
        backends=(BackendConfig(lanes=2), BackendConfig(name="other_backend")),
        execution=ExecutionConfig(duration_secs=60),
    )
    with serve(config) as emulator:
        env = emulator.env() | s3.env()
        running = cli(env, "jobs", "submit", params).stdout.strip()
        failed = cli(env, "jobs", "submit", params, "--program", "nonsense").stdout.strip()
        other = cli(env, "jobs", "submit", params, "--backend", "other_backend").stdout.strip()
        with Client(Settings.from_env(env)) as c:
            c.wait(failed, timeout=30, poll_interval=0.05)
        refused = str(uuid.uuid4())  # both lanes of fake_backend are held: 429
        full = cli(env, "jobs", "submit", params, "--job-id", refused, code=EXIT_API_ERROR)
        assert "429" in full.stderr
        assert objects(s3, refused) == 0  # its uploaded input is removed again

        def ids(*args: str) -> set[str]:
            return {j["id"] for j in json.loads(cli(env, "jobs", "list", *args, "--json").stdout)}

        assert ids("--status", "running") == {running, other}
        assert ids("--status", "Failed", "--status", "Cancelled") == {failed}
        assert ids("--backend", "other_backend") == {other}
        cli(env, "jobs", "list", "--status", "Finished", code=EXIT_USAGE)
        dry = json.loads(cli(env, "jobs", "prune", "--dry-run", "--json").stdout)
        assert dry == {"deleted": [failed], "dry_run": True}
        assert ids() == {running, failed, other}
        assert json.loads(cli(env, "jobs", "prune", "--json").stdout)["deleted"] == [failed]
        assert ids() == {running, other}
        assert cli(env, "jobs", "submit", params).stdout.strip()  # the lane is free again
        cli(env, "jobs", "prune", "--status", "Running", code=EXIT_USAGE)
        cancelled = json.loads(cli(env, "jobs", "cancel", other, "--json").stdout)
        assert cancelled == {"id": other, "cancelled": True}


_NO_BOTO3 = """
import sys
class _Absent:
    def find_spec(self, name, path=None, target=None):
        if name.partition(".")[0] in ("boto3", "botocore"):
            raise ModuleNotFoundError(f"No module named {name!r}", name=name)
        return None
sys.meta_path.insert(0, _Absent())
"""


@pytest.mark.parametrize("command", [["jobs", "submit", "PARAMS"], ["jobs", "result", "some-id"]])
def test_a_missing_extra_is_named_with_its_pip_install(
    env: dict[str, str], params: str, start: Start, command: list[str]
) -> None:
    """On a core-only install (no boto3), storage commands exit 2 naming the storage extra."""
    args = [params if a == "PARAMS" else a for a in command]
    code, _, stderr = start(args, env, prelude=_NO_BOTO3).finish()
    assert code == EXIT_USAGE, stderr
    assert "pip install 'direct-access-toolkit[storage]'" in stderr
    assert "Traceback" not in stderr


def test_wait_keeps_its_deadline_through_5xx_and_verbose_logs_the_retries(
    s3: S3Settings, params: str
) -> None:
    """jobs wait --timeout 6 against a service answering 503 to every poll polls on after a
    poll's retries give up and exits 3 (a timeout, not an API error) by the deadline plus one
    request; --verbose shows the retries, without the API key."""
    config = EmulatorConfig(
        faults=FaultConfig(operations={"get_job": OperationFaults(error_503=1.0)})
    )
    with serve(config) as emulator:
        env = emulator.env() | s3.env()
        job_id = cli(env, "jobs", "submit", params).stdout.strip()
        started = time.monotonic()
        result = cli(env, "jobs", "wait", job_id, "--timeout", "6", "--verbose", code=EXIT_TIMEOUT)
        took = time.monotonic() - started
    assert took < 6 + 10, (took, result.stderr)
    assert "retrying get_job after ServerError" in result.stderr
    # The wait polled on after the first poll's retries gave up (that used to end the wait);
    # whether the next poll's retry fits before the deadline depends on the jitter.
    assert "polling on until the deadline" in result.stderr, result.stderr
    assert f"direct-access jobs cancel {job_id}" in result.stderr  # the job is left: say how
    assert env["DIRECT_ACCESS_API_KEY"] not in result.stderr
