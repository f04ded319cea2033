"""Reason codes have one home: each cause its own code, all listed, none built elsewhere."""

from __future__ import annotations

import inspect
import re
from pathlib import Path

from direct_access_emulator import reasons
from direct_access_emulator.reasons import REASON_CODES, Reason

_PACKAGE = Path(reasons.__file__).parent


def _every_reason() -> list[Reason]:
    found: list[Reason] = []
    for name in reasons.__all__:
        value = getattr(reasons, name)
        if isinstance(value, Reason):
            found.append(value)
        elif inspect.isfunction(value):
            arguments = ["x"] * len(inspect.signature(value).parameters)
            found.append(value(*arguments))
    return found


def test_each_reason_has_its_own_code_and_every_code_is_listed() -> None:
    """No two causes share a code, and REASON_CODES lists exactly the codes in use."""
    codes = [reason.code for reason in _every_reason()]
    assert len(codes) == len(set(codes))
    assert set(codes) == set(REASON_CODES)


def test_no_reason_is_built_outside_the_reasons_module() -> None:
    """Every `Reason(<code>` of the emulator is in reasons.py: a new cause gets a code there."""
    builders = {
        path.name
        for path in _PACKAGE.glob("*.py")
        if path.name != "reasons.py" and re.search(r"\bReason\(\s*\d", path.read_text("utf-8"))
    }
    assert builders == set()
