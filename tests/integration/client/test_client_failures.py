"""The client's typed errors, auth and retries against the emulator's real answers and faults."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Callable, Iterator

import httpx
import pytest

from direct_access import (
    AsyncClient,
    AuthenticationError,
    BackendReservedError,
    BadRequestError,
    Client,
    ConflictError,
    DirectAccessError,
    DuplicateJobError,
    IAMAuth,
    IAMError,
    JobStatus,
    JobTimeoutError,
    NotFoundError,
    PayloadTooLargeError,
    RequestTimeoutError,
    RetryPolicy,
    ServerError,
    Settings,
    TooManyJobsError,
    UnprocessableEntityError,
)
from direct_access.storage import S3Storage
from direct_access_emulator.config import (
    AuthConfig,
    BackendConfig,
    EmulatorConfig,
    ExecutionConfig,
    FaultConfig,
    OperationFaults,
    ServerConfig,
)
from direct_access_emulator.testing import RunningEmulator, serve
from tests.integration.client.conftest import SAMPLER_PARAMS

FAST = RetryPolicy(attempts=12, wait_initial=0.01, wait_max=0.05, wait_jitter=0.0)
NOWHERE = {
    "input": {"type": "s3_compatible", "presigned_url": "http://127.0.0.1:9/in"},
    "results": {"type": "s3_compatible", "presigned_url": "http://127.0.0.1:9/out"},
}


@pytest.fixture(scope="module")
def slow() -> Iterator[RunningEmulator]:
    """Jobs that run 30 s (cancelled at the end), a reserved backend, one-lane backends."""
    config = EmulatorConfig(
        server=ServerConfig(max_body_bytes=2048),
        backends=(
            BackendConfig(name="main"),
            BackendConfig(name="reserved", always_reserved=True),
            BackendConfig(name="one_lane", lanes=1),
            BackendConfig(name="run_lane", lanes=1),
            BackendConfig(name="task_lane", lanes=1),
        ),
        execution=ExecutionConfig(duration_secs=30),
        faults=FaultConfig(operations={"cancel_job": OperationFaults(error_500=0.0)}),
    )
    with serve(config) as running:
        yield running


@pytest.fixture
def client(slow: RunningEmulator) -> Iterator[Client]:
    with Client(Settings.from_env(slow.env()), strict=True, retry=FAST) as c:
        yield c
        for job in c.list_jobs():
            if job.status is JobStatus.RUNNING:
                # It may end between the list and the cancel (409): nothing left to stop then.
                with contextlib.suppress(ConflictError):
                    c.cancel_job(job.id)


def running_job(c: Client, storage: S3Storage, job_id: str, backend: str = "main") -> str:
    prepared = storage.prepare(job_id, SAMPLER_PARAMS, 60)
    return c.submit(
        backend=backend, program_id="sampler", storage=prepared, timeout_secs=60, job_id=job_id
    )


def test_unknown_job_is_not_found(client: Client) -> None:
    """GET, cancel and delete of an unknown id are NotFoundError with code 1291."""
    for call in (client.get_job, client.cancel_job, client.delete_job):
        with pytest.raises(NotFoundError) as caught:
            call("no-such-job")
        assert caught.value.codes == ("1291",)


def test_unknown_backend_is_not_found(client: Client) -> None:
    """A backend that does not exist is NotFoundError (1216), for create too."""
    with pytest.raises(NotFoundError) as caught:
        client.get_backend("nope")
    assert caught.value.codes == ("1216",)
    with pytest.raises(NotFoundError):
        client.submit(backend="nope", program_id="sampler", storage=NOWHERE, timeout_secs=5)


def test_duplicate_id_is_duplicate_job(client: Client) -> None:
    """A second create with the same id is DuplicateJobError (1231)."""
    client.submit(backend="main", program_id="sampler", storage=NOWHERE, timeout_secs=5, job_id="d")
    with pytest.raises(DuplicateJobError):
        client.submit(
            backend="main", program_id="sampler", storage=NOWHERE, timeout_secs=5, job_id="d"
        )


def test_invalid_request_is_bad_request_or_unprocessable(client: Client) -> None:
    """timeout_secs=0 breaks the spec's minimum: 400 or 422, both documented."""
    with pytest.raises((BadRequestError, UnprocessableEntityError)):
        client.submit(backend="main", program_id="sampler", storage=NOWHERE, timeout_secs=0)


def test_body_too_large(client: Client) -> None:
    """A create body over the server's limit is PayloadTooLargeError."""
    with pytest.raises(PayloadTooLargeError):
        client.submit(backend="main", program_id="x" * 3000, storage=NOWHERE, timeout_secs=5)


class _TricklingTransport(httpx.HTTPTransport):
    """Real HTTP, but request bodies trickle in a byte at a time: a slow link, for 408."""

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        if request.method == "POST" and request.url.path == "/v1/jobs":
            body = request.read()

            def trickle() -> Iterator[bytes]:
                for index in range(len(body)):
                    time.sleep(0.02)  # the slowness under test, not a wait for a condition
                    yield body[index : index + 1]

            request = httpx.Request(
                request.method, request.url, headers=request.headers, content=trickle()
            )
        return super().handle_request(request)


def test_slow_body_is_request_timeout() -> None:
    """A create body slower than the server's read limit is RequestTimeoutError (408)."""
    config = EmulatorConfig(server=ServerConfig(body_timeout_secs=0.5))
    with (
        serve(config) as emulator,
        Client(
            Settings.from_env(emulator.env()), retry=None, transport=_TricklingTransport()
        ) as client,
        pytest.raises(RequestTimeoutError) as caught,
    ):
        client.submit(backend="fake_backend", program_id="sampler", storage=NOWHERE, timeout_secs=5)
    assert caught.value.status_code == 408


def test_reserved_backend(client: Client) -> None:
    """A create on a reserved backend is BackendReservedError (1233)."""
    with pytest.raises(BackendReservedError) as caught:
        client.submit(backend="reserved", program_id="sampler", storage=NOWHERE, timeout_secs=5)
    assert caught.value.codes == ("1233",)


def test_lanes_full_and_conflicts(client: Client, storage: S3Storage) -> None:
    """With the only lane held: 429; delete while Running: 409; cancel when Cancelled: 409."""
    running_job(client, storage, "lane-holder", backend="one_lane")
    with pytest.raises(TooManyJobsError) as caught:
        running_job(client, storage, "second", backend="one_lane")
    assert caught.value.codes == ("1232",)
    with pytest.raises(ConflictError):
        client.delete_job("lane-holder")
    client.cancel_job("lane-holder")
    client.wait("lane-holder", timeout=10, poll_interval=0.05)
    with pytest.raises(ConflictError):
        client.cancel_job("lane-holder")
    client.delete_job("lane-holder")  # frees the lane
    running_job(client, storage, "third", backend="one_lane")


def test_wrong_api_key_is_an_iam_error(slow: RunningEmulator) -> None:
    """An unknown key is refused by IAM: IAMError with IAM's code."""
    env = slow.env() | {"DIRECT_ACCESS_API_KEY": "wrong-key"}
    with Client(Settings.from_env(env)) as c, pytest.raises(IAMError) as caught:
        c.list_jobs()
    assert caught.value.iam_code


def test_wrong_token_is_an_authentication_error(slow: RunningEmulator) -> None:
    """A bearer token the service does not know is AuthenticationError."""
    env = slow.env() | {"DIRECT_ACCESS_TOKEN": "not-a-token", "DIRECT_ACCESS_API_KEY": ""}
    with Client(Settings.from_env(env)) as c, pytest.raises(AuthenticationError) as caught:
        c.list_jobs()
    assert caught.value.status_code == 401


def test_expired_token_is_refreshed_after_a_401() -> None:
    """A token that expired on the service gives a 401; the client refreshes once and goes on."""
    with serve(EmulatorConfig(auth=AuthConfig(token_lifetime_secs=1))) as emu:
        env = emu.env()
        settings = Settings.from_env(env)
        # A clock that never advances: the cache never refreshes ahead, so expiry shows as 401.
        auth = IAMAuth(env["DIRECT_ACCESS_API_KEY"], env["DIRECT_ACCESS_IAM_URL"], clock=lambda: 0)
        seen: list[int] = []

        def record(response: httpx.Response) -> None:
            seen.append(response.status_code)

        with Client(settings, auth=auth, retry=None) as c:
            c._api.get_httpx_client().event_hooks["response"].append(record)
            assert c.list_jobs() == []
            deadline = time.monotonic() + 10
            while 401 not in seen:
                assert time.monotonic() < deadline, "the token never expired"
                time.sleep(0.2)
                c.list_jobs()
        assert auth.refreshes == 2


def test_retries_ride_out_injected_faults(storage: S3Storage) -> None:
    """Dropped connections and 503s on create, get and IAM: every call succeeds, no job twice."""
    faults = {
        "create_job": OperationFaults(drop_connection=0.4, error_503=0.2),
        "get_job": OperationFaults(drop_connection=0.3, error_503=0.3),
        "iam_token": OperationFaults(error_503=0.5),
    }
    config = EmulatorConfig(
        backends=(BackendConfig(lanes=10),),
        execution=ExecutionConfig(duration_secs=0.05),
        faults=FaultConfig(seed=11, operations=faults),
    )
    with serve(config) as emu, Client(Settings.from_env(emu.env()), retry=FAST) as c:
        ids = [
            c.submit(
                backend=emu.config.backends[0].name,
                program_id="sampler",
                storage=NOWHERE,
                timeout_secs=5,
            )
            for _ in range(6)
        ]
        for job_id in ids * 3:
            assert c.get_job(job_id).id == job_id
        assert sorted(j.id for j in c.list_jobs()) == sorted(ids)


def test_lanes_full_is_waited_out_when_asked() -> None:
    """With a patient policy, injected 429s and 423s on create are retried until accepted."""
    faults = {"create_job": OperationFaults(lanes_full_429=0.5, reserved_423=0.3)}
    config = EmulatorConfig(faults=FaultConfig(seed=3, operations=faults))
    policy = RetryPolicy(
        retry_lanes_full=True, retry_reserved=True, busy_wait=0.01, busy_wait_max=0.05
    )
    with serve(config) as emu, Client(Settings.from_env(emu.env()), retry=policy) as c:
        for _ in range(5):
            c.submit(
                backend=emu.config.backends[0].name,
                program_id="sampler",
                storage=NOWHERE,
                timeout_secs=5,
            )
        assert len(c.list_jobs()) == 5


def test_server_error_after_retries() -> None:
    """A lasting 500 on cancel ends as ServerError once the attempts are spent."""
    faults = {"cancel_job": OperationFaults(error_500=1.0)}
    with (
        serve(EmulatorConfig(faults=FaultConfig(operations=faults))) as emu,
        Client(Settings.from_env(emu.env()), retry=FAST) as c,
        pytest.raises(ServerError),
    ):
        c.cancel_job("any")


def test_no_secret_in_logs_or_errors(
    slow: RunningEmulator, storage: S3Storage, caplog: pytest.LogCaptureFixture
) -> None:
    """A session with a known key and a known token leaves neither in logs or exception text."""
    caplog.set_level(logging.DEBUG)
    env = slow.env()
    key = env["DIRECT_ACCESS_API_KEY"]
    token = httpx.post(
        f"{env['DIRECT_ACCESS_IAM_URL']}/identity/token",
        data={"grant_type": "urn:ibm:params:oauth:grant-type:apikey", "apikey": key},
    ).json()["access_token"]
    texts: list[str] = []
    for settings in (
        Settings.from_env(env),
        Settings.from_env(env | {"DIRECT_ACCESS_API_KEY": "", "DIRECT_ACCESS_TOKEN": token}),
    ):
        texts.append(repr(settings))
        with Client(settings, strict=True, retry=FAST) as c:
            texts.append(repr(c))
            c.list_jobs()
            job_id = running_job(c, storage, f"secret-check-{len(texts)}")
            failures: list[Callable[[Client, str], object]] = [
                lambda c, _: c.get_job("missing"),
                lambda c, job_id: c.delete_job(job_id),
                lambda c, _: c.submit(
                    backend="reserved", program_id="s", storage=NOWHERE, timeout_secs=1
                ),
                lambda c, job_id: c.wait(job_id, timeout=0),
            ]
            for call in failures:
                with pytest.raises(DirectAccessError) as caught:
                    call(c, job_id)
                texts.extend([str(caught.value), repr(caught.value)])
            c.cancel_job(job_id)
    bad = Settings.from_env(env | {"DIRECT_ACCESS_API_KEY": key + "-revoked"})
    with Client(bad) as c, pytest.raises(IAMError) as refused:
        c.get_backend("main")
    texts.append(str(refused.value))
    everything = "\n".join(texts + [r.getMessage() for r in caplog.records] + [caplog.text])
    assert len(caplog.records) > 10
    assert key not in everything
    assert token not in everything


def test_a_run_that_times_out_frees_its_lane(
    slow: RunningEmulator, client: Client, storage: S3Storage
) -> None:
    """run(wait_timeout=0) on a one-lane backend: JobTimeoutError, and the job is cancelled and
    deleted, so the next create on that backend is accepted (no 429)."""
    with pytest.raises(JobTimeoutError):
        client.run(
            "run_lane", "sampler", SAMPLER_PARAMS, storage=storage, timeout_secs=60, wait_timeout=0
        )
    assert [j.id for j in client.list_jobs() if j.backend == "run_lane"] == []
    running_job(client, storage, "after-timed-out-run", backend="run_lane")


@pytest.mark.anyio
async def test_a_cancelled_async_run_frees_its_lane(
    slow: RunningEmulator, storage: S3Storage
) -> None:
    """Cancelling the task of AsyncClient.run cancels and deletes the job (shielded): the
    one-lane backend accepts the next job."""
    running = asyncio.Event()
    async with AsyncClient(Settings.from_env(slow.env()), retry=FAST) as c:
        task = asyncio.create_task(
            c.run(
                "task_lane",
                "sampler",
                SAMPLER_PARAMS,
                storage=storage,
                timeout_secs=60,
                poll_interval=0.05,
                on_status=lambda job: running.set(),
            )
        )
        await asyncio.wait_for(running.wait(), 10)
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
        assert [j.id for j in await c.list_jobs() if j.backend == "task_lane"] == []
        prepared = await asyncio.to_thread(
            storage.prepare, "after-cancelled-run", SAMPLER_PARAMS, 60
        )
        await c.submit(
            backend="task_lane",
            program_id="sampler",
            storage=prepared,
            timeout_secs=60,
            job_id="after-cancelled-run",
        )
        await c.cancel_job("after-cancelled-run")
