"""IAM auth: the exchange, the cache, refresh ahead of expiry, one refresh in flight, 401s."""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Callable
from urllib.parse import parse_qs

import httpx
import pytest

from direct_access import (
    AsyncClient,
    AuthenticationError,
    BearerAuth,
    Client,
    IAMAuth,
    IAMError,
    ServerError,
    Settings,
)
from tests.unit.client.conftest import IAM, KEY, TOKEN, Service, error_body


class FakeClock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def version_ok(service: Service) -> None:
    service.json("GET", "/version", 200, {"version": "1"}, repeat=True)


def test_api_key_is_exchanged_with_the_documented_form_body(
    service: Service, settings: Settings
) -> None:
    """POST {iam}/identity/token with the API-key grant as a form; the token is then sent."""
    service.token()
    version_ok(service)
    with Client(settings, transport=service.transport()) as c:
        c.get_version()
    (iam,) = service.calls("POST", "/identity/token")
    assert str(iam.url) == f"{IAM}/identity/token"
    assert iam.headers["Content-Type"] == "application/x-www-form-urlencoded"
    assert parse_qs(iam.content.decode()) == {
        "grant_type": ["urn:ibm:params:oauth:grant-type:apikey"],
        "apikey": [KEY],
    }
    assert "Service-CRN" not in iam.headers
    assert service.calls("GET", "/version")[0].headers["Authorization"] == f"Bearer {TOKEN}"


def test_token_is_cached_then_refreshed_ahead_of_expiry(
    service: Service, settings: Settings
) -> None:
    """The token is reused until 90 % of expires_in, then fetched again before it expires."""
    clock = FakeClock()
    service.token(expires_in=100)
    version_ok(service)
    auth = IAMAuth(KEY, IAM, clock=clock)
    with Client(settings, auth=auth, transport=service.transport()) as c:
        c.get_version()
        clock.now += 89
        c.get_version()
        assert auth.refreshes == 1
        clock.now += 2  # 91 s: past 90 % of 100 s, still before the real expiry
        c.get_version()
        assert auth.refreshes == 2
    assert len(service.calls("POST", "/identity/token")) == 2


class CountingLock:
    """A thread lock that counts the callers waiting for it (to see them blocked)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._count = threading.Lock()
        self.waiting = 0

    def acquire(self) -> bool:
        with self._count:
            self.waiting += 1
        self._lock.acquire()
        with self._count:
            self.waiting -= 1
        return True

    def release(self) -> None:
        self._lock.release()

    def __enter__(self) -> bool:
        return self.acquire()

    def __exit__(self, *exc: object) -> None:
        self.release()


def until(condition: Callable[[], bool], what: str, seconds: float = 5.0) -> None:
    """Poll ``condition`` until it holds, failing after ``seconds``."""
    deadline = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < deadline, f"never happened: {what}"
        time.sleep(0.005)


def concurrent_calls(
    service: Service, settings: Settings, auth: IAMAuth, n: int = 8
) -> tuple[list[BaseException], list[threading.Thread], Client]:
    errors: list[BaseException] = []
    c = Client(settings, auth=auth, transport=service.transport())

    def call() -> None:
        try:
            c.list_jobs()
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=call) for _ in range(n)]
    for t in threads:
        t.start()
    return errors, threads, c


def gated_token(service: Service, gate: threading.Event, entered: list[str], token: str) -> None:
    def answer(request: httpx.Request) -> httpx.Response:
        entered.append(token)
        assert gate.wait(5), "the test never released the IAM answer"
        return httpx.Response(200, json={"access_token": token, "expires_in": 3600})

    service.add("POST", "/identity/token", answer)


def test_one_refresh_in_flight_across_threads(service: Service, settings: Settings) -> None:
    """Eight threads needing a token at once cause one IAM request; all use its token. The IAM
    answer is held until one thread is inside it and the seven others wait for the lock."""
    gate, entered = threading.Event(), list[str]()
    gated_token(service, gate, entered, TOKEN)
    service.json("GET", "/v1/jobs", 200, {"jobs": []}, repeat=True)
    auth = IAMAuth(KEY, IAM)
    lock = CountingLock()
    auth._thread_lock = lock  # type: ignore[assignment]
    errors, threads, c = concurrent_calls(service, settings, auth)
    until(lambda: len(entered) == 1 and lock.waiting == 7, "1 refresh, 7 threads waiting")
    gate.set()
    for t in threads:
        t.join(10)
    c.close()
    assert errors == []
    assert auth.refreshes == 1
    assert len(service.calls("POST", "/identity/token")) == 1
    assert {r.headers["Authorization"] for r in service.calls("GET", "/v1/jobs")} == {
        f"Bearer {TOKEN}"
    }


def test_concurrent_401s_share_one_refreshed_token_across_threads(
    service: Service, settings: Settings
) -> None:
    """Eight threads whose token is refused at once fetch one new token and all re-send with it."""
    gate, entered = threading.Event(), list[str]()
    gated_token(service, gate, entered, "new")
    all_sent = threading.Barrier(8, timeout=5)  # every thread is refused with the old token

    def answer(request: httpx.Request) -> httpx.Response:
        if request.headers["Authorization"] == "Bearer old":
            all_sent.wait()
            return httpx.Response(401, json=error_body(401, "1200"))
        return httpx.Response(200, json={"jobs": []})

    service.add("GET", "/v1/jobs", answer, repeat=True)
    auth = IAMAuth(KEY, IAM)
    lock = CountingLock()
    auth._thread_lock = lock  # type: ignore[assignment]
    auth._token, auth._refresh_at = "old", float("inf")  # a cached token the service refuses
    errors, threads, c = concurrent_calls(service, settings, auth)
    until(lambda: len(entered) == 1 and lock.waiting == 7, "1 refresh, 7 threads waiting")
    gate.set()
    for t in threads:
        t.join(10)
    c.close()
    assert errors == []
    assert auth.refreshes == 1
    sent = [r.headers["Authorization"] for r in service.calls("GET", "/v1/jobs")]
    assert sorted(sent) == ["Bearer new"] * 8 + ["Bearer old"] * 8


@pytest.mark.anyio
async def test_concurrent_401s_share_one_refreshed_token_across_tasks(
    service: Service, settings: Settings
) -> None:
    """Eight tasks whose token is refused at once fetch one new token and all re-send with it."""
    release, all_sent = asyncio.Event(), asyncio.Event()
    iam_calls = refused = 0

    async def handler(request: httpx.Request) -> httpx.Response:
        nonlocal iam_calls, refused
        await request.aread()
        service.requests.append(request)
        if request.url.path == "/identity/token":
            iam_calls += 1
            await asyncio.wait_for(release.wait(), 5)
            return httpx.Response(200, json={"access_token": "new", "expires_in": 3600})
        if request.headers["Authorization"] == "Bearer old":
            refused += 1
            if refused == 8:
                all_sent.set()
            await asyncio.wait_for(all_sent.wait(), 5)  # every task is refused the old token
            return httpx.Response(401, json=error_body(401, "1200"))
        return httpx.Response(200, json={"jobs": []})

    auth = IAMAuth(KEY, IAM)
    auth._token, auth._refresh_at = "old", float("inf")
    async with AsyncClient(settings, auth=auth, transport=httpx.MockTransport(handler)) as c:
        tasks = [asyncio.create_task(c.list_jobs()) for _ in range(8)]
        deadline = time.monotonic() + 5
        while not (iam_calls == 1 and sum(r.url.path == "/v1/jobs" for r in service.requests) == 8):
            assert time.monotonic() < deadline, "the tasks never all got their 401"
            await asyncio.sleep(0.001)
        for _ in range(20):  # let every task reach the lock
            await asyncio.sleep(0)
        release.set()
        assert await asyncio.gather(*tasks) == [[]] * 8
    assert auth.refreshes == 1
    assert iam_calls == 1


@pytest.mark.anyio
async def test_one_refresh_in_flight_across_tasks(service: Service, settings: Settings) -> None:
    """Eight tasks needing a token at once cause one IAM request."""
    release = asyncio.Event()
    waiting = 0

    async def answer(request: httpx.Request) -> httpx.Response:
        nonlocal waiting
        waiting += 1
        await asyncio.wait_for(release.wait(), 5)
        return httpx.Response(200, json={"access_token": TOKEN, "expires_in": 3600})

    async def handler(request: httpx.Request) -> httpx.Response:
        if request.url.path == "/identity/token":
            service.requests.append(request)
            return await answer(request)
        return await service.ahandle(request)

    version_ok(service)
    auth = IAMAuth(KEY, IAM)
    async with AsyncClient(settings, auth=auth, transport=httpx.MockTransport(handler)) as c:
        tasks = [asyncio.create_task(c.get_version()) for _ in range(8)]
        while waiting == 0:
            await asyncio.sleep(0)
        for _ in range(20):  # let every task reach the lock
            await asyncio.sleep(0)
        release.set()
        assert await asyncio.gather(*tasks) == ["1"] * 8
    assert auth.refreshes == 1
    assert waiting == 1


def test_401_refreshes_once_and_resends(service: Service, settings: Settings) -> None:
    """A 401 drops the token, fetches a new one and re-sends the same request once."""
    service.json("POST", "/identity/token", 200, {"access_token": "old", "expires_in": 3600})
    service.json("POST", "/identity/token", 200, {"access_token": "new", "expires_in": 3600})
    service.json("GET", "/v1/jobs", 401, error_body(401, "1200", "Not authorized."))
    service.json("GET", "/v1/jobs", 200, {"jobs": []})
    with Client(settings, transport=service.transport()) as c:
        assert c.list_jobs() == []
    sent = [r.headers["Authorization"] for r in service.calls("GET", "/v1/jobs")]
    assert sent == ["Bearer old", "Bearer new"]


def test_second_401_is_an_authentication_error(service: Service, settings: Settings) -> None:
    """When the fresh token is refused too, AuthenticationError carries the service's code."""
    service.token()
    service.json(
        "GET", "/v1/jobs", 401, error_body(401, "1201", "Invalid credentials."), repeat=True
    )
    with (
        Client(settings, transport=service.transport()) as c,
        pytest.raises(AuthenticationError) as caught,
    ):
        c.list_jobs()
    assert caught.value.codes == ("1201",)
    assert caught.value.status_code == 401
    assert len(service.calls("GET", "/v1/jobs")) == 2
    assert len(service.calls("POST", "/identity/token")) == 2


@pytest.mark.anyio
async def test_401_refresh_async(service: Service, settings: Settings) -> None:
    """The async flow refreshes once on a 401 as well."""
    service.json("POST", "/identity/token", 200, {"access_token": "old", "expires_in": 3600})
    service.json("POST", "/identity/token", 200, {"access_token": "new", "expires_in": 3600})
    service.json("GET", "/v1/jobs", 401, error_body(401, "1200"))
    service.json("GET", "/v1/jobs", 200, {"jobs": None})
    async with AsyncClient(settings, transport=service.async_transport()) as c:
        assert await c.list_jobs() == []


def test_iam_error_carries_iams_code(service: Service, settings: Settings) -> None:
    """IAM's errorCode (BXNIM0415E) surfaces as IAMError, an AuthenticationError; no retry."""
    service.json(
        "POST",
        "/identity/token",
        400,
        {
            "errorCode": "BXNIM0415E",
            "errorMessage": "Provided API key could not be found.",
            "errorDetails": "x",
        },
        repeat=True,
    )
    with Client(settings, transport=service.transport()) as c, pytest.raises(IAMError) as caught:
        c.list_jobs()
    assert isinstance(caught.value, AuthenticationError)
    assert caught.value.iam_code == "BXNIM0415E"
    assert "BXNIM0415E" in str(caught.value)
    assert KEY not in str(caught.value)
    assert len(service.calls("POST", "/identity/token")) == 1


def test_iam_server_error_is_retried(service: Service, settings: Settings) -> None:
    """A 5xx from IAM is a ServerError, retried like any 5xx."""
    service.add("POST", "/identity/token", httpx.Response(503, text="busy"))
    service.token()
    version_ok(service)
    with Client(settings, transport=service.transport()) as c:
        assert c.get_version() == "1"
    with pytest.raises(ServerError):
        IAMAuth(KEY, IAM)._accept(httpx.Response(502, text="bad gateway"))


def test_bearer_auth_raises_on_401(service: Service) -> None:
    """A static token that is refused gives AuthenticationError at once (nothing to refresh)."""
    service.json("GET", "/v1/jobs", 401, error_body(401, "1200"))
    settings = Settings(url="https://da.example.test", service_crn="crn", token="tok")  # noqa: S106
    with Client(settings, transport=service.transport()) as c, pytest.raises(AuthenticationError):
        c.list_jobs()
    assert repr(BearerAuth("tok")) == "BearerAuth(token=***)"
