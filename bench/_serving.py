"""One uvicorn set-up for the emulator and for the baseline app, so that only the app differs.

It is the emulator's own (`direct_access_emulator.server.serve_asgi`: h11, asyncio loop, a socket
bound to port 0 with ``IPPROTO_TCP`` so that Nagle is off, no access log), and hands back the
server's event loop, in which `bench._profiling` can switch a profiler on. The baseline is the
least an ASGI app can do on that server: Starlette routes that answer fixed, pre-serialised bodies.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route
from starlette.types import ASGIApp

from direct_access_emulator.server import bind_socket, serve_asgi

__all__ = ["BaselineApp", "ServedApp", "serve_app"]


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
    sock = bind_socket("127.0.0.1", 0)
    try:
        with serve_asgi(app, sock, name="bench-server") as served:
            yield ServedApp(host="127.0.0.1", port=served.port, loop=served.loop)
    finally:
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
