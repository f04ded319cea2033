"""Strict mode: every answer checked against openapi.yaml, drift told apart from broken answers.

Drift means fields a newer deployment adds (``additionalProperties`` violations on an answer that
is otherwise valid, such as ``metrics`` on jobs); anything else (a type, pattern, format, enum or
required field broken) is a `SpecViolationError`.
"""

from __future__ import annotations

import logging
import threading
from dataclasses import dataclass, field
from typing import Any

from direct_access._errors import DriftError, SpecViolationError
from direct_access_spec import SpecViolation, violations

__all__ = ["StrictMode"]

_log = logging.getLogger("direct_access")


@dataclass(frozen=True)
class StrictMode:
    """Options of strict mode.

    ``allow_drift``: accept answers whose only fault is fields the spec does not define (each is
    logged once at WARNING, then at DEBUG) instead of raising `DriftError`.
    """

    allow_drift: bool = False
    _reported: set[tuple[str, str]] = field(
        default_factory=set, repr=False, compare=False, hash=False
    )
    _lock: threading.Lock = field(
        default_factory=threading.Lock, repr=False, compare=False, hash=False
    )

    def check(
        self,
        method: str,
        url: str,
        status_code: int,
        pointer: str,
        document: Any,
        *,
        operation: str | None = None,
    ) -> None:
        """Raise `SpecViolationError` or `DriftError` when ``document`` breaks the schema
        (naming ``operation``, the call's operationId, when given)."""
        found = violations(pointer, document)
        if not found:
            return
        drift = [v for v in found if v.keyword == "additionalProperties"]
        if len(drift) != len(found):
            raise SpecViolationError(method, url, status_code, pointer, found, operation=operation)
        if not self.allow_drift:
            raise DriftError(method, url, status_code, pointer, drift, operation=operation)
        self._log_drift(method, pointer, drift)

    def _log_drift(self, method: str, pointer: str, drift: list[SpecViolation]) -> None:
        for v in drift:
            key = (pointer, _generic(v))
            with self._lock:
                first = key not in self._reported
                self._reported.add(key)
            _log.log(
                logging.WARNING if first else logging.DEBUG,
                "drift from the spec allowed: %s answer has field %s not in %s",
                method.upper(),
                v.location,
                pointer,
            )


def _generic(v: SpecViolation) -> str:
    # Array indexes differ between answers; the field is the same drift.
    return "/".join("*" if isinstance(p, int) else str(p) for p in v.path)
