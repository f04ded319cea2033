"""The contract suite's own checks, registered with schemathesis when `contract_tests.hooks` loads.

`client_conformance` (2xx bodies parse with the generated models and pass strict mode),
`spec_drift` (fields the spec lacks), `one_credential_at_a_time` (a valid token without a valid
`Service-CRN`, and the reverse), `stored_after_refusal` (no job stored whose every create was
refused) and `instances_apart` (no instance sees another's jobs). Each raises a `Failure` of its
own, keyed so that a baseline entry outlives an edit here.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any
from urllib.parse import quote

import schemathesis
from requests.structures import CaseInsensitiveDict
from schemathesis import Case as GenericCase
from schemathesis import CheckContext, Response
from schemathesis.core.failures import Failure

# The probe helper schemathesis' own `ignored_auth` sends its credential probes with: the run's
# transport settings, none of its credentials, recorded as a child of the case (so that the
# failure's reproduction is the probe itself).
from schemathesis.specs.openapi._auth_retry import send_probe

import direct_access_api.models
from contract_tests._cases import Drift, real_body, state
from contract_tests._target import Identity, Target, listed_jobs
from direct_access_spec import find_operation, resolve, violations

# Cases of any operation: the checks look at the operation themselves.
Case = GenericCase[Any]

__all__ = [
    "Case",
    "client_conformance",
    "instances_apart",
    "one_credential_at_a_time",
    "operation_id",
    "sent_by",
    "spec_drift",
    "stored_after_refusal",
]


def operation_id(case: Case) -> str:
    """The case's operationId (its label where the spec gives none)."""
    return str(case.operation.definition.raw.get("operationId", case.operation.label))


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
        if operation_id(case) == "create_job" and isinstance(case.body, dict):
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


def _listed_after_run(target: Target) -> dict[str, list[str]]:
    """The run's jobs the target lists once the run has ended, listed once for the checks that
    judge it (`stored_after_refusal`, `instances_apart`): nothing changes between them."""
    with state.lock:
        listed = state.listed_after_run
    if listed is None:
        listed = listed_jobs(target)
        with state.lock:
            state.listed_after_run = listed
    return listed


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
        with state.lock:
            answers = {job_id: set(statuses) for job_id, statuses in state.create_answers.items()}
        refused = {
            job_id: sorted(statuses)
            for job_id, statuses in answers.items()
            if statuses and not any(200 <= s < 300 for s in statuses)
        }
        stored = sorted(job_id for job_id in _listed_after_run(target) if job_id in refused)
        if stored:
            raise StoredAfterRefusal(
                operation="POST /v1/jobs",
                message=f"{len(stored)} jobs listed whose every create was refused, e.g. "
                f"{stored[0]} (answered {', '.join(map(str, refused[stored[0]]))})",
            )


def sent_by(target: Target | None, headers: Mapping[str, Any]) -> Identity | None:
    """The identity whose credentials ``headers`` carry, both of them (token and Service-CRN)."""
    if target is None:
        return None
    sent = {str(k).lower(): str(v) for k, v in headers.items()}
    return next(
        (
            identity
            for identity in target.identities
            if sent.get("authorization") == f"Bearer {identity.token}"
            and sent.get("service-crn") == identity.service_crn
        ),
        None,
    )


class InstancesNotApart(Failure):
    """One instance's job is visible to another: listed for it, or read by its id."""

    code = "ST905"
    kind_title = "Another instance's job is visible"
    check_name = "instances_apart"

    @property
    def _unique_key(self) -> str:
        return "visible"


# How many of each instance's jobs are read by id as every other instance, after the run.
_READS_PER_INSTANCE = 3


@schemathesis.check
class instances_apart:  # a check's name is its class name
    """After the run: a job one instance created is invisible to every other, in its list of jobs
    and read by id.

    `object_level_authorization` judges one stateful read per run, and takes an object the peer
    can also list for shared by design, so a service that leaks reads and lists alike may pass it
    by the draw; this check does not depend on one: every job of the run that its creator lists
    is judged, whatever the seed.
    """

    def after_run(self, ctx: CheckContext) -> None:
        target = state.target
        if target is None or len(target.identities) < 2:
            return
        with state.lock:
            creators = dict(state.creators)
        listed = _listed_after_run(target)
        # Listed for an instance other than the one that created it.
        seen = sorted(
            (job_id, creators[job_id], other)
            for job_id, listers in listed.items()
            if job_id in creators
            for other in listers
            if other != creators[job_id]
        )
        how = "lists"
        if not seen:
            seen = _read_by_others(target, creators, listed)
            how = "reads"
        if seen:
            job_id, creator, other = seen[0]
            raise InstancesNotApart(
                operation="GET /v1/jobs" if how == "lists" else "GET /v1/jobs/{job-id}",
                message=f"`{other}` {how} job {job_id}, which `{creator}` created "
                f"({len(seen)} such views); expected 404 or an absent job",
            )


def _read_by_others(
    target: Target, creators: Mapping[str, str], listed: Mapping[str, list[str]]
) -> list[tuple[str, str, str]]:
    """(job, creator, reader) of jobs another instance reads by id with a 2xx answer: a few of
    each instance's jobs that it lists itself (so they exist)."""
    import httpx  # noqa: PLC0415

    seen = []
    with httpx.Client(base_url=target.url, timeout=30) as http:
        for identity in target.identities:
            own = [j for j, c in sorted(creators.items()) if c == identity.name and identity.name
                   in listed.get(j, ())][:_READS_PER_INSTANCE]  # fmt: skip
            for job_id in own:
                for other in target.identities:
                    if other == identity:
                        continue
                    try:
                        answer = http.get(
                            f"/v1/jobs/{quote(job_id, safe='')}", headers=other.headers()
                        )
                    except httpx.HTTPError:
                        continue
                    if 200 <= answer.status_code < 300:
                        seen.append((job_id, identity.name, other.name))
    return seen
