"""`jobs run` (one shot: upload, submit, wait, print the result, delete) and `jobs submit`."""

from __future__ import annotations

import json
import sys
import uuid
from contextlib import suppress
from pathlib import Path
from typing import Annotated, Any

import typer

from direct_access import (
    Client,
    DirectAccessError,
    JobFailedError,
    JobTimeoutError,
    LogLevel,
    NotFoundError,
)
from direct_access.cli._app import (
    EXIT_FAILED_JOB,
    EXIT_INTERRUPTED,
    EXIT_TIMEOUT,
    EXIT_USAGE,
    JsonOption,
    VerboseOption,
    client,
    fail,
    jobs_app,
    print_json,
    say,
    stdout,
    storage,
)
from direct_access.cli._jobs import KeepOption, PollOption, exit_if_failed, show_job
from direct_access.cli._results import print_result
from direct_access.cli._waiting import Progress, announced_interrupt, guarded, wait_for

#: How long a wait lasts beyond the job's own time limit by default (execution time is not
#: wall-clock time: a job may queue first).
WAIT_MARGIN_SECS = 300

ParamsArgument = Annotated[
    Path, typer.Argument(help="JSON file with the primitive's input ('-': standard input).")
]
ProgramOption = Annotated[str, typer.Option("--program", help="sampler or estimator")]
BackendOption = Annotated[
    str | None, typer.Option(help="Backend (default: DIRECT_ACCESS_BACKEND).")
]
TimeLimitOption = Annotated[int, typer.Option(help="Execution time limit in seconds.")]
LogLevelOption = Annotated[
    LogLevel | None, typer.Option(case_sensitive=False, help="The job's log level.")
]
JobIdOption = Annotated[str | None, typer.Option(help="Job id (default: a new UUID).")]
WaitTimeoutOption = Annotated[
    float | None,
    typer.Option(
        "--timeout",
        help=f"Stop waiting after this many seconds, exit 3 (default: --timeout-secs + "
        f"{WAIT_MARGIN_SECS}).",
    ),
]


def _params(path: Path) -> dict[str, Any]:
    """The primitive's input, or exit 2 naming the file (before anything is uploaded)."""
    try:
        text = sys.stdin.read() if str(path) == "-" else path.read_text("utf-8")
        document = json.loads(text)
    except (OSError, ValueError) as exc:
        fail(f"cannot read {path}: {exc}", EXIT_USAGE)
    if not isinstance(document, dict):
        fail(f"{path} must hold a JSON object (the primitive's input)", EXIT_USAGE)
    return document


def _backend(c: Client, backend: str | None) -> str:
    chosen = backend or c.settings.backend
    if not chosen:
        fail("no backend: pass --backend or set DIRECT_ACCESS_BACKEND", EXIT_USAGE)
    return chosen


@jobs_app.command("run")
def jobs_run(  # noqa: PLR0917 - each typer option is a parameter
    params: ParamsArgument,
    program_id: ProgramOption = "sampler",
    backend: BackendOption = None,
    timeout_secs: TimeLimitOption = 300,
    log_level: LogLevelOption = None,
    job_id: JobIdOption = None,
    timeout: WaitTimeoutOption = None,
    poll_interval: PollOption = 1.0,
    keep_objects: Annotated[
        bool, typer.Option(help="Keep the job's input, result and logs in the S3 store.")
    ] = False,
    as_json: JsonOption = False,
    verbose: VerboseOption = False,
) -> None:
    """Run a job start to end: upload the input, submit, wait, print the result, and delete
    the job (whatever happens: failure, timeout or Ctrl-C), so it never holds a lane; its S3
    objects are removed too unless --keep-objects."""
    document = _params(params)
    store = storage("jobs run")
    with client() as c:
        chosen = _backend(c, backend)
        job_id = job_id or str(uuid.uuid4())
        progress = Progress(job_id)
        try:
            announced = announced_interrupt(job_id, keep=False, console=progress.console)
            with announced, progress.shown():
                out = c.run(
                    chosen,
                    program_id,
                    document,
                    storage=store,
                    timeout_secs=timeout_secs,
                    wait_timeout=timeout,
                    log_level=log_level,
                    poll_interval=poll_interval,
                    on_status=progress,
                    job_id=job_id,
                    keep_objects=keep_objects,
                )
        except KeyboardInterrupt:
            _report_released(c, job_id)
            raise typer.Exit(EXIT_INTERRUPTED) from None
        except JobFailedError as exc:
            fail(f"{exc} (the job is deleted)", EXIT_FAILED_JOB)
        except JobTimeoutError as exc:
            fail(f"{exc}; the job is cancelled and deleted", EXIT_TIMEOUT)
    say(f"job {job_id} deleted (its lane is free)")
    if as_json:
        print_json({"job": out.job.to_dict(), "result": out.result, "logs": out.logs})
    else:
        print_result(out.result, out.result_text)


def _report_released(c: Client, job_id: str) -> None:
    """After `Client.run` freed an interrupted job on its way out: say whether it is gone."""
    try:
        c.get_job(job_id)
    except NotFoundError:
        say(f"job {job_id} cancelled and deleted")
        return
    except DirectAccessError as exc:
        say(f"job {job_id}: could not check that it is deleted ({exc})")
    say(f"job {job_id} may still be running: direct-access jobs cancel {job_id}")


@jobs_app.command("submit")
def jobs_submit(  # noqa: PLR0917 - each typer option is a parameter
    params: ParamsArgument,
    program_id: ProgramOption = "sampler",
    backend: BackendOption = None,
    timeout_secs: TimeLimitOption = 300,
    log_level: LogLevelOption = None,
    job_id: JobIdOption = None,
    wait: Annotated[
        bool, typer.Option(help="Wait until the job ends, then delete it unless --keep.")
    ] = False,
    timeout: WaitTimeoutOption = None,
    poll_interval: PollOption = 1.0,
    keep: KeepOption = False,
    as_json: JsonOption = False,
    verbose: VerboseOption = False,
) -> None:
    """Upload the input to the S3 store (DIRECT_ACCESS_S3_*) and submit a job; prints its id.
    With --wait, waits, prints the job and deletes it (its result stays in the store)."""
    document = _params(params)
    store = storage("jobs submit")
    with client() as c:
        chosen = _backend(c, backend)
        job_id = job_id or str(uuid.uuid4())
        prepared = store.prepare(job_id, document, timeout_secs)
        try:
            with guarded(c, job_id, keep=keep):
                c.submit(
                    backend=chosen,
                    program_id=program_id,
                    storage=prepared,
                    timeout_secs=timeout_secs,
                    log_level=log_level,
                    job_id=job_id,
                )
        except DirectAccessError:
            # No job of ours exists (the client reads back before raising): the uploaded
            # input would only litter the store.
            with suppress(DirectAccessError):
                store.delete(prepared)
            raise
        if not wait:
            print_json({"id": job_id}) if as_json else stdout().print(job_id, markup=False)
            return
        limit = timeout_secs + WAIT_MARGIN_SECS if timeout is None else timeout
        job = wait_for(c, job_id, timeout=limit, poll_interval=poll_interval, keep=keep)
        if not keep:
            c.delete_job(job_id)
    show_job(job, as_json)
    if not keep:
        say(
            f"job {job_id} deleted (its lane is free); its result stays in the store: "
            f"direct-access jobs result {job_id}"
        )
    exit_if_failed(job)
