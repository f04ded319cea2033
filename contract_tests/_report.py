"""The suite's own report: `summary.txt`, `summary.json` and `junit.xml` (one line per failure).

schemathesis' reports (ndjson events, its JSON verdict, a pytest file reproducing the failures)
are written beside them; these add what a user acts on: the target, the run's figures, every
unique failure with its check, cause and a replayable reproduction, failures grouped by shared
cause, drift apart, and what the clean-up removed.
"""

from __future__ import annotations

import json
import re
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from xml.etree import ElementTree

from contract_tests._cases import Finding, RunRecord
from contract_tests._target import Sweep, Target

__all__ = ["RunFacts", "scrub", "write_reports"]


@dataclass
class RunFacts:
    """What the launcher knows of the run besides the hooks' record."""

    target: Target
    seed: int | None
    started_at: str
    duration_secs: float
    schemathesis_version: str
    exit_code: int
    verdict: str
    sweep: Sweep
    baseline: str | None = None
    notes: list[str] = field(default_factory=list)


def reproduction(finding: Finding, target: Target) -> str:
    """The failure's curl with credentials as variables to fill in, the trigger kept."""
    text = finding.reproduction
    bad_token = "a bad token" in finding.message and finding.failure == "CredentialIgnored"
    token = "Bearer not-a-token" if bad_token else "Bearer $DIRECT_ACCESS_TOKEN"
    text = re.sub(r"-H '([Aa]uthorization): \[Filtered\]'", rf'-H "\1: {token}"', text)
    for index, identity in enumerate(target.identities):
        variable = "$DIRECT_ACCESS_SERVICE_CRN" if index == 0 else "$OTHER_SERVICE_CRN"
        text = re.sub(
            rf"-H '([Ss]ervice-CRN): {re.escape(identity.service_crn)}'",
            rf'-H "\1: {variable}"',
            text,
        )
    return _PRESIGNED_QUERY.sub(r"\1=[Filtered]", text.replace(target.url, "$DIRECT_ACCESS_URL"))


def cause(finding: Finding) -> str:
    """One line: what went wrong, without the values that differ between operations."""
    lines = [line.strip() for line in finding.message.splitlines() if line.strip()]
    for line in lines:
        if line.startswith("Breach:"):
            return f"{finding.title}: {line.removeprefix('Breach: ')}"
    component = next((ln for ln in lines if ln.startswith("Invalid component:")), None)
    if component is not None:
        return f"{finding.title}: {component.removeprefix('Invalid component:').strip()}"
    detail = next(
        (ln for ln in lines if not ln.startswith(("Schema at", "Value:", "Expected:"))), ""
    )
    if finding.where:
        detail = f"`{finding.where}`: {detail}"
    # The operation is named beside the cause already; without it, causes group across operations.
    detail = detail.replace(f" for `{finding.label}`", "")
    return f"{finding.title}: {detail}" if detail and detail != finding.title else finding.title


def _groups(findings: list[Finding]) -> list[tuple[str, str, list[Finding]]]:
    by_cause: dict[tuple[str, str], list[Finding]] = defaultdict(list)
    for finding in findings:
        by_cause[(finding.check, cause(finding))].append(finding)
    return [(check, text, found) for (check, text), found in sorted(by_cause.items())]


def _document(record: RunRecord, facts: RunFacts) -> dict[str, Any]:
    target = facts.target
    findings = [f for f in record.findings if not f.known]
    ola = len(target.identities) >= 2
    return {
        "verdict": facts.verdict,
        "exit_code": facts.exit_code,
        "target": {"kind": target.kind, "url": target.url, "backend": target.backend},
        "seed": facts.seed,
        "started_at": facts.started_at,
        "duration_secs": round(facts.duration_secs, 1),
        "schemathesis_version": facts.schemathesis_version,
        "cases": record.cases,
        "cases_per_phase": dict(sorted(record.phases.items())),
        "jobs": {
            "creates_sent": record.creates_sent,
            "creates_accepted": record.jobs_accepted,
            "past_the_cap": record.creates_capped,
            "swept": len(facts.sweep.removed),
            "not_removed": dict(sorted(facts.sweep.left.items())),
            "listed_after_sweep": facts.sweep.listed_after,
            "creates_refused": {str(k): v for k, v in sorted(record.creates_refused.items())},
        },
        "object_level_authorization": {
            "ran": ola,
            "why_not": None if ola else "one identity; it needs two (another instance's)",
        },
        "baseline": {"file": facts.baseline, "known_failures": record.known}
        if facts.baseline
        else None,
        "failures": [
            {
                "operation_id": f.operation_id,
                "operation": f.label,
                "check": f.check,
                "code": f.code,
                "failure": f.failure,
                "status": f.status,
                "cause": cause(f),
                "reproduction": reproduction(f, target),
            }
            for f in findings
        ],
        "groups": [
            {"check": check, "cause": text, "operations": sorted({f.label for f in found})}
            for check, text, found in _groups(findings)
        ],
        "drift": [
            {"operation": d.operation, "status": d.status, "field": d.field}
            for d in sorted(record.drift, key=str)
        ],
        "drift_allowed": record.allow_drift,
        "answers": [
            {"operation": op, "status": status, "count": count}
            for (op, status), count in sorted(record.responses.items())
        ],
        "errors": record.errors,
        "notes": facts.notes,
    }


def _text(document: dict[str, Any]) -> str:
    target, jobs = document["target"], document["jobs"]
    lines = [
        f"verdict: {document['verdict']}",
        f"target: {target['kind']} {target['url']} backend {target['backend']}",
        f"seed {document['seed']}, started {document['started_at']}, "
        f"{document['duration_secs']} s, schemathesis {document['schemathesis_version']}",
        f"cases sent: {document['cases']} ("
        + ", ".join(f"{k} {v}" for k, v in document["cases_per_phase"].items())
        + ")",
        f"jobs: {jobs['creates_sent']} creates sent, {jobs['creates_accepted']} accepted, "
        f"{jobs['swept']} swept"
        + (f", {jobs['past_the_cap']} sent past the cap" if jobs["past_the_cap"] else "")
        + (f", NOT removed: {jobs['not_removed']}" if jobs["not_removed"] else "")
        + "".join(f", {v} creates answered {k}" for k, v in jobs["creates_refused"].items()),
    ]
    ola = document["object_level_authorization"]
    lines.append(
        "object_level_authorization: " + ("ran" if ola["ran"] else f"off ({ola['why_not']})")
    )
    if document["baseline"]:
        baseline = document["baseline"]
        lines.append(f"baseline {baseline['file']}: {baseline['known_failures']} known failures")
    lines += [f"note: {note}" for note in document["notes"]]
    lines += [f"error of the run (see schemathesis' output): {e}" for e in document["errors"]]
    failures = document["failures"]
    # Causes first: one line each, and on how many operations; then every failure in full.
    if failures:
        lines += ["", f"causes ({len(document['groups'])}, of {len(failures)} unique failures):"]
        for group in document["groups"]:
            where = group["operations"]
            on = where[0] if len(where) == 1 else f"on {len(where)} operations"
            lines.append(f"  {group['check']}: {group['cause']}, {on}")
    lines += ["", f"failures ({len(failures)} unique):" if failures else "failures: none"]
    for number, failure in enumerate(failures, 1):
        lines += [
            f"{number}. {failure['operation_id']} ({failure['operation']}): {failure['check']} "
            f"[{failure['code']}], got {failure['status']}",
            f"   {failure['cause']}",
            *(f"   {line}" for line in failure["reproduction"].splitlines()),
        ]
    if document["drift"]:
        verdict = "allowed" if document["drift_allowed"] else "fails the run"
        lines += ["", f"drift from the spec ({verdict}):"]
        lines += [f"  {d['operation']} {d['status']}: {d['field']}" for d in document["drift"]]
    lines += ["", f"{'operation':<28} {'status':>6} {'answers':>8}"]
    lines += [f"{a['operation']:<28} {a['status']:>6} {a['count']:>8}" for a in document["answers"]]
    return "\n".join(lines) + "\n"


def _junit(document: dict[str, Any]) -> bytes:
    failures = document["failures"]
    suite = ElementTree.Element(
        "testsuite",
        name="contract",
        tests=str(max(1, len(failures))),
        failures=str(len(failures)),
        time=str(document["duration_secs"]),
    )
    if not failures:
        ElementTree.SubElement(suite, "testcase", classname="contract", name="every check passed")
    for failure in failures:
        case = ElementTree.SubElement(
            suite,
            "testcase",
            classname=failure["operation_id"],
            name=f"{failure['operation']} {failure['check']}",
        )
        line = f"{failure['check']} [{failure['code']}] got {failure['status']}: {failure['cause']}"
        element = ElementTree.SubElement(case, "failure", message=line)
        element.text = failure["reproduction"]
    return bytes(ElementTree.tostring(suite, encoding="utf-8"))


# Query values of presigned URLs (signature, credential, expiry). schemathesis filters them from
# the requests it shows (`presigned_url` is a key to sanitize), but answers echo a job's storage,
# and its event log keeps answers as they came.
_PRESIGNED_QUERY = re.compile(r"(X-Amz-[A-Za-z-]+)=[^&\s\"'<>\\]*")


def scrub(directory: Path) -> None:
    """Remove presigned URL query values from every report file under ``directory``."""
    for path in directory.rglob("*"):
        if path.is_file():
            text = path.read_text("utf-8", errors="surrogateescape")
            cleaned = _PRESIGNED_QUERY.sub(r"\1=[Filtered]", text)
            if cleaned != text:
                path.write_text(cleaned, "utf-8", errors="surrogateescape")


def write_reports(record: RunRecord, facts: RunFacts, directory: Path) -> dict[str, Any]:
    """Write summary.txt, summary.json and junit.xml into ``directory``, and scrub schemathesis'
    reports beside them; return the summary document."""
    directory.mkdir(parents=True, exist_ok=True)
    scrub(directory)
    document = _document(record, facts)
    (directory / "summary.json").write_text(json.dumps(document, indent=2) + "\n", "utf-8")
    (directory / "summary.txt").write_text(_text(document), "utf-8")
    (directory / "junit.xml").write_bytes(_junit(document))
    return document
