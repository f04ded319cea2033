"""The jobs part of openapi.yaml holds to the published reference, at every depth.

This is the reference guard: a change to the jobs schemas that the reference does not print fails
here, so that the spec never drifts from the reference by accident. A deliberate departure is
recorded in the spec itself, on the schema that departs: `x-departure: <the reason>`. The guard
then leaves that schema (and everything under it) alone, and the reason stays next to the field.
"""

from __future__ import annotations

import copy
import json
import re
from collections.abc import Callable, Iterator, Mapping
from typing import Any

import pytest

from direct_access_spec import load_spec, resolve

# The reference's headings, in the order it prints them, and the operation each one documents.
OPERATIONS = {
    "Run a job": ("post", "/v1/jobs"),
    "Get jobs": ("get", "/v1/jobs"),
    "Get Job by ID": ("get", "/v1/jobs/{job-id}"),
    "Delete a job": ("delete", "/v1/jobs/{job-id}"),
    "Cancel a job": ("post", "/v1/jobs/{job-id}/cancel"),
}
# Keys that carry prose, not rules; the spec may add them where the reference has none.
PROSE = ("description", "examples")
# The spec's note on a schema that departs from the reference on purpose; its value is the reason.
DEPARTURE = "x-departure"


def departs(node: Any) -> bool:
    """A schema of the spec marked as a deliberate departure from the reference."""
    return isinstance(node, dict) and DEPARTURE in node


def reference_schemas(text: str) -> list[dict[str, Any]]:
    """The JSON Schemas printed in the reference: the JSON documents with `additionalProperties`."""
    decoder = json.JSONDecoder()
    found = []
    for match in re.finditer(r"^\{|\}\{", text, re.MULTILINE):
        start = match.start() if match.group() == "{" else match.start() + 1
        try:
            document, _ = decoder.raw_decode(text, start)
        except json.JSONDecodeError:
            continue
        if isinstance(document, dict) and "additionalProperties" in document:
            found.append(document)
    return found


def reference_statuses(text: str) -> dict[tuple[str, str], dict[str, str]]:
    """Each operation's status table: status code -> description, as the reference words it."""
    headings = "|".join(re.escape(heading) for heading in OPERATIONS)
    # A heading starts a line, or follows the closing brace of the previous section's schema.
    parts = re.split(rf"(?:^|(?<=\}}))({headings})$", text, flags=re.MULTILINE)
    tables: dict[tuple[str, str], dict[str, str]] = {}
    for heading, body in zip(parts[1::2], parts[2::2], strict=True):
        rows = re.findall(r"^\| (\d{3}) \| (.*?) \|$", body, re.MULTILINE)
        tables[OPERATIONS[heading]] = dict(rows)
    return tables


def inline(node: Any, spec: Mapping[str, Any]) -> Any:
    """The schema with each local `$ref` replaced by its target; siblings win over the target."""
    if isinstance(node, list):
        return [inline(item, spec) for item in node]
    if not isinstance(node, dict):
        return node
    if "$ref" in node:
        merged = {**inline(resolve(node["$ref"], spec), spec)}
        merged.update({key: inline(value, spec) for key, value in node.items() if key != "$ref"})
        return merged
    return {key: inline(value, spec) for key, value in node.items()}


def without_prose(node: Any) -> Any:
    if isinstance(node, list):
        return [without_prose(item) for item in node]
    if not isinstance(node, dict):
        return node
    return {
        key: without_prose(value)
        for key, value in node.items()
        # `properties` maps field names, which may well be called "description".
        if key not in PROSE or not isinstance(value, str | list)
    }


def prose_differences(reference: Any, ours: Any, path: str = "") -> Iterator[str]:
    """Where the reference has a description or examples, ours must say the same."""
    if departs(ours):
        return
    if isinstance(reference, dict) and isinstance(ours, dict):
        for key, value in reference.items():
            if key in PROSE and isinstance(value, str | list):
                if ours.get(key) != value:
                    yield f"{path}/{key}: reference {value!r}, spec {ours.get(key)!r}"
            elif key in ours:
                yield from prose_differences(value, ours[key], f"{path}/{key}")


def schema_differences(reference: dict[str, Any], ours: dict[str, Any]) -> list[str]:
    """Every difference between a reference schema and the spec's, rules and prose."""
    differences = list(prose_differences(reference, ours))
    stripped_reference, stripped_ours = without_prose(reference), without_prose(ours)
    if stripped_reference != stripped_ours:
        differences.extend(rule_differences(stripped_reference, stripped_ours))
    return differences


def rule_differences(reference: Any, ours: Any, path: str = "") -> Iterator[str]:
    if departs(ours):
        return
    if isinstance(reference, dict) and isinstance(ours, dict):
        for key in sorted(set(reference) | set(ours) - {DEPARTURE}):
            if key not in ours:
                yield f"{path}/{key}: missing from the spec"
            elif key not in reference:
                if not departs(ours[key]):
                    yield f"{path}/{key}: not in the reference"
            else:
                yield from rule_differences(reference[key], ours[key], f"{path}/{key}")
    elif reference != ours:
        yield f"{path}: reference {reference!r}, spec {ours!r}"


@pytest.fixture(scope="module")
def printed(reference_text: str) -> dict[str, dict[str, Any]]:
    schemas = reference_schemas(reference_text)
    assert len(schemas) == 2, "the reference prints two schemas: the job list and one job"
    job_list, job = schemas
    assert "jobs" in job_list["properties"]
    assert "status" in job["properties"]
    return {"JobList": job_list, "Job": job}


@pytest.mark.parametrize("name", ["JobList", "Job"])
def test_schema_matches_the_reference_at_every_depth(
    printed: dict[str, dict[str, Any]], name: str
) -> None:
    """The Job and JobList schemas equal the reference's: every rule, and its every description."""
    spec = load_spec()
    ours = inline(spec["components"]["schemas"][name], spec)
    assert schema_differences(printed[name], ours) == []


def field(job: dict[str, Any], *names: str) -> dict[str, Any]:
    """A nested property schema of the job: field(job, "storage", "logs", "region")."""
    node = job
    for name in names:
        node = node["properties"][name]
    return node


BREAKAGES: list[tuple[Callable[[dict[str, Any]], object], str]] = [
    (
        lambda job: field(job, "storage", "logs", "region").pop("pattern"),
        "/region/pattern: missing",
    ),
    (lambda job: field(job, "status")["enum"].remove("Failed"), "/status/enum"),
    (lambda job: field(job, "usage").pop("additionalProperties"), "/usage/additionalProperties"),
    (lambda job: job["required"].remove("created_time"), "/required"),
    (lambda job: field(job, "timeout_secs").update(format="int32"), "/timeout_secs/format"),
    (lambda job: job["properties"].update(made_up={}), "/made_up: not in the reference"),
    (lambda job: field(job, "id").update(description="Job id"), "/id/description"),
]


@pytest.mark.parametrize(("breakage", "expected"), BREAKAGES)
def test_comparison_catches_each_kind_of_drift(
    printed: dict[str, dict[str, Any]],
    breakage: Callable[[dict[str, Any]], object],
    expected: str,
) -> None:
    """The comparison itself can fail: a dropped pattern, enum value or rule is named."""
    spec = load_spec()
    ours = copy.deepcopy(inline(spec["components"]["schemas"]["Job"], spec))
    breakage(ours)
    differences = schema_differences(printed["Job"], ours)
    assert any(expected in difference for difference in differences), differences


def test_every_operation_lists_exactly_the_reference_statuses(reference_text: str) -> None:
    """Each jobs operation documents every status of the reference, in the reference's words."""
    spec = load_spec()
    tables = reference_statuses(reference_text)
    assert set(tables) == set(OPERATIONS.values())
    for (method, path), statuses in tables.items():
        responses = spec["paths"][path][method]["responses"]
        assert set(responses) == set(statuses), (method, path)
        for status, wording in statuses.items():
            response = inline(responses[status], spec)
            assert response["description"] == wording, (method, path, status)


def test_path_parameter_keeps_the_reference_name() -> None:
    """The job path parameter is `job-id`, as the reference names it."""
    spec = load_spec()
    for path in ("/v1/jobs/{job-id}", "/v1/jobs/{job-id}/cancel"):
        names = [inline(p, spec)["name"] for p in spec["paths"][path]["parameters"]]
        assert "job-id" in names


def test_create_request_has_the_reference_table_fields() -> None:
    """The create body has the reference table's fields, required ones and log_level's default."""
    spec = load_spec()
    body = inline(spec["components"]["schemas"]["CreateJobRequest"], spec)
    reference_fields = {name for name, node in body["properties"].items() if not departs(node)}
    assert reference_fields == {
        "id",
        "program_id",
        "backend",
        "log_level",
        "storage",
        "timeout_secs",
    }
    assert set(body["required"]) == {"id", "program_id", "backend", "timeout_secs", "storage"}
    assert body["properties"]["log_level"]["default"] == "warning"
    assert body["properties"]["log_level"]["enum"] == [
        "info",
        "debug",
        "warning",
        "error",
        "critical",
    ]
    assert body["additionalProperties"] is False


def test_a_recorded_departure_passes_the_guard(printed: dict[str, dict[str, Any]]) -> None:
    """A field the reference lacks fails the guard, unless it carries `x-departure` and a reason."""
    spec = load_spec()
    ours = copy.deepcopy(inline(spec["components"]["schemas"]["Job"], spec))
    ours["properties"]["made_up"] = {"type": "object"}
    assert "/properties/made_up: not in the reference" in schema_differences(printed["Job"], ours)
    ours["properties"]["made_up"][DEPARTURE] = "newer deployments send it"
    field(ours, "usage")[DEPARTURE] = "the reference's rule is wrong here"
    field(ours, "usage").pop("additionalProperties")
    assert schema_differences(printed["Job"], ours) == []


def test_every_recorded_departure_gives_its_reason() -> None:
    """Each `x-departure` in the spec is a sentence, not a flag."""

    def notes(node: Any) -> Iterator[Any]:
        if isinstance(node, dict):
            if DEPARTURE in node:
                yield node[DEPARTURE]
            for value in node.values():
                yield from notes(value)
        elif isinstance(node, list):
            for item in node:
                yield from notes(item)

    for note in notes(load_spec()):
        assert isinstance(note, str), note
        assert len(note.split()) >= 3, note
