"""The API's handlers, one per operationId (plus IAM's token endpoint), over `JobService`.

Each takes the request and its `FaultDraw` and answers a 2xx; every refusal is raised (an
`ApiError`, or a core `DomainError` the app maps), so that the route knows the operation
succeeded when a handler returns. Starting and stopping jobs is the service's business.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from types import MappingProxyType

from starlette.requests import Request
from starlette.responses import Response

from direct_access_emulator.backend_documents import (
    backend_configuration,
    backend_lanes,
    backend_properties,
    backend_summary,
)
from direct_access_emulator.config import BackendConfig, EmulatorConfig
from direct_access_emulator.core import JobService
from direct_access_emulator.faults import FaultDraw
from direct_access_emulator.http_errors import ApiError, JsonAnswer
from direct_access_emulator.iam import TokenIssuer, authenticate, token_answer
from direct_access_emulator.job_documents import JobDocuments
from direct_access_emulator.request_bodies import parse_create_job, read_body

__all__ = ["API_VERSIONS", "SERVICE_VERSION", "Handler", "Handlers"]

SERVICE_VERSION = "0.1.0-emulator"
API_VERSIONS = ("2025-08-15",)

#: A handler: the request and its faults, to the answer of a success.
Handler = Callable[[Request, FaultDraw], Awaitable[Response]]

_JSON = "application/json"


class Handlers:
    """The handlers, sharing the configuration, the service and the token issuer."""

    def __init__(
        self,
        config: EmulatorConfig,
        service: JobService,
        tokens: TokenIssuer,
        *,
        settle: Callable[[str, str], Awaitable[None]],
    ) -> None:
        self.config = config
        self.service = service
        self.tokens = tokens
        # Before a delete: waits for an ended job's last writes (`JobRunner.settle`).
        self.settle = settle
        self.documents = JobDocuments(config.drift, clock=service.clock)

    def by_operation(self) -> Mapping[str, Handler]:
        """Each handler under the operationId it answers."""
        return MappingProxyType(
            {
                "cancel_job": self.cancel_job,
                "create_job": self.create_job,
                "delete_job": self.delete_job,
                "get_backend": self.get_backend,
                "get_backend_configuration": self.get_backend_configuration,
                "get_backend_defaults": self.get_backend_defaults,
                "get_backend_lanes": self.get_backend_lanes,
                "get_backend_properties": self.get_backend_properties,
                "get_job": self.get_job,
                "get_version": self.get_version,
                "list_backends": self.list_backends,
                "list_jobs": self.list_jobs,
                "list_versions": self.list_versions,
            }
        )

    def _instance(self, request: Request) -> str:
        return authenticate(self.tokens, request.headers)

    def _backend(self, request: Request) -> BackendConfig:
        return self.service.backend(str(request.path_params["backend_name"]))

    # -- jobs

    async def create_job(self, request: Request, faults: FaultDraw) -> Response:
        instance = self._instance(request)
        command = parse_create_job(await read_body(request, self.config.server))
        self.service.create(
            instance, command, reserved=faults.reserved_423, lanes_full=faults.lanes_full_429
        )
        return Response(status_code=204)

    async def list_jobs(self, request: Request, faults: FaultDraw) -> Response:
        instance = self._instance(request)
        body = self.documents.listing(instance, self.service.list(instance))
        return Response(body, media_type=_JSON)

    async def get_job(self, request: Request, faults: FaultDraw) -> Response:
        instance = self._instance(request)
        job = self.service.get(instance, str(request.path_params["job_id"]))
        return Response(self.documents.job(job), media_type=_JSON)

    async def delete_job(self, request: Request, faults: FaultDraw) -> Response:
        instance = self._instance(request)
        job_id = str(request.path_params["job_id"])
        await self.settle(instance, job_id)
        self.service.delete(instance, job_id)
        return Response(status_code=204)

    async def cancel_job(self, request: Request, faults: FaultDraw) -> Response:
        instance = self._instance(request)
        self.service.cancel(instance, str(request.path_params["job_id"]))
        return Response(status_code=204)

    # -- backends

    def _summary(self, backend: BackendConfig) -> dict[str, object]:
        return backend_summary(backend, locked=self.service.reserved(backend.name))

    async def list_backends(self, request: Request, faults: FaultDraw) -> Response:
        self._instance(request)
        return JsonAnswer({"backends": [self._summary(b) for b in self.config.backends]})

    async def get_backend(self, request: Request, faults: FaultDraw) -> Response:
        self._instance(request)
        return JsonAnswer(self._summary(self._backend(request)))

    async def get_backend_configuration(self, request: Request, faults: FaultDraw) -> Response:
        self._instance(request)
        return JsonAnswer(backend_configuration(self._backend(request)))

    async def get_backend_properties(self, request: Request, faults: FaultDraw) -> Response:
        self._instance(request)
        return JsonAnswer(backend_properties(self._backend(request)))

    async def get_backend_defaults(self, request: Request, faults: FaultDraw) -> Response:
        self._instance(request)
        backend = self._backend(request)
        if backend.defaults is None:
            raise ApiError(404, "1216", f"Backend {backend.name!r} has no pulse defaults.")
        return JsonAnswer(dict(backend.defaults))

    async def get_backend_lanes(self, request: Request, faults: FaultDraw) -> Response:
        self._instance(request)
        return JsonAnswer(backend_lanes(self._backend(request)))

    # -- version and IAM

    async def get_version(self, request: Request, faults: FaultDraw) -> Response:
        return JsonAnswer({"version": SERVICE_VERSION})

    async def list_versions(self, request: Request, faults: FaultDraw) -> Response:
        return JsonAnswer({"versions": list(API_VERSIONS)})

    async def iam_token(self, request: Request, faults: FaultDraw) -> Response:
        """IBM Cloud IAM's token endpoint; its refusals are answers (400), not raised."""
        body = await read_body(request, self.config.server)
        return token_answer(self.tokens, request, body)
