"""Retry decisions, caps, Retry-After, and the read-back that makes retried writes safe."""

from __future__ import annotations

import logging

import httpx
import pytest
from stamina.instrumentation import LoggingOnRetryHook, set_on_retry_hooks

from direct_access import (
    APIConnectionError,
    BackendReservedError,
    Client,
    ConflictError,
    DuplicateJobError,
    NotFoundError,
    RetryPolicy,
    ServerError,
    Settings,
    TooManyJobsError,
)
from direct_access._errors import BadRequestError
from tests.unit.client.conftest import Answer, Service, body_of, error_body, job_body

STORAGE = {
    "input": {"type": "s3_compatible", "presigned_url": "https://s3.test/in?X-Amz-Signature=a"},
    "results": {"type": "s3_compatible", "presigned_url": "https://s3.test/out?X-Amz-Signature=b"},
}


def refuse(request: httpx.Request) -> httpx.Response:
    raise httpx.ConnectError("connection reset", request=request)


def submit(c: Client, job_id: str = "j") -> str:
    return c.submit(
        backend="ibm_test", program_id="sampler", storage=STORAGE, timeout_secs=5, job_id=job_id
    )


def test_5xx_and_transport_errors_are_retried_for_create(
    service: Service, settings: Settings
) -> None:
    """A dropped connection then a 503 then 204: create succeeds, the same id sent each time."""
    service.token()
    service.add("POST", "/v1/jobs", refuse, httpx.Response(503, json=error_body(503)))
    service.add("POST", "/v1/jobs", httpx.Response(204))
    with Client(settings, transport=service.transport()) as c:
        c.submit(backend="ibm_test", program_id="sampler", storage=STORAGE, timeout_secs=5)
    ids = {body_of(r)["id"] for r in service.calls("POST", "/v1/jobs")}
    assert len(service.calls("POST", "/v1/jobs")) == 3
    assert len(ids) == 1


def test_attempts_are_capped(service: Service, settings: Settings) -> None:
    """With attempts=3, a lasting 500 is raised after three tries."""
    service.token()
    service.json("GET", "/v1/jobs", 500, error_body(500), repeat=True)
    policy = RetryPolicy(attempts=3)
    with (
        Client(settings, retry=policy, transport=service.transport()) as c,
        pytest.raises(ServerError),
    ):
        c.list_jobs()
    assert len(service.calls("GET", "/v1/jobs")) == 3


@pytest.mark.parametrize(
    ("status", "error"), [(429, TooManyJobsError), (423, BackendReservedError)]
)
def test_busy_statuses_are_not_retried_by_default(
    service: Service, settings: Settings, status: int, error: type[Exception]
) -> None:
    """429 and 423 raise at once unless the policy asks to wait for them."""
    service.token()
    service.json("POST", "/v1/jobs", status, error_body(status, "1232"), repeat=True)
    with Client(settings, transport=service.transport()) as c, pytest.raises(error):
        submit(c)
    assert len(service.calls("POST", "/v1/jobs")) == 1


def test_busy_statuses_are_retried_when_asked(service: Service, settings: Settings) -> None:
    """RetryPolicy.patient() waits through 429 and 423 until a lane is free."""
    service.token()
    service.json("POST", "/v1/jobs", 429, error_body(429, "1232"))
    service.json("POST", "/v1/jobs", 423, error_body(423, "1233"))
    service.add("POST", "/v1/jobs", httpx.Response(204))
    with Client(settings, retry=RetryPolicy.patient(), transport=service.transport()) as c:
        assert submit(c) == "j"
    assert len(service.calls("POST", "/v1/jobs")) == 3


def test_4xx_is_never_retried(service: Service, settings: Settings) -> None:
    """A 400 is the caller's fault: one attempt only."""
    service.token()
    service.json("POST", "/v1/jobs", 400, error_body(400, "1337"), repeat=True)
    with (
        Client(settings, retry=RetryPolicy.patient(), transport=service.transport()) as c,
        pytest.raises(BadRequestError),
    ):
        submit(c)
    assert len(service.calls("POST", "/v1/jobs")) == 1


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def test_retry_after_is_the_wait(settings: Settings) -> None:
    """Retry-After (seconds) replaces the backoff; beyond max_retry_after the error is raised."""
    policy = RetryPolicy(retry_lanes_full=True, max_retry_after=60)
    request = httpx.Request("POST", "https://da.example.test/v1/jobs")
    exc = TooManyJobsError("POST", str(request.url), 429, None, "", retry_after=7.0)
    assert policy.state("create_job").decide(exc) == 7.0
    too_long = TooManyJobsError("POST", str(request.url), 429, None, "", retry_after=600.0)
    assert policy.state("create_job").decide(too_long) is False


def test_retry_after_header_is_read(service: Service, settings: Settings) -> None:
    """The Retry-After header of an answer reaches the error (and so the decision)."""
    service.token()
    service.add(
        "GET", "/v1/jobs", httpx.Response(503, json=error_body(503), headers={"Retry-After": "3"})
    )
    with (
        Client(settings, retry=None, transport=service.transport()) as c,
        pytest.raises(ServerError) as caught,
    ):
        c.list_jobs()
    assert caught.value.retry_after == 3.0


def test_total_time_is_capped() -> None:
    """A retry whose wait would end past the policy's timeout is not made."""
    clock = Clock()
    state = RetryPolicy(attempts=100, timeout=10, wait_initial=1, wait_jitter=0).state(
        "get_job", clock
    )
    exc = APIConnectionError("GET", "https://x/v1/jobs/j", "reset")
    assert state.decide(exc) == 1.0
    clock.now = 7.5
    assert state.decide(exc) == 2.0  # ends at 9.5, within 10 s
    clock.now = 9.5
    assert state.decide(exc) is False  # 9.5 + 4 would pass 10 s


def test_decisions_are_logged_at_debug(
    service: Service, settings: Settings, caplog: pytest.LogCaptureFixture
) -> None:
    """Each retry and the final refusal are logged on the direct_access logger."""
    caplog.set_level(logging.DEBUG, logger="direct_access")
    service.token()
    service.json("GET", "/v1/jobs", 503, error_body(503), repeat=True)
    with (
        Client(settings, retry=RetryPolicy(attempts=2), transport=service.transport()) as c,
        pytest.raises(ServerError),
    ):
        c.list_jobs()
    messages = [r.getMessage() for r in caplog.records if r.name == "direct_access"]
    assert any(m.startswith("retrying list_jobs after ServerError 503") for m in messages)
    assert any(m.startswith("not retrying list_jobs after ServerError 503") for m in messages)


def test_409_after_a_retried_create_of_our_job_is_success(
    service: Service, settings: Settings
) -> None:
    """The first attempt created the job but its answer was lost: read back, it is ours."""
    service.token()
    service.add("POST", "/v1/jobs", refuse)
    service.json("POST", "/v1/jobs", 409, error_body(409, "1231", "Duplicate job"))
    service.json("GET", "/v1/jobs/j", 200, job_body("j"))
    with Client(settings, transport=service.transport()) as c:
        assert submit(c) == "j"


def test_409_after_a_retried_create_of_another_job_is_raised(
    service: Service, settings: Settings
) -> None:
    """If the job with that id has another program, it is not ours: DuplicateJobError."""
    service.token()
    service.add("POST", "/v1/jobs", refuse)
    service.json("POST", "/v1/jobs", 409, error_body(409, "1231", "Duplicate job"))
    service.json("GET", "/v1/jobs/j", 200, job_body("j") | {"program_id": "estimator"})
    with Client(settings, transport=service.transport()) as c, pytest.raises(DuplicateJobError):
        submit(c)


def test_409_on_a_first_create_is_raised_without_reading_back(
    service: Service, settings: Settings
) -> None:
    """No earlier attempt could have created it: the duplicate is the caller's."""
    service.token()
    service.json("POST", "/v1/jobs", 409, error_body(409, "1231"))
    with Client(settings, transport=service.transport()) as c, pytest.raises(DuplicateJobError):
        submit(c)


def test_409_after_a_retried_cancel_of_a_cancelled_job_is_success(
    service: Service, settings: Settings
) -> None:
    """The lost first cancel took effect: the job reads back Cancelled."""
    service.token()
    service.add("POST", "/v1/jobs/j/cancel", refuse)
    service.json("POST", "/v1/jobs/j/cancel", 409, error_body(409, "1306"))
    service.json("GET", "/v1/jobs/j", 200, job_body("j", "Cancelled"))
    with Client(settings, transport=service.transport()) as c:
        c.cancel_job("j")


def test_409_after_a_retried_cancel_of_a_completed_job_is_raised(
    service: Service, settings: Settings
) -> None:
    """The job completed before the cancel: the 409 is real."""
    service.token()
    service.add("POST", "/v1/jobs/j/cancel", refuse)
    service.json("POST", "/v1/jobs/j/cancel", 409, error_body(409, "1306"))
    service.json("GET", "/v1/jobs/j", 200, job_body("j", "Completed"))
    with Client(settings, transport=service.transport()) as c, pytest.raises(ConflictError):
        c.cancel_job("j")


def test_404_after_a_retried_delete_is_success(service: Service, settings: Settings) -> None:
    """The lost first delete took effect: the 404 of the retry says so (no read-back)."""
    service.token()
    service.add("DELETE", "/v1/jobs/j", httpx.Response(502, text="bad gateway"))
    service.json("DELETE", "/v1/jobs/j", 404, error_body(404))
    with Client(settings, transport=service.transport()) as c:
        c.delete_job("j")


def test_404_on_a_first_delete_is_raised(service: Service, settings: Settings) -> None:
    """Deleting an unknown job is NotFoundError."""
    service.token()
    service.json("DELETE", "/v1/jobs/j", 404, error_body(404))
    with Client(settings, transport=service.transport()) as c, pytest.raises(NotFoundError):
        c.delete_job("j")


def test_policy_rejects_nonsense() -> None:
    """Zero attempts or a negative timeout are refused."""
    with pytest.raises(ValueError, match="attempts"):
        RetryPolicy(attempts=0)
    with pytest.raises(ValueError, match="timeouts"):
        RetryPolicy(timeout=-1)


@pytest.mark.parametrize(
    "differs",
    [
        {"timeout_secs": 99},
        {"log_level": "debug"},
        {"storage": {"input": {"type": "s3_compatible", "presigned_url": "https://s3.test/other"}}},
    ],
)
def test_409_after_a_retried_create_with_another_timeout_level_or_input_is_raised(
    service: Service, settings: Settings, differs: dict[str, object]
) -> None:
    """Same id, backend and program but another timeout, log level or input URL: not ours."""
    service.token()
    service.add("POST", "/v1/jobs", refuse)
    service.json("POST", "/v1/jobs", 409, error_body(409, "1231", "Duplicate job"))
    service.json("GET", "/v1/jobs/j", 200, job_body("j") | {"timeout_secs": 5} | differs)
    with Client(settings, transport=service.transport()) as c, pytest.raises(DuplicateJobError):
        submit(c)


def test_409_read_back_applies_the_spec_default_log_level(
    service: Service, settings: Settings
) -> None:
    """A job read back with everything we sent, and the default level we did not send, is ours."""
    service.token()
    service.add("POST", "/v1/jobs", refuse)
    service.json("POST", "/v1/jobs", 409, error_body(409, "1231", "Duplicate job"))
    storage = {"input": STORAGE["input"]}
    service.json(
        "GET",
        "/v1/jobs/j",
        200,
        job_body("j") | {"timeout_secs": 5, "log_level": "warning", "storage": storage},
    )
    with Client(settings, transport=service.transport()) as c:
        assert submit(c) == "j"


def test_a_retry_logs_no_warning_and_user_hooks_still_see_it(
    service: Service, settings: Settings, caplog: pytest.LogCaptureFixture
) -> None:
    """stamina's WARNING per retry is silenced for this client (decisions are at debug on
    direct_access); a hook the user set with stamina still sees the retry."""
    seen: list[str] = []
    set_on_retry_hooks([lambda details: seen.append(details.name), LoggingOnRetryHook])
    try:
        caplog.set_level(logging.DEBUG)
        service.token()
        service.json("GET", "/v1/jobs", 503, error_body(503))
        service.json("GET", "/v1/jobs", 200, {"jobs": []})
        with Client(settings, transport=service.transport()) as c:
            assert c.list_jobs() == []
    finally:
        set_on_retry_hooks(None)
    assert seen == ["direct_access.list_jobs"]
    assert [r for r in caplog.records if r.levelno >= logging.WARNING] == []
    assert any(
        r.name == "direct_access" and r.getMessage().startswith("retrying list_jobs")
        for r in caplog.records
    )


def test_logging_hooks_set_after_the_first_calls_are_silenced_too(
    service: Service, settings: Settings, caplog: pytest.LogCaptureFixture
) -> None:
    """The check of stamina's hooks is skipped while they stay the same: hooks set between two
    calls of one client are looked at again, and their WARNING is silenced as well."""
    caplog.set_level(logging.DEBUG)
    service.token()
    service.json("GET", "/v1/jobs", 200, {"jobs": []})
    service.json("GET", "/v1/jobs", 503, error_body(503))
    service.json("GET", "/v1/jobs", 200, {"jobs": []})
    seen: list[str] = []
    with Client(settings, transport=service.transport()) as c:
        assert c.list_jobs() == []
        set_on_retry_hooks([lambda details: seen.append(details.name), LoggingOnRetryHook])
        try:
            assert c.list_jobs() == []
        finally:
            set_on_retry_hooks(None)
    assert seen == ["direct_access.list_jobs"]
    assert [r for r in caplog.records if r.levelno >= logging.WARNING] == []


def test_the_clients_clock_paces_retries(service: Service, settings: Settings) -> None:
    """The clock given to the client is the one the retry caps read: a lasting 503 stops
    retrying once that clock says the policy's total time has passed."""
    clock = Clock()

    def outage(request: httpx.Request) -> httpx.Response:
        clock.now += 4.0  # each answer takes 4 s of the client's time
        return httpx.Response(503, json=error_body(503))

    service.token()
    service.add("GET", "/v1/jobs", outage, repeat=True)
    policy = RetryPolicy(attempts=100, timeout=10, wait_initial=0.1, wait_jitter=0)
    with (
        Client(settings, retry=policy, transport=service.transport(), clock=clock) as c,
        pytest.raises(ServerError),
    ):
        c.list_jobs()
    assert len(service.calls("GET", "/v1/jobs")) == 3  # at 4, 8, 12 s: no retry past 10 s


def timed_out(request: httpx.Request) -> httpx.Response:
    raise httpx.ReadTimeout("no answer in time", request=request)


def answer(status: int, code: str) -> httpx.Response:
    return httpx.Response(status, json=error_body(status, code, "refused"))


_LAST_FAILURES: dict[str, Answer] = {
    "transport": refuse,
    "timeout": timed_out,
    "5xx": answer(503, "1000"),
    "429": answer(429, "1232"),
    "423": answer(423, "1233"),
    "409": answer(409, "1231"),
}


@pytest.mark.parametrize("last", sorted(_LAST_FAILURES))
def test_a_retried_create_that_fails_in_any_way_reads_back_and_ours_is_success(
    service: Service, settings: Settings, last: str
) -> None:
    """The first attempt got no answer (it may have created the job); whatever the retry's
    failure, the job is read back, and a job that is ours means success."""
    service.token()
    service.add("POST", "/v1/jobs", refuse, _LAST_FAILURES[last])
    service.json("GET", "/v1/jobs/j", 200, job_body("j", program_id="sampler", timeout_secs=5))
    with Client(settings, retry=RetryPolicy(attempts=2), transport=service.transport()) as c:
        assert submit(c) == "j"
    assert len(service.calls("POST", "/v1/jobs")) == 2
    assert len(service.calls("GET", "/v1/jobs/j")) == 1


@pytest.mark.parametrize(
    ("last", "error"),
    [("timeout", APIConnectionError), ("5xx", ServerError), ("429", TooManyJobsError)],
)
def test_a_failed_create_whose_job_does_not_exist_raises_its_failure(
    service: Service, settings: Settings, last: str, error: type[Exception]
) -> None:
    """Read back and not found: the create's own failure is raised."""
    service.token()
    service.add("POST", "/v1/jobs", refuse, _LAST_FAILURES[last])
    service.json("GET", "/v1/jobs/j", 404, error_body(404, "1291"))
    with (
        Client(settings, retry=RetryPolicy(attempts=2), transport=service.transport()) as c,
        pytest.raises(error),
    ):
        submit(c)


def test_a_single_create_that_timed_out_reads_back(service: Service, settings: Settings) -> None:
    """Without retries, a timed-out create may still have acted: read back, ours is success."""
    service.token()
    service.add("POST", "/v1/jobs", timed_out)
    service.json("GET", "/v1/jobs/j", 200, job_body("j", timeout_secs=5))
    with Client(settings, retry=None, transport=service.transport()) as c:
        assert submit(c) == "j"


def test_a_create_refused_at_once_is_raised_without_reading_back(
    service: Service, settings: Settings
) -> None:
    """A 429 on the first attempt says the service did nothing: no read-back."""
    service.token()
    service.add("POST", "/v1/jobs", answer(429, "1232"))
    with Client(settings, transport=service.transport()) as c, pytest.raises(TooManyJobsError):
        submit(c)
    assert service.calls("GET", "/v1/jobs/j") == []


@pytest.mark.parametrize(("status", "succeeds"), [("Cancelled", True), ("Running", False)])
def test_a_cancel_whose_answers_were_lost_reads_back(
    service: Service, settings: Settings, status: str, succeeds: bool
) -> None:
    """Every attempt got no answer: a Cancelled job means success, a Running one the error."""
    service.token()
    service.add("POST", "/v1/jobs/j/cancel", refuse, refuse)
    service.json("GET", "/v1/jobs/j", 200, job_body("j", status))
    with Client(settings, retry=RetryPolicy(attempts=2), transport=service.transport()) as c:
        if succeeds:
            c.cancel_job("j")
        else:
            with pytest.raises(APIConnectionError):
                c.cancel_job("j")


@pytest.mark.parametrize(("found", "succeeds"), [(False, True), (True, False)])
def test_a_delete_whose_answers_were_lost_reads_back(
    service: Service, settings: Settings, found: bool, succeeds: bool
) -> None:
    """Every attempt got no answer: a job that is gone means success, one still there the
    error."""
    service.token()
    service.add("DELETE", "/v1/jobs/j", refuse, refuse)
    if found:
        service.json("GET", "/v1/jobs/j", 200, job_body("j", "Completed"))
    else:
        service.json("GET", "/v1/jobs/j", 404, error_body(404, "1291"))
    with Client(settings, retry=RetryPolicy(attempts=2), transport=service.transport()) as c:
        if succeeds:
            c.delete_job("j")
        else:
            with pytest.raises(APIConnectionError):
                c.delete_job("j")
