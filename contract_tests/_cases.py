"""What the contract suite sends and what it records of a run, apart from the hooks.

The hooks module registers itself with schemathesis when imported; this one does not, so that
the suite's own tests use its parts without touching schemathesis' global hooks.
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

from contract_tests._target import Target
from direct_access_spec import inline_refs, violations

__all__ = [
    "CREATE_BODY",
    "OUR_CHECKS",
    "Breach",
    "Drift",
    "Finding",
    "RunRecord",
    "one_breach",
    "own_job_id",
    "real_body",
    "state",
]

CREATE_BODY = "/components/schemas/CreateJobRequest"
#: The checks hooks.py adds to schemathesis' own (a baseline entry may name any of them).
OUR_CHECKS = frozenset(
    {
        "client_conformance",
        "instances_apart",
        "one_credential_at_a_time",
        "spec_drift",
        "stored_after_refusal",
    }
)


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
    reads: int = 0  # positive reads of a job mapped so far
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
    # Job id -> the identity whose create of it was accepted (its token and Service-CRN both).
    creators: dict[str, str] = field(default_factory=dict)
    # The target's listing once the run has ended, shared by the checks that judge it.
    listed_after_run: dict[str, list[str]] | None = None
    lock: threading.Lock = field(default_factory=threading.Lock)

    @property
    def cases(self) -> int:
        return sum(self.responses.values())


state = RunRecord()


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
