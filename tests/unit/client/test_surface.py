"""The public surface a maintainer relies on: one method per spec operation, the async client a
mirror of the sync one, a tested `__all__`, the version from the package metadata."""

from __future__ import annotations

import importlib.metadata
import inspect

import direct_access
from direct_access import AsyncClient, Client
from direct_access_spec import load_spec

# The spec's operationIds whose method has another name (a verb users expect).
_METHOD_OF = {"create_job": "submit"}
# Methods beyond the spec's operations: flows made of several operations.
_FLOWS = {"run", "wait", "from_env"}
_LIFECYCLE = {"close", "aclose"}


def _public(cls: type) -> set[str]:
    return {name for name in vars(cls) if not name.startswith("_")}


def _isort_key(name: str) -> tuple[int, str]:
    if name.isupper():
        return 0, name
    return (1 if name[:1].isupper() else 2), name


def _operation_ids() -> set[str]:
    return {
        op["operationId"]
        for item in load_spec()["paths"].values()
        for method, op in item.items()
        if isinstance(op, dict) and "operationId" in op
    }


def test_every_spec_operation_has_a_client_method() -> None:
    """Each operationId of openapi.yaml is a `Client` method, and no method is left over."""
    expected = {_METHOD_OF.get(op, op) for op in _operation_ids()}
    assert expected - _public(Client) == set()
    assert _public(Client) - expected - _FLOWS - _LIFECYCLE == set()


def test_async_client_mirrors_client() -> None:
    """`AsyncClient` has the methods of `Client` with the same parameters, each a coroutine."""
    sync_methods = _public(Client) - {"close"}
    async_methods = _public(AsyncClient) - {"aclose"}
    assert sync_methods == async_methods
    for name in sync_methods - {"from_env"}:
        sync_fn, async_fn = getattr(Client, name), getattr(AsyncClient, name)
        assert inspect.iscoroutinefunction(async_fn), name
        sync_params = inspect.signature(sync_fn).parameters
        async_params = inspect.signature(async_fn).parameters
        assert list(sync_params) == list(async_params), name
        for param in sync_params.values():
            other = async_params[param.name]
            assert (param.kind, param.default) == (other.kind, other.default), (name, param)
    client_params = inspect.signature(Client.__init__).parameters
    assert list(client_params) == list(inspect.signature(AsyncClient.__init__).parameters)


def test_all_is_sorted_complete_and_importable() -> None:
    """`__all__` is sorted (ruff's order: constants, classes, the rest), has no duplicates, and
    every name in it exists."""
    names = direct_access.__all__
    assert names == sorted(names, key=_isort_key)
    assert len(set(names)) == len(names)
    for name in names:
        assert hasattr(direct_access, name), name
    exported = {n for n in vars(direct_access) if not n.startswith("_")}
    submodules = {"spec", "storage", "qiskit", "cli"}
    assert exported - set(names) - submodules - {"annotations"} == set()


def test_version_comes_from_the_package_metadata() -> None:
    """`__version__` is the installed distribution's version, not a second copy."""
    assert direct_access.__version__ == importlib.metadata.version("direct-access-toolkit")
