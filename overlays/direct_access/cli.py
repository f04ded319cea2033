"""The `direct-access` command: jobs, backends and version from a shell, tables or ``--json``.

Exit codes: 0 success, 1 an API or service error, 2 a usage or configuration error, 3 a wait that
timed out, 4 a job that ended Failed or Cancelled. Secrets are never printed; presigned URLs are
shown without their signature.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated, Any, NoReturn

import typer
from rich.console import Console
from rich.table import Table

from direct_access._client import Client, checked_log_level
from direct_access._errors import (
    ConfigurationError,
    DirectAccessError,
    JobTimeoutError,
    redact_urls,
)
from direct_access._settings import ENVIRONMENT_VARIABLES, Settings
from direct_access._wait import TERMINAL_STATUSES
from direct_access_api.models import Job, JobStatus

__all__ = ["EXIT_API_ERROR", "EXIT_FAILED_JOB", "EXIT_TIMEOUT", "EXIT_USAGE", "app", "main"]

EXIT_API_ERROR = 1
EXIT_USAGE = 2
EXIT_TIMEOUT = 3
EXIT_FAILED_JOB = 4

_ENV_HELP = "\n\n".join(
    [
        "Environment variables read:",
        *(f"{name}: {meaning}" for name, meaning in ENVIRONMENT_VARIABLES.items()),
        "For jobs submit/result/logs: DIRECT_ACCESS_S3_ENDPOINT, _BUCKET, _REGION, "
        "_ACCESS_KEY_ID, _SECRET_ACCESS_KEY (objects under direct-access/<job id>/).",
        "Exit codes: 0 ok, 1 API error, 2 usage or configuration, 3 wait timed out, "
        "4 job Failed or Cancelled.",
    ]
)

app = typer.Typer(
    help="IBM Quantum Direct Access from the shell.\n\n" + _ENV_HELP,
    no_args_is_help=True,
    add_completion=False,
)
jobs_app = typer.Typer(help="Submit, watch, cancel and delete jobs.", no_args_is_help=True)
backends_app = typer.Typer(help="The backends of this instance.", no_args_is_help=True)
app.add_typer(jobs_app, name="jobs")
app.add_typer(backends_app, name="backends")

_out = Console(highlight=False, soft_wrap=True)
_err = Console(stderr=True, highlight=False, soft_wrap=True)

JsonOption = Annotated[bool, typer.Option("--json", help="Print JSON for scripts.")]


def _fail(message: str, code: int) -> NoReturn:
    _err.print(f"error: {redact_urls(message)}", markup=False)
    raise typer.Exit(code)


@contextmanager
def _client() -> Iterator[Client]:
    try:
        settings = Settings.from_env()
    except ConfigurationError as exc:
        _fail(str(exc), EXIT_USAGE)
    try:
        with Client(settings) as client:
            yield client
    except JobTimeoutError as exc:
        _fail(str(exc), EXIT_TIMEOUT)
    except ConfigurationError as exc:
        _fail(str(exc), EXIT_USAGE)
    except DirectAccessError as exc:
        _fail(str(exc), EXIT_API_ERROR)


def _redacted(document: Any) -> Any:
    if isinstance(document, dict):
        return {k: _redacted(v) for k, v in document.items()}
    if isinstance(document, list):
        return [_redacted(v) for v in document]
    if isinstance(document, str):
        return redact_urls(document)
    return document


def _print_json(document: Any) -> None:
    _out.print(json.dumps(_redacted(document), indent=2, sort_keys=True), markup=False)


def _job_table(jobs: list[Job]) -> Table:
    table = Table("backend", "program", "status", "created", "ended")
    # Ids are what users copy into the next command: never wrapped or cut.
    table.add_column("id", no_wrap=True, min_width=36)
    for job in jobs:
        ended = job.to_dict().get("end_time", "")
        table.add_row(
            job.backend, job.program_id, job.status.value, str(job.created_time), ended, job.id
        )
    return table


def _show_job(job: Job, as_json: bool) -> None:
    if as_json:
        _print_json(job.to_dict())
        return
    table = Table("field", "value", show_header=False)
    for key, value in _redacted(job.to_dict()).items():
        table.add_row(key, json.dumps(value) if isinstance(value, dict | list) else str(value))
    _out.print(table)


@jobs_app.command("list")
def jobs_list(as_json: JsonOption = False) -> None:
    """The caller's jobs, oldest first."""
    with _client() as c:
        jobs = c.list_jobs()
    if as_json:
        _print_json([j.to_dict() for j in jobs])
    else:
        _out.print(_job_table(jobs))


@jobs_app.command("get")
def jobs_get(job_id: str, as_json: JsonOption = False) -> None:
    """One job."""
    with _client() as c:
        job = c.get_job(job_id)
    _show_job(job, as_json)


def _storage() -> Any:
    from direct_access.storage import S3Storage  # noqa: PLC0415 - boto3 only when needed

    try:
        return S3Storage.from_env()
    except ConfigurationError as exc:
        _fail(str(exc), EXIT_USAGE)


@jobs_app.command("submit")
def jobs_submit(  # noqa: PLR0917 - each typer option is a parameter
    params: Annotated[Path, typer.Argument(help="JSON file with the primitive's input.")],
    program_id: Annotated[str, typer.Option("--program", help="sampler or estimator")] = "sampler",
    backend: Annotated[
        str | None, typer.Option(help="Backend (default: DIRECT_ACCESS_BACKEND).")
    ] = None,
    timeout_secs: Annotated[int, typer.Option(help="Execution time limit in seconds.")] = 300,
    log_level: Annotated[
        str | None, typer.Option(help="debug, info, warning, error or critical.")
    ] = None,
    job_id: Annotated[str | None, typer.Option(help="Job id (default: a new UUID).")] = None,
    wait: Annotated[bool, typer.Option(help="Wait until the job ends.")] = False,
    as_json: JsonOption = False,
) -> None:
    """Upload the input to the S3 store (DIRECT_ACCESS_S3_*) and submit a job; prints its id."""
    import uuid  # noqa: PLC0415

    try:
        document = json.loads(params.read_text("utf-8"))
        checked_log_level(log_level)  # a usage error, before anything is uploaded
    except ConfigurationError as exc:
        _fail(f"--log-level: {exc}", EXIT_USAGE)
    except (OSError, ValueError) as exc:
        _fail(f"cannot read {params}: {exc}", EXIT_USAGE)
    storage = _storage()
    with _client() as c:
        chosen = backend or c.settings.backend
        if not chosen:
            _fail("no backend: pass --backend or set DIRECT_ACCESS_BACKEND", EXIT_USAGE)
        job_id = job_id or str(uuid.uuid4())
        prepared = storage.prepare(job_id, document, timeout_secs)
        c.submit(
            backend=chosen,
            program_id=program_id,
            storage=prepared,
            timeout_secs=timeout_secs,
            log_level=log_level,
            job_id=job_id,
        )
        if not wait:
            _print_json({"id": job_id}) if as_json else _out.print(job_id, markup=False)
            return
        job = _wait_with_progress(c, job_id, timeout=timeout_secs + 300.0, poll_interval=1.0)
    _finish(job, as_json)


def _wait_with_progress(c: Client, job_id: str, *, timeout: float, poll_interval: float) -> Job:
    with _err.status(f"job {job_id}: waiting") as status:

        def show(job: Job) -> None:
            status.update(f"job {job_id}: {job.status.value}")

        return c.wait(job_id, timeout=timeout, poll_interval=poll_interval, on_status=show)


def _finish(job: Job, as_json: bool) -> None:
    _show_job(job, as_json)
    if job.status in TERMINAL_STATUSES and job.status is not JobStatus.COMPLETED:
        raise typer.Exit(EXIT_FAILED_JOB)


@jobs_app.command("wait")
def jobs_wait(
    job_id: str,
    timeout: Annotated[float, typer.Option(help="Give up after this many seconds (exit 3).")] = 600,
    poll_interval: Annotated[float, typer.Option(help="First poll interval, seconds.")] = 1.0,
    as_json: JsonOption = False,
) -> None:
    """Wait until the job ends; exit 4 if it Failed or was Cancelled, 3 on timeout."""
    with _client() as c:
        job = _wait_with_progress(c, job_id, timeout=timeout, poll_interval=poll_interval)
    _finish(job, as_json)


@jobs_app.command("cancel")
def jobs_cancel(job_id: str) -> None:
    """Cancel a running job."""
    with _client() as c:
        c.cancel_job(job_id)
    _err.print(f"job {job_id} cancelled", markup=False)


@jobs_app.command("delete")
def jobs_delete(job_id: str) -> None:
    """Delete a finished job (frees its lane)."""
    with _client() as c:
        c.delete_job(job_id)
    _err.print(f"job {job_id} deleted", markup=False)


@jobs_app.command("result")
def jobs_result(job_id: str, as_json: JsonOption = False) -> None:
    """Print the job's result from the S3 store: counts (sampler) or expectation values with
    standard deviations (estimator) when it is a Qiskit PrimitiveResult and the qiskit extra is
    installed, else the JSON document."""
    storage = _storage()
    try:
        text = storage.result_text_for(job_id, timeout=10)
        document = storage.parse_result(text, f"the result of job {job_id}")
    except DirectAccessError as exc:
        _fail(str(exc), EXIT_API_ERROR)
    lines = None if as_json else _primitive_result_lines(document, text)
    if lines is None:
        _print_json(document)
        return
    for line in lines:
        _out.print(line, markup=False)


def _primitive_result_lines(document: dict[str, Any], text: str) -> list[str] | None:
    """Counts or expectation values of a PrimitiveResult; None for any other document, or
    without the qiskit extra (then the JSON is what can be shown)."""
    if document.get("__type__") != "PrimitiveResult":
        return None  # checked first: importing Qiskit takes a second
    try:
        import numpy as np  # noqa: PLC0415 - the qiskit extra brings it
        from qiskit.primitives.containers import (  # type: ignore[import-untyped,unused-ignore]  # noqa: PLC0415
            BitArray,
        )

        from direct_access.qiskit import decode_result  # noqa: PLC0415
    except ImportError:
        return None
    try:
        result = decode_result(text)
    except (DirectAccessError, ValueError, TypeError, KeyError):
        return None
    lines: list[str] = []
    for index, pub in enumerate(result):
        data = pub.data
        arrays = {name: value for name, value in data.items() if isinstance(value, BitArray)}
        if arrays:
            for name, bits in arrays.items():
                counts = sorted(bits.get_counts().items(), key=lambda item: (-item[1], item[0]))
                lines.append(f"pub {index}, {name}: {bits.num_shots} shots, counts")
                lines.extend(f"  {outcome}  {count}" for outcome, count in counts)
        elif "evs" in data:
            evs, stds = np.asarray(data.evs), np.asarray(data.stds)
            lines.append(f"pub {index}: expectation values ± standard deviations")
            for where in np.ndindex(evs.shape):
                at = f"[{', '.join(map(str, where))}]" if where else "value"
                lines.append(f"  {at}  {float(evs[where]):.6g} ± {float(stds[where]):.3g}")
        else:
            return None
    return lines


@jobs_app.command("logs")
def jobs_logs(job_id: str) -> None:
    """Print the job's logs from the S3 store."""
    storage = _storage()
    try:
        text = storage.logs_for(job_id, timeout=10)
    except DirectAccessError as exc:
        _fail(str(exc), EXIT_API_ERROR)
    _out.print(redact_urls(text), markup=False, end="")


@backends_app.command("list")
def backends_list(as_json: JsonOption = False) -> None:
    """The backends and their status."""
    with _client() as c:
        backends = c.list_backends()
    if as_json:
        _print_json([b.to_dict() for b in backends])
        return
    table = Table("name", "status", "message")
    for b in backends:
        table.add_row(b.name, b.status.value, b.to_dict().get("message", ""))
    _out.print(table)


@backends_app.command("get")
def backends_get(name: str, as_json: JsonOption = False) -> None:
    """One backend with its lanes."""
    with _client() as c:
        backend = c.get_backend(name).to_dict()
        lanes = c.get_backend_lanes(name).to_dict()
    document = backend | {"lanes": lanes}
    if as_json:
        _print_json(document)
        return
    table = Table("field", "value", show_header=False)
    for key, value in document.items():
        table.add_row(key, json.dumps(value) if isinstance(value, dict) else str(value))
    _out.print(table)


@app.command("version")
def version(as_json: JsonOption = False) -> None:
    """The service's version and the API versions it supports."""
    with _client() as c:
        document = {"version": c.get_version(), "api_versions": c.list_versions()}
    if as_json:
        _print_json(document)
    else:
        _out.print(
            f"service {document['version']}; API versions: {', '.join(document['api_versions'])}",
            markup=False,
        )


def main() -> None:
    """Run the command (the ``direct-access`` entry point); exits with the codes above."""
    app(prog_name="direct-access")
