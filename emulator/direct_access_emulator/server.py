"""Serving the app with uvicorn in a background thread: used by `testing.serve` and the CLI.

The server runs on a socket already bound (port 0 picks a free one), in a thread with its own
event loop; starting and stopping both have deadlines. Its HTTP protocol lets the app drop a
connection without an answer, which the fault injection needs.
"""

from __future__ import annotations

import asyncio
import socket
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import uvicorn
from starlette.applications import Starlette
from starlette.types import ASGIApp
from uvicorn.protocols.http.h11_impl import H11Protocol

from direct_access_emulator.app import AppResources, create_app
from direct_access_emulator.config import EmulatorConfig
from direct_access_emulator.executor import Executor
from direct_access_emulator.faults import ABORT_EXTENSION
from direct_access_spec import client_environment

__all__ = ["RunningEmulator", "free_port", "serve"]

_START_DEADLINE_SECS = 30.0
_STOP_DEADLINE_SECS = 15.0


class _DroppableH11Protocol(H11Protocol):
    """uvicorn's h11 protocol, with a scope extension that aborts the TCP connection."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        app = self.app

        async def with_abort(scope: Any, receive: Any, send: Any) -> None:
            extensions = scope.setdefault("extensions", {})
            extensions[ABORT_EXTENSION] = self._abort
            await app(scope, receive, send)

        self.app = with_abort

    def _abort(self) -> None:
        self.transport.abort()


@dataclass(frozen=True)
class RunningEmulator:
    """A served emulator: its base URL, configuration and executor.

    ``executor`` is the app's own, for tests that look inside it (the aer executor's
    ``pool.worker_pid(job_id)``); it runs in the server's thread and event loop.
    """

    url: str
    config: EmulatorConfig
    executor: Executor = field(repr=False)

    def env(self, instance: int = 0) -> dict[str, str]:
        """The client's environment variables for this emulator and instance."""
        chosen = self.config.instances[instance]
        return client_environment(
            url=self.url,
            iam_url=self.url,
            api_key=chosen.api_keys[0],
            service_crn=chosen.crn,
            backend=self.config.backends[0].name,
        )


def free_port(host: str = "127.0.0.1") -> int:
    """A port free on ``host`` right now (prefer binding port 0 where possible)."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    with socket.socket(family, socket.SOCK_STREAM) as probe:
        probe.bind((host, 0))
        return int(probe.getsockname()[1])


def _url(host: str, port: int) -> str:
    return f"http://[{host}]:{port}" if ":" in host else f"http://{host}:{port}"


@contextmanager
def serve(
    config: EmulatorConfig | None = None,
    *,
    data_dir: Path | None = None,
    host: str = "127.0.0.1",
    port: int = 0,
    wrap: Callable[[ASGIApp], ASGIApp] | None = None,
) -> Iterator[RunningEmulator]:
    """Serve the emulator on ``host`` (a free port unless given) for the duration of the block.

    ``wrap`` puts ASGI middleware around the app: the contract suite's own tests use it to break
    the emulator on purpose and show that the suite notices.
    """
    config = config or EmulatorConfig()
    # Bound before the app opens its store and executor: a port in use then leaves nothing open.
    sock = _bind(host, port)
    try:
        emulator = create_app(config, data_dir=data_dir)
    except BaseException:
        sock.close()
        raise
    try:
        with _serving(emulator, sock, wrap) as bound_port:
            yield RunningEmulator(
                url=_url(host, bound_port),
                config=emulator.state.config,  # with its device backends filled in
                executor=emulator.state.executor,
            )
    finally:
        sock.close()
        resources: AppResources = emulator.state.resources
        if not resources.closed:  # the lifespan closes them; this is for a server that never ran
            asyncio.run(resources.aclose())


def _bind(host: str, port: int) -> socket.socket:
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    # proto given explicitly: asyncio turns Nagle off (TCP_NODELAY) only on sockets whose proto is
    # IPPROTO_TCP; with proto 0 every answer written in two parts waited ~40 ms for a delayed ACK.
    sock = socket.socket(family, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind((host, port))
    except BaseException:
        sock.close()
        raise
    return sock


@contextmanager
def _serving(
    emulator: Starlette, sock: socket.socket, wrap: Callable[[ASGIApp], ASGIApp] | None
) -> Iterator[int]:
    """Run uvicorn on ``sock`` in a thread until the block ends; yields the bound port."""
    app: ASGIApp = emulator if wrap is None else wrap(emulator)
    bound_port = int(sock.getsockname()[1])
    server = uvicorn.Server(
        uvicorn.Config(
            app,
            http=_DroppableH11Protocol,
            loop="asyncio",
            ws="none",
            lifespan="on",
            log_level="warning",
            access_log=False,  # the app writes its own access log, without secrets
            timeout_graceful_shutdown=5,
        )
    )
    failure: list[BaseException] = []

    def run() -> None:
        try:
            asyncio.run(server.serve(sockets=[sock]))
        except BaseException as error:  # reported to the starting thread
            failure.append(error)

    thread = threading.Thread(target=run, name=f"direct-access-emulator:{bound_port}", daemon=True)
    thread.start()
    try:
        deadline = time.monotonic() + _START_DEADLINE_SECS
        while not server.started:
            if failure or not thread.is_alive():
                raise RuntimeError(f"the emulator failed to start: {failure[:1]!r}")
            if time.monotonic() > deadline:
                raise RuntimeError("the emulator did not start in time")
            time.sleep(0.01)
        yield bound_port
    finally:
        server.should_exit = True
        thread.join(_STOP_DEADLINE_SECS)
        if thread.is_alive():
            server.force_exit = True
            thread.join(_STOP_DEADLINE_SECS)
