"""Every operation, sync and async, against a strict fake service: requests and models."""

from __future__ import annotations

import logging
from collections.abc import Callable, Generator, Mapping
from typing import Any

import httpx
import pytest

from direct_access import (
    AsyncClient,
    AuthenticationError,
    Backend,
    BackendStatus,
    Client,
    ConfigurationError,
    CreateJobStorage,
    CreateJobStorageLocation,
    DirectAccessError,
    Job,
    JobStatus,
    Settings,
    StorageError,
    StorageType,
)
from direct_access.storage import PreparedStorage, S3Storage
from tests.unit.client.conftest import API, IAM, TOKEN, Service, body_of, error_body, job_body

STORAGE = {
    "input": {"type": "s3_compatible", "presigned_url": "https://s3.test/b/in?X-Amz-Signature=a"},
    "results": {
        "type": "s3_compatible",
        "presigned_url": "https://s3.test/b/res?X-Amz-Signature=b",
    },
}


def script_everything(service: Service) -> None:
    service.token()
    service.add("POST", "/v1/jobs", httpx.Response(204))
    service.json("GET", "/v1/jobs", 200, {"jobs": [job_body("j-1")]})
    service.json(
        "GET", "/v1/jobs/j-1", 200, job_body("j-1", "Completed", end_time="2025-01-15T10:21:00Z")
    )
    service.add("POST", "/v1/jobs/j-1/cancel", httpx.Response(204))
    service.add("DELETE", "/v1/jobs/j-1", httpx.Response(204))
    service.json(
        "GET", "/v1/backends", 200, {"backends": [{"name": "ibm_test", "status": "online"}]}
    )
    service.json("GET", "/v1/backends/ibm_test", 200, {"name": "ibm_test", "status": "paused"})
    service.json("GET", "/v1/backends/ibm_test/configuration", 200, {"n_qubits": 5})
    service.json("GET", "/v1/backends/ibm_test/properties", 200, {"qubits": []})
    service.json("GET", "/v1/backends/ibm_test/defaults", 200, {"qubit_freq_est": [5.0]})
    service.json(
        "GET",
        "/v1/backends/ibm_test/lanes",
        200,
        {"hpc_workload_manager": {"lanes": 2}, "ibm_quantum_compute": {"lanes": 5}},
    )
    service.json("GET", "/version", 200, {"version": "0.9.3"})
    service.json("GET", "/versions", 200, {"versions": ["2025-08-15"]})


def check_results(service: Service, results: dict[str, Any]) -> None:
    assert results["submit"] == "j-1"
    assert [j.id for j in results["list_jobs"]] == ["j-1"]
    job = results["get_job"]
    assert isinstance(job, Job)
    assert job.status is JobStatus.COMPLETED
    assert results["cancel_job"] is None
    assert results["delete_job"] is None
    assert results["list_backends"] == [Backend(name="ibm_test", status=BackendStatus.ONLINE)]
    assert results["get_backend"].status is BackendStatus.PAUSED
    assert results["configuration"] == {"n_qubits": 5}
    assert results["properties"] == {"qubits": []}
    assert results["defaults"] == {"qubit_freq_est": [5.0]}
    assert results["lanes"].ibm_quantum_compute.lanes == 5
    assert results["version"] == "0.9.3"
    assert results["versions"] == ["2025-08-15"]
    created = body_of(service.calls("POST", "/v1/jobs")[0])
    assert created == {
        "id": "j-1",
        "backend": "ibm_test",
        "program_id": "sampler",
        "timeout_secs": 60,
        "log_level": "info",
        "storage": STORAGE,
    }
    api_requests = [r for r in service.requests if r.url.host == "da.example.test"]
    assert len(api_requests) == 13
    for request in api_requests:
        assert request.headers["Authorization"] == f"Bearer {TOKEN}"
        assert request.headers["Service-CRN"] == "crn:v1:unit"
        assert request.headers["IBM-API-Version"] == "2025-08-15"
    assert len(service.calls("POST", "/identity/token")) == 1


@pytest.fixture
def versioned(settings: Settings) -> Settings:
    return Settings(
        url=API, service_crn="crn:v1:unit", api_key="k", iam_url=IAM, api_version="2025-08-15"
    )


def test_every_operation_sync(service: Service, versioned: Settings) -> None:
    """Each method sends its operation with token, Service-CRN and IBM-API-Version, and returns
    the generated model (dicts for the free-form backend documents)."""
    script_everything(service)
    with Client(versioned, strict=True, transport=service.transport()) as c:
        results = {
            "submit": c.submit(
                backend="ibm_test",
                program_id="sampler",
                storage=STORAGE,
                timeout_secs=60,
                log_level="info",
                job_id="j-1",
            ),
            "list_jobs": c.list_jobs(),
            "get_job": c.get_job("j-1"),
            "cancel_job": c.cancel_job("j-1"),  # type: ignore[func-returns-value]
            "delete_job": c.delete_job("j-1"),  # type: ignore[func-returns-value]
            "list_backends": c.list_backends(),
            "get_backend": c.get_backend("ibm_test"),
            "configuration": c.get_backend_configuration("ibm_test"),
            "properties": c.get_backend_properties("ibm_test"),
            "defaults": c.get_backend_defaults("ibm_test"),
            "lanes": c.get_backend_lanes("ibm_test"),
            "version": c.get_version(),
            "versions": c.list_versions(),
        }
    check_results(service, results)


@pytest.mark.anyio
async def test_every_operation_async(service: Service, versioned: Settings) -> None:
    """The async client has the same methods with the same requests and results."""
    script_everything(service)
    async with AsyncClient(versioned, strict=True, transport=service.async_transport()) as c:
        results = {
            "submit": await c.submit(
                backend="ibm_test",
                program_id="sampler",
                storage=CreateJobStorage.from_dict(STORAGE),
                timeout_secs=60,
                log_level="info",
                job_id="j-1",
            ),
            "list_jobs": await c.list_jobs(),
            "get_job": await c.get_job("j-1"),
            "cancel_job": await c.cancel_job("j-1"),  # type: ignore[func-returns-value]
            "delete_job": await c.delete_job("j-1"),  # type: ignore[func-returns-value]
            "list_backends": await c.list_backends(),
            "get_backend": await c.get_backend("ibm_test"),
            "configuration": await c.get_backend_configuration("ibm_test"),
            "properties": await c.get_backend_properties("ibm_test"),
            "defaults": await c.get_backend_defaults("ibm_test"),
            "lanes": await c.get_backend_lanes("ibm_test"),
            "version": await c.get_version(),
            "versions": await c.list_versions(),
        }
    check_results(service, results)


def test_null_lists_are_empty(service: Service, settings: Settings) -> None:
    """`jobs: null` and `backends: null` become empty lists, never None."""
    service.token()
    service.json("GET", "/v1/jobs", 200, {"jobs": None})
    service.json("GET", "/v1/backends", 200, {"backends": None})
    with Client(settings, strict=True, transport=service.transport()) as c:
        assert c.list_jobs() == []
        assert c.list_backends() == []


def test_submit_chooses_a_uuid4_when_no_id_is_given(service: Service, settings: Settings) -> None:
    """Without job_id, submit sends a fresh UUID4 and returns it."""
    service.token()
    service.add("POST", "/v1/jobs", httpx.Response(204))
    with Client(settings, transport=service.transport()) as c:
        job_id = c.submit(backend="b", program_id="sampler", storage=STORAGE, timeout_secs=5)
    sent = body_of(service.calls("POST", "/v1/jobs")[0])
    assert sent["id"] == job_id
    assert len(job_id) == 36
    assert job_id[14] == "4"


def test_job_ids_are_quoted_in_paths(service: Service, settings: Settings) -> None:
    """A job id is one path segment: a slash in it cannot reach another route."""
    service.token()
    service.json("GET", "/v1/jobs/a%2Fb", 200, job_body("a/b"))
    with Client(settings, transport=service.transport()) as c:
        assert c.get_job("a/b").id == "a/b"


def test_static_token_is_sent_without_iam(service: Service) -> None:
    """With a token instead of an API key, no IAM request is made."""
    service.json("GET", "/version", 200, {"version": "1"})
    settings = Settings(url=API, service_crn="crn:v1:unit", token="static-tok")  # noqa: S106
    with Client(settings, transport=service.transport()) as c:
        assert c.get_version() == "1"
    assert service.requests[0].headers["Authorization"] == "Bearer static-tok"


def test_bad_arguments_are_configuration_errors(service: Service, settings: Settings) -> None:
    """An unknown log_level or a storage mapping without results is a ConfigurationError (a
    DirectAccessError and a ValueError) naming the argument; nothing is sent."""
    with Client(settings, transport=service.transport()) as c:
        with pytest.raises(ConfigurationError, match="log_level") as level:
            c.submit(
                backend="b",
                program_id="sampler",
                storage=STORAGE,
                timeout_secs=5,
                log_level="verbose",
            )
        with pytest.raises(ConfigurationError, match=r"storage.*results") as where:
            c.submit(
                backend="b",
                program_id="sampler",
                storage={"input": STORAGE["input"]},
                timeout_secs=5,
            )
    for caught in (level, where):
        assert isinstance(caught.value, DirectAccessError)
        assert isinstance(caught.value, ValueError)
    assert service.requests == []


class _Auth(httpx.Auth):
    """An auth of the caller's own: a header, no refresh."""

    def auth_flow(self, request: httpx.Request) -> Generator[httpx.Request, httpx.Response, None]:
        request.headers["Authorization"] = "Bearer custom"
        yield request


@pytest.mark.parametrize(
    ("method", "path"),
    [("POST", "/v1/jobs"), ("POST", "/v1/jobs/j/cancel"), ("DELETE", "/v1/jobs/j")],
)
def test_401_with_a_custom_auth_is_an_authentication_error(
    service: Service, settings: Settings, method: str, path: str
) -> None:
    """With auth= of the caller's own, a 401 on create, cancel or delete is raised, never taken
    for success (only the client's own auth flows answer 401s themselves)."""
    service.json(method, path, 401, error_body(401, "1200", "Not authorized."))
    calls: dict[str, Callable[[Client], object]] = {
        "/v1/jobs": lambda c: c.submit(
            backend="b", program_id="sampler", storage=STORAGE, timeout_secs=5, job_id="j"
        ),
        "/v1/jobs/j/cancel": lambda c: c.cancel_job("j"),
        "/v1/jobs/j": lambda c: c.delete_job("j"),
    }
    with (
        Client(settings, auth=_Auth(), transport=service.transport()) as c,
        pytest.raises(AuthenticationError) as caught,
    ):
        calls[path](c)
    assert caught.value.codes == ("1200",)
    assert len(service.requests) == 1


class _Store(S3Storage):
    """Storage without a store: prepare makes presigned-looking URLs, results are given, logs
    never written."""

    def __init__(self, result: str) -> None:
        super().__init__("http://s3.test", "b", "r", "k", "s")
        self.result = result

    def prepare(self, job_id: str, params: Mapping[str, Any], timeout_secs: int) -> PreparedStorage:
        def at(key: str) -> CreateJobStorageLocation:
            return CreateJobStorageLocation(
                type_=StorageType.S3_COMPATIBLE,
                presigned_url=f"http://s3.test/b/{key}?X-Amz-Signature=5ecret",
            )

        storage = CreateJobStorage(input_=at("in"), results=at("out"), logs=at("logs"))
        return PreparedStorage(job_id, "b", "in", "out", "logs", 60, storage)

    def fetch_result_text(self, prepared: PreparedStorage, **_: Any) -> str:
        return self.result

    def fetch_logs(self, prepared: PreparedStorage, **_: Any) -> str:
        raise StorageError(f"{prepared.logs_key} was not written within 5 s")


def test_run_keeps_the_result_when_no_logs_are_written(
    service: Service, settings: Settings, caplog: pytest.LogCaptureFixture
) -> None:
    """Logs are optional: run returns the result with empty logs and a warning that shows no
    URL signature; the job is deleted; the repr shows id, status and sizes only."""
    service.token()
    service.add("POST", "/v1/jobs", httpx.Response(204))
    job = job_body(
        "j",
        "Completed",
        storage={
            "input": {
                "type": "s3_compatible",
                "presigned_url": "http://s3.test/b/in?X-Amz-Signature=5ecret",
            }
        },
    )
    service.json("GET", "/v1/jobs/j", 200, job)
    service.add("DELETE", "/v1/jobs/j", httpx.Response(204))
    with Client(settings, transport=service.transport()) as c:
        outcome = c.run(
            "ibm_test",
            "sampler",
            {},
            storage=_Store('{"results": []}'),
            timeout_secs=60,
            job_id="j",
        )
    assert outcome.result == {"results": []}
    assert outcome.logs == ""
    assert len(service.calls("DELETE", "/v1/jobs/j")) == 1
    warnings = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
    assert any("no logs" in m for m in warnings)
    assert "5ecret" not in caplog.text
    assert "5ecret" not in repr(outcome)
    assert repr(outcome) == (
        "RunResult(job_id='j', status='Completed', result_chars=15, log_chars=0)"
    )
