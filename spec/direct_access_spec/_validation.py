"""Validation against the spec, with the spec's meaning rather than Python's.

Patterns are ECMA-262 regular expressions (JSON Schema says so; Python's ``re`` would let ``$``
match before a trailing newline), and ``date-time``, ``int32`` and ``int64`` formats are enforced.
"""

from __future__ import annotations

import datetime
import functools
import re
from collections.abc import Iterator, Mapping
from typing import Any

import jsonschema
import regress
from jsonschema import Draft202012Validator
from jsonschema.protocols import Validator
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT202012

from direct_access_spec._document import SPEC_URI, inlined_schema, load_spec

__all__ = ["SpecViolation", "schema_validator", "violations"]

_INT_RANGES = {"int32": (-(2**31), 2**31 - 1), "int64": (-(2**63), 2**63 - 1)}
# RFC 3339 section 5.6; `datetime.fromisoformat` alone accepts more (no seconds, a space as the
# separator), so the shape is checked first and the values (month 13, hour 25) by parsing.
_RFC3339 = re.compile(
    r"\d{4}-\d{2}-\d{2}[Tt]\d{2}:\d{2}:\d{2}(?:\.\d+)?(?:[Zz]|[+-]\d{2}:\d{2})", re.ASCII
)


@functools.cache
def _ecma_regex(pattern: str) -> regress.Regex:
    return regress.Regex(pattern, "u")


def _ecma_pattern(
    validator: Validator, pattern: str, instance: Any, schema: Mapping[str, Any]
) -> Iterator[jsonschema.ValidationError]:
    if isinstance(instance, str) and _ecma_regex(pattern).find(instance) is None:
        yield jsonschema.ValidationError(f"{instance!r} does not match {pattern!r}")


_FORMATS = jsonschema.FormatChecker(formats=())


@_FORMATS.checks("date-time")
def _is_date_time(instance: object) -> bool:
    if not isinstance(instance, str):
        return True
    if _RFC3339.fullmatch(instance) is None:
        return False
    try:
        datetime.datetime.fromisoformat(instance.upper().replace("Z", "+00:00"))
    except ValueError:
        return False
    return True


@_FORMATS.checks("int32")
def _is_int32(instance: object) -> bool:
    return _in_range(instance, "int32")


@_FORMATS.checks("int64")
def _is_int64(instance: object) -> bool:
    return _in_range(instance, "int64")


def _in_range(instance: object, fmt: str) -> bool:
    if not isinstance(instance, int | float) or isinstance(instance, bool):
        return True
    low, high = _INT_RANGES[fmt]
    return low <= instance <= high


_SpecValidator: type[Validator] = jsonschema.validators.extend(  # type: ignore[no-untyped-call]
    Draft202012Validator, validators={"pattern": _ecma_pattern}
)


@functools.cache
def _registry() -> Registry[Any]:
    resource: Resource[Any] = Resource.from_contents(
        dict(load_spec()), default_specification=DRAFT202012
    )
    registry: Registry[Any] = Registry().with_resource(SPEC_URI, resource)
    return registry


@functools.cache
def schema_validator(pointer: str) -> Validator:
    """Return a validator for the schema at ``pointer`` in the spec.

    ``pointer`` is a JSON pointer into the spec, such as ``/components/schemas/Job`` or
    ``/paths/~1v1~1jobs/post/requestBody/content/application~1json/schema``.
    """
    validator: Validator = _SpecValidator(
        inlined_schema(pointer), registry=_registry(), format_checker=_FORMATS
    )
    return validator


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

    A missing required field and an unexpected field are each reported at the field itself
    (``/storage/input/presigned_url``), one violation per field, so that callers can name it.
    """
    found: dict[tuple[tuple[str | int, ...], str], SpecViolation] = {}
    for error in schema_validator(pointer).iter_errors(document):
        path = tuple(error.absolute_path)
        keyword = str(error.validator)
        instance = error.instance
        if keyword in ("required", "additionalProperties") and isinstance(instance, dict):
            names = _missing(error) if keyword == "required" else _unexpected(error)
            for name in names:
                value = instance.get(name)
                message = (
                    f"{name!r} is a required property"
                    if keyword == "required"
                    else f"{name!r} is not a property of this object"
                )
                found.setdefault(
                    ((*path, name), keyword),
                    SpecViolation((*path, name), keyword, message, value),
                )
            continue
        found.setdefault((path, keyword), SpecViolation(path, keyword, error.message, instance))
    return sorted(found.values(), key=lambda v: (-len(v.path), v.location, v.keyword))


def _missing(error: jsonschema.ValidationError) -> list[str]:
    required = error.validator_value if isinstance(error.validator_value, list) else []
    instance = error.instance if isinstance(error.instance, dict) else {}
    return [str(name) for name in required if name not in instance]


def _unexpected(error: jsonschema.ValidationError) -> list[str]:
    declared = error.schema.get("properties", {}) if isinstance(error.schema, dict) else {}
    instance = error.instance if isinstance(error.instance, dict) else {}
    return sorted(str(name) for name in instance if name not in declared)
