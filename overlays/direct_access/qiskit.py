"""Qiskit on a Direct Access backend: `get_backend` to transpile for, `Sampler`, `Estimator`.

`get_backend` builds a Qiskit `BackendV2` from the configuration and properties the service
serves (its `Target` has the device's gates, coupling map, errors and durations), with
qiskit-ibm-runtime's own conversion, so `generate_preset_pass_manager(backend=...)` lays circuits
out knowing the errors. The primitives run unchanged Qiskit code: pubs are encoded as Qiskit
Runtime V2 parameters (QPY inside, `RuntimeEncoder`), run with storage through `Client.run`, and
`job.result()` is the decoded `PrimitiveResult`. Needs
``pip install 'direct-access-toolkit[qiskit,storage]'``; the core client does not import Qiskit.
"""

from __future__ import annotations

import contextlib
import copy
import json
import threading
import uuid
from collections.abc import Callable, Iterable, Mapping
from concurrent.futures import Future
from typing import Any, NoReturn

from qiskit.primitives import (  # type: ignore[import-untyped,unused-ignore]
    BaseEstimatorV2,
    BasePrimitiveJob,
    BaseSamplerV2,
    PrimitiveResult,
)
from qiskit.primitives.containers.estimator_pub import (  # type: ignore[import-untyped,unused-ignore]
    EstimatorPub,
)
from qiskit.primitives.containers.sampler_pub import (  # type: ignore[import-untyped,unused-ignore]
    SamplerPub,
)
from qiskit.providers import BackendV2, Options  # type: ignore[import-untyped,unused-ignore]
from qiskit.providers import JobStatus as QiskitJobStatus  # type: ignore[import-untyped,unused-ignore]
from qiskit.transpiler import Target  # type: ignore[import-untyped,unused-ignore]
from qiskit_ibm_runtime import (  # type: ignore[import-untyped,unused-ignore]
    RuntimeDecoder,
    RuntimeEncoder,
)
from qiskit_ibm_runtime.models import (  # type: ignore[import-untyped,unused-ignore]
    BackendProperties,
    QasmBackendConfiguration,
)
from qiskit_ibm_runtime.utils.backend_converter import (  # type: ignore[import-untyped,unused-ignore]
    convert_to_target,
)
from qiskit_ibm_runtime.utils.backend_decoder import (  # type: ignore[import-untyped,unused-ignore]
    configuration_from_server_data,
    properties_from_server_data,
)

from direct_access._client import Client, RunResult
from direct_access._errors import (
    ConflictError,
    DirectAccessError,
    JobFailedError,
    NotFoundError,
    StorageError,
)
from direct_access.storage import S3Storage
from direct_access_api.models import Job, JobStatus, LogLevel

__all__ = [
    "DirectAccessBackend",
    "DirectAccessPrimitiveJob",
    "Estimator",
    "Sampler",
    "decode_result",
    "encode_params",
    "get_backend",
]

#: How long `DirectAccessPrimitiveJob.logs` waits for the logs of a job that did not complete.
_FAILED_LOGS_TIMEOUT_SECS = 5.0

# What the service's job states mean to Qiskit code that inspects a job.
_QISKIT_STATUS = {
    JobStatus.RUNNING: QiskitJobStatus.RUNNING,
    JobStatus.COMPLETED: QiskitJobStatus.DONE,
    JobStatus.CANCELLED: QiskitJobStatus.CANCELLED,
    JobStatus.FAILED: QiskitJobStatus.ERROR,
}


def encode_params(params: Mapping[str, Any]) -> dict[str, Any]:
    """V2 primitive parameters with Qiskit objects as the JSON document the service reads."""
    document: dict[str, Any] = json.loads(json.dumps(params, cls=RuntimeEncoder))
    return document


def decode_result(document: Mapping[str, Any] | str) -> PrimitiveResult:
    """A result document (parsed or as text) back into Qiskit's `PrimitiveResult`."""
    text = document if isinstance(document, str) else json.dumps(document)
    result = json.loads(text, cls=RuntimeDecoder)
    if not isinstance(result, PrimitiveResult):
        raise DirectAccessError(f"the job's result is not a PrimitiveResult: {type(result)}")
    return result


class DirectAccessBackend(BackendV2):  # type: ignore[misc,unused-ignore]
    """A Direct Access backend as a Qiskit `BackendV2`: a `Target` to transpile for.

    Built from the backend's served configuration and properties by qiskit-ibm-runtime's
    conversion (gates, coupling map, gate and readout errors, durations, control flow). ``name``
    is the Direct Access backend name that jobs are submitted to. Jobs run through `Sampler` and
    `Estimator`, which accept this object as their backend; `run` is not offered.
    """

    def __init__(
        self,
        name: str,
        configuration: Mapping[str, Any],
        properties: Mapping[str, Any] | None = None,
    ) -> None:
        # The decoders change the documents they read: give them copies.
        decoded = configuration_from_server_data(copy.deepcopy(dict(configuration)))
        if decoded is None:
            raise DirectAccessError(
                f"backend {name!r}: its configuration is not a Qiskit backend configuration "
                "(qiskit-ibm-runtime's decoder refused it; its debug log says why)"
            )
        self._configuration: QasmBackendConfiguration = decoded
        self._properties: BackendProperties | None = (
            None
            if properties is None
            else properties_from_server_data(copy.deepcopy(dict(properties)))
        )
        super().__init__(
            name=name,
            description=getattr(decoded, "description", None),
            online_date=getattr(decoded, "online_date", None),
            backend_version=decoded.backend_version,
        )
        self._target: Target = convert_to_target(
            configuration=self._configuration, properties=self._properties
        )

    @classmethod
    def _default_options(cls) -> Options:
        return Options()

    @property
    def target(self) -> Target:
        """The backend's Qiskit target: what `generate_preset_pass_manager` transpiles for."""
        return self._target

    @property
    def max_circuits(self) -> None:
        """No fixed limit is published."""
        return None

    def configuration(self) -> QasmBackendConfiguration:
        """The decoded configuration document."""
        return self._configuration

    def properties(self) -> BackendProperties | None:
        """The decoded properties (calibration) document, or None when it was not served."""
        return self._properties

    def run(self, run_input: Any, **options: Any) -> NoReturn:
        """Not offered: run circuits with `Sampler` or `Estimator` on this backend."""
        raise DirectAccessError(
            "a Direct Access backend runs primitive jobs: use direct_access.qiskit.Sampler or "
            "Estimator with this backend"
        )


def get_backend(client: Client, name: str) -> DirectAccessBackend:
    """The Direct Access backend ``name`` as a Qiskit backend, from the documents it serves.

    Reads ``/configuration`` and ``/properties``; a backend that serves no properties (404)
    gives a target without error rates.
    """
    configuration = client.get_backend_configuration(name)
    try:
        properties: dict[str, Any] | None = client.get_backend_properties(name)
    except NotFoundError:
        properties = None
    return DirectAccessBackend(name, configuration, properties)


class DirectAccessPrimitiveJob(BasePrimitiveJob):  # type: ignore[misc,unused-ignore]
    """A primitive job running through `Client.run` in a background thread.

    ``job_id()`` is the Direct Access job id, chosen before the job is submitted. `result`
    blocks until the job ends and raises the client's errors (`direct_access.JobFailedError`
    with the service's reason, ...); `error_message`, `logs` and `usage` also wait for the end.
    """

    def __init__(
        self,
        client: Client,
        job_id: str,
        submit: Callable[[Callable[[Job], object]], RunResult],
        *,
        storage: S3Storage | None = None,
    ) -> None:
        self._client = client
        self._storage = storage
        self._future: Future[PrimitiveResult] = Future()
        # The job document as it ended (None if it never got there) and the logs read with it.
        self._final: Job | None = None
        self._logs: str | None = None
        self._lock = threading.Lock()
        self._status: QiskitJobStatus = QiskitJobStatus.INITIALIZING
        self._cancel_requested = False
        self._submitted = False
        super().__init__(job_id)
        self._thread = threading.Thread(
            target=self._run, args=(submit,), name="direct-access-primitive-job", daemon=True
        )
        self._thread.start()

    def job_id(self) -> str:
        """The Direct Access job id."""
        return str(super().job_id())

    def result(self) -> PrimitiveResult:
        """The decoded result, once the job has ended."""
        return self._future.result()

    def error_message(self) -> str | None:
        """Why the job did not complete (the service's reason code, message and solution), or
        None when it completed. Waits for the end."""
        error = self._future.exception()
        return None if error is None else str(error)

    def logs(self) -> str:
        """The job's log text, written by the service for every end (completed, failed,
        cancelled, timed out); empty when it wrote none. Waits for the end."""
        self._future.exception()  # the end, whichever it is
        return self._logs or ""

    def usage(self) -> float | None:
        """Quantum execution time in seconds, as the service reports it (None when it does
        not). Waits for the end."""
        self._future.exception()
        usage = None if self._final is None else self._final.usage
        nanoseconds = getattr(usage, "quantum_nanoseconds", None)
        return nanoseconds / 1e9 if isinstance(nanoseconds, int) else None

    def _read_logs(self) -> str:
        """The logs of a job that did not complete (`Client.run` reads only a completed job's),
        read when its end is seen, before `Client.run` removes its objects."""
        if self._storage is None:
            return ""
        # Logs are optional: the service may have written none.
        with contextlib.suppress(StorageError):
            return self._storage.logs_for(self.job_id(), timeout=_FAILED_LOGS_TIMEOUT_SECS)
        return ""

    def status(self) -> QiskitJobStatus:
        """The job's status in Qiskit's terms (from the last poll)."""
        with self._lock:
            return self._status

    def done(self) -> bool:
        """Whether the job ended successfully (result ready)."""
        return self.status() is QiskitJobStatus.DONE

    def running(self) -> bool:
        """Whether the service reports the job running."""
        return self.status() is QiskitJobStatus.RUNNING

    def cancelled(self) -> bool:
        """Whether the job ended cancelled."""
        return self.status() is QiskitJobStatus.CANCELLED

    def in_final_state(self) -> bool:
        """Whether the job has ended, whichever way."""
        return self._future.done()

    def cancel(self) -> None:
        """Cancel the job on the service (a job that has already ended stays as it is)."""
        with self._lock:
            self._cancel_requested = True
            submitted = self._submitted
        if submitted and not self._future.done():
            # A 409 means it ended before the cancel arrived: nothing left to do.
            with contextlib.suppress(ConflictError):
                self._client.cancel_job(self.job_id())

    def _observe(self, job: Job) -> None:
        with self._lock:
            first = not self._submitted
            self._submitted = True
            self._status = _QISKIT_STATUS.get(job.status, self._status)
            cancel = first and self._cancel_requested and job.status is JobStatus.RUNNING
        if job.status in (JobStatus.FAILED, JobStatus.CANCELLED) and self._logs is None:
            self._logs = self._read_logs()
        if cancel:
            # Requested before the job was known to be submitted: cancel it now.
            self.cancel()

    def _run(self, submit: Callable[[Callable[[Job], object]], RunResult]) -> None:
        try:
            try:
                outcome = submit(self._observe)
            except JobFailedError as failed:
                self._final = failed.job
                raise
            self._final, self._logs = outcome.job, outcome.logs
            # The text as the service wrote it: RuntimeDecoder reads it without a re-encoding.
            result = decode_result(outcome.result_text)
        except BaseException as error:  # handed to the caller of result(), whatever it is
            with self._lock:
                if self._status not in (QiskitJobStatus.CANCELLED, QiskitJobStatus.DONE):
                    self._status = QiskitJobStatus.ERROR
            self._future.set_exception(error)
            return
        with self._lock:
            self._status = QiskitJobStatus.DONE
        self._future.set_result(result)


class _Primitive:
    def __init__(
        self,
        client: Client,
        backend: str | DirectAccessBackend,
        *,
        storage: S3Storage,
        options: Mapping[str, Any] | None = None,
        timeout_secs: int = 300,
        log_level: LogLevel | str | None = None,
        wait_timeout: float | None = None,
        poll_interval: float = 1.0,
    ) -> None:
        self._client = client
        self._backend = backend if isinstance(backend, str) else backend.name
        self._storage = storage
        self.options: dict[str, Any] = dict(options or {})
        self._timeout_secs = timeout_secs
        self._log_level = log_level
        self._wait_timeout = wait_timeout
        self._poll_interval = poll_interval

    @property
    def backend(self) -> str:
        """The Direct Access backend the jobs run on."""
        return self._backend

    def _submit(self, program_id: str, params: dict[str, Any]) -> DirectAccessPrimitiveJob:
        document = encode_params(params)
        job_id = str(uuid.uuid4())

        def submit(observe: Callable[[Job], object]) -> RunResult:
            return self._client.run(
                self._backend,
                program_id,
                document,
                storage=self._storage,
                timeout_secs=self._timeout_secs,
                wait_timeout=self._wait_timeout,
                log_level=self._log_level,
                poll_interval=self._poll_interval,
                on_status=observe,
                job_id=job_id,
            )

        return DirectAccessPrimitiveJob(self._client, job_id, submit, storage=self._storage)


class Sampler(_Primitive, BaseSamplerV2):  # type: ignore[misc,unused-ignore]
    """Qiskit's `BaseSamplerV2` on a Direct Access backend.

    ``backend`` is a backend name or `get_backend`'s object. ``options`` are Qiskit Runtime
    sampler options as a dict, sent as they are, for example
    ``{"default_shots": 1024, "simulator": {"seed_simulator": 42}}``. Circuits must be ISA
    circuits for the backend (``generate_preset_pass_manager(backend=get_backend(...))``).
    """

    def run(self, pubs: Iterable[Any], *, shots: int | None = None) -> DirectAccessPrimitiveJob:
        """Submit the pubs as one sampler job; ``shots`` for pubs that do not set their own."""
        coerced = [SamplerPub.coerce(pub, shots) for pub in pubs]
        params: dict[str, Any] = {
            "pubs": coerced,
            "options": self.options,
            "version": 2,
            "support_qiskit": True,
        }
        if shots is not None:
            params["shots"] = shots
        return self._submit("sampler", params)


class Estimator(_Primitive, BaseEstimatorV2):  # type: ignore[misc,unused-ignore]
    """Qiskit's `BaseEstimatorV2` on a Direct Access backend.

    ``backend`` is a backend name or `get_backend`'s object. ``options`` are Qiskit Runtime
    estimator options as a dict, such as ``{"default_precision": 0.01}``. Observables must match
    the ISA circuit's qubits (``observable.apply_layout(isa_circuit.layout)``).
    """

    def run(
        self, pubs: Iterable[Any], *, precision: float | None = None
    ) -> DirectAccessPrimitiveJob:
        """Submit the pubs as one estimator job; ``precision`` for pubs without their own."""
        coerced = [EstimatorPub.coerce(pub, precision) for pub in pubs]
        params: dict[str, Any] = {
            "pubs": coerced,
            "options": self.options,
            "version": 2,
            "support_qiskit": True,
        }
        if precision is not None:
            params["precision"] = precision
        return self._submit("estimator", params)
