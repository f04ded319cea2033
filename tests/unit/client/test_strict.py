"""Strict mode: answers checked against openapi.yaml; added fields are drift, apart from errors."""

from __future__ import annotations

import logging

import pytest

from direct_access import (
    Client,
    DriftError,
    NotFoundError,
    Settings,
    SpecViolationError,
    StrictMode,
)
from tests.unit.client.conftest import Service, error_body, job_body

# A field no spec will ever define, so that these tests keep meaning drift when the spec gains
# the fields newer deployments add (such as `metrics`).
MADE_UP = {"unheard_of": 1200, "nested": {"at": "2025-01-15T10:20:30Z"}}


def test_added_fields_are_drift_naming_each(service: Service, settings: Settings) -> None:
    """A field the spec lacks on each listed job is DriftError naming /jobs/N/made_up."""
    service.token()
    jobs = [job_body("a", made_up=MADE_UP), job_body("b", made_up=MADE_UP)]
    service.json("GET", "/v1/jobs", 200, {"jobs": jobs})
    with (
        Client(settings, strict=True, transport=service.transport()) as c,
        pytest.raises(DriftError) as caught,
    ):
        c.list_jobs()
    assert caught.value.fields == ("/jobs/0/made_up", "/jobs/1/made_up")
    assert not isinstance(caught.value, SpecViolationError)
    assert "/jobs/0/made_up" in str(caught.value)


def test_drift_can_be_allowed_and_is_logged_once(
    service: Service, settings: Settings, caplog: pytest.LogCaptureFixture
) -> None:
    """allow_drift=True accepts the answer; the first sighting is a warning, then debug."""
    caplog.set_level(logging.DEBUG, logger="direct_access")
    service.token()
    service.json("GET", "/v1/jobs/a", 200, job_body("a", made_up=MADE_UP), repeat=True)
    with Client(settings, strict=True, allow_drift=True, transport=service.transport()) as c:
        assert c.get_job("a").id == "a"
        assert c.get_job("a").id == "a"
    drift = [r for r in caplog.records if "drift" in r.getMessage()]
    assert [r.levelno for r in drift] == [logging.WARNING, logging.DEBUG]
    assert "/made_up" in drift[0].getMessage()


def test_broken_answers_are_spec_violations_naming_the_field(
    service: Service, settings: Settings
) -> None:
    """A bad enum, a bad date-time and a missing required field are each named."""
    service.token()
    bad = job_body("a", status="Queued", created_time="yesterday")
    del bad["backend"]
    service.json("GET", "/v1/jobs/a", 200, bad)
    with (
        Client(settings, strict=True, transport=service.transport()) as c,
        pytest.raises(SpecViolationError) as caught,
    ):
        c.get_job("a")
    assert set(caught.value.fields) == {"/status", "/created_time", "/backend"}


def test_drift_with_a_broken_field_is_a_spec_violation(
    service: Service, settings: Settings
) -> None:
    """An added field does not hide a broken one: the answer is a SpecViolationError."""
    service.token()
    service.json("GET", "/v1/jobs/a", 200, job_body("a", made_up=MADE_UP, timeout_secs="60"))
    with (
        Client(settings, strict=StrictMode(allow_drift=True), transport=service.transport()) as c,
        pytest.raises(SpecViolationError) as caught,
    ):
        c.get_job("a")
    assert set(caught.value.fields) == {"/timeout_secs", "/made_up"}


def test_without_strict_mode_such_answers_parse(service: Service, settings: Settings) -> None:
    """Off by default: unknown keys are dropped and broken patterns pass, as the models do."""
    service.token()
    service.json(
        "GET",
        "/v1/backends/b/lanes",
        200,
        {"hpc_workload_manager": {"lanes": -1}, "ibm_quantum_compute": {"lanes": 5}, "x": 1},
    )
    with Client(settings, transport=service.transport()) as c:
        assert c.get_backend_lanes("b").hpc_workload_manager.lanes == -1


def test_strict_error_bodies_carry_their_violations(service: Service, settings: Settings) -> None:
    """A non-conforming error body still gives the typed error, with its violations attached."""
    service.token()
    body = error_body(404) | {"extra": True}
    service.json("GET", "/v1/jobs/a", 404, body)
    with (
        Client(settings, strict=True, transport=service.transport()) as c,
        pytest.raises(NotFoundError, match="1291") as caught,
    ):
        c.get_job("a")
    assert [v.location for v in caught.value.spec_violations] == ["/extra"]
