"""One uvicorn set-up for the emulator and for the baseline app, so that only the app differs.

It mirrors `direct_access_emulator.server.serve` (h11, asyncio loop, a socket bound to port 0 with
``IPPROTO_TCP`` so that Nagle is off, no access log) and also hands back the server's event loop,
in which `bench._profiling` can switch a profiler on. The baseline is the least an ASGI app can
do on that server: Starlette routes that answer fixed, pre-serialised bodies.
"""

from __future__ import annotations

import asyncio
import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route
from starlette.types import ASGIApp
from uvicorn.protocols.http.h11_impl import H11Protocol

__all__ = ["BaselineApp", "ServedApp", "serve_app"]

_START_DEADLINE_SECS = 30.0
_STOP_DEADLINE_SECS = 15.0


@dataclass(frozen=True)
class ServedApp:
    """An app being served: where, and the event loop that serves it."""

    host: str
    port: int
    loop: asyncio.AbstractEventLoop

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"


@contextmanager
def serve_app(app: ASGIApp) -> Iterator[ServedApp]:
    """Serve ``app`` on a free loopback port in a background thread for the block's duration."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    port = int(sock.getsockname()[1])
    server = uvicorn.Server(
        uvicorn.Config(
            app,
            http=H11Protocol,
            loop="asyncio",
            ws="none",
            lifespan="on",
            log_level="warning",
            access_log=False,
            # 64 connections at once must not be refused by the listen queue.
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

    thread = threading.Thread(target=run, name=f"bench-server:{port}", daemon=True)
    thread.start()
    try:
        deadline = time.monotonic() + _START_DEADLINE_SECS
        while not server.started:
            if failure or not thread.is_alive():
                raise RuntimeError(f"the server failed to start: {failure[:1]!r}")
            if time.monotonic() > deadline:
                raise RuntimeError("the server did not start in time")
            time.sleep(0.01)  # polled against the deadline above
        yield ServedApp(host="127.0.0.1", port=port, loop=loops[0])
    finally:
        server.should_exit = True
        thread.join(_STOP_DEADLINE_SECS)
        if thread.is_alive():
            server.force_exit = True
            thread.join(_STOP_DEADLINE_SECS)
        sock.close()


class BaselineApp:
    """The baseline server app: a fixed job for get, a settable fixed list body, 204 for create.

    It checks nothing and keeps nothing, so the emulator's figures divided by its figures are what
    the emulator's own work (auth, validation, store, serialisation, logging) costs.
    """

    def __init__(self, job_body: bytes) -> None:
        self.job_body = job_body
        self.list_body = b'{"jobs":[]}'
        self.requests = 0
        self.app = Starlette(
            routes=[
                Route("/v1/jobs", self._jobs, methods=["GET", "POST"]),
                Route("/v1/jobs/{job_id}", self._job, methods=["GET"]),
                Route("/{path:path}", self._any, methods=["GET", "POST", "PUT", "DELETE"]),
            ]
        )

    async def _jobs(self, request: Request) -> Response:
        self.requests += 1
        if request.method == "POST":
            await request.body()
            return Response(status_code=204)
        return Response(self.list_body, media_type="application/json")

    async def _job(self, request: Request) -> Response:
        self.requests += 1
        return Response(self.job_body, media_type="application/json")

    async def _any(self, request: Request) -> Response:
        # Anything else (the contract baseline sends every path of the spec): a fixed JSON body.
        self.requests += 1
        await request.body()
        return Response(self.job_body, media_type="application/json")
