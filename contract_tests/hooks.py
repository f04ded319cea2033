"""schemathesis hooks and checks of the contract suite (`SCHEMATHESIS_HOOKS=contract_tests.hooks`).

`python -m contract_tests` loads this module into `schemathesis run` and fills in `state` first.
Hooks make cases reach the server's logic: create bodies use the target's backend, a fresh id with
the run's prefix and presigned URLs to the target's store, so accepted jobs run; a negative body
breaks the schema in exactly one place and is otherwise such a real body. Cancel and delete only
ever name jobs of this run. Checks of ours: `client_conformance` (2xx bodies parse with the
generated models and pass strict mode), `spec_drift` (fields the spec lacks) and
`one_credential_at_a_time` (a valid token without a valid `Service-CRN`, and the reverse).
"""

from __future__ import annotations

import json
from typing import Any

import schemathesis
import schemathesis.cli
from requests.structures import CaseInsensitiveDict
from schemathesis import Case as GenericCase
from schemathesis import CheckContext, HookContext, Response
from schemathesis.cli.commands.run.handlers.base import EventHandler
from schemathesis.core.failures import Failure
from schemathesis.core.parameters import ParameterLocation

# The probe helper schemathesis' own `ignored_auth` sends its credential probes with: the run's
# transport settings, none of its credentials, recorded as a child of the case (so that the
# failure's reproduction is the probe itself).
from schemathesis.specs.openapi._auth_retry import send_probe

import direct_access_api.models
from contract_tests._cases import (
    Drift,
    Finding,
    one_breach,
    own_job_id,
    real_body,
    state,
)
from contract_tests._target import Target
from direct_access_spec import find_operation, inline_refs, operations, resolve, violations

# Cases of any operation: the hooks look at the operation themselves.
Case = GenericCase[Any]

__all__ = ["state"]


def _operation_id(case: Case) -> str:
    return str(case.operation.definition.raw.get("operationId", case.operation.label))


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
    operation_id = _operation_id(case)
    if operation_id == "create_job" and isinstance(case.body, dict):
        _map_create(target, case)
    elif operation_id in ("cancel_job", "delete_job"):
        _map_job_action(target, case, operation_id)
    elif operation_id == "get_job" and _unit_phase_positive_path(case):
        with state.lock:
            state.reads += 1
            # Every other read names this run's newest job, so that reads succeed in every
            # phase (object_level_authorization compares them); the rest keep generated ids.
            if state.accepted and state.reads % 2 == 0:
                case.path_parameters = {**case.path_parameters, "job-id": state.accepted[-1]}
    elif operation_id.startswith("get_backend") and not _negative_at(case, ParameterLocation.PATH):
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
    if _operation_id(case) != "create_job":
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
    operation_id = _operation_id(case)
    with state.lock:
        state.responses[(operation_id, response.status_code)] += 1
        if case.meta is not None:
            phase = case.meta.phase.name.value
            state.phases[phase] = state.phases.get(phase, 0) + 1
        if operation_id == "create_job":
            if response.status_code in (423, 429):
                state.creates_refused[response.status_code] += 1
            job_id = _body_id(case)
            if 200 <= response.status_code < 300:
                state.jobs_accepted += 1
            if job_id is not None:
                state.create_answers.setdefault(job_id, set()).add(response.status_code)
                sent = response.request.headers.get("Service-CRN")
                first = state.target.identities[0] if state.target else None
                if response.status_code == 204 and first is not None and sent == first.service_crn:
                    state.accepted.append(job_id)


def _json(response: Response) -> Any:
    try:
        return json.loads(response.content)
    except ValueError:
        return None


def _answer(response: Response) -> tuple[Any, str, Any] | None:
    """(operation, schema pointer, body) of a JSON answer the spec documents, else None."""
    request = response.request
    path = str(request.path_url).split("?", 1)[0]
    operation = find_operation(str(request.method), path)
    if operation is None:
        return None
    pointer = operation.schema_pointer(response.status_code)
    if pointer is None:
        return None
    return operation, pointer, _json(response)


class SpecDrift(Failure):
    """An answer carries fields the spec does not define."""

    code = "ST901"
    kind_title = "Drift from the spec"
    __slots__ = ("fields",)

    def __init__(self, *, operation: str, message: str, fields: tuple[str, ...]) -> None:
        super().__init__(operation=operation, message=message)
        self.fields = fields

    @property
    def _unique_key(self) -> str:
        # The fields, not the line that raised: a baseline entry survives an edit of this file.
        return ",".join(self.fields)


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
    fields = tuple(
        sorted({"/".join("*" if isinstance(p, int) else str(p) for p in v.path) for v in added})
    )
    with state.lock:
        state.drift.update(Drift(operation.operation_id, response.status_code, f) for f in fields)
    if state.allow_drift:
        return None
    raise SpecDrift(
        operation=case.operation.label,
        fields=fields,
        message=f"{response.status_code} answer has fields the spec does not define: "
        f"{', '.join(fields)} (--allow-drift accepts them)",
    )


class ClientRejects(Failure):
    """A 2xx body the client (generated models, strict mode) cannot read."""

    code = "ST902"
    kind_title = "The client cannot read the answer"

    @property
    def _unique_key(self) -> str:
        return self.message.split(":", 1)[0]


@schemathesis.check
def client_conformance(ctx: CheckContext, response: Response, case: Case) -> bool | None:
    """Every 2xx body parses with the generated models and passes the overlay's strict mode."""
    if not 200 <= response.status_code < 300:
        return None
    found = _answer(response)
    if found is None:
        return None
    _, pointer, body = found
    from direct_access._strict import StrictMode  # noqa: PLC0415

    try:
        StrictMode(allow_drift=True).check(
            str(response.request.method), response.request.url or "", response.status_code,
            pointer, body,
        )  # fmt: skip
    except Exception as error:  # any refusal of strict mode is the finding
        raise ClientRejects(
            operation=case.operation.label, message=f"strict mode: {type(error).__name__}"
        ) from None
    name = str(resolve(pointer).get("$ref", "")).rsplit("/", 1)[-1]
    model = getattr(direct_access_api.models, name, None)
    if model is None:
        raise ClientRejects(operation=case.operation.label, message=f"no model: {name}")
    try:
        model.from_dict(body)
    except Exception as error:  # any parse error of the generated model
        raise ClientRejects(
            operation=case.operation.label, message=f"{name}: {type(error).__name__}"
        ) from None
    return None


class CredentialIgnored(Failure):
    """A request with one credential missing or wrong was served."""

    code = "ST403"
    kind_title = "Served with one credential missing or wrong"
    __slots__ = ("probe", "status_code")

    def __init__(self, *, operation: str, message: str, probe: str, status_code: int,
                 case_id: str) -> None:  # fmt: skip
        super().__init__(operation=operation, message=message, case_id=case_id)
        self.probe = probe
        self.status_code = status_code

    @property
    def _unique_key(self) -> str:
        return self.probe


# Answers that refuse credentials. A missing header may also be a 400.
_REFUSED = {400, 401, 403}


def _credential_probes(target: Target, headers: dict[str, str]) -> list[tuple[str, dict[str, str]]]:
    """(name, headers) of each probe: the case's credentials with exactly one changed."""
    identity = target.identity_for(headers)
    if identity is None:
        return []
    others = [i for i in target.identities if i.service_crn != identity.service_crn]
    bearer = f"Bearer {identity.token}"
    crn = identity.service_crn
    wrong_crn = crn.rsplit(":", 3)[0] + ":00000000-0000-0000-0000-000000000000::"
    probes = [
        ("Service-CRN missing", {"Authorization": bearer}),
        ("Service-CRN of no instance", {"Authorization": bearer, "Service-CRN": wrong_crn}),
        ("no token", {"Service-CRN": crn}),
        ("a bad token", {"Authorization": "Bearer not-a-token", "Service-CRN": crn}),
    ]
    if others:
        probes.append(
            (
                "Service-CRN of another instance",
                {"Authorization": bearer, "Service-CRN": others[0].service_crn},
            )
        )
    return probes


def _probe_header(name: str) -> str:
    return "Service-CRN" if "Service-CRN" in name else "Authorization"


@schemathesis.check
def one_credential_at_a_time(ctx: CheckContext, response: Response, case: Case) -> bool | None:
    """A served request, sent again with exactly one credential missing or wrong, is refused.

    Once per operation and probe in a run (enforcement is a property of the operation). A create
    is probed with a fresh id of this run, so that a server ignoring the credential answers as it
    would to any new job, not 409.
    """
    target = state.target
    if target is None or not 200 <= response.status_code < 300:
        return None
    if case.operation.definition.raw.get("security", ["inherited"]) == []:
        return None  # a public operation (version, versions)
    sent = {str(k): str(v) for k, v in response.request.headers.items()}
    operation = case.operation.label
    for name, credentials in _credential_probes(target, sent):
        with state.lock:
            if (operation, name) in state.probed:
                continue
            state.probed.add((operation, name))
        headers = CaseInsensitiveDict(
            {
                k: v
                for k, v in (case.headers or {}).items()
                if k.lower() not in ("authorization", "service-crn")
            }
        )
        headers.update(credentials)
        probe = case.derive(headers=headers)
        if _operation_id(case) == "create_job" and isinstance(case.body, dict):
            fresh = real_body(target, f"probe:{name}")
            probe.body = fresh
            with state.lock:
                state.created.add(fresh["id"])
        answer = send_probe(ctx, case, probe)
        if answer.status_code not in _REFUSED and 200 <= answer.status_code < 300:
            raise CredentialIgnored(
                operation=operation,
                probe=name,
                status_code=answer.status_code,
                case_id=probe.id,
                message=f"`{_probe_header(name)}`: {name}, the other credential valid; "
                "expected 401 or 403",
            )
    return None


class StoredAfterRefusal(Failure):
    """The target holds jobs whose create it refused."""

    code = "ST904"
    kind_title = "Jobs stored although their create was refused"
    check_name = "stored_after_refusal"

    @property
    def _unique_key(self) -> str:
        return "stored"


@schemathesis.check
class stored_after_refusal:  # a check's name is its class name
    """After the run: no job the target lists has an id whose every create was refused."""

    def after_run(self, ctx: CheckContext) -> None:
        target = state.target
        if target is None:
            return
        from contract_tests._target import listed_jobs  # noqa: PLC0415

        with state.lock:
            answers = {job_id: set(statuses) for job_id, statuses in state.create_answers.items()}
        refused = {
            job_id: sorted(statuses)
            for job_id, statuses in answers.items()
            if statuses and not any(200 <= s < 300 for s in statuses)
        }
        stored = sorted(job_id for job_id in listed_jobs(target) if job_id in refused)
        if stored:
            raise StoredAfterRefusal(
                operation="POST /v1/jobs",
                message=f"{len(stored)} jobs listed whose every create was refused, e.g. "
                f"{stored[0]} (answered {', '.join(map(str, refused[stored[0]]))})",
            )


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
