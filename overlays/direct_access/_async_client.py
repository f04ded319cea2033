"""`AsyncClient`: the Direct Access API for asyncio code, and the driver that awaits its flows."""

from __future__ import annotations

import asyncio
import logging
import time
import uuid
from collections.abc import Awaitable, Callable, Mapping
from types import TracebackType
from typing import Any, Self, TypeVar

import httpx

from direct_access._base_client import _TIME_LIMIT, DEFAULT_RETRY
from direct_access._flow import Blocking, Flow, Send, Sleep, Step, run_async
from direct_access._retry import RetryPolicy
from direct_access._run import RunFlows, RunResult
from direct_access._settings import Settings
from direct_access._strict import StrictMode
from direct_access._transport import DEFAULT_MAX_ANSWER_BYTES, attempt_deadline
from direct_access.storage import PreparedStorage, S3Storage
from direct_access_api.models import Backend, BackendLanes, CreateJobStorage, Job, LogLevel
from direct_access_api.types import Response
from direct_access_spec import operation

__all__ = ["AsyncClient"]

_log = logging.getLogger("direct_access")
T = TypeVar("T")


class AsyncClient(RunFlows):
    """The Direct Access API for asyncio code: the methods of `Client`, awaitable."""

    def __init__(
        self,
        settings: Settings | None = None,
        *,
        strict: bool | StrictMode = False,
        allow_drift: bool = False,
        retry: RetryPolicy | None = DEFAULT_RETRY,
        timeout: float | httpx.Timeout = 30.0,
        transport: httpx.AsyncBaseTransport | None = None,
        auth: httpx.Auth | None = None,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], Awaitable[object]] = asyncio.sleep,
        max_answer_bytes: int = DEFAULT_MAX_ANSWER_BYTES,
    ) -> None:
        super().__init__(
            settings,
            strict=strict,
            allow_drift=allow_drift,
            retry=retry,
            timeout=timeout,
            transport=transport,
            auth=auth,
            clock=clock,
            asynchronous=True,
            max_answer_bytes=max_answer_bytes,
        )
        self._sleep = sleep
        # Shielded cleanups keep running when their caller is cancelled: held here until done.
        self._cleanups: set[asyncio.Task[Any]] = set()
        # The tasks inside `run`, cancelled by `aclose` so that none is left holding a lane.
        self._runs: set[asyncio.Task[Any]] = set()

    @classmethod
    def from_env(cls, **options: Any) -> AsyncClient:
        """A client configured from the ``DIRECT_ACCESS_*`` environment variables."""
        return cls(Settings.from_env(), **options)

    async def __aenter__(self) -> Self:
        await self._api.__aenter__()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        """Close the connections, once no job is left holding a lane: `run` calls still in
        flight (in other tasks) are cancelled, and their jobs cancelled and deleted, first."""
        current = asyncio.current_task()
        pending = {task for task in self._runs if task is not current and not task.done()}
        if pending:
            _log.warning("closing with %d runs in flight: cancelling them first", len(pending))
            for task in pending:
                task.cancel()
            await asyncio.wait(pending)
        while self._cleanups:
            await asyncio.wait(set(self._cleanups))
        await self._api.get_async_httpx_client().aclose()

    async def _send(self, step: Send) -> Response[Any]:
        op = operation(step.operation_id)
        state = step.state or self._retry_state(step.operation_id)
        limit = _TIME_LIMIT.set(step.time_limit)
        try:
            async for attempt in state.retry_context():
                with attempt, attempt_deadline(self._attempt_limit(state, step.time_limit)):
                    state.attempt += 1
                    try:
                        response: Response[Any] = await step.module.asyncio_detailed(
                            *step.args, client=self._api, **step.kwargs
                        )
                    except Exception as exc:
                        translated = self._translate(exc, op)
                        state.note(translated)
                        if translated is exc:
                            raise
                        raise translated from self._cause(exc)
                    return response
        finally:
            _TIME_LIMIT.reset(limit)
        raise AssertionError("unreachable: stamina raises or returns")  # pragma: no cover

    async def _execute(self, step: Step) -> Any:
        if isinstance(step, Send):
            return await self._send(step)
        if isinstance(step, Blocking):
            return await self._in_thread(step)
        if isinstance(step, Sleep):
            return await self._sleep(step.seconds)
        task = asyncio.ensure_future(run_async(step.flow, self._execute))
        self._cleanups.add(task)
        task.add_done_callback(self._cleanups.discard)
        return await asyncio.shield(task)

    @staticmethod
    async def _in_thread(step: Blocking) -> Any:
        """``step`` in a worker thread. A thread cannot be stopped: when the caller is cancelled,
        the call is still awaited to its end before the cancellation goes on, so that the
        cleanup that follows sees what it wrote (an upload landing after the objects were
        removed would be left behind)."""
        call = asyncio.ensure_future(asyncio.to_thread(step.function, *step.args, **step.kwargs))
        try:
            return await asyncio.shield(call)
        except asyncio.CancelledError:
            await asyncio.wait({call})
            if not call.cancelled():
                call.exception()  # retrieved: the cancellation is what goes on
            raise

    async def _do(self, flow: Flow[T]) -> T:
        return await run_async(flow, self._execute)

    # Jobs

    async def submit(
        self,
        *,
        backend: str,
        program_id: str,
        storage: CreateJobStorage | PreparedStorage | Mapping[str, Any],
        timeout_secs: int,
        log_level: LogLevel | str | None = None,
        job_id: str | None = None,
        **fields: Any,
    ) -> str:
        """`Client.submit`, awaitable."""
        body = self._create_body(
            job_id=job_id or str(uuid.uuid4()),
            backend=backend,
            program_id=program_id,
            storage=storage,
            timeout_secs=timeout_secs,
            log_level=log_level,
            fields=fields,
        )
        return await self._do(self._submit(body))

    async def list_jobs(self) -> list[Job]:
        """`Client.list_jobs`, awaitable."""
        return await self._do(self._list_jobs())

    async def get_job(self, job_id: str) -> Job:
        """`Client.get_job`, awaitable."""
        return await self._do(self._get_job(job_id))

    async def cancel_job(self, job_id: str) -> None:
        """`Client.cancel_job`, awaitable."""
        await self._do(self._cancel(job_id))

    async def delete_job(self, job_id: str) -> None:
        """`Client.delete_job`, awaitable."""
        await self._do(self._delete(job_id))

    async def wait(
        self,
        job_id: str,
        *,
        timeout: float,
        poll_interval: float = 1.0,
        on_status: Callable[[Job], object] | None = None,
        until_metrics: bool = False,
    ) -> Job:
        """`Client.wait`, awaitable."""
        return await self._do(
            self._wait(
                job_id,
                timeout=timeout,
                poll_interval=poll_interval,
                on_status=on_status,
                until_metrics=until_metrics,
            )
        )

    async def run(
        self,
        backend: str,
        program_id: str,
        params: Mapping[str, Any],
        *,
        storage: S3Storage,
        timeout_secs: int,
        wait_timeout: float | None = None,
        log_level: LogLevel | str | None = None,
        poll_interval: float = 1.0,
        on_status: Callable[[Job], object] | None = None,
        job_id: str | None = None,
        keep_objects: bool = False,
    ) -> RunResult:
        """`Client.run`, awaitable; cancelling the task cancels and deletes the job (shielded,
        so the cleanup completes, and `aclose` waits for it). Storage calls run in a worker
        thread (boto3 blocks)."""
        task = asyncio.current_task()
        if task is not None:
            self._runs.add(task)
        try:
            return await self._do(
                self._run(
                    backend,
                    program_id,
                    params,
                    storage=storage,
                    timeout_secs=timeout_secs,
                    wait_timeout=wait_timeout,
                    log_level=log_level,
                    poll_interval=poll_interval,
                    on_status=on_status,
                    job_id=job_id,
                    keep_objects=keep_objects,
                )
            )
        finally:
            if task is not None:
                self._runs.discard(task)

    # Backends

    async def list_backends(self) -> list[Backend]:
        """`Client.list_backends`, awaitable."""
        return await self._do(self._list_backends())

    async def get_backend(self, name: str) -> Backend:
        """`Client.get_backend`, awaitable."""
        return await self._do(self._get_backend(name))

    async def get_backend_configuration(self, name: str) -> dict[str, Any]:
        """`Client.get_backend_configuration`, awaitable."""
        return await self._do(self._get_backend_configuration(name))

    async def get_backend_properties(self, name: str) -> dict[str, Any]:
        """`Client.get_backend_properties`, awaitable."""
        return await self._do(self._get_backend_properties(name))

    async def get_backend_defaults(self, name: str) -> dict[str, Any]:
        """`Client.get_backend_defaults`, awaitable."""
        return await self._do(self._get_backend_defaults(name))

    async def get_backend_lanes(self, name: str) -> BackendLanes:
        """`Client.get_backend_lanes`, awaitable."""
        return await self._do(self._get_backend_lanes(name))

    # Version

    async def get_version(self) -> str:
        """`Client.get_version`, awaitable."""
        return await self._do(self._get_version())

    async def list_versions(self) -> list[str]:
        """`Client.list_versions`, awaitable."""
        return await self._do(self._list_versions())
