"""S3Storage's boto3 client: created once across threads, from a session of its own, closable."""

from __future__ import annotations

import threading
import time
from typing import Any

import pytest

from direct_access import ConfigurationError
from direct_access import storage as storage_module
from direct_access.storage import S3Storage


class FakeS3:
    def __init__(self) -> None:
        self.closed = False

    def close(self) -> None:
        self.closed = True


def test_threads_asking_at_once_share_one_client(monkeypatch: pytest.MonkeyPatch) -> None:
    """Eight threads calling s3() together create one boto3 client: the first creation is
    held until all eight have asked (or a deadline), so an unlocked check would create eight."""
    made: list[FakeS3] = []
    asked = threading.Barrier(8, timeout=5)
    started = threading.Event()

    def create(storage: S3Storage) -> FakeS3:
        made.append(FakeS3())
        started.set()
        deadline = time.monotonic() + 0.5
        while len(made) < 8 and time.monotonic() < deadline:
            time.sleep(0.005)  # polling: others may enter, bounded by the deadline
        return made[0]

    monkeypatch.setattr(storage_module, "_boto3_client", create)
    store = S3Storage("http://s3.test", "b", "r", "k", "s")
    clients: list[Any] = []

    def ask() -> None:
        asked.wait()
        clients.append(store.s3())

    threads = [threading.Thread(target=ask) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(10)
    assert started.is_set()
    assert len(made) == 1
    assert len(clients) == 8
    assert all(c is made[0] for c in clients)


def test_close_closes_the_client_and_a_later_call_makes_a_new_one(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """close() (also on leaving a with block) closes the boto3 client; s3() then makes another."""
    made: list[FakeS3] = []

    def create(storage: S3Storage) -> FakeS3:
        made.append(FakeS3())
        return made[-1]

    monkeypatch.setattr(storage_module, "_boto3_client", create)
    with S3Storage("http://s3.test", "b", "r", "k", "s") as store:
        first = store.s3()
    assert first.closed  # type: ignore[attr-defined]
    assert store.s3() is not first
    store.close()
    assert all(c.closed for c in made)


def test_clients_come_from_a_session_of_their_own(monkeypatch: pytest.MonkeyPatch) -> None:
    """boto3's default session (not thread-safe) is never used."""
    import boto3  # noqa: PLC0415

    def refuse(*args: object, **kwargs: object) -> None:
        raise AssertionError("boto3.client uses the shared default session")

    monkeypatch.setattr(boto3, "client", refuse)
    store = S3Storage("http://127.0.0.1:1", "b", "us-east-1", "k", "s")
    assert store.s3().meta.endpoint_url == "http://127.0.0.1:1"
    store.close()


def test_the_prefix_comes_from_the_constructor_only() -> None:
    """DIRECT_ACCESS_S3_PREFIX is not read; prefix is a constructor argument with a default."""
    env = {
        "DIRECT_ACCESS_S3_ENDPOINT": "http://s3.test",
        "DIRECT_ACCESS_S3_BUCKET": "b",
        "DIRECT_ACCESS_S3_REGION": "r",
        "DIRECT_ACCESS_S3_ACCESS_KEY_ID": "k",
        "DIRECT_ACCESS_S3_SECRET_ACCESS_KEY": "s",
        "DIRECT_ACCESS_S3_PREFIX": "elsewhere/",
    }
    assert S3Storage.from_env(env).prefix == "jobs/"
    assert S3Storage("http://s3.test", "b", "r", "k", "s", prefix="mine/").prefix == "mine/"


def test_from_env_defaults_the_region_and_names_a_missing_variable() -> None:
    """DIRECT_ACCESS_S3_REGION defaults to us-east-1 (the table's default); others are needed."""
    env = {
        "DIRECT_ACCESS_S3_ENDPOINT": "http://s3.test",
        "DIRECT_ACCESS_S3_BUCKET": "b",
        "DIRECT_ACCESS_S3_ACCESS_KEY_ID": "k",
        "DIRECT_ACCESS_S3_SECRET_ACCESS_KEY": "s",
    }
    assert S3Storage.from_env(env).region == "us-east-1"
    with pytest.raises(ConfigurationError, match="DIRECT_ACCESS_S3_BUCKET"):
        S3Storage.from_env({**env, "DIRECT_ACCESS_S3_BUCKET": " "})
