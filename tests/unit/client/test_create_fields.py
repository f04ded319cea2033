"""`submit(**fields)`: every field of the spec's create body reaches the service, checked against
the spec; a field the spec does not define is refused, naming the ones it does."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from direct_access import Client, ConfigurationError, LogLevel, Settings
from direct_access import _operation_flows as flows
from direct_access_api.models import CreateJobRequest, CreateJobStorage
from tests.unit.client.conftest import Service

STORAGE = {
    "input": {"type": "s3_compatible", "presigned_url": "https://s3.test/in?X-Amz-Signature=a"},
    "results": {"type": "s3_compatible", "presigned_url": "https://s3.test/out?X-Amz-Signature=b"},
}


@pytest.fixture
def log_level_as_a_field(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Pretend `submit` had no argument of its own for ``log_level``: it is then one of the
    spec's further fields, as a field newly added to the spec would be."""
    monkeypatch.setattr(flows, "_SUBMIT_ARGUMENTS", flows._SUBMIT_ARGUMENTS - {"log_level"})
    flows.create_fields.cache_clear()
    yield
    flows.create_fields.cache_clear()


def _body() -> CreateJobRequest:
    return CreateJobRequest(
        id="j",
        program_id="sampler",
        backend="b",
        timeout_secs=5,
        storage=CreateJobStorage.from_dict(STORAGE),
    )


def test_a_field_of_the_spec_reaches_the_body_without_a_client_edit(
    log_level_as_a_field: None,
) -> None:
    """The fields come from the spec's create schema: one not among submit's arguments is
    passed into the generated model as given."""
    assert flows.create_fields() == {"log_level"}
    body = flows._with_fields(_body(), {"log_level": "debug"})
    assert body.log_level is LogLevel.DEBUG
    with pytest.raises(ConfigurationError, match="breaks the spec"):
        flows._with_fields(_body(), {"log_level": "loud"})


def test_a_field_the_spec_does_not_define_is_refused(service: Service, settings: Settings) -> None:
    """submit(priority=...) on a spec without ``priority``: ConfigurationError before any
    request (the fake service would fail the test on one)."""
    with (
        Client(settings, transport=service.transport()) as c,
        pytest.raises(ConfigurationError, match="not a field of the create body: priority"),
    ):
        c.submit(backend="b", program_id="sampler", storage=STORAGE, timeout_secs=5, priority=3)
    assert service.requests == []
