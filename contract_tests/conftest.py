"""Set-up of the contract suite: the target, schemathesis' configuration, clean-up and the report.

The target is started (or named) in `pytest_configure`, before the test module loads the schema,
so that schemathesis' configuration can carry the base URL and the identities. Jobs the run
created are cancelled and deleted in `pytest_unconfigure`, after a failure or Ctrl-C too.
"""

from __future__ import annotations

import contextlib
import copy
import json
import os
import re
import tempfile
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pytest
from schemathesis.config import SchemathesisConfig

from contract_tests._breakages import BREAKAGES, breakage
from contract_tests._hooks import remove_created_jobs, state
from contract_tests._target import Target, deployment_target, emulator_target
from direct_access_spec import inline_refs, load_spec

ROOT = Path(__file__).resolve().parent.parent
_stack = contextlib.ExitStack()


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("contract", "Direct Access contract suite")
    group.addoption(
        "--deployment",
        action="store_true",
        help="aim at the deployment named by DIRECT_ACCESS_* variables instead of the emulator",
    )
    group.addoption("--contract-backend", help="backend to submit jobs to (default: the target's)")
    group.addoption(
        "--contract-seed", type=int, help="schemathesis seed (default: schemathesis.toml)"
    )
    group.addoption(
        "--contract-max-examples", type=int, help="cases per operation and phase (default: toml)"
    )
    group.addoption(
        "--contract-max-jobs",
        type=int,
        default=None,
        help="most jobs the run may create; past it, a create fails the run "
        "(default 200 with --deployment, else 5000)",
    )
    group.addoption(
        "--contract-min-cases",
        type=int,
        default=0,
        help="fail the run when fewer cases than this were sent (make contract: 5000)",
    )
    group.addoption(
        "--allow-drift",
        action="store_true",
        help="report fields the spec lacks (such as metrics) as drift without failing",
    )
    group.addoption(
        "--contract-breakage",
        choices=sorted(BREAKAGES),
        help="break the emulator on purpose (the suite's own tests show it then fails)",
    )
    group.addoption(
        "--contract-report-dir",
        default=str(ROOT / "reports" / "contract"),
        help="where the summary is written (JUnit XML: pytest's --junitxml)",
    )


def suite_document(spec: Mapping[str, Any]) -> dict[str, Any]:
    """The spec as the suite hands it to schemathesis: every response schema inlined and open to
    added fields.

    Whether an answer has fields the spec lacks is decided by the `spec_drift` check alone, which
    names them as drift (failing unless --allow-drift), so that `response_schema_conformance`
    reports only real violations. Requests keep their closed schemas, so negative cases still
    send unknown fields.
    """
    document = copy.deepcopy(dict(spec))

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

    for item in document["paths"].values():
        for operation in item.values():
            if not isinstance(operation, dict) or "responses" not in operation:
                continue
            for status, response in list(operation["responses"].items()):
                inlined = opened(inline_refs(response))
                for media in inlined.get("content", {}).values():
                    media.pop("examples", None)
                operation["responses"][status] = inlined
    return document


def _wfc_document(target: Target, directory: Path) -> Path:
    """The identities as a Web Fuzzing Commons auth document (file mode 0600, removed after)."""
    path = directory / "identities.json"
    path.touch(mode=0o600)
    path.write_text(
        json.dumps(
            {
                "auth": [
                    {
                        "name": identity.name,
                        "fixedHeaders": [
                            {"name": name, "value": value}
                            for name, value in identity.headers().items()
                        ],
                    }
                    for identity in target.identities
                ]
            }
        ),
        "utf-8",
    )
    return path


def pytest_configure(config: pytest.Config) -> None:
    if config.pluginmanager.hasplugin("xdist") and hasattr(config, "workerinput"):
        raise pytest.UsageError("the contract suite runs in one process")
    backend = config.getoption("--contract-backend")
    broken = config.getoption("--contract-breakage")
    try:
        if config.getoption("--deployment"):
            if broken:
                raise pytest.UsageError("--contract-breakage applies to the emulator only")
            target = _stack.enter_context(deployment_target(os.environ, backend=backend))
        else:
            fault = breakage(broken) if broken else None
            target = _stack.enter_context(emulator_target(backend=backend, broken=fault))
    except Exception:
        _stack.close()
        raise
    state.target = target
    state.allow_drift = bool(config.getoption("--allow-drift"))
    cap = config.getoption("--contract-max-jobs")
    state.max_jobs = int(cap) if cap is not None else (200 if target.kind == "deployment" else 5000)
    secrets_dir = Path(_stack.enter_context(tempfile.TemporaryDirectory(prefix="contract-")))
    settings = SchemathesisConfig.from_path(ROOT / "schemathesis.toml")
    # Presigned URLs carry signatures that grant access while they last: keep them out of
    # reproductions and reports, like the token (schemathesis filters `Authorization` itself).
    sanitization = settings.output.sanitization
    sanitization.keys_to_sanitize = (*sanitization.keys_to_sanitize, "presigned_url")
    project = settings.projects.default
    project.update(base_url=target.url, wfc_auth=str(_wfc_document(target, secrets_dir)))
    assert project.auth.wfc is not None
    if len(target.identities) > 1:
        project.auth.wfc.peers = [identity.name for identity in target.identities]
    else:
        # One identity (a deployment): object-level authorization needs two, so it cannot run.
        project.checks.object_level_authorization.enabled = False
    if target.kind == "deployment":
        # Unexpected methods only of the kinds no service acts on: a DELETE or POST that a
        # deployment handled without documenting it would touch jobs this run did not create.
        project.phases.coverage.unexpected_methods = {"options", "trace", "query"}
    seed = config.getoption("--contract-seed")
    if seed is not None:
        settings.update(seed=seed, max_failures=None)
    examples = config.getoption("--contract-max-examples")
    if examples is not None:
        project.generation.update(max_examples=examples)
    state.settings = settings
    state.schema_document = suite_document(load_spec())


# Query strings of presigned URLs (signature, credential, expiry): answers echo the job's storage,
# and schemathesis filters requests only, so failure reports are scrubbed before they are shown
# or written to JUnit XML.
_PRESIGNED_QUERY = re.compile(r"(X-Amz-[A-Za-z-]+)=[^&\s\"'<>]*")


def scrub(text: str) -> str:
    """``text`` without presigned URL query values."""
    return _PRESIGNED_QUERY.sub(r"\1=[Filtered]", text)


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Any:
    outcome = yield
    report = outcome.get_result()
    if report.longrepr is not None:
        report.longrepr = scrub(str(report.longrepr))
    report.sections = [(title, scrub(content)) for title, content in report.sections]


def pytest_unconfigure(config: pytest.Config) -> None:
    target = state.target
    try:
        if target is not None and state.created:
            left = remove_created_jobs()
            if left:
                print(f"contract suite: could not delete {len(left)} jobs: {left[:10]}")
    finally:
        state.target = None
        _stack.close()


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    minimum = int(session.config.getoption("--contract-min-cases"))
    if minimum and state.cases < minimum and exitstatus == 0:
        session.exitstatus = pytest.ExitCode.TESTS_FAILED
        print(f"\ncontract suite: only {state.cases} cases sent, fewer than {minimum}")
        state.verdict = f"failed: only {state.cases} cases sent, fewer than {minimum}"
    else:
        state.verdict = "passed" if session.exitstatus == 0 else "failed (see the failures above)"
    _write_summary(Path(session.config.getoption("--contract-report-dir")))


def _summary_lines() -> list[str]:
    target = state.target
    lines = [
        f"target: {target.kind} {target.url} backend {target.backend}" if target else "target: -",
        f"verdict: {state.verdict}",
        f"cases sent: {state.cases}; jobs created: {len(state.created) + state.removed}",
        *(
            ["object_level_authorization: off (one identity; it needs two)"]
            if target is not None and len(target.identities) < 2
            else []
        ),
        *(
            [f"accepted ids left alone (not path-safe): {sorted(state.unremovable)[:10]}"]
            if state.unremovable
            else []
        ),
        "",
        f"{'operation':<28} {'status':>6} {'answers':>8}",
    ]
    for (operation, status), count in sorted(state.responses.items()):
        lines.append(f"{operation:<28} {status:>6} {count:>8}")
    if state.drift:
        verdict = "allowed" if state.allow_drift else "fails the run"
        lines += ["", f"drift from the spec ({verdict}):"]
        lines += [f"  {d.operation} {d.status}: {d.field}" for d in sorted(state.drift, key=str)]
    return lines


def _write_summary(directory: Path) -> None:
    directory.mkdir(parents=True, exist_ok=True)
    (directory / "summary.txt").write_text("\n".join(_summary_lines()) + "\n", "utf-8")
    (directory / "summary.json").write_text(
        json.dumps(
            {
                "target": state.target.kind if state.target else None,
                "verdict": state.verdict,
                "cases": state.cases,
                "jobs_created": len(state.created) + state.removed,
                "answers": [
                    {"operation": op, "status": status, "count": count}
                    for (op, status), count in sorted(state.responses.items())
                ],
                "drift": [
                    {"operation": d.operation, "status": d.status, "field": d.field}
                    for d in sorted(state.drift, key=str)
                ],
            },
            indent=2,
        ),
        "utf-8",
    )


def pytest_terminal_summary(terminalreporter: Any) -> None:
    terminalreporter.section("Direct Access contract summary")
    for line in _summary_lines():
        terminalreporter.write_line(line)
