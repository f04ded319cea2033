"""openapi.yaml is valid OpenAPI 3.1, its examples hold, and it ships inside the package."""

from __future__ import annotations

import importlib.resources
import subprocess
import sys
import zipfile
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

import pytest
from openapi_spec_validator import validate

from direct_access_spec import load_spec, spec_text, violations
from direct_access_spec import resolve as resolve_pointer

METHODS = ("get", "put", "post", "delete", "patch")
CREATE_BODY = "/paths/~1v1~1jobs/post/requestBody/content/application~1json/schema"


def escape(part: str) -> str:
    return part.replace("~", "~0").replace("/", "~1")


def operations(spec: Mapping[str, Any]) -> Iterator[tuple[str, str, dict[str, Any]]]:
    for path, item in spec["paths"].items():
        for method in METHODS:
            if method in item:
                yield path, method, item[method]


def resolve(node: dict[str, Any], spec: Mapping[str, Any]) -> dict[str, Any]:
    while "$ref" in node:
        node = resolve_pointer(node["$ref"], spec)
    return node


def schema_examples(node: Any, pointer: str = "") -> Iterator[tuple[str, Any]]:
    """(pointer of a schema, one of its `examples`) for every schema in the spec."""
    if isinstance(node, dict):
        if isinstance(node.get("examples"), list) and ("type" in node or "$ref" in node):
            for example in node["examples"]:
                yield pointer, example
        for key, value in node.items():
            yield from schema_examples(value, f"{pointer}/{escape(str(key))}")
    elif isinstance(node, list):
        for index, value in enumerate(node):
            yield from schema_examples(value, f"{pointer}/{index}")


def media_examples(spec: Mapping[str, Any]) -> Iterator[tuple[str, str, Any]]:
    """(where, schema pointer, value) for every example of a request or response body."""
    bodies = []
    for path, method, operation in operations(spec):
        base = f"/paths/{escape(path)}/{method}"
        if "requestBody" in operation:
            bodies.append((f"{base}/requestBody", operation["requestBody"]))
        for status, response in operation["responses"].items():
            bodies.append((f"{base}/responses/{status}", response))
    for where, body in bodies:
        for media_type, media in resolve(body, spec).get("content", {}).items():
            schema = media["schema"]
            pointer = schema["$ref"].removeprefix("#") if "$ref" in schema else None
            for name, example in media.get("examples", {}).items():
                yield f"{where} {media_type} {name}", pointer or "", resolve(example, spec)["value"]


def test_spec_is_valid_openapi_3_1() -> None:
    """openapi-spec-validator accepts the spec as OpenAPI 3.1."""
    spec = load_spec()
    assert spec["openapi"].startswith("3.1")
    validate(dict(spec))


def test_every_schema_example_validates() -> None:
    """Each `examples` entry of a schema or property validates against that schema."""
    found = list(schema_examples(load_spec()["components"], "/components"))
    assert len(found) >= 8
    for pointer, example in found:
        assert violations(pointer, example) == [], (pointer, example)


def test_every_body_example_validates() -> None:
    """Each example of a request or response body validates against the body's schema."""
    found = list(media_examples(load_spec()))
    assert len(found) >= 5
    for where, pointer, value in found:
        assert pointer, f"{where}: the body schema is not a component"
        assert violations(pointer, value) == [], where


def test_every_component_example_is_used() -> None:
    """No example in components/examples is left unreferenced (and so unvalidated)."""
    text = spec_text()
    for name in load_spec()["components"]["examples"]:
        assert f"#/components/examples/{name}'" in text, name


def test_operations_are_named_tagged_and_summarised() -> None:
    """Every operation has a unique operationId, a tag and a summary."""
    ids = []
    for path, method, operation in operations(load_spec()):
        assert operation.get("operationId"), (path, method)
        assert operation.get("tags"), (path, method)
        assert operation.get("summary"), (path, method)
        ids.append(operation["operationId"])
    assert len(ids) == len(set(ids)) == 13


def test_every_error_answer_is_the_error_body() -> None:
    """Every documented non-2xx answer is described by the ErrorResponse schema."""
    spec = load_spec()
    for path, method, operation in operations(spec):
        for status, response in operation["responses"].items():
            if status.startswith("2"):
                continue
            schema = resolve(response, spec)["content"]["application/json"]["schema"]
            assert schema == {"$ref": "#/components/schemas/ErrorResponse"}, (path, method, status)


def test_api_operations_need_both_credentials_and_versions_need_none() -> None:
    """Bearer token and Service-CRN are required together; /version and /versions take no auth."""
    spec = load_spec()
    assert spec["security"] == [{"IAMBearer": [], "ServiceCRN": []}]
    schemes = spec["components"]["securitySchemes"]
    assert schemes["IAMBearer"] == {**schemes["IAMBearer"], "type": "http", "scheme": "bearer"}
    assert schemes["ServiceCRN"]["in"] == "header"
    assert schemes["ServiceCRN"]["name"] == "Service-CRN"
    for path, _method, operation in operations(spec):
        if path in ("/version", "/versions"):
            assert operation["security"] == []
        else:
            assert "security" not in operation, path
            assert "401" in operation["responses"], path


def test_create_links_lead_to_get_cancel_and_delete() -> None:
    """The 204 of create-job links to get, cancel and delete with the id from the request body."""
    links = load_spec()["paths"]["/v1/jobs"]["post"]["responses"]["204"]["links"]
    assert {link["operationId"] for link in links.values()} == {
        "get_job",
        "cancel_job",
        "delete_job",
    }
    for link in links.values():
        assert link["parameters"] == {"job-id": "$request.body#/id"}


def valid_create_body(**changes: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "id": "job-1",
        "program_id": "sampler",
        "backend": "fake_backend",
        "timeout_secs": 60,
        "storage": {
            "input": {"type": "s3_compatible", "presigned_url": "http://127.0.0.1:9000/b/in"},
            "results": {"type": "s3_compatible", "presigned_url": "http://127.0.0.1:9000/b/out"},
        },
    }
    body.update(changes)
    return body


def test_valid_create_body_is_accepted() -> None:
    """A minimal create body with input and results URLs breaks no rule."""
    assert violations(CREATE_BODY, valid_create_body()) == []


@pytest.mark.parametrize(
    ("changes", "location", "keyword"),
    [
        ({"id": "abc\n"}, "/id", "pattern"),
        ({"id": ".."}, "/id", "pattern"),
        ({"id": "a" * 257}, "/id", "maxLength"),
        ({"backend": ""}, "/backend", "minLength"),
        ({"timeout_secs": 0}, "/timeout_secs", "minimum"),
        ({"timeout_secs": 2**63}, "/timeout_secs", "maximum"),
        ({"timeout_secs": True}, "/timeout_secs", "type"),
        ({"log_level": "verbose"}, "/log_level", "enum"),
        ({"extra": 1}, "/extra", "additionalProperties"),
        ({"storage": {"input": {"type": "s3_compatible", "presigned_url": "http://x/i"}}},
         "/storage/results", "required"),
        ({"storage": {"input": {"type": "ibmcloud_cos", "presigned_url": "http://x/i"},
                      "results": {"type": "s3_compatible", "presigned_url": "http://x/r"}}},
         "/storage/input/type", "enum"),
        ({"storage": {"input": {"type": "s3_compatible", "presigned_url": "http://x/\ufeff"},
                      "results": {"type": "s3_compatible", "presigned_url": "http://x/r"}}},
         "/storage/input/presigned_url", "pattern"),
        ({"storage": {"input": {"type": "s3_compatible", "presigned_url": "ftp://x/i"},
                      "results": {"type": "s3_compatible", "presigned_url": "http://x/r"}}},
         "/storage/input/presigned_url", "pattern"),
        ({"storage": {"input": {"type": "s3_compatible", "presigned_url": "http://x/i",
                                "region": "us-east\n"},
                      "results": {"type": "s3_compatible", "presigned_url": "http://x/r"}}},
         "/storage/input/region", "pattern"),
    ],
)  # fmt: skip
def test_create_body_rules_are_enforced_with_ecma_semantics(
    changes: dict[str, Any], location: str, keyword: str
) -> None:
    """Each rule of the create body is named at its field; `$` does not match before a newline."""
    found = [(v.location, v.keyword) for v in violations(CREATE_BODY, valid_create_body(**changes))]
    assert (location, keyword) in found


@pytest.mark.parametrize(
    ("value", "valid"),
    [
        ("2025-01-15T10:20:30Z", True),
        ("2025-01-15T10:20:30.123456+02:00", True),
        ("example", False),
        ("2025-01-15 10:20:30Z", False),
        ("2025-13-15T10:20:30Z", False),
        ("2025-01-15T10:20:30", False),
    ],
)
def test_date_time_is_rfc3339(value: str, valid: bool) -> None:
    """created_time is an RFC 3339 date-time with an offset; the reference's "example" is not."""
    job = {"id": "j", "program_id": "sampler", "backend": "b", "status": "Running"}
    assert (violations("/components/schemas/Job", {**job, "created_time": value}) == []) is valid


def test_installed_spec_is_the_root_file(root: Path) -> None:
    """The spec the installed package reads is byte for byte openapi.yaml at the repository root."""
    installed = importlib.resources.files("direct_access_spec").joinpath("openapi.yaml")
    assert installed.read_bytes() == (root / "openapi.yaml").read_bytes()
    assert spec_text() == (root / "openapi.yaml").read_text("utf-8")


def test_wheel_ships_the_spec_and_all_packages(root: Path, tmp_path: Path) -> None:
    """A built wheel holds the generated client, the overlay, py.typed and openapi.yaml."""
    subprocess.run(
        [sys.executable, "-m", "hatchling", "build", "-t", "wheel", "-d", str(tmp_path)],
        cwd=root,
        check=True,
        capture_output=True,
    )
    (wheel,) = tmp_path.glob("*.whl")
    with zipfile.ZipFile(wheel) as archive:
        names = set(archive.namelist())
        spec = archive.read("direct_access_spec/openapi.yaml")
        assert spec == (root / "openapi.yaml").read_bytes()
    assert {
        "direct_access_spec/__init__.py",
        "direct_access_spec/py.typed",
        "direct_access/__init__.py",
        "direct_access/py.typed",
        "direct_access_api/__init__.py",
        "direct_access_api/api/jobs/create_job.py",
        "direct_access_api/models/job.py",
    } <= names
