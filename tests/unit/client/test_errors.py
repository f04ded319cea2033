"""Error mapping: one typed error per documented status, plain-text bodies, transport errors."""

from __future__ import annotations

import httpx
import pytest

from direct_access import (
    APIConnectionError,
    APIError,
    APITimeoutError,
    BackendReservedError,
    BadRequestError,
    Client,
    ConflictError,
    DirectAccessError,
    DuplicateJobError,
    InvalidResponseError,
    NotFoundError,
    PayloadTooLargeError,
    RequestTimeoutError,
    RetryPolicy,
    ServerError,
    Settings,
    TooManyJobsError,
    UnexpectedStatusError,
    UnprocessableEntityError,
)
from tests.unit.client.conftest import Service, error_body, job_body

STORAGE = {
    "input": {"type": "s3_compatible", "presigned_url": "https://s3.test/in?X-Amz-Signature=a"},
    "results": {"type": "s3_compatible", "presigned_url": "https://s3.test/out?X-Amz-Signature=b"},
}


def submit(c: Client) -> str:
    return c.submit(backend="b", program_id="sampler", storage=STORAGE, timeout_secs=5, job_id="j")


@pytest.mark.parametrize(
    ("status", "code", "error"),
    [
        (400, "1337", BadRequestError),
        (404, "1216", NotFoundError),
        (408, "1000", RequestTimeoutError),
        (409, "1231", DuplicateJobError),
        (413, "1000", PayloadTooLargeError),
        (422, "1337", UnprocessableEntityError),
        (423, "1233", BackendReservedError),
        (429, "1232", TooManyJobsError),
        (500, "1000", ServerError),
        (503, "1000", ServerError),
    ],
)
def test_each_documented_status_of_create_is_its_typed_error(
    service: Service, settings: Settings, status: int, code: str, error: type[APIError]
) -> None:
    """Create's statuses map to their classes, carrying method, URL, codes, trace and ids (a
    5xx leaves unknown whether the job was created: it is read back first, and is not)."""
    service.token()
    service.json("POST", "/v1/jobs", status, error_body(status, code, "it failed"))
    if status >= 500:
        service.json("GET", "/v1/jobs/j", 404, error_body(404))
    with (
        Client(settings, retry=None, transport=service.transport()) as c,
        pytest.raises(error) as caught,
    ):
        submit(c)
    e = caught.value
    assert type(e) is error
    assert (e.method, e.url, e.status_code) == ("POST", "https://da.example.test/v1/jobs", status)
    assert e.codes == (code,)
    assert e.messages == ("it failed",)
    assert (e.trace, e.correlation_id, e.title) == ("tr-1", "co-1", "Error")
    assert e.body is not None
    assert f"{code}: it failed" in str(e)


def test_a_409_other_than_1231_is_a_plain_conflict(service: Service, settings: Settings) -> None:
    """Cancel of a finished job (1306) is ConflictError, not DuplicateJobError."""
    service.token()
    service.json("POST", "/v1/jobs/j/cancel", 409, error_body(409, "1306", "Job not cancellable"))
    with Client(settings, transport=service.transport()) as c, pytest.raises(ConflictError) as e:
        c.cancel_job("j")
    assert type(e.value) is ConflictError


def test_plain_text_gateway_answer_is_still_a_typed_error(
    service: Service, settings: Settings
) -> None:
    """A 502 in plain text is a ServerError with the text kept and no parsed body."""
    service.token()
    service.add("GET", "/v1/jobs/j", httpx.Response(502, text="Bad Gateway from nginx"))
    with (
        Client(settings, retry=None, transport=service.transport()) as c,
        pytest.raises(ServerError) as caught,
    ):
        c.get_job("j")
    assert caught.value.body is None
    assert caught.value.text == "Bad Gateway from nginx"
    assert caught.value.codes == ()
    assert "Bad Gateway from nginx" in str(caught.value)


def test_error_body_without_trace_or_correlation_id(service: Service, settings: Settings) -> None:
    """A real 423 had trace "" and no correlation_id: still a usable BackendReservedError."""
    body = error_body(423, "1233", "Backend reserved")
    body["trace"] = ""
    del body["correlation_id"]
    service.token()
    service.json("POST", "/v1/jobs", 423, body)
    with (
        Client(settings, transport=service.transport()) as c,
        pytest.raises(BackendReservedError) as caught,
    ):
        submit(c)
    assert caught.value.codes == ("1233",)
    assert caught.value.correlation_id is None
    assert caught.value.trace == ""


def test_error_body_missing_required_fields_keeps_what_is_there(
    service: Service, settings: Settings
) -> None:
    """An error body the model cannot parse gives body=None but the codes it has."""
    service.token()
    service.json("GET", "/v1/jobs/j", 404, {"errors": [{"code": "1291", "message": "gone"}]})
    with (
        Client(settings, transport=service.transport()) as c,
        pytest.raises(NotFoundError) as caught,
    ):
        c.get_job("j")
    assert caught.value.body is None
    assert caught.value.codes == ("1291",)


@pytest.mark.parametrize("status", [403, 410, 418])
def test_status_the_spec_does_not_list_is_unexpected(
    service: Service, settings: Settings, status: int
) -> None:
    """403 (reservation conflict on newer deployments) and others are UnexpectedStatusError."""
    service.token()
    service.json("GET", "/v1/jobs/j", status, error_body(status, "9"))
    with (
        Client(settings, transport=service.transport()) as c,
        pytest.raises(UnexpectedStatusError) as caught,
    ):
        c.get_job("j")
    assert caught.value.status_code == status


def test_undocumented_success_status_is_unexpected(service: Service, settings: Settings) -> None:
    """A 200 where the spec says 204 is not silently taken for success."""
    service.token()
    service.json("DELETE", "/v1/jobs/j", 200, {})
    with Client(settings, transport=service.transport()) as c, pytest.raises(UnexpectedStatusError):
        c.delete_job("j")


def test_success_body_that_is_not_json(service: Service, settings: Settings) -> None:
    """A 200 with an HTML body is InvalidResponseError, strict mode or not."""
    service.token()
    service.add("GET", "/v1/jobs/j", httpx.Response(200, text="<html>login</html>"))
    with Client(settings, transport=service.transport()) as c, pytest.raises(InvalidResponseError):
        c.get_job("j")


def test_success_body_the_model_cannot_read(service: Service, settings: Settings) -> None:
    """Without strict mode, a job without its required fields is InvalidResponseError."""
    service.token()
    service.json("GET", "/v1/jobs/j", 200, {"id": "j"})
    with Client(settings, transport=service.transport()) as c, pytest.raises(InvalidResponseError):
        c.get_job("j")


def test_connection_and_timeout_errors_are_apart(settings: Settings) -> None:
    """A refused connection is APIConnectionError, a timeout APITimeoutError (a subclass)."""

    def refuse(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("connection refused", request=request)

    def stall(request: httpx.Request) -> httpx.Response:
        raise httpx.ReadTimeout("timed out", request=request)

    auth = httpx.Auth()  # no token needed to see the transport fail
    with (
        Client(
            settings, auth=auth, retry=RetryPolicy.none(), transport=httpx.MockTransport(refuse)
        ) as c,
        pytest.raises(APIConnectionError) as refused,
    ):
        c.get_version()
    assert not isinstance(refused.value, APITimeoutError)
    with (
        Client(
            settings, auth=auth, retry=RetryPolicy.none(), transport=httpx.MockTransport(stall)
        ) as c,
        pytest.raises(APITimeoutError) as stalled,
    ):
        c.get_version()
    assert stalled.value.url == "https://da.example.test/version"
    assert isinstance(stalled.value, DirectAccessError)


def test_presigned_signatures_are_cut_from_messages(service: Service, settings: Settings) -> None:
    """A message echoing a presigned URL shows it without its query string."""
    service.token()
    service.json(
        "POST",
        "/v1/jobs",
        400,
        error_body(400, "1337", "cannot read https://s3.test/in?X-Amz-Signature=abc123&x=1"),
    )
    with (
        Client(settings, transport=service.transport()) as c,
        pytest.raises(BadRequestError) as caught,
    ):
        submit(c)
    assert "abc123" not in str(caught.value)
    assert "https://s3.test/in?…" in str(caught.value)


def test_retry_after_as_an_http_date_in_minus_0000_is_read_as_utc(
    service: Service, settings: Settings
) -> None:
    """Retry-After "... -0000" (UTC, zone unknown) is a wait, not a broken answer: the 503 is
    retried and the call succeeds."""
    service.token()
    past = "Wed, 21 Oct 2015 07:28:00 -0000"
    service.add(
        "GET", "/v1/jobs", httpx.Response(503, json=error_body(503), headers={"Retry-After": past})
    )
    service.json("GET", "/v1/jobs", 200, {"jobs": []})
    with Client(settings, transport=service.transport()) as c:
        assert c.list_jobs() == []
    assert len(service.calls("GET", "/v1/jobs")) == 2


def test_a_bug_of_the_overlay_is_not_taken_for_a_bad_answer(
    service: Service, settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A KeyError raised by the overlay's own code propagates as it is; the same error raised
    by the generated parser (a job without its required fields) is InvalidResponseError."""
    from direct_access_spec import Operation  # noqa: PLC0415

    def broken(self: Operation, status: int) -> str | None:
        raise KeyError("a bug of ours")

    service.token()
    service.json("GET", "/v1/jobs/j", 200, job_body("j"))
    monkeypatch.setattr(Operation, "schema_pointer", broken)
    with Client(settings, transport=service.transport()) as c, pytest.raises(KeyError) as caught:
        c.get_job("j")
    assert not isinstance(caught.value, InvalidResponseError)
    monkeypatch.undo()
    service.json("GET", "/v1/jobs/j", 200, {"id": "j"})
    with Client(settings, transport=service.transport()) as c, pytest.raises(InvalidResponseError):
        c.get_job("j")
