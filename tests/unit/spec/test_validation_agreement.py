"""The compiled validator (`jsonschema_rs`) and the reference (`jsonschema` + `regress`) agree:
same verdict, same fields, same keywords, on valid documents and on mutations of them."""

from __future__ import annotations

import copy
from collections.abc import Iterator
from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, assume, given, settings
from schemathesis.generation import GenerationMode

from bench._jobs import create_body, stored_job
from direct_access_spec import load_spec, violations
from tests.unit.spec.reference import reference_violations

JOB = "/components/schemas/Job"
JOB_LIST = "/components/schemas/JobList"
CREATE_BODY = "/paths/~1v1~1jobs/post/requestBody/content/application~1json/schema"

# Values that probe each rule kind: types, integer formats at their bounds, ECMA patterns
# (trailing newline, non-ASCII digits), RFC 3339 edges (leap second, year 0, bad offsets).
PROBES: tuple[Any, ...] = (
    None, True, 0, -1, 1, 1.5, 1.0, 2**31, -(2**31) - 1, 2**63 - 1, 2**63, -(2**63), -(2**63) - 1,
    10**30, "", "x", "abc\n", "us-east", "us-east\n", "١٢٣", "A-b", "..", "a" * 257,
    "http://x/i", "ftp://x/i", "http://x/\ufeff", "s3_compatible", "Completed", "debug",
    "2025-01-15T10:20:30Z", "2025-01-15t10:20:30.5z", "2025-01-15T23:59:60Z",
    "0000-01-15T10:20:30Z", "2025-01-15T10:20:30+05:60", "2025-13-15T10:20:30Z",
    "2025-01-15 10:20:30Z", "2025-01-15T10:20:30", "2025-02-29T10:20:30Z", [], {}, ["x"],
    {"extra": 1},
)  # fmt: skip


def _places(node: Any, path: tuple[str | int, ...] = ()) -> Iterator[tuple[str | int, ...]]:
    yield path
    if isinstance(node, dict):
        for key, value in node.items():
            yield from _places(value, (*path, key))
    elif isinstance(node, list):
        for index, value in enumerate(node[:2]):
            yield from _places(value, (*path, index))


def _replaced(document: Any, path: tuple[str | int, ...], value: Any) -> Any:
    changed = copy.deepcopy(document)
    node = changed
    for part in path[:-1]:
        node = node[part]
    node[path[-1]] = value
    return changed


def mutations(document: Any) -> Iterator[Any]:
    """The document, then each field removed, each object given an extra field, and each field
    replaced by each probe value."""
    yield document
    for path in _places(document):
        if not path:
            continue
        parent = document
        for part in path[:-1]:
            parent = parent[part]
        if isinstance(parent, dict):
            removed = copy.deepcopy(document)
            node = removed
            for part in path[:-1]:
                node = node[part]
            del node[path[-1]]
            yield removed
            yield _replaced(document, (*path[:-1], "unexpected_field"), 1)
        for probe in PROBES:
            yield _replaced(document, path, probe)


def verdict(pointer: str, document: Any) -> tuple[list[tuple[str, str]], list[tuple[str, str]]]:
    fast = [(v.location, v.keyword) for v in violations(pointer, document)]
    reference = [(v.location, v.keyword) for v in reference_violations(pointer, document)]
    return fast, reference


def _job() -> dict[str, Any]:
    document: dict[str, Any] = stored_job(7, instance="-", backend="fake_backend").document()
    return document


SEEDS: list[tuple[str, str, Any]] = [
    ("job", JOB, _job()),
    ("job list", JOB_LIST, {"jobs": [_job()]}),
    ("create body", CREATE_BODY, create_body("job-1", backend="fake_backend")),
]


@pytest.mark.parametrize(
    ("pointer", "seed"), [(p, s) for _, p, s in SEEDS], ids=[n for n, _, _ in SEEDS]
)
def test_fast_and_reference_agree_on_a_mutation_corpus(pointer: str, seed: Any) -> None:
    """Every mutation of a valid document gets the same (location, keyword) list from both."""
    checked = invalid = 0
    for document in mutations(seed):
        fast, reference = verdict(pointer, document)
        assert fast == reference, document
        checked += 1
        invalid += bool(fast)
    assert verdict(pointer, seed) == ([], [])
    # The corpus exercises both sides of each rule, not only valid documents.
    assert invalid > checked / 2


@pytest.mark.parametrize("name", sorted(load_spec()["components"]["examples"]))
def test_fast_and_reference_agree_on_the_spec_examples(name: str) -> None:
    """The spec's own examples (answers and error bodies) are judged alike."""
    example = load_spec()["components"]["examples"][name]["value"]
    for pointer in (JOB, JOB_LIST, "/components/schemas/ErrorResponse", CREATE_BODY):
        fast, reference = verdict(pointer, example)
        assert fast == reference, (pointer, name)


# A deep copy: schemathesis (and the hooks a test session has loaded) may change the schema it is
# given in place, and load_spec() is the one document every module shares.
_CREATE = schemathesis.openapi.from_dict(copy.deepcopy(dict(load_spec())))["/v1/jobs"]["POST"]


@pytest.mark.parametrize("mode", [GenerationMode.POSITIVE, GenerationMode.NEGATIVE])
def test_fast_and_reference_agree_on_schemathesis_create_bodies(mode: GenerationMode) -> None:
    """The create bodies the contract suite generates, valid and invalid, are judged alike."""
    invalid: list[bool] = []

    @settings(
        max_examples=150,
        derandomize=True,
        database=None,
        deadline=None,
        suppress_health_check=list(HealthCheck),
    )
    @given(case=_CREATE.as_strategy(generation_mode=mode))
    def agree(case: Any) -> None:
        # A negative case may send another media type (bytes): only JSON documents are judged.
        assume(case.media_type == "application/json" and not isinstance(case.body, bytes))
        fast, reference = verdict(CREATE_BODY, case.body)
        assert fast == reference, case.body
        invalid.append(bool(fast))

    agree()
    # Positive cases are all valid; negative ones mostly break a rule of the body.
    assert any(invalid) is (mode is GenerationMode.NEGATIVE)
