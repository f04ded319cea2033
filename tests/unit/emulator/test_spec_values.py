"""The emulator's facts from openapi.yaml: derived from the spec, checked where code names them."""

from __future__ import annotations

import pytest

from direct_access_emulator.core import FINAL_STATUSES, JobStatus
from direct_access_emulator.spec_values import LOG_LEVELS, spec_value
from direct_access_spec import SpecMismatch, load_spec, operation


def test_log_levels_are_the_spec_s_ordered_by_verbosity() -> None:
    """LOG_LEVELS holds exactly the spec's LogLevel values, debug first and critical last."""
    assert set(LOG_LEVELS) == set(load_spec()["components"]["schemas"]["LogLevel"]["enum"])
    assert (LOG_LEVELS[0], LOG_LEVELS[-1]) == ("debug", "critical")


def test_a_value_the_spec_lacks_is_refused() -> None:
    """Naming an enum value or operation the spec does not have raises SpecMismatch."""
    with pytest.raises(SpecMismatch, match="Pending"):
        spec_value("JobStatus", "Pending")
    with pytest.raises(SpecMismatch, match="submit_job"):
        operation("submit_job")


def test_job_statuses_cover_the_spec() -> None:
    """JobStatus has every status of the spec; all but Running are terminal."""
    spec = load_spec()["components"]["schemas"]["JobStatus"]["enum"]
    assert sorted(JobStatus) == sorted(spec)
    assert set(spec) - {"Running"} == FINAL_STATUSES
