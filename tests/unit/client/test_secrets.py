"""Secrets never leak: messages, reprs and tracebacks hold no token, API key or S3 secret, even
when a server echoes them; presigned URLs show without their query, their values intact."""

from __future__ import annotations

import traceback

import httpx
import pytest

from direct_access import (
    APIError,
    AuthenticationError,
    Client,
    DirectAccessError,
    IAMError,
    JobFailedError,
    JobTimeoutError,
    Settings,
    StorageError,
)
from direct_access._secrets import PresignedURL
from direct_access.storage import S3Storage
from tests.unit.client.conftest import KEY, TOKEN, Service, error_body, job_body
from tests.unit.client.test_wait import FakeTime

SIGNED = "https://s3.test/b/in.json?X-Amz-Signature=deadbeefcafe&X-Amz-Credential=AKIA"
S3_SECRET = "s3-secret-key-0123456789"  # noqa: S105 - a fake, for leak checks


def _everything(exc: BaseException) -> str:
    """All a user could see of an error: message, repr, attributes and the full traceback."""
    seen = [str(exc), repr(exc), "".join(traceback.format_exception(exc))]
    seen.extend(repr(value) for value in vars(exc).values())
    return "\n".join(seen)


def _echo(request: httpx.Request) -> httpx.Response:
    """A server that puts the request's headers into its error body, as some proxies do."""
    echoed = "; ".join(f"{k}: {v}" for k, v in request.headers.items())
    return httpx.Response(400, json=error_body(400, "1337", f"bad request, headers: {echoed}"))


def test_an_echoed_token_is_in_no_message_repr_or_traceback(
    service: Service, settings: Settings
) -> None:
    """A 400 whose body echoes the Authorization header: the token is masked everywhere."""
    service.token()
    service.add("GET", "/v1/jobs", _echo)
    with Client(settings, transport=service.transport()) as c, pytest.raises(APIError) as caught:
        c.list_jobs()
    seen = _everything(caught.value)
    assert TOKEN not in seen
    assert "Bearer ***" in seen  # the rest of the message is still there


def test_an_echoed_token_in_a_401_or_a_success_answer_is_masked(
    service: Service, settings: Settings
) -> None:
    """The auth flow's 401 and a job whose reason echoes the token: masked as well."""
    echo = f"token was Bearer {TOKEN}"
    service.token()
    service.json("GET", "/v1/jobs/a", 401, error_body(401, "1000", echo), repeat=True)
    service.json("GET", "/v1/jobs/b", 200, job_body("b", "Failed", reason_message=echo))
    with Client(settings, transport=service.transport()) as c:
        with pytest.raises(AuthenticationError) as caught:
            c.get_job("a")
        assert TOKEN not in _everything(caught.value)
        job = c.get_job("b")
    assert TOKEN not in repr(job)
    assert TOKEN not in _everything(JobFailedError(job))


def test_a_transport_error_naming_the_token_is_masked_and_not_chained(
    service: Service, settings: Settings
) -> None:
    """An httpx error whose text holds the token: masked, and the original is not chained."""

    def broken(request: httpx.Request) -> httpx.Response:
        raise httpx.RemoteProtocolError(
            f"illegal header line: {request.headers['Authorization']}", request=request
        )

    service.token()
    service.add("GET", "/v1/jobs", broken, repeat=True)
    with (
        Client(settings, retry=None, transport=service.transport()) as c,
        pytest.raises(DirectAccessError) as caught,
    ):
        c.list_jobs()
    assert TOKEN not in _everything(caught.value)


def test_an_api_key_echoed_by_iam_is_masked(service: Service, settings: Settings) -> None:
    """IAM refusing the key and quoting it back: IAMError without the key."""
    service.json(
        "POST",
        "/identity/token",
        400,
        {"errorCode": "BXNIM0415E", "errorMessage": f"Provided API key {KEY} could not be found"},
    )
    with Client(settings, transport=service.transport()) as c, pytest.raises(IAMError) as caught:
        c.list_jobs()
    assert KEY not in _everything(caught.value)
    assert caught.value.iam_code == "BXNIM0415E"


def _job_with_urls(status: str = "Running") -> dict[str, object]:
    locations = {
        name: {"type": "s3_compatible", "presigned_url": SIGNED} for name in ("input", "results")
    }
    return job_body("j", status, storage=locations)


def test_models_and_errors_show_presigned_urls_without_their_query(
    service: Service, settings: Settings
) -> None:
    """get_job, list_jobs, JobFailedError.job and JobTimeoutError.last: no signature in any
    repr, while the URL's value is whole."""
    service.token()
    service.json("GET", "/v1/jobs/j", 200, _job_with_urls(), repeat=True)
    service.json("GET", "/v1/jobs", 200, {"jobs": [_job_with_urls("Failed")]})
    t = FakeTime()
    with Client(settings, transport=service.transport(), clock=t.clock, sleep=t.sleep) as c:
        job = c.get_job("j")
        listed = c.list_jobs()
        with pytest.raises(JobTimeoutError) as timed_out:
            c.wait("j", timeout=2)
    failed = JobFailedError(listed[0])
    for shown in (repr(job), repr(listed), _everything(failed), _everything(timed_out.value)):
        assert "deadbeefcafe" not in shown
        assert "https://s3.test/b/in.json?…" in shown
    url = job.storage.input_.presigned_url  # type: ignore[union-attr]
    assert url == SIGNED
    assert f"{url}" == SIGNED
    assert job.to_dict()["storage"]["input"]["presigned_url"] == SIGNED


def test_prepared_storage_urls_are_usable_and_hidden_in_reprs() -> None:
    """PresignedURL: equal to the URL, formatted as the URL, its repr without the query."""
    url = PresignedURL(SIGNED)
    assert url == SIGNED
    assert str(url) == SIGNED
    assert type(str(url)) is str
    assert "deadbeefcafe" not in repr(url)
    assert "deadbeefcafe" not in repr({"u": url})


def test_storage_errors_hold_no_secret_key() -> None:
    """An S3 store that cannot be reached: StorageError without the secret, reprs too."""
    storage = S3Storage(
        endpoint="http://127.0.0.1:9",
        bucket="b",
        region="us-east-1",
        access_key_id="AKIA",
        secret_access_key=S3_SECRET,
    )
    assert S3_SECRET not in repr(storage)
    with storage, pytest.raises(StorageError) as caught:
        storage.result_text_for("j", timeout=0)
    assert S3_SECRET not in _everything(caught.value)
