"""The reference validator: `jsonschema` (pure Python) with ECMA-262 patterns through `regress`.

What `direct_access_spec.violations` computed before it moved to the compiled `jsonschema_rs`;
the agreement tests hold the two to the same verdicts, fields and keywords.
"""

from __future__ import annotations

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

from direct_access_spec import SPEC_URI, SpecViolation, inlined_schema, load_spec
from direct_access_spec._validation import INTEGER_FORMATS, _ordered

__all__ = ["reference_violations"]

# RFC 3339 section 5.6, read literally: a leap second (60) and the year 0000 are valid, an offset
# minute of 60 is not. (Python's `datetime` cannot hold the first two, so it is not the judge.)
_RFC3339 = re.compile(
    r"(\d{4})-(\d{2})-(\d{2})[Tt](\d{2}):(\d{2}):(\d{2})(?:\.\d+)?(?:[Zz]|[+-](\d{2}):(\d{2}))",
    re.ASCII,
)
_DAYS = (31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31)


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
    match = _RFC3339.fullmatch(instance)
    if match is None:
        return False
    year, month, day, hour, minute, second = (int(part) for part in match.groups()[:6])
    leap = year % 4 == 0 and (year % 100 != 0 or year % 400 == 0)
    days = 29 if month == 2 and leap else _DAYS[month - 1] if 1 <= month <= 12 else 0
    offset_hour, offset_minute = (int(part or 0) for part in match.groups()[6:])
    return (
        1 <= day <= days
        and hour <= 23
        and minute <= 59
        and second <= 60
        and offset_hour <= 23
        and offset_minute <= 59
    )


@_FORMATS.checks("int32")
def _is_int32(instance: object) -> bool:
    return _in_range(instance, "int32")


@_FORMATS.checks("int64")
def _is_int64(instance: object) -> bool:
    return _in_range(instance, "int64")


def _in_range(instance: object, fmt: str) -> bool:
    if not isinstance(instance, int | float) or isinstance(instance, bool):
        return True
    low, high = INTEGER_FORMATS[fmt]
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
def _reference_validator(pointer: str) -> Validator:
    validator: Validator = _SpecValidator(
        inlined_schema(pointer), registry=_registry(), format_checker=_FORMATS
    )
    return validator


def reference_violations(pointer: str, document: Any) -> list[SpecViolation]:
    """`direct_access_spec.violations` as pure-Python `jsonschema` computes it."""
    found: list[SpecViolation] = []
    for error in _reference_validator(pointer).iter_errors(document):
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
                found.append(SpecViolation((*path, name), keyword, message, value))
            continue
        found.append(SpecViolation(path, keyword, error.message, instance))
    return _ordered(found)


def _missing(error: jsonschema.ValidationError) -> list[str]:
    required = error.validator_value if isinstance(error.validator_value, list) else []
    instance = error.instance if isinstance(error.instance, dict) else {}
    return [str(name) for name in required if name not in instance]


def _unexpected(error: jsonschema.ValidationError) -> list[str]:
    declared = error.schema.get("properties", {}) if isinstance(error.schema, dict) else {}
    instance = error.instance if isinstance(error.instance, dict) else {}
    return sorted(str(name) for name in instance if name not in declared)
