"""The aer executor: jobs run on Qiskit Aer in warm worker processes, as a backend would run them.

Input is read through the presigned GET URL, simulated on the backend's fake device (with its
noise model unless the backend says ``noise = false``) by a `WorkerPool`, and the encoded
`PrimitiveResult` and the log lines are written through the PUT URLs. Cancel and timeout cancel
`execute`, which ends the worker running the simulation. Needs the qiskit extra.
"""

from __future__ import annotations

from direct_access_emulator import reasons
from direct_access_emulator.config import EmulatorConfig
from direct_access_emulator.executor import (
    ExecutionFailed,
    ExecutionRequest,
    ExecutionResult,
    StorageExecutor,
)
from direct_access_emulator.qiskit_runner import JobInputError
from direct_access_emulator.workers import JobCancelled, WorkerCrashed, WorkerError, WorkerPool

__all__ = ["AerExecutor"]


class AerExecutor(StorageExecutor):
    """Runs sampler and estimator jobs on Qiskit Aer, one worker process per running job."""

    name = "aer"

    def __init__(self, config: EmulatorConfig) -> None:
        super().__init__(config.execution)
        # The device and noise of each backend; the config guarantees every backend has one.
        self._devices = {b.name: (b.device or b.name, b.noise) for b in config.backends}
        self._pool: WorkerPool | None = None

    @property
    def pool(self) -> WorkerPool | None:
        """The worker pool, once `start` has run."""
        return self._pool

    async def start(self) -> None:
        """Start the workers and wait until they are warm: each imports Qiskit, builds the
        backends' simulators and runs a small job on each, so that the first job runs as fast
        as later ones. The app's start-up waits for this: ready means warm."""
        if self._pool is None:
            warm = sorted(set(self._devices.values()))
            self._pool = WorkerPool(self.config.workers, warm_devices=warm)
            await self._pool.ready()

    async def aclose(self) -> None:
        try:
            if self._pool is not None:
                await self._pool.close()
        finally:
            await super().aclose()

    async def execute(self, request: ExecutionRequest) -> ExecutionResult:
        """Run the job in a worker; its log gets the worker's lines, the runner writes it."""
        device, noise = self._devices[request.backend]
        log = request.log
        mode = "with its noise model" if noise else "ideally"
        log.add(
            "info",
            f"job {request.job_id}: {request.program_id} on {request.backend} "
            f"(device {device}, simulated {mode})",
        )
        self._check_request(request)
        raw = await self._get_input(request.input_url)
        log.add("debug", f"input: {len(raw)} bytes")
        try:
            text = raw.decode("utf-8")
        except UnicodeDecodeError:
            raise ExecutionFailed(reasons.input_not_json("it is not UTF-8 text")) from None
        await self.start()
        assert self._pool is not None  # noqa: S101 - start() made it
        try:
            outcome = await self._pool.run(
                request.job_id,
                request.program_id,
                text,
                device=device,
                noise=noise,
                log_level=request.log_level,
            )
        except JobInputError as error:
            raise ExecutionFailed(
                reasons.input_not_runnable(request.backend, error.reason)
            ) from None
        except (WorkerCrashed, JobCancelled) as error:
            raise ExecutionFailed(reasons.simulation_crashed(str(error))) from None
        except WorkerError as error:
            raise ExecutionFailed(reasons.simulation_failed(str(error))) from None
        log.lines.extend(outcome.log_lines)
        await self._put(request.results_url, "results", outcome.result.encode(), "application/json")
        return ExecutionResult(quantum_nanoseconds=outcome.quantum_nanoseconds)
