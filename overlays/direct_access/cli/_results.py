"""`jobs result/logs`, and how a result is shown: counts or expectation values when it is a
Qiskit PrimitiveResult (with the qiskit extra), else its JSON document."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from direct_access import DirectAccessError, Job, JobStatus, NotFoundError, StorageError
from direct_access._errors import redact_urls
from direct_access.cli._app import (
    EXIT_API_ERROR,
    JsonOption,
    VerboseOption,
    client,
    fail,
    jobs_app,
    print_json,
    stdout,
    storage,
)
from direct_access.cli._jobs import exit_if_failed

#: How long `jobs result/logs` wait for an object a Completed job has not written yet.
OBJECT_TIMEOUT_SECS = 10.0


def print_result(document: dict[str, Any], text: str) -> None:
    """The result on stdout: counts or expectation values, else the JSON document."""
    lines = _primitive_result_lines(document, text)
    if lines is None:
        print_json(document)
        return
    for line in lines:
        stdout().print(line, markup=False)


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


def _job_or_none(job_id: str) -> Job | None:
    """The job, or None when the service no longer has it (deleted once it ended: its
    objects may still be in the store)."""
    with client() as c:
        try:
            return c.get_job(job_id)
        except NotFoundError:
            return None


def _read(job_id: str, what: str, read: Callable[..., str]) -> str:
    """The job's ``what`` from the store. Exits at once, with the reason, when the job is
    Running, or (for its result) Failed or Cancelled; waits for a Completed job's objects."""
    job = _job_or_none(job_id)
    if job is not None and job.status is JobStatus.RUNNING:
        fail(
            f"job {job_id} is still Running: no {what} yet (direct-access jobs wait {job_id})",
            EXIT_API_ERROR,
        )
    if job is not None and what == "result":
        exit_if_failed(job)
    # A service may write a Completed job's objects just after it says so; anything else has
    # written all it will.
    completed = job is not None and job.status is JobStatus.COMPLETED
    try:
        return read(job_id, timeout=OBJECT_TIMEOUT_SECS if completed else 0)
    except StorageError as exc:
        if job is None:
            fail(
                f"job {job_id} is not known to the service, and the store has no {what} for it "
                f"({exc})",
                EXIT_API_ERROR,
            )
        if not completed:
            fail(f"job {job_id} ended {job.status.value} and wrote no {what}", EXIT_API_ERROR)
        fail(str(exc), EXIT_API_ERROR)


@jobs_app.command("result")
def jobs_result(job_id: str, as_json: JsonOption = False, verbose: VerboseOption = False) -> None:
    """Print the job's result from the S3 store: counts (sampler) or expectation values with
    standard deviations (estimator) when it is a Qiskit PrimitiveResult and the qiskit extra is
    installed, else the JSON document. A Failed or Cancelled job exits 4 with its reason."""
    store = storage("jobs result")
    text = _read(job_id, "result", store.result_text_for)
    try:
        document = store.parse_result(text, f"the result of job {job_id}")
    except DirectAccessError as exc:
        fail(str(exc), EXIT_API_ERROR)
    if as_json:
        print_json(document)
    else:
        print_result(document, text)


@jobs_app.command("logs")
def jobs_logs(job_id: str, as_json: JsonOption = False, verbose: VerboseOption = False) -> None:
    """Print the job's logs from the S3 store."""
    store = storage("jobs logs")
    text = _read(job_id, "logs", store.logs_for)
    if as_json:
        print_json({"id": job_id, "logs": text})
    else:
        stdout().print(redact_urls(text), markup=False, end="")
