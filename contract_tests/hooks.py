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

import copy
import hashlib
import itertools
import json
import re
import threading
from collections import Counter, deque
from dataclasses import dataclass, field
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
from contract_tests._target import Target
from direct_access_spec import find_operation, inline_refs, operations, resolve, violations

# Cases of any operation: the hooks look at the operation themselves.
Case = GenericCase[Any]

__all__ = ["Breach", "Drift", "Finding", "RunRecord", "state"]

CREATE_BODY = "/components/schemas/CreateJobRequest"


@dataclass(frozen=True)
class Drift:
    """A field an answer has that the spec does not define."""

    operation: str
    status: int
    field: str


@dataclass(frozen=True)
class Breach:
    """The one place where a negative create body breaks the spec."""

    location: str  # JSON pointer into the body, "" for the body itself
    keyword: str  # the JSON Schema keyword broken: pattern, enum, required, ...
    ours: bool  # a rule of this spec's own (marked "ours"), not the published reference's

    def __str__(self) -> str:
        where = f"`{self.location}`" if self.location else "the body"
        return f"{where} breaks `{self.keyword}`" + (" (a rule of ours)" if self.ours else "")


@dataclass(frozen=True)
class Finding:
    """One unique failure, as the summary shows it."""

    operation_id: str
    label: str  # "POST /v1/jobs"
    check: str
    code: str  # ST code
    failure: str  # the failure class
    title: str
    message: str
    status: int | None
    reproduction: str
    where: str = ""  # the answer's field at fault, for schema violations
    known: bool = False  # covered by the baseline


@dataclass
class RunRecord:
    """What the suite saw: answers per operation and status, jobs created, drift, failures."""

    target: Target | None = None
    allow_drift: bool = False
    max_jobs: int = 1000
    responses: Counter[tuple[str, int]] = field(default_factory=Counter)
    creates_refused: Counter[int] = field(default_factory=Counter)  # 423/429 answers to creates
    created: set[str] = field(default_factory=set)  # every id a create named, whatever the answer
    create_answers: dict[str, set[int]] = field(default_factory=dict)  # job id -> statuses
    # Jobs the first identity created (204), oldest first: what positive cancel and delete cases
    # name, so that they reach the service's logic instead of a 404.
    accepted: deque[str] = field(default_factory=deque)
    seed: int | None = None
    errors: list[str] = field(default_factory=list)  # errors of the run itself (not failures)
    creates_sent: int = 0
    jobs_accepted: int = 0  # creates answered 2xx
    creates_capped: int = 0  # creates sent to CAPPED_BACKEND, past max_jobs
    drift: set[Drift] = field(default_factory=set)
    breaches: dict[str, Breach] = field(default_factory=dict)  # case id -> its one breach
    findings: list[Finding] = field(default_factory=list)
    known: int = 0  # failures the baseline covers
    phases: dict[str, int] = field(default_factory=dict)
    probed: set[tuple[str, str]] = field(default_factory=set)  # (operation, credential probe)
    lock: threading.Lock = field(default_factory=threading.Lock)

    @property
    def cases(self) -> int:
        return sum(self.responses.values())


state = RunRecord()


def _operation_id(case: Case) -> str:
    return str(case.operation.definition.raw.get("operationId", case.operation.label))


def _negative_at(case: Case, location: ParameterLocation) -> bool:
    return case.meta is not None and case.meta.is_negative_at(location)


def own_job_id(target: Target, seed: str) -> str:
    """A job id of this run: its prefix, a digest of the generated id and a sequence number.

    The number makes each case's id new: hypothesis replays a case while shrinking, and a replayed
    create must not meet its own earlier job as a duplicate (the chain would then differ).
    """
    digest = hashlib.sha256(seed.encode("utf-8", "surrogatepass")).hexdigest()[:12]
    return f"{target.job_prefix}{digest}-{next(_sequence)}"


_sequence = itertools.count(1)


def real_body(target: Target, seed: str, timeout_secs: int = 60) -> dict[str, Any]:
    """A create body the target runs: its backend, a fresh id of this run, working storage."""
    job_id = own_job_id(target, seed)
    body: dict[str, Any] = {
        "id": job_id,
        "program_id": "sampler",
        "backend": target.backend,
        "timeout_secs": timeout_secs,
    }
    if target.s3 is not None:
        body["storage"] = target.storage_for(job_id, timeout_secs)
    return body


# The spec marks a rule of its own as "Pattern (ours)", "Bounds (ours)": the keywords each means.
_OURS = {
    "Pattern": {"pattern"},
    "Bounds": {"minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum"},
    "Length": {"minLength", "maxLength"},
}


def _ours(path: tuple[str | int, ...], keyword: str) -> bool:
    """Whether the create schema marks the rule ``keyword`` at ``path`` as ours (not the
    reference's)."""
    node: Any = inline_refs({"$ref": f"#{CREATE_BODY}"})
    for part in path:
        if not isinstance(node, dict):
            return False
        properties = node.get("properties", {})
        for branch in node.get("allOf", []):
            properties = {**properties, **branch.get("properties", {})}
        node = properties.get(str(part))
        if node is None:
            return False
    if not isinstance(node, dict):
        return False
    marked = re.findall(r"(\w+) \(ours\)", str(node.get("description", "")))
    return any(keyword in _OURS.get(word, {keyword}) for word in marked)


def _container(body: dict[str, Any], path: tuple[str | int, ...]) -> dict[str, Any] | None:
    """The object in ``body`` that holds the last part of ``path``, if there is one."""
    node: Any = body
    for part in path[:-1]:
        node = node.get(part) if isinstance(node, dict) else None
    return node if isinstance(node, dict) else None


def one_breach(target: Target, generated: dict[str, Any]) -> tuple[dict[str, Any], Breach] | None:
    """``generated`` (a negative create body) reduced to its first breach inside a real body.

    A generated negative body often breaks several rules at once, one of them a random backend,
    so a server rejects it for that reason and accepting the rule under test goes unseen. The
    body sent keeps one breach (the first the validator names) and takes everything else from a
    body the target runs. ``None`` when no breach can be isolated (the body is then sent as is).
    """
    found = violations(CREATE_BODY, generated)
    first = min(
        found, key=lambda v: (len(v.path), [str(p) for p in v.path], v.keyword), default=None
    )
    # No breach, or one of the body itself (its type): no real body can carry that.
    if first is None or not first.path:
        return None
    body = real_body(target, json.dumps(generated, sort_keys=True, default=str))
    path = first.path
    node = _container(body, path)
    if node is None:
        return None
    if first.keyword == "required":
        node.pop(str(path[-1]), None)
    else:
        node[str(path[-1])] = copy.deepcopy(first.value)
        if path == ("id",) and isinstance(first.value, str):
            # A broken id still carries the run's prefix where the breach survives it, so that
            # a server that stores the job lets the sweep find it.
            prefixed = f"{target.job_prefix}{first.value}"
            if any(v.path == ("id",) for v in violations(CREATE_BODY, {**body, "id": prefixed})):
                node["id"] = prefixed
    left = violations(CREATE_BODY, body)
    if not left:
        return None
    breach = Breach(
        location="".join(f"/{p}" for p in path),
        keyword=first.keyword,
        ours=_ours(tuple(p for p in path if not isinstance(p, int)), first.keyword),
    )
    return body, breach


@schemathesis.hook
def before_load_schema(context: HookContext, raw_schema: dict[str, Any]) -> None:
    """Answers are judged against response schemas open to added fields.

    Whether an answer has fields the spec lacks is decided by `spec_drift` alone, which names them
    as drift (failing unless --allow-drift), so that `response_schema_conformance` reports only
    real violations. Requests keep their closed schemas: negative cases still send unknown fields.
    """

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
    elif operation_id.startswith("get_backend") and not _negative_at(case, ParameterLocation.PATH):
        case.path_parameters = {**case.path_parameters, "backend_name": target.backend}
    return case


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
