"""direct_access_spec: the one operation table, pointer walker and DIRECT_ACCESS_* table."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

import direct_access_spec
from direct_access_spec import (
    CLIENT_VARIABLES,
    STORAGE_VARIABLES,
    VARIABLES,
    SpecMismatch,
    client_environment,
    find_operation,
    load_spec,
    operation,
    operations,
    resolve,
    storage_environment,
)


def _imported_after(statement: str) -> set[str]:
    code = f"import json, sys; {statement}; print(json.dumps(sorted(sys.modules)))"
    done = subprocess.run(
        [sys.executable, "-c", code], check=True, capture_output=True, text=True, timeout=60
    )
    return set(json.loads(done.stdout))


def _client_modules(modules: set[str]) -> set[str]:
    return {
        name
        for name in modules
        if name.split(".")[0] in ("direct_access", "direct_access_api", "stamina")
    }


def test_the_emulator_imports_no_client_module() -> None:
    """Importing the emulator's app loads neither the overlays nor the generated client."""
    assert _client_modules(_imported_after("import direct_access_emulator.app")) == set()


def test_the_spec_package_imports_no_client_module() -> None:
    """The spec package reads openapi.yaml without the client (nor httpx)."""
    modules = _imported_after(
        "import direct_access_spec; direct_access_spec.violations('/components/schemas/Job', {})"
    )
    assert _client_modules(modules) == set()
    assert "httpx" not in modules


def test_the_public_surface_is_sorted_and_complete() -> None:
    """__all__ is sorted and names exactly the package's public attributes."""
    public = {name for name in vars(direct_access_spec) if not name.startswith("_")}
    public -= {"annotations"}
    assert set(direct_access_spec.__all__) == public
    assert list(direct_access_spec.__all__) == sorted(
        direct_access_spec.__all__, key=lambda n: (not n.isupper(), not n[0].isupper(), n)
    )


def test_operations_are_every_method_of_every_path() -> None:
    """operations() lists each (path, method) of the spec once, with its operationId."""
    paths = load_spec()["paths"]
    expected = {
        (path, method.upper(), item[method]["operationId"])
        for path, item in paths.items()
        for method in item
        if isinstance(item[method], dict) and "operationId" in item[method]
    }
    assert {(op.path, op.method, op.operation_id) for op in operations()} == expected
    assert len(operations()) == len(expected)
    assert operation("create_job").pointer == "/paths/~1v1~1jobs/post"
    with pytest.raises(SpecMismatch, match="submit_job"):
        operation("submit_job")


@pytest.mark.parametrize(
    ("method", "path", "operation_id"),
    [
        ("GET", "/v1/jobs", "list_jobs"),
        ("post", "/v1/jobs", "create_job"),
        ("GET", "/v1/jobs/abc", "get_job"),
        ("GET", "/prefix/v1/jobs/abc", "get_job"),
        ("DELETE", "/v1/jobs/abc", "delete_job"),
        ("GET", "/v1/jobs/a%2Fb", "get_job"),
    ],
)
def test_a_request_is_found_by_method_and_raw_path(
    method: str, path: str, operation_id: str
) -> None:
    """find_operation matches case-insensitively on the method, a base-URL prefix allowed."""
    found = find_operation(method, path)
    assert found is not None
    assert found.operation_id == operation_id


def test_a_request_outside_the_api_has_no_operation() -> None:
    """IAM's token endpoint and a path with an extra segment are no operation of the spec."""
    assert find_operation("POST", "/identity/token") is None
    assert find_operation("GET", "/v1/jobs/a/b/c/d") is None


def test_schema_pointers_follow_response_references() -> None:
    """A JSON answer's schema pointer resolves; a 204 has none; an undocumented status neither."""
    create = operation("create_job")
    assert create.schema_pointer(204) is None
    assert create.schema_pointer(299) is None
    get = operation("get_job")
    pointer = get.schema_pointer(200)
    assert pointer is not None
    assert resolve(pointer) == {"$ref": "#/components/schemas/Job"}
    error = get.schema_pointer(404)
    assert error is not None
    assert "ErrorResponse" in json.dumps(resolve(error))
    assert get.documents(404)
    assert not get.documents(418)


def test_resolve_reads_json_pointers_as_rfc_6901_does() -> None:
    """`~1` is `/`, `~0` is `~`, a leading `#` is allowed, list items are indexed."""
    document = {"a/b": {"c~d": [10, 20]}}
    assert resolve("/a~1b/c~0d/1", document) == 20
    assert resolve("#/a~1b", document) == {"c~d": [10, 20]}
    assert resolve("", document) == document
    with pytest.raises(KeyError):
        resolve("/missing", document)


def test_environment_table_names_each_variable_once_with_defaults() -> None:
    """Every DIRECT_ACCESS_* name once; IAM and the S3 region have their one default."""
    names = [v.name for v in VARIABLES]
    assert len(names) == len(set(names))
    assert all(name.startswith("DIRECT_ACCESS_") for name in names)
    defaults = {v.name: v.default for v in VARIABLES if v.default}
    assert defaults == {
        "DIRECT_ACCESS_IAM_URL": "https://iam.cloud.ibm.com",
        "DIRECT_ACCESS_S3_REGION": "us-east-1",
    }
    assert {v.name for v in VARIABLES if v.secret} == {
        "DIRECT_ACCESS_API_KEY",
        "DIRECT_ACCESS_TOKEN",
        "DIRECT_ACCESS_S3_SECRET_ACCESS_KEY",
    }
    assert all(v.name.startswith("DIRECT_ACCESS_S3_") for v in STORAGE_VARIABLES)
    assert not any(v.name.startswith("DIRECT_ACCESS_S3_") for v in CLIENT_VARIABLES)


def test_environment_builders_refuse_unknown_settings() -> None:
    """client_environment/storage_environment map fields to names and refuse a typo."""
    assert client_environment(url="u", backend="b") == {
        "DIRECT_ACCESS_URL": "u",
        "DIRECT_ACCESS_BACKEND": "b",
    }
    assert storage_environment(region="r") == {"DIRECT_ACCESS_S3_REGION": "r"}
    with pytest.raises(TypeError, match="regoin"):
        storage_environment(regoin="r")


def test_a_blank_variable_reads_as_its_default() -> None:
    """read() strips blanks; unset or blank gives the default (None when there is none)."""
    (region,) = (v for v in STORAGE_VARIABLES if v.field == "region")
    assert region.read({"DIRECT_ACCESS_S3_REGION": "  eu-de "}) == "eu-de"
    assert region.read({"DIRECT_ACCESS_S3_REGION": " "}) == "us-east-1"
    (url,) = (v for v in CLIENT_VARIABLES if v.field == "url")
    assert url.read({}) is None
