"""The contract suite's own logic, without a server: negative bodies, variables, the report."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from schemathesis.baseline import Baseline
from schemathesis.checks import CHECKS

from contract_tests._cases import CREATE_BODY, OUR_CHECKS, Finding, one_breach
from contract_tests._report import cause, reproduction
from contract_tests._target import Identity, Target, missing_variables
from direct_access_emulator.seaweedfs import S3Settings
from direct_access_spec import operations, violations
from tests.conftest import ROOT


@pytest.fixture
def target() -> Target:
    """A target whose store is never reached: presigning an URL is local."""
    return Target(
        kind="deployment",
        url="https://da.example.test",
        backend="ibm_real",
        identities=(
            Identity("a", "crn:v1:x:public:quantum-computing:x:a/1:instance-a::", "token-a"),
            Identity("b", "crn:v1:x:public:quantum-computing:x:a/1:instance-b::", "token-b"),
        ),
        s3=S3Settings("http://127.0.0.1:9", "bucket", "us-east-1", "AKID", "secret"),
        input_key="contract/input.json",
    )


_URL = {"type": "s3_compatible", "presigned_url": "https://s3.example.test/x"}
_BODY = {
    "id": "ok",
    "backend": "nowhere",
    "program_id": "s",
    "timeout_secs": 5,
    "storage": {"input": _URL, "results": _URL},
}


@pytest.mark.parametrize(
    ("generated", "location", "keyword"),
    [
        ({**_BODY, "program_id": "", "timeout_secs": 0}, "/program_id", "minLength"),
        ({**_BODY, "id": "a/b", "backend": 7}, "/backend", "type"),
        ({**_BODY, "id": "..", "storage": {}}, "/id", "pattern"),
        ({**_BODY, "junk": 1}, "/junk", "additionalProperties"),
    ],
)
def test_a_negative_body_keeps_one_breach_inside_a_real_body(
    target: Target, generated: dict[str, Any], location: str, keyword: str
) -> None:
    """Of a body breaking several rules, the one sent breaks the first, and only it; the rest is
    the target's: its backend, an id with the run's prefix, presigned storage."""
    reduced = one_breach(target, generated)
    assert reduced is not None
    body, breach = reduced
    assert (breach.location, breach.keyword) == (location, keyword)
    left = violations(CREATE_BODY, body)
    assert {"".join(f"/{p}" for p in v.path) for v in left} == {location}, left
    if location != "/backend":
        assert body["backend"] == "ibm_real"
    if location != "/id":
        assert str(body["id"]).startswith(target.job_prefix)
    assert body["storage"]["input"]["presigned_url"].startswith("http://127.0.0.1:9/bucket/")


def test_a_broken_id_carries_the_run_prefix_where_the_breach_survives_it(target: Target) -> None:
    """`a/b` prefixed still breaks the pattern, so a server storing it leaves it to the sweep;
    `..` prefixed would be valid, so it is sent as generated."""
    slash = one_breach(target, {**_BODY, "id": "a/b"})
    dots = one_breach(target, {**_BODY, "id": ".."})
    assert slash is not None
    assert dots is not None
    assert slash[0]["id"] == f"{target.job_prefix}a/b"
    assert dots[0]["id"] == ".."


def test_a_breach_of_a_rule_of_ours_says_so(target: Target) -> None:
    """The id's pattern and the timeout's bounds are marked "(ours)" in the spec; the backend's
    length and the timeout being required are the reference's."""
    found = {
        str(reduced[1])
        for body in (
            {**_BODY, "id": ".."},
            {**_BODY, "timeout_secs": 0},
            {**_BODY, "backend": ""},
            {key: value for key, value in _BODY.items() if key != "timeout_secs"},
        )
        if (reduced := one_breach(target, body)) is not None
    }
    assert found == {
        "`/id` breaks `pattern` (a rule of ours)",
        "`/timeout_secs` breaks `minimum` (a rule of ours)",
        "`/backend` breaks `minLength`",
        "`/timeout_secs` breaks `required`",
    }


def test_missing_variables_are_all_named_with_the_command_that_sets_them() -> None:
    """Every missing variable gets one line; a token stands for an API key; a backend given as
    an option needs no variable."""
    lines = missing_variables({"DIRECT_ACCESS_TOKEN": "t", "DIRECT_ACCESS_S3_BUCKET": "b"})
    named = [line.split()[1].split("=")[0] for line in lines]
    assert named == [
        "DIRECT_ACCESS_URL",
        "DIRECT_ACCESS_SERVICE_CRN",
        "DIRECT_ACCESS_BACKEND",
        "DIRECT_ACCESS_S3_ENDPOINT",
        "DIRECT_ACCESS_S3_ACCESS_KEY_ID",
        "DIRECT_ACCESS_S3_SECRET_ACCESS_KEY",
    ]
    assert all(line.startswith("  export ") and "# " in line for line in lines)
    assert "DIRECT_ACCESS_BACKEND" not in "".join(missing_variables({}, backend="ibm_x"))


def _finding(**fields: Any) -> Finding:
    defaults: dict[str, Any] = {
        "operation_id": "list_jobs",
        "label": "GET /v1/jobs",
        "check": "response_schema_conformance",
        "code": "ST108",
        "failure": "JsonSchemaError",
        "title": "Response violates schema",
        "message": 'null is not of type "string"\n\nSchema at /properties/trace:',
        "status": 401,
        "reproduction": "",
    }
    return Finding(**{**defaults, **fields})


def test_a_reproduction_takes_credentials_as_variables_and_keeps_the_trigger(
    target: Target,
) -> None:
    """The token and the caller's CRN become variables to fill in; a wrong CRN stays as sent,
    another instance's becomes its own variable."""
    sent = (
        "curl -X GET -H 'Authorization: [Filtered]' -H 'Service-CRN: crn:v1:x:public:"
        "quantum-computing:x:a/1:instance-a::' https://da.example.test/v1/jobs"
    )
    assert reproduction(_finding(reproduction=sent), target) == (
        'curl -X GET -H "Authorization: Bearer $DIRECT_ACCESS_TOKEN" '
        '-H "Service-CRN: $DIRECT_ACCESS_SERVICE_CRN" $DIRECT_ACCESS_URL/v1/jobs'
    )
    other = "curl -H 'Service-CRN: crn:v1:x:public:quantum-computing:x:a/1:instance-b::' x"
    assert reproduction(_finding(reproduction=other), target) == (
        'curl -H "Service-CRN: $OTHER_SERVICE_CRN" x'
    )
    wrong = "curl -H 'Service-CRN: crn:v1:nowhere::' x"
    assert reproduction(_finding(reproduction=wrong), target) == wrong


def test_one_cause_on_many_operations_reads_the_same() -> None:
    """The same fault on two operations gives one cause (the field, not the operation)."""
    first = _finding(where="/trace")
    second = _finding(where="/trace", operation_id="get_job", label="GET /v1/jobs/{job-id}")
    assert (
        cause(first)
        == cause(second)
        == ('Response violates schema: `/trace`: null is not of type "string"')
    )


@pytest.mark.parametrize(
    "path", sorted((ROOT / "contract_tests" / "baselines").glob("*.json")), ids=lambda p: p.name
)
def test_a_committed_baseline_is_schemathesis_format_naming_operations_and_checks(
    path: Path,
) -> None:
    """Each committed baseline loads as schemathesis reads it, names operations of the spec and
    checks the suite runs, and says why each departure was accepted."""
    entries = Baseline.load(path).entries
    assert entries
    labels = {f"{op.method} {op.path}" for op in operations()}
    checks = {check.__name__ for check in CHECKS.get_all()} | OUR_CHECKS
    for entry in entries:
        assert entry.operation in labels, entry
        assert entry.check in checks, entry
        assert entry.extra.get("reason"), entry


def test_no_module_of_the_suite_is_over_450_lines() -> None:
    """Each module holds one job (hooks, checks, cases, breakages...); past ~450 lines it is split
    along its seams."""
    sizes = {
        path.name: len(path.read_text("utf-8").splitlines())
        for path in (ROOT / "contract_tests").glob("*.py")
    }
    assert {name: size for name, size in sizes.items() if size > 450} == {}
