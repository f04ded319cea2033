"""schemathesis hooks and checks of the contract suite, and what it records of the run.

Hooks make cases reach the server's logic: positive create bodies use the target backend, an id
with the run's prefix and presigned URLs to the target's store, so accepted jobs run and stateful
chains (create -> get -> cancel -> delete) keep going. Cancel and delete only ever name jobs this
run created. Checks add client conformance (2xx bodies parse with the generated models and pass
the overlay's strict mode) and drift (fields a deployment adds that the spec lacks).
"""

from __future__ import annotations

import hashlib
import itertools
import json
import re
import threading
import time
from collections import Counter
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote

import httpx
import schemathesis
from schemathesis import Case as GenericCase
from schemathesis import CheckContext, HookContext, Response
from schemathesis.core.parameters import ParameterLocation

import direct_access_api.models
from contract_tests._target import Target
from direct_access_spec import find_operation, resolve, violations

# Cases of any operation: the hooks look at the operation themselves.
Case = GenericCase[Any]

__all__ = ["Drift", "RunRecord", "remove_created_jobs", "state"]


@dataclass(frozen=True)
class Drift:
    """A field an answer has that the spec does not define."""

    operation: str
    status: int
    field: str


@dataclass
class RunRecord:
    """What the suite saw: cases per operation and status, jobs created, drift."""

    target: Target | None = None
    allow_drift: bool = False
    max_jobs: int = 1000
    responses: Counter[tuple[str, int]] = field(default_factory=Counter)
    failures: Counter[tuple[str, int]] = field(default_factory=Counter)
    created: dict[str, str] = field(default_factory=dict)  # job id -> identity name, not removed
    removed: int = 0
    verdict: str = "not finished"
    unremovable: set[str] = field(default_factory=set)
    drift: set[Drift] = field(default_factory=set)
    schema_document: dict[str, Any] = field(default_factory=dict)
    settings: Any = None  # schemathesis' SchemathesisConfig, built by conftest
    lock: threading.Lock = field(default_factory=threading.Lock)

    @property
    def cases(self) -> int:
        return sum(self.responses.values())


state = RunRecord()


def _operation_id(case: Case) -> str:
    return str(case.operation.definition.raw.get("operationId", case.operation.label))


def _positive_body(case: Case) -> bool:
    return (
        isinstance(case.body, dict)
        and case.meta is not None
        and not case.meta.is_negative_at(ParameterLocation.BODY)
    )


def _own_job_id(target: Target, seed: str) -> str:
    """A job id of this run: its prefix, a digest of the generated id and a sequence number.

    The number makes each case's id new: hypothesis replays a case while shrinking, and a replayed
    create must not meet its own earlier job as a duplicate (the chain would then differ).
    """
    digest = hashlib.sha256(seed.encode("utf-8", "surrogatepass")).hexdigest()[:12]
    return f"{target.job_prefix}{digest}-{next(_sequence)}"


_sequence = itertools.count(1)


@schemathesis.hook
def map_case(context: HookContext, case: Case) -> Case:
    target = state.target
    if target is None:
        return case
    operation_id = _operation_id(case)
    if operation_id == "create_job" and _positive_body(case):
        body: dict[str, Any] = dict(case.body)  # type: ignore[arg-type]  # a dict: _positive_body
        job_id = str(body.get("id", ""))
        if not job_id.startswith(target.job_prefix):
            job_id = _own_job_id(target, job_id)
        body["id"] = job_id
        body["backend"] = target.backend
        if target.s3 is not None:
            body["storage"] = target.storage_for(job_id, int(body.get("timeout_secs", 60)))
        case.body = body
    elif operation_id in ("cancel_job", "delete_job"):
        job_id = str(case.path_parameters.get("job-id", ""))
        if not job_id.startswith(target.job_prefix):
            # Never cancel or delete a job this run did not create: name one that cannot exist.
            case.path_parameters = {
                **case.path_parameters,
                "job-id": _own_job_id(target, f"absent:{job_id}"),
            }
    elif (
        operation_id.startswith("get_backend")
        and case.meta is not None
        and not case.meta.is_negative_at(ParameterLocation.PATH)
    ):
        case.path_parameters = {**case.path_parameters, "backend_name": target.backend}
    return case


@schemathesis.hook
def before_call(context: HookContext, case: Case, kwargs: dict[str, Any]) -> None:
    if _operation_id(case) != "create_job":
        return
    with state.lock:
        if len(state.created) + state.removed + len(state.unremovable) >= state.max_jobs:
            raise RuntimeError(
                f"the suite reached its cap of {state.max_jobs} created jobs "
                "(--contract-max-jobs); it creates no more"
            )


@schemathesis.hook
def after_call(context: HookContext, case: Case, response: Response) -> None:
    operation_id = _operation_id(case)
    with state.lock:
        state.responses[(operation_id, response.status_code)] += 1
        target = state.target
        if (
            operation_id == "create_job"
            and response.status_code == 204
            and target is not None
            and isinstance(case.body, dict)
        ):
            job_id = str(case.body.get("id"))
            headers = {str(k): str(v) for k, v in response.request.headers.items()}
            identity = target.identity_for(headers)
            if _PLAIN_ID.fullmatch(job_id):
                state.created[job_id] = identity.name if identity else "?"
            else:
                # A create the service accepted with an id that a path cannot carry unchanged:
                # removing it could name another job, so it is reported, never touched.
                state.unremovable.add(job_id)


# A job id that can be named in a path as is: only these are ever cancelled or deleted.
_PLAIN_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9._~-]*")


def remove_created_jobs(deadline_secs: float = 120.0) -> list[str]:
    """Cancel and delete every job this run created so far; return those that could not be.

    Each job is removed as the identity that created it, its id quoted in the path. Only a 409
    (the job is still stopping) is waited out; a 401 gets fresh tokens once (a deployment's
    token may expire during a long run). Called between stateful scenarios, so that each starts
    with the backend's lanes free (a deployment has few), and at the end of the run, after a
    failure or Ctrl-C too.
    """
    target = state.target
    if target is None:
        return []
    with state.lock:
        created = dict(state.created)
    left: list[str] = []
    refreshed = False
    with httpx.Client(base_url=target.url, timeout=30) as http:
        for job_id, owner in created.items():
            path = f"/v1/jobs/{quote(job_id, safe='')}"
            deadline = time.monotonic() + deadline_secs
            while True:
                headers = target.identity(owner).headers()
                http.post(f"{path}/cancel", headers=headers)
                status = http.delete(path, headers=headers).status_code
                if status == 401 and not refreshed and target.refresh_tokens():
                    refreshed = True
                    continue
                if status != 409 or time.monotonic() > deadline:
                    break
                time.sleep(0.1)  # the job is still stopping; polled against the deadline
            if status in (204, 404):
                with state.lock:
                    state.created.pop(job_id, None)
                    state.removed += 1
            else:
                left.append(job_id)
    return left


def _json(response: Response) -> Any:
    try:
        return json.loads(response.content)
    except ValueError:
        return None


def _answer(response: Response) -> tuple[Any, str, Any] | None:
    """(operation, schema pointer, body) of a JSON answer the spec documents, else None."""
    request = response.request
    path = request.path_url.split("?", 1)[0]
    operation = find_operation(str(request.method), path)
    if operation is None:
        return None
    pointer = operation.schema_pointer(response.status_code)
    if pointer is None:
        return None
    return operation, pointer, _json(response)


@schemathesis.check
def spec_drift(ctx: CheckContext, response: Response, case: Case) -> bool | None:
    """Fields an answer has that the spec does not define are drift from the reference."""
    found = _answer(response)
    if found is None:
        return None
    operation, pointer, body = found
    added = [v for v in violations(pointer, body) if v.keyword == "additionalProperties"]
    if not added:
        return None
    fields = sorted(
        {"/".join("*" if isinstance(p, int) else str(p) for p in v.path) for v in added}
    )
    with state.lock:
        state.drift.update(Drift(operation.operation_id, response.status_code, f) for f in fields)
    if state.allow_drift:
        return None
    raise AssertionError(
        f"drift from the spec: {operation.operation_id} {response.status_code} answer has "
        f"fields the spec does not define: {', '.join(fields)} (run with --allow-drift to accept)"
    )


@schemathesis.check
def client_conformance(ctx: CheckContext, response: Response, case: Case) -> bool | None:
    """Every 2xx body parses with the generated models and passes the overlay's strict mode."""
    if not 200 <= response.status_code < 300:
        return None
    found = _answer(response)
    if found is None:
        return None
    operation, pointer, body = found
    from direct_access._strict import StrictMode  # noqa: PLC0415

    StrictMode(allow_drift=True).check(
        str(response.request.method), response.request.url or "", response.status_code, pointer,
        body,
    )  # fmt: skip
    name = str(resolve(pointer).get("$ref", "")).rsplit("/", 1)[-1]
    model = getattr(direct_access_api.models, name, None)
    if model is None:
        raise AssertionError(f"{operation.operation_id}: no generated model for schema {name!r}")
    model.from_dict(body)
    return None
