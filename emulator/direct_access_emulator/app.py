"""The emulator's HTTP face: a Starlette app mapping the Direct Access API onto `JobService`.

Each path of openapi.yaml is one route holding all its methods, so a wrong method gets 405 with
`Allow`; each operationId is answered by the handler of that name (`handlers.py`). A route draws
the request's faults, applies those that come before the operation, calls the handler with the
draw, then applies those that come after a success (`faults.py`). Every non-2xx answer has the
spec's `ErrorResponse` shape (`http_errors.py`), unexpected exceptions included; the outermost
layer writes the access log (`access_log.py`). Jobs run through the `JobRunner` the service is
given (`runner.py`).
"""

from __future__ import annotations

import contextlib
import re
from collections.abc import AsyncIterator, Mapping
from pathlib import Path

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from direct_access_emulator import faults
from direct_access_emulator.access_log import AccessLog
from direct_access_emulator.config import IAM_TOKEN_OPERATION, EmulatorConfig
from direct_access_emulator.core import JobService, JobStore
from direct_access_emulator.device_backends import with_devices
from direct_access_emulator.executor import Executor, StartableExecutor
from direct_access_emulator.faults import FaultInjector
from direct_access_emulator.handlers import Handler, Handlers
from direct_access_emulator.http_errors import EXCEPTION_HANDLERS
from direct_access_emulator.iam import TokenIssuer
from direct_access_emulator.runner import JobRunner
from direct_access_emulator.shape import ShapeCheckingExecutor
from direct_access_emulator.store import open_store
from direct_access_spec import SpecMismatch, operation, operations

__all__ = ["AppResources", "create_app", "make_executor"]

# IBM Cloud IAM's token endpoint, served beside the API (not in the spec).
_IAM_TOKEN_PATH = "/identity/token"  # noqa: S105 - a path, not a credential


def _starlette_path(template: str) -> str:
    """The spec's path template, its parameter names as Starlette needs them: `{job_id}`."""
    return re.sub(r"\{([^}]+)\}", lambda m: "{" + re.sub(r"\W", "_", m[1]) + "}", template)


def _route(
    injector: FaultInjector, path: str, operations: Mapping[str, tuple[str, Handler]]
) -> Route:
    """One route for all methods of a path; `operations` maps a method to (operationId, handler)."""

    async def endpoint(request: Request) -> Response:
        method = "GET" if request.method == "HEAD" else request.method
        operation_id, handler = operations[method]
        draw = injector.draw(operation_id)
        if draw is faults.NO_FAULTS:  # the usual draw: nothing to apply before or after
            return await handler(request, draw)
        await faults.before(request, draw)
        response = await handler(request, draw)
        # Refusals are raised, so the operation succeeded here (IAM's are answers: its 400s).
        if response.status_code < 400:
            await faults.after(request, draw)
        return response

    return Route(_starlette_path(path), endpoint, methods=list(operations))


def _routes(handlers: Mapping[str, Handler], injector: FaultInjector) -> list[Route]:
    """The spec's paths and methods, each operationId answered by the handler of that name.

    Plus the IAM token endpoint, IBM Cloud IAM's rather than the API's, so not in the spec.
    """
    unanswered = {op.operation_id for op in operations()} - set(handlers)
    if unanswered:
        raise SpecMismatch(
            f"no handler for the spec's operations {sorted(unanswered)}: add one to "
            "emulator/direct_access_emulator/handlers.py (Handlers.by_operation)"
        )
    by_path: dict[str, dict[str, tuple[str, Handler]]] = {}
    for op in operations():
        by_path.setdefault(op.path, {})[op.method] = (op.operation_id, handlers[op.operation_id])
    routes = [_route(injector, path, methods) for path, methods in by_path.items()]
    iam = {"POST": (IAM_TOKEN_OPERATION, handlers[IAM_TOKEN_OPERATION])}
    routes.append(_route(injector, _IAM_TOKEN_PATH, iam))
    return routes


def make_executor(config: EmulatorConfig) -> Executor:
    """The executor the configuration names (the aer one imports Qiskit, so only when named)."""
    if config.execution.executor == "aer":
        from direct_access_emulator.aer import AerExecutor  # noqa: PLC0415 - the qiskit extra

        return AerExecutor(config)
    return ShapeCheckingExecutor(config.execution)


class AppResources:
    """What an app holds open: its running jobs, its executor, its store.

    The app's lifespan closes them on shutdown; a server that never ran the lifespan (it failed
    to start) closes them itself. Only the first `aclose` does anything.
    """

    def __init__(self, runner: JobRunner, executor: Executor, store: JobStore) -> None:
        self._runner = runner
        self._executor = executor
        self._store = store
        self.closed = False

    async def aclose(self) -> None:
        """Stop the jobs, then close the executor and the store."""
        if self.closed:
            return
        self.closed = True
        try:
            await self._runner.aclose()
            await self._executor.aclose()
        finally:
            self._store.close()


def create_app(
    config: EmulatorConfig | None = None,
    *,
    data_dir: Path | None = None,
    executor: Executor | None = None,
) -> Starlette:
    """Build the emulator's ASGI app: jobs in memory, or in SQLite under ``data_dir``.

    ``executor`` replaces the one the configuration names (the app closes it on shutdown).
    Fake devices the configuration names are loaded here; ``app.state.config`` is the result.
    """
    config = with_devices(config or EmulatorConfig())
    store = open_store(data_dir)
    service = JobService(config, store)
    runs = executor or make_executor(config)
    runner = JobRunner(service, runs)
    handlers = Handlers(config, service, TokenIssuer(config), settle=runner.settle)
    resources = AppResources(runner, runs, store)

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        try:
            if isinstance(runs, StartableExecutor):
                # Warm workers now, in the loop that runs the jobs: the first job must not wait.
                await runs.start()
            yield
        finally:
            await resources.aclose()

    answering = {**handlers.by_operation(), IAM_TOKEN_OPERATION: handlers.iam_token}
    routes = _routes(answering, FaultInjector(config.faults))
    app = Starlette(routes=routes, lifespan=lifespan, exception_handlers=dict(EXCEPTION_HANDLERS))
    app.state.service = service
    app.state.config = config
    app.state.executor = runs
    # For a server that never ran the lifespan (it failed to start): closes what it opened.
    app.state.resources = resources
    # Inside Starlette's error middleware, which would re-raise to the server after answering.
    app.add_middleware(
        AccessLog,
        job_routes=[route for route in routes if "job_id" in route.param_convertors],
        create_path=operation("create_job").path,
    )
    return app
