"""Every reason a job can end with (`reason_code`, `reason_message`, `reason_solution`).

The service's own reason codes are not published; these are the emulator's, one code per cause:

- 1001 the input could not be read from storage; 1002 it is not JSON; 1003 it is not a
  primitive's parameters (its shape); 1004 an unknown `program_id`; 1005 a storage URL off
  `execution.allowed_storage_hosts`; 1006 results or logs could not be written;
- 1007 the emulator stopped while the job ran; 1008 the job exceeded its `timeout_secs`
  (Cancelled); 1009 the executor failed (a bug);
- 1010 the simulation's worker ended; 1011 the simulation failed; 1012 the input cannot run on
  the backend (the aer executor: not ISA, an unknown option).

`REASON_CODES` lists them; a new reason gets the next code here, and a line above.
"""

from __future__ import annotations

import functools
from collections.abc import Mapping
from dataclasses import dataclass
from types import MappingProxyType

__all__ = [
    "EXECUTOR_FAILED",
    "REASON_CODES",
    "RESTARTED",
    "Reason",
    "host_not_allowed",
    "input_bad_shape",
    "input_not_json",
    "input_not_runnable",
    "input_unreadable",
    "simulation_crashed",
    "simulation_failed",
    "timed_out",
    "unknown_program",
    "write_failed",
]


@dataclass(frozen=True)
class Reason:
    """Why a job failed or was cancelled by the system."""

    code: int
    message: str
    solution: str


#: Each code and what it means.
REASON_CODES: Mapping[int, str] = MappingProxyType(
    {
        1001: "the input could not be read from storage",
        1002: "the input is not JSON",
        1003: "the input is not a primitive's parameters",
        1004: "unknown program_id",
        1005: "a storage URL off the allowed hosts",
        1006: "results or logs could not be written",
        1007: "the emulator stopped while the job ran",
        1008: "the job exceeded its timeout_secs",
        1009: "the emulator's executor failed",
        1010: "the simulation's worker ended",
        1011: "the simulation failed",
        1012: "the input cannot run on the backend",
    }
)


def input_unreadable(detail: str) -> Reason:
    """1001."""
    return Reason(
        1001,
        f"Input could not be read from storage: {detail}.",
        "Check that the input presigned URL is reachable, correctly signed and not expired.",
    )


def input_not_json(detail: str) -> Reason:
    """1002."""
    return Reason(
        1002,
        f"The input is not a JSON document: {detail}.",
        "Upload the primitive's parameters as JSON (Qiskit Runtime V2 encoding).",
    )


def input_bad_shape(detail: str) -> Reason:
    """1003."""
    return Reason(
        1003,
        f"The input is not valid parameters for the program: {detail}.",
        "Send Qiskit Runtime V2 primitive parameters: "
        '{"pubs": [...], "version": 2, ...} with sampler or estimator pubs.',
    )


def unknown_program(program_id: str) -> Reason:
    """1004."""
    return Reason(
        1004,
        f"Unknown program_id {program_id!r}.",
        "Use program_id 'sampler' or 'estimator'.",
    )


def host_not_allowed(role: str, host: str) -> Reason:
    """1005."""
    return _host_not_allowed(role, host)


# One reason per role and host, shared by the jobs it fails (reasons are immutable): a stored
# job keeps its reason, and each kept object is walked by every full collection.
@functools.lru_cache(maxsize=256)
def _host_not_allowed(role: str, host: str) -> Reason:
    return Reason(
        1005,
        f"The {role} URL points to host {host!r}, which this emulator does not reach.",
        "Use storage on an allowed host (execution.allowed_storage_hosts in the config).",
    )


def write_failed(role: str, detail: str) -> Reason:
    """1006."""
    return Reason(
        1006,
        f"The {role} could not be written to storage: {detail}.",
        f"Check that the {role} presigned URL allows PUT and has not expired.",
    )


#: 1007: a job Running when the emulator stopped (found so in its data directory).
RESTARTED = Reason(
    1007,
    "The emulator stopped while the job was running.",
    "Submit the job again with a new id.",
)


def timed_out(seconds: int) -> Reason:
    """1008."""
    return Reason(
        1008,
        f"The job exceeded its timeout of {seconds} seconds of execution time and was cancelled.",
        "Raise timeout_secs or submit a smaller job.",
    )


#: 1009: the executor raised something it should not have (a bug, logged).
EXECUTOR_FAILED = Reason(1009, "The emulator's executor failed.", "Submit the job again.")


def simulation_crashed(detail: str) -> Reason:
    """1010."""
    return Reason(
        1010,
        f"The simulation ended unexpectedly: {detail}.",
        "Submit the job again; a circuit too large for the emulator's memory ends this way.",
    )


def simulation_failed(detail: str) -> Reason:
    """1011."""
    return Reason(
        1011,
        f"The simulation failed: {detail}.",
        "Check the circuits and options; submit the job again if the error looks transient.",
    )


def input_not_runnable(backend: str, detail: str) -> Reason:
    """1012."""
    return Reason(
        1012,
        f"The input cannot run on backend {backend!r}: {detail}",
        "Send Qiskit Runtime V2 primitive parameters with ISA circuits for the backend "
        "(transpile them with its configuration or target first).",
    )
