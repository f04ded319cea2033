"""Validation against the spec, with the spec's meaning rather than Python's, by `jsonschema_rs`.

A compiled validator: strict mode checks every answer and the emulator every request body, so the
check must cost about what parsing the JSON costs (pure-Python `jsonschema` took 190 µs per job).
Its semantics are the spec's: patterns are ECMA-262 regular expressions (``$`` does not match
before a trailing newline, ``\\d`` is ASCII), ``date-time`` is RFC 3339, and the ``int32`` and
``int64`` formats bound integers. `tests/unit/spec` proves the verdicts equal to those of the
reference validator (`jsonschema` with ECMA patterns through `regress`) on generated documents.
"""

from __future__ import annotations

import functools
from collections.abc import Iterable
from typing import Any

import jsonschema_rs

from direct_access_spec._document import SPEC_URI, inlined_schema, load_spec

__all__ = ["INTEGER_FORMATS", "SpecViolation", "violations"]

#: The integer formats of the spec and their ranges (OpenAPI's data types).
INTEGER_FORMATS = {"int32": (-(2**31), 2**31 - 1), "int64": (-(2**63), 2**63 - 1)}
# jsonschema_rs applies custom formats to strings only; an integer format becomes a native range
# test whose failure alone reaches this keyword (so Python runs only for an out-of-range number).
_OUT_OF_RANGE = "x-direct-access-integer-format"


class _OutOfRange:
    """The failure of an integer format: reported as the ``format`` keyword."""

    def __init__(self, parent_schema: dict[str, Any], value: str, schema_path: list[str]) -> None:
        self.name = value

    def validate(self, instance: Any) -> None:
        raise ValueError(f"{instance!r} is not a {self.name!r}")


def _compilable(node: Any) -> Any:
    """``node`` with each integer format turned into a range test (the schema is otherwise
    unchanged: the same keywords at the same places)."""
    if isinstance(node, list):
        return [_compilable(item) for item in node]
    if not isinstance(node, dict):
        return node
    out = {key: _compilable(value) for key, value in node.items()}
    fmt = node.get("format")
    if fmt in INTEGER_FORMATS:
        low, high = INTEGER_FORMATS[fmt]
        del out["format"]
        # `minimum`/`maximum` ignore non-numbers, so only an out-of-range number fails `if`.
        check = {"if": {"minimum": low, "maximum": high}, "else": {_OUT_OF_RANGE: fmt}}
        out["allOf"] = [*out.get("allOf", []), check]
    return out


@functools.cache
def _registry() -> jsonschema_rs.Registry:
    # Where `inline_refs` keeps a `$ref` (a cycle), it points into the spec under SPEC_URI.
    return jsonschema_rs.Registry([(SPEC_URI, dict(load_spec()))])


@functools.cache
def _validator(pointer: str) -> jsonschema_rs.Validator:
    return jsonschema_rs.Draft202012Validator(
        _compilable(inlined_schema(pointer)),
        validate_formats=True,
        keywords={_OUT_OF_RANGE: _OutOfRange},
        registry=_registry(),
    )


class SpecViolation:
    """One way in which a document breaks its schema in the spec."""

    __slots__ = ("keyword", "message", "path", "value")

    def __init__(self, path: tuple[str | int, ...], keyword: str, message: str, value: Any) -> None:
        self.path = path
        self.keyword = keyword
        self.message = message
        self.value = value

    @property
    def location(self) -> str:
        """The offending field as a JSON pointer (empty for the document itself)."""
        return "".join(f"/{part}" for part in self.path)

    def __repr__(self) -> str:
        return f"SpecViolation(location={self.location!r}, keyword={self.keyword!r})"


def violations(pointer: str, document: Any) -> list[SpecViolation]:
    """Every way in which ``document`` breaks the schema at ``pointer``, the deepest first.

    ``pointer`` is a JSON pointer into the spec, such as ``/components/schemas/Job`` or
    ``/paths/~1v1~1jobs/post/requestBody/content/application~1json/schema``. A missing required
    field and an unexpected field are each reported at the field itself
    (``/storage/input/presigned_url``), one violation per field, so that callers can name it.
    A document nested too deep to check raises `RecursionError`.
    """
    validator = _validator(pointer)
    try:
        if validator.is_valid(document):
            return []
        errors = list(validator.iter_errors(document))
    except ValueError as exc:
        if "Recursion limit" not in str(exc):
            raise
        # As pure-Python validation did: callers tell a too-deep document by RecursionError.
        raise RecursionError(f"the document nests deeper than can be checked ({exc})") from None
    found: list[SpecViolation] = []
    for error in errors:
        path = tuple(error.instance_path)
        keyword = str(error.schema_path[-1]) if error.schema_path else ""
        kind = error.kind
        if isinstance(kind, jsonschema_rs.ValidationErrorKind.Required):
            name = str(kind.property)
            found.append(
                SpecViolation((*path, name), "required", f"{name!r} is a required property", None)
            )
        elif isinstance(kind, jsonschema_rs.ValidationErrorKind.AdditionalProperties):
            instance = error.instance if isinstance(error.instance, dict) else {}
            found.extend(
                SpecViolation(
                    (*path, str(name)),
                    "additionalProperties",
                    f"{str(name)!r} is not a property of this object",
                    instance.get(name),
                )
                for name in kind.unexpected
            )
        else:
            keyword = "format" if keyword == _OUT_OF_RANGE else keyword
            found.append(SpecViolation(path, keyword, error.message, error.instance))
    return _ordered(found)


def _ordered(found: Iterable[SpecViolation]) -> list[SpecViolation]:
    """One violation per field and keyword (the first), the deepest first, then by location."""
    unique: dict[tuple[tuple[str | int, ...], str], SpecViolation] = {}
    for violation in found:
        unique.setdefault((violation.path, violation.keyword), violation)
    return sorted(unique.values(), key=lambda v: (-len(v.path), v.location, v.keyword))
