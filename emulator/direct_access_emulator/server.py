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
from starlette.types import ASGIApp
from uvicorn.protocols.http.h11_impl import H11Protocol

from direct_access_emulator.app import AppResources, create_app
from direct_access_emulator.config import EmulatorConfig
from direct_access_emulator.executor import Executor
from direct_access_emulator.faults import ABORT_EXTENSION
from direct_access_spec import client_environment

__all__ = ["RunningEmulator", "ServedSocket", "bind_socket", "free_port", "serve", "serve_asgi"]

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
    sock = bind_socket(host, port)
    try:
        emulator = create_app(config, data_dir=data_dir)
    except BaseException:
        sock.close()
        raise
    try:
        with serve_asgi(emulator if wrap is None else wrap(emulator), sock) as served:
            yield RunningEmulator(
                url=_url(host, served.port),
                config=emulator.state.config,  # with its device backends filled in
                executor=emulator.state.executor,
            )
    finally:
        sock.close()
        resources: AppResources = emulator.state.resources
        if not resources.closed:  # the lifespan closes them; this is for a server that never ran
            asyncio.run(resources.aclose())


def bind_socket(host: str, port: int) -> socket.socket:
    """A TCP socket bound to ``host``:``port`` (0: a free port), ready for `serve_asgi`."""
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


@dataclass(frozen=True)
class ServedSocket:
    """An ASGI app being served: its port, and the event loop that serves it."""

    port: int
    loop: asyncio.AbstractEventLoop


@contextmanager
def serve_asgi(
    app: ASGIApp, sock: socket.socket, *, name: str = "direct-access-emulator"
) -> Iterator[ServedSocket]:
    """Run uvicorn on ``sock`` in a thread until the block ends, with deadlines to start and stop.

    The one server set-up of the emulator and of bench/ (so that a benchmark measures the server
    users run): h11 with the connection-dropping extension, an asyncio loop, lifespan on, no
    uvicorn access log (the app writes its own, without secrets).
    """
    bound_port = int(sock.getsockname()[1])
    server = uvicorn.Server(
        uvicorn.Config(
            app,
            http=_DroppableH11Protocol,
            loop="asyncio",
            ws="none",
            lifespan="on",
            log_level="warning",
            access_log=False,
            # Many connections at once (benchmarks open 64) must not be refused by the queue.
            backlog=2048,
            timeout_graceful_shutdown=5,
        )
    )
    loops: list[asyncio.AbstractEventLoop] = []
    failure: list[BaseException] = []

    async def main() -> None:
        loops.append(asyncio.get_running_loop())
        await server.serve(sockets=[sock])

    def run() -> None:
        try:
            asyncio.run(main())
        except BaseException as error:  # reported to the starting thread
            failure.append(error)

    thread = threading.Thread(target=run, name=f"{name}:{bound_port}", daemon=True)
    thread.start()
    try:
        deadline = time.monotonic() + _START_DEADLINE_SECS
        while not server.started:
            if failure or not thread.is_alive():
                raise RuntimeError(f"the server failed to start: {failure[:1]!r}")
            if time.monotonic() > deadline:
                raise RuntimeError("the server did not start in time")
            time.sleep(0.01)  # polled against the deadline above
        yield ServedSocket(port=bound_port, loop=loops[0])
    finally:
        server.should_exit = True
        thread.join(_STOP_DEADLINE_SECS)
        if thread.is_alive():
            server.force_exit = True
            thread.join(_STOP_DEADLINE_SECS)
