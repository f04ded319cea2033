"""`jobs list/get/wait/cancel/delete/prune`: the caller's jobs, watched and cleaned up."""

from __future__ import annotations

import json
from typing import Annotated

import typer
from rich import box
from rich.table import Table

from direct_access import (
    TERMINAL_STATUSES,
    ConflictError,
    Job,
    JobFailedError,
    JobStatus,
    NotFoundError,
)
from direct_access.cli._app import (
    EXIT_FAILED_JOB,
    EXIT_USAGE,
    JsonOption,
    VerboseOption,
    client,
    fail,
    jobs_app,
    print_json,
    redacted,
    say,
    stdout,
)
from direct_access.cli._waiting import wait_for

_STATUS_WIDTH = max(len(status.value) for status in JobStatus)

KeepOption = Annotated[
    bool,
    typer.Option("--keep", help="Leave the job on Ctrl-C (and, once ended, do not delete it)."),
]
PollOption = Annotated[float, typer.Option(help="First poll interval, seconds.")]
StatusFilter = Annotated[
    list[JobStatus] | None,
    typer.Option("--status", case_sensitive=False, help="Only jobs in this status (repeatable)."),
]
BackendFilter = Annotated[str | None, typer.Option("--backend", help="Only jobs on this backend.")]


def job_table(jobs: list[Job]) -> Table:
    """Jobs as rows. Ids (copied into the next command) and statuses are never wrapped or cut;
    the other columns fold when the terminal is narrow."""
    table = Table(box=box.SIMPLE_HEAD, pad_edge=False, show_edge=False, collapse_padding=True)
    table.add_column("id", no_wrap=True, min_width=36)
    table.add_column("status", no_wrap=True, min_width=_STATUS_WIDTH)
    table.add_column("backend", overflow="fold")
    table.add_column("program", overflow="fold")
    table.add_column("created", overflow="fold", min_width=10)
    for job in jobs:
        created = job.created_time.strftime("%Y-%m-%d %H:%M:%S")
        table.add_row(job.id, job.status.value, job.backend, job.program_id, created)
    return table


def show_job(job: Job, as_json: bool) -> None:
    """One job as JSON or as a field/value table (presigned URLs without their signature)."""
    if as_json:
        print_json(job.to_dict())
        return
    table = Table("field", "value", show_header=False, box=box.SIMPLE, show_edge=False)
    table.columns[0].no_wrap = True
    table.columns[1].overflow = "fold"
    for key, value in redacted(job.to_dict()).items():
        table.add_row(
            key,
            json.dumps(value, ensure_ascii=False) if isinstance(value, dict | list) else str(value),
        )
    stdout().print(table, soft_wrap=False)


def exit_if_failed(job: Job) -> None:
    """Exit 4 with the job's reason when it ended Failed or Cancelled."""
    if job.status in TERMINAL_STATUSES and job.status is not JobStatus.COMPLETED:
        fail(str(JobFailedError(job)), EXIT_FAILED_JOB)


def _selected(jobs: list[Job], statuses: list[JobStatus] | None, backend: str | None) -> list[Job]:
    return [
        j
        for j in jobs
        if (not statuses or j.status in statuses) and (backend is None or j.backend == backend)
    ]


@jobs_app.command("list")
def jobs_list(
    status: StatusFilter = None,
    backend: BackendFilter = None,
    as_json: JsonOption = False,
    verbose: VerboseOption = False,
) -> None:
    """The caller's jobs, oldest first."""
    with client() as c:
        jobs = _selected(c.list_jobs(), status, backend)
    if as_json:
        print_json([j.to_dict() for j in jobs])
    else:
        stdout().print(job_table(jobs), soft_wrap=False)


@jobs_app.command("get")
def jobs_get(job_id: str, as_json: JsonOption = False, verbose: VerboseOption = False) -> None:
    """One job."""
    with client() as c:
        job = c.get_job(job_id)
    show_job(job, as_json)


@jobs_app.command("wait")
def jobs_wait(  # noqa: PLR0917 - each typer option is a parameter
    job_id: str,
    timeout: Annotated[float, typer.Option(help="Give up after this many seconds (exit 3).")] = 600,
    poll_interval: PollOption = 1.0,
    keep: KeepOption = False,
    as_json: JsonOption = False,
    verbose: VerboseOption = False,
) -> None:
    """Wait until the job ends (it is kept); exit 4 if it Failed or was Cancelled, 3 on
    timeout. Ctrl-C cancels and deletes the job unless --keep."""
    with client() as c:
        job = wait_for(c, job_id, timeout=timeout, poll_interval=poll_interval, keep=keep)
    show_job(job, as_json)
    exit_if_failed(job)


@jobs_app.command("cancel")
def jobs_cancel(job_id: str, as_json: JsonOption = False, verbose: VerboseOption = False) -> None:
    """Cancel a running job (delete it to free its lane)."""
    with client() as c:
        c.cancel_job(job_id)
    print_json({"id": job_id, "cancelled": True}) if as_json else say(f"job {job_id} cancelled")


@jobs_app.command("delete")
def jobs_delete(job_id: str, as_json: JsonOption = False, verbose: VerboseOption = False) -> None:
    """Delete a finished job (frees its lane)."""
    with client() as c:
        c.delete_job(job_id)
    print_json({"id": job_id, "deleted": True}) if as_json else say(f"job {job_id} deleted")


@jobs_app.command("prune")
def jobs_prune(
    status: StatusFilter = None,
    backend: BackendFilter = None,
    dry_run: Annotated[bool, typer.Option(help="Show what would be deleted.")] = False,
    as_json: JsonOption = False,
    verbose: VerboseOption = False,
) -> None:
    """Delete the caller's ended jobs (Completed, Failed, Cancelled), freeing their lanes;
    running jobs are left alone. Their S3 objects stay."""
    if status and not set(status) <= TERMINAL_STATUSES:
        fail(
            "jobs prune deletes ended jobs only: --status Completed, Failed or Cancelled",
            EXIT_USAGE,
        )
    with client() as c:
        ended = [
            j for j in _selected(c.list_jobs(), status, backend) if j.status in TERMINAL_STATUSES
        ]
        deleted: list[Job] = []
        for job in ended:
            if not dry_run:
                try:
                    c.delete_job(job.id)
                except (NotFoundError, ConflictError):
                    continue  # deleted meanwhile by someone else
            deleted.append(job)
    if as_json:
        print_json({"deleted": [j.id for j in deleted], "dry_run": dry_run})
        return
    for job in deleted:
        stdout().print(job.id, markup=False)
    verb = "would delete" if dry_run else "deleted"
    say(f"{verb} {len(deleted)} ended job{'s' * (len(deleted) != 1)}")
