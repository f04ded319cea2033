"""The spec document: `openapi.yaml` as shipped, parsed once, addressed by JSON pointers."""

from __future__ import annotations

import functools
import importlib.resources
from collections.abc import Mapping
from typing import Any

import yaml

__all__ = [
    "SPEC_URI",
    "escape",
    "inline_refs",
    "inlined_schema",
    "load_spec",
    "resolve",
    "spec_text",
]

#: The URI the spec is registered under; schemas are addressed as ``SPEC_URI#/components/...``.
SPEC_URI = "urn:direct-access:openapi"

# Keywords that only annotate: beside a `$ref` they can be merged into the target.
_ANNOTATIONS = frozenset({"description", "default", "examples", "title", "deprecated"})


def spec_text() -> str:
    """Return `openapi.yaml` exactly as shipped in the installed package."""
    return importlib.resources.files(__package__).joinpath("openapi.yaml").read_text("utf-8")


@functools.cache
def load_spec() -> Mapping[str, Any]:
    """Return the parsed spec. It is shared and cached: treat it as read-only."""
    spec = yaml.load(spec_text(), Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader))  # noqa: S506 - a safe loader
    if not isinstance(spec, dict):  # pragma: no cover - the shipped file is tested
        raise TypeError("openapi.yaml does not hold a mapping")
    return spec


def escape(part: str) -> str:
    """One JSON-pointer segment for ``part`` (RFC 6901: ``~`` as ``~0``, ``/`` as ``~1``)."""
    return part.replace("~", "~0").replace("/", "~1")


def resolve(pointer: str, document: Any = None) -> Any:
    """The node at the JSON pointer ``pointer`` (``/components/schemas/Job``, or ``#/...`` as a
    ``$ref`` writes it) in ``document``, the spec by default. A missing node raises `KeyError`."""
    node: Any = load_spec() if document is None else document
    for part in pointer.removeprefix("#").strip("/").split("/"):
        if not part:
            continue
        key = part.replace("~1", "/").replace("~0", "~")
        node = node[int(key)] if isinstance(node, list) else node[key]
    return node


def inline_refs(node: Any, seen: tuple[str, ...] = ()) -> Any:
    """``node`` with each local `$ref` replaced by its target, so that a validator does not
    resolve references anew for every item of a list, and tools that follow no references
    (schemathesis' response checks) see whole schemas.

    A `$ref` beside assertions becomes `allOf`, keeping JSON Schema's meaning; a cycle keeps its
    `$ref`, rewritten to ``SPEC_URI#/...`` so that a registry holding the spec resolves it.
    """
    if isinstance(node, list):
        return [inline_refs(item, seen) for item in node]
    if not isinstance(node, dict):
        return node
    ref = node.get("$ref")
    if isinstance(ref, str) and ref.startswith("#/") and ref not in seen:
        target = inline_refs(resolve(ref), (*seen, ref))
        siblings = {k: inline_refs(v, seen) for k, v in node.items() if k != "$ref"}
        if set(siblings) <= _ANNOTATIONS and isinstance(target, dict):
            return {**target, **siblings}
        return {**siblings, "allOf": [target, *siblings.get("allOf", [])]}
    if isinstance(ref, str) and ref.startswith("#/"):
        # A cycle: the `$ref` stays, resolved through the registry; its siblings are inlined.
        inlined = {key: inline_refs(value, seen) for key, value in node.items() if key != "$ref"}
        return {**inlined, "$ref": f"{SPEC_URI}{ref}"}
    return {key: inline_refs(value, seen) for key, value in node.items()}


@functools.cache
def inlined_schema(pointer: str) -> Any:
    """The schema at ``pointer`` in the spec with its references inlined (cached; read-only)."""
    return inline_refs({"$ref": f"#{pointer}"})
