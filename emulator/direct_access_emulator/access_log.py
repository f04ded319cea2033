"""The outermost ASGI layer: one JSON access-log line per request, and a 500 for any exception.

It observes the request as it passes (method, path, status, duration and the job id it names,
from the path or from a create body) and shares nothing with the layers inside it. The line
holds no header, so no token or key; paths and job ids are the caller's own.
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Sequence

from starlette.requests import ClientDisconnect
from starlette.routing import BaseRoute, Match
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from direct_access_emulator.faults import ConnectionDropped
from direct_access_emulator.http_errors import internal_error
from direct_access_emulator.request_bodies import job_id_in

__all__ = ["AccessLog", "access_log"]

access_log = logging.getLogger("direct_access_emulator.access")
_log = logging.getLogger("direct_access_emulator")


class AccessLog:
    """Logs each request of ``app``; ``job_routes`` are the routes with a `job_id` parameter.

    ``create_path`` is where a POST names its job id in the body (the create operation's path).
    """

    def __init__(self, app: ASGIApp, *, job_routes: Sequence[BaseRoute], create_path: str) -> None:
        self.app = app
        self.job_routes = tuple(job_routes)
        self.create_path = create_path

    def _path_job_id(self, scope: Scope) -> str | None:
        for route in self.job_routes:
            match, child = route.matches(scope)
            if match is not Match.NONE:
                return str(child["path_params"]["job_id"])
        return None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        status = 0
        body: bytearray | None = None
        if (
            scope["method"] == "POST"
            and scope["path"] == self.create_path
            and access_log.isEnabledFor(logging.INFO)
        ):
            body = bytearray()

        async def observed_receive() -> Message:
            message = await receive()
            if body is not None and message["type"] == "http.request":
                body.extend(message.get("body", b""))
            return message

        async def send_status(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = int(message["status"])
            await send(message)

        try:
            # A body that is not read for its job id is not observed.
            await self.app(scope, receive if body is None else observed_receive, send_status)
        except ConnectionDropped:
            status = 0
        except ClientDisconnect:
            status = 499
        except Exception:
            _log.exception("unexpected error answering %s %s", scope["method"], scope["path"])
            if status == 0:
                await internal_error()(scope, receive, send_status)
        if not access_log.isEnabledFor(logging.INFO):
            return  # nobody reads the line: no second parse of a create body to name its job
        duration_ms = round((time.perf_counter() - started) * 1000, 3)
        job_id = job_id_in(bytes(body)) if body is not None else self._path_job_id(scope)
        access_log.info(
            json.dumps(
                {
                    "method": scope["method"],
                    "path": scope["path"],
                    "status": status,
                    "duration_ms": duration_ms,
                    "job_id": job_id,
                }
            )
        )
