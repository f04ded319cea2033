"""schemathesis hooks of the contract suite (`SCHEMATHESIS_HOOKS=contract_tests.hooks`).

`python -m contract_tests` loads this module into `schemathesis run` and fills in `state` first.
Hooks make cases reach the server's logic: create bodies use the target's backend, a fresh id with
the run's prefix and presigned URLs to the target's store, so accepted jobs run; a negative body
breaks the schema in exactly one place and is otherwise such a real body. Cancel and delete only
ever name jobs of this run. Loading it registers the suite's own checks too (`_checks.py`), and
a handler that keeps the run's failures for the summary.
"""

from __future__ import annotations

from typing import Any

import schemathesis
import schemathesis.cli
from schemathesis import HookContext, Response
from schemathesis.cli.commands.run.handlers.base import EventHandler
from schemathesis.core.failures import Failure
from schemathesis.core.parameters import ParameterLocation

from contract_tests._cases import Finding, one_breach, own_job_id, state

# Imported for its side effect too: it registers the suite's checks with schemathesis.
from contract_tests._checks import Case, operation_id, sent_by
from contract_tests._target import Target
from direct_access_spec import inline_refs, operations

__all__ = ["state"]


def _negative_at(case: Case, location: ParameterLocation) -> bool:
    return case.meta is not None and case.meta.is_negative_at(location)


@schemathesis.hook
def before_load_schema(context: HookContext, raw_schema: dict[str, Any]) -> None:
    """Answers are judged against response schemas open to added fields.

    Whether an answer has fields the spec lacks is decided by `spec_drift` alone, which names them
    as drift (failing unless --allow-drift), so that `response_schema_conformance` reports only
    real violations. Requests keep their closed schemas: negative cases still send unknown fields.
    Only in a run of the suite (the module may be imported elsewhere, by a test).
    """
    if state.target is None:
        return

    def opened(node: Any) -> Any:
        if isinstance(node, list):
            return [opened(item) for item in node]
        if not isinstance(node, dict):
            return node
        return {
            key: opened(value)
            for key, value in node.items()
            if not (key == "additionalProperties" and value is False)
        }

    for item in raw_schema.get("paths", {}).values():
        for operation in item.values():
            if not isinstance(operation, dict) or "responses" not in operation:
                continue
            for status, response in list(operation["responses"].items()):
                inlined = opened(inline_refs(response))
                for media in inlined.get("content", {}).values():
                    media.pop("examples", None)
                operation["responses"][status] = inlined


# Headers that frame the HTTP message rather than carry the API's data: a generated value (an
# empty or non-numeric Content-Length) is refused by the server's HTTP layer before the API
# sees the request, which says nothing of the contract.
_FRAMING_HEADERS = frozenset(
    {"content-length", "transfer-encoding", "host", "connection", "expect", "te", "upgrade"}
)


@schemathesis.hook
def map_case(context: HookContext, case: Case) -> Case:
    target = state.target
    if target is None:
        return case
    if case.headers and any(name.lower() in _FRAMING_HEADERS for name in case.headers):
        for name in [name for name in case.headers if name.lower() in _FRAMING_HEADERS]:
            del case.headers[name]
    operation = operation_id(case)
    if operation == "create_job" and isinstance(case.body, dict):
        _map_create(target, case)
    elif operation in ("cancel_job", "delete_job"):
        _map_job_action(target, case, operation)
    elif operation == "get_job" and _unit_phase_positive_path(case):
        with state.lock:
            state.reads += 1
            # Every other read names this run's newest job, so that reads succeed in every
            # phase (object_level_authorization compares them); the rest keep generated ids.
            if state.accepted and state.reads % 2 == 0:
                case.path_parameters = {**case.path_parameters, "job-id": state.accepted[-1]}
    elif operation.startswith("get_backend") and not _negative_at(case, ParameterLocation.PATH):
        case.path_parameters = {**case.path_parameters, "backend_name": target.backend}
    return case


def _unit_phase_positive_path(case: Case) -> bool:
    """A case of the examples, coverage or fuzzing phase whose path is valid (a stateful step's
    path comes from its link, which object_level_authorization follows)."""
    if case.meta is None or _negative_at(case, ParameterLocation.PATH):
        return False
    return str(case.meta.phase.name.value) != "stateful"


def _map_create(target: Target, case: Case) -> None:
    """A negative body keeps one breach inside a real body; a positive one becomes real."""
    assert isinstance(case.body, dict)
    if _negative_at(case, ParameterLocation.BODY):
        reduced = one_breach(target, case.body)
        if reduced is not None:
            case.body, breach = reduced
            with state.lock:
                state.breaches[case.id] = breach
        return
    body: dict[str, Any] = dict(case.body)
    job_id = str(body.get("id", ""))
    if not job_id.startswith(target.job_prefix):
        job_id = own_job_id(target, job_id)
    body["id"] = job_id
    body["backend"] = target.backend
    if target.s3 is not None:
        body["storage"] = target.storage_for(job_id, int(body.get("timeout_secs", 60)))
    case.body = body


def _map_job_action(target: Target, case: Case, operation_id: str) -> None:
    """A cancel or delete names a job of this run: a real one for a positive case, else one that
    cannot exist. Never a job this run did not create."""
    job_id = str(case.path_parameters.get("job-id", ""))
    if job_id.startswith(target.job_prefix):
        return
    if not _negative_at(case, ParameterLocation.PATH):
        with state.lock:
            if state.accepted:
                # A delete takes the oldest job (likely finished); a cancel the newest.
                delete = operation_id == "delete_job"
                own = state.accepted.popleft() if delete else state.accepted[-1]
                case.path_parameters = {**case.path_parameters, "job-id": own}
                return
    case.path_parameters = {
        **case.path_parameters,
        "job-id": own_job_id(target, f"absent:{job_id}"),
    }


@schemathesis.hook
def before_add_examples(context: HookContext, examples: list[Case]) -> None:
    """The spec's own examples become real requests too (the examples phase skips `map_case`)."""
    examples[:] = [map_case(context, case) for case in examples]


# Where creates go once the run has created `max_jobs` jobs: a backend no service has, so that
# the cases are still sent (and judged: 404 is a documented answer) but no more jobs run.
CAPPED_BACKEND = "contract-cap-reached"


@schemathesis.hook
def before_call(context: HookContext, case: Case, kwargs: dict[str, Any]) -> None:
    if operation_id(case) != "create_job":
        return
    with state.lock:
        state.creates_sent += 1
        if state.jobs_accepted >= state.max_jobs and isinstance(case.body, dict):
            case.body = {**case.body, "backend": CAPPED_BACKEND}
            state.creates_capped += 1
        job_id = _body_id(case)
        if job_id is not None:
            # Whatever the answer, the sweep looks for this id at the end.
            state.created.add(job_id)


def _body_id(case: Case) -> str | None:
    job_id = case.body.get("id") if isinstance(case.body, dict) else None
    return job_id if isinstance(job_id, str) else None


@schemathesis.hook
def after_call(context: HookContext, case: Case, response: Response) -> None:
    operation = operation_id(case)
    with state.lock:
        state.responses[(operation, response.status_code)] += 1
        if case.meta is not None:
            phase = case.meta.phase.name.value
            state.phases[phase] = state.phases.get(phase, 0) + 1
        if operation == "create_job":
            if response.status_code in (423, 429):
                state.creates_refused[response.status_code] += 1
            job_id = _body_id(case)
            if 200 <= response.status_code < 300:
                state.jobs_accepted += 1
            if job_id is not None:
                state.create_answers.setdefault(job_id, set()).add(response.status_code)
                sender = sent_by(state.target, response.request.headers)
                if 200 <= response.status_code < 300 and sender is not None:
                    state.creators[job_id] = sender.name
                sent = response.request.headers.get("Service-CRN")
                first = state.target.identities[0] if state.target else None
                if response.status_code == 204 and first is not None and sent == first.service_crn:
                    state.accepted.append(job_id)


@schemathesis.cli.handler()
class ContractFindings(EventHandler):  # type: ignore[type-arg]
    """Keeps every unique failure of the run, for the suite's summary."""

    def __init__(self, *args: Any, **params: Any) -> None:
        pass

    def handle_event(self, ctx: Any, event: Any) -> None:
        return None

    def shutdown(self, ctx: Any) -> None:
        statistic = ctx.statistic
        checks = {
            failure_key(failure): check for failure, check in statistic.observed_failures.values()
        }
        findings: list[Finding] = []
        for label, groups in statistic.failures.items():
            for group in groups.values():
                status = group.response.status_code if group.response is not None else None
                for failure in group.failures:
                    findings.append(
                        Finding(
                            operation_id=_operation_ids().get(str(failure.operation), str(label)),
                            label=str(failure.operation or label),
                            check=str(
                                checks.get(failure_key(failure))
                                or getattr(failure, "check_name", "?")
                            ),
                            code=failure.code,
                            failure=type(failure).__name__,
                            title=failure.title,
                            message=failure.message,
                            status=getattr(failure, "status_code", None) or status,
                            # Every request the failure needs (a stateful chain), else the one.
                            reproduction="\n".join(step.curl for step in group.steps)
                            or group.code_sample
                            or "",
                            where="".join(
                                f"/{part}" for part in getattr(failure, "instance_path", ())
                            ),
                        )
                    )
                    breach = state.breaches.get(group.case_id or "")
                    if breach is not None and findings[-1].check == "negative_data_rejection":
                        findings[-1] = _with_message(findings[-1], str(breach))
        with state.lock:
            state.findings = findings
            state.known = len(statistic.known_failures)
            state.seed = ctx.config.seed
            state.errors = [f"{group.title} ({group.count})" for group in ctx.summary().errors]


def failure_key(failure: Failure) -> tuple[str, str, str]:
    return (str(failure.operation), type(failure).__name__, failure._unique_key)


def _with_message(finding: Finding, breach: str) -> Finding:
    return Finding(**{**finding.__dict__, "message": f"{finding.message}\nBreach: {breach}"})


def _operation_ids() -> dict[str, str]:
    """operationId by schemathesis' label of the operation ("POST /v1/jobs")."""
    return {f"{op.method} {op.path}": op.operation_id for op in operations()}
