"""`direct_access.qiskit`: Qiskit's V2 primitives encode pubs, run through `Client.run`, decode.

The service is stood in for by an object with `Client.run`'s signature that runs each job with
`run_primitive` in process, as the emulator's Aer executor does behind HTTP and storage.
"""

from __future__ import annotations

import datetime
import json
import math
import threading
import time
from collections.abc import Callable, Mapping
from typing import Any, cast

import numpy as np
import pytest
from qiskit import QuantumCircuit  # type: ignore[import-untyped,unused-ignore]
from qiskit.primitives import (  # type: ignore[import-untyped,unused-ignore]
    BaseEstimatorV2,
    BaseSamplerV2,
    PrimitiveResult,
)
from qiskit.providers import JobStatus as QiskitJobStatus  # type: ignore[import-untyped,unused-ignore]
from qiskit.quantum_info import SparsePauliOp  # type: ignore[import-untyped,unused-ignore]
from qiskit_ibm_runtime import RuntimeEncoder  # type: ignore[import-untyped,unused-ignore]

from direct_access import Client, DirectAccessError, Job, JobFailedError, JobStatus, RunResult
from direct_access.qiskit import Estimator, Sampler, decode_result
from direct_access.storage import S3Storage
from direct_access_emulator.qiskit_runner import JobInputError, run_primitive

# Never contacted: the stand-in service takes the input straight from `run`'s arguments.
STORAGE = S3Storage(
    endpoint="http://127.0.0.1:1",
    bucket="jobs",
    region="local",
    access_key_id="unused",
    secret_access_key="unused",  # noqa: S106 - not a credential, nothing is signed with it
)


class InProcessService:
    """`Client.run` and `cancel_job`, running each job with `run_primitive` on fake_manila."""

    def __init__(self, *, hold: bool = False) -> None:
        self.runs: list[dict[str, Any]] = []
        self.job_ids: list[str] = []
        self.cancelled: list[str] = []
        self._hold = hold
        self._released = threading.Event()

    def run(
        self,
        backend: str,
        program_id: str,
        params: Mapping[str, Any],
        *,
        storage: S3Storage,
        timeout_secs: int,
        wait_timeout: float | None = None,
        log_level: str | None = None,
        poll_interval: float = 1.0,
        on_status: Callable[[Job], object] | None = None,
        job_id: str | None = None,
    ) -> RunResult:
        # What the client uploads must be plain JSON (json.dumps without an encoder).
        text = json.dumps(params)
        assert job_id is not None, "the primitive chooses the job id up front"
        self.job_ids.append(job_id)
        self.runs.append(
            {"backend": backend, "program_id": program_id, "params": json.loads(text)}
            | {"storage": storage, "timeout_secs": timeout_secs, "log_level": log_level}
        )
        if on_status is not None:
            on_status(self._job(job_id, program_id, JobStatus.RUNNING))
        if self._hold:
            # A job that runs until cancelled, observed by polling like the client does.
            assert self._released.wait(timeout=10), "the job was never cancelled"
            job = self._job(job_id, program_id, JobStatus.CANCELLED)
            if on_status is not None:
                on_status(job)
            raise JobFailedError(job)
        try:
            outcome = run_primitive(
                program_id, text, device="fake_manila", noise=False, log_level=log_level or "info"
            )
        except JobInputError as error:
            job = self._job(job_id, program_id, JobStatus.FAILED, reason=error.reason)
            if on_status is not None:
                on_status(job)
            raise JobFailedError(job) from None
        job = self._job(job_id, program_id, JobStatus.COMPLETED)
        if on_status is not None:
            on_status(job)
        return RunResult(
            job=job,
            result=json.loads(outcome.result),
            logs="\n".join(outcome.log_lines),
            result_text=outcome.result,
        )

    def cancel_job(self, job_id: str) -> None:
        self.cancelled.append(job_id)
        self._released.set()

    @staticmethod
    def _job(job_id: str, program_id: str, status: JobStatus, reason: str | None = None) -> Job:
        job = Job(
            backend="fake_manila",
            created_time=datetime.datetime.now(datetime.UTC),
            id=job_id,
            program_id=program_id,
            status=status,
        )
        if reason is not None:
            job.reason_message = reason
            job.reason_code = 1517
        return job


def as_client(service: InProcessService) -> Client:
    """The stand-in, typed as the client it replaces."""
    return cast(Client, service)


def bell(*, measure: bool = True) -> QuantumCircuit:
    """A Bell pair in fake_manila's basis on qubits 0 and 1."""
    circuit = QuantumCircuit(2)
    circuit.rz(math.pi / 2, 0)
    circuit.sx(0)
    circuit.rz(math.pi / 2, 0)
    circuit.cx(0, 1)
    if measure:
        circuit.measure_all()
    return circuit


def test_sampler_is_a_qiskit_sampler_and_returns_counts() -> None:
    """Sampler implements BaseSamplerV2; its job's result() is the decoded PrimitiveResult."""
    service = InProcessService()
    sampler = Sampler(
        as_client(service),
        "fake_manila",
        storage=STORAGE,
        options={"default_shots": 1000, "simulator": {"seed_simulator": 42}},
        timeout_secs=60,
        log_level="debug",
    )
    assert isinstance(sampler, BaseSamplerV2)
    job = sampler.run([bell()])
    result = job.result()
    assert isinstance(result, PrimitiveResult)
    counts = result[0].data.meas.get_counts()
    assert set(counts) == {"00", "11"}
    assert sum(counts.values()) == 1000
    assert job.done()
    assert job.status() is QiskitJobStatus.DONE
    assert job.in_final_state()
    assert service.job_ids == [job.job_id()]
    (sent,) = service.runs
    assert sent["backend"] == "fake_manila"
    assert sent["program_id"] == "sampler"
    assert sent["timeout_secs"] == 60
    assert sent["log_level"] == "debug"
    assert sent["storage"] is STORAGE
    assert sent["params"]["version"] == 2
    assert sent["params"]["support_qiskit"] is True
    assert sent["params"]["options"] == {
        "default_shots": 1000,
        "simulator": {"seed_simulator": 42},
    }
    assert sent["params"]["pubs"][0][0]["__type__"] == "QuantumCircuit"
    assert "shots" not in sent["params"]


def test_sampler_same_seed_same_counts_and_run_shots_win() -> None:
    """A seeded sampler gives the same counts twice; run(shots=) is sent and honoured."""
    sampler = Sampler(
        as_client(InProcessService()),
        "fake_manila",
        storage=STORAGE,
        options={"simulator": {"seed_simulator": 7}},
    )
    first = sampler.run([bell()], shots=300).result()[0].data.meas
    second = sampler.run([bell()], shots=300).result()[0].data.meas
    assert first.num_shots == 300
    assert first.get_counts() == second.get_counts()


def test_estimator_is_a_qiskit_estimator_and_returns_expectation_values() -> None:
    """Estimator implements BaseEstimatorV2; ZZ and XX of a Bell pair come back within precision."""
    service = InProcessService()
    estimator = Estimator(as_client(service), "fake_manila", storage=STORAGE)
    assert isinstance(estimator, BaseEstimatorV2)
    observables = [SparsePauliOp("ZZ"), SparsePauliOp("XX")]
    result = estimator.run([(bell(measure=False), observables)], precision=0.01).result()
    pub = result[0]
    assert np.allclose(pub.data.stds, 0.01)
    assert np.all(np.abs(pub.data.evs - 1.0) < 5 * 0.01)
    (sent,) = service.runs
    assert sent["program_id"] == "estimator"
    assert sent["params"]["precision"] == 0.01


def test_failed_job_raises_the_service_reason_from_result() -> None:
    """A non-ISA circuit fails on the service; result() raises JobFailedError with the reason."""
    circuit = QuantumCircuit(2)
    circuit.h(0)
    circuit.measure_all()
    job = Sampler(as_client(InProcessService()), "fake_manila", storage=STORAGE).run([circuit])
    with pytest.raises(JobFailedError) as caught:
        job.result()
    assert caught.value.reason_message is not None
    assert "gate 'h' on qubit 0 is not in fake_manila's basis" in caught.value.reason_message
    assert job.status() is QiskitJobStatus.ERROR
    assert job.in_final_state()


def test_cancel_cancels_the_service_job() -> None:
    """cancel() cancels the Direct Access job; the job ends CANCELLED and result() raises."""
    service = InProcessService(hold=True)
    job = Sampler(as_client(service), "fake_manila", storage=STORAGE).run([bell()])
    # run() submits in the background; the job is running once the service has reported it.
    deadline = time.monotonic() + 10
    while not job.running():
        assert time.monotonic() < deadline, "the job was never submitted"
        time.sleep(0.01)  # polling, bounded by the deadline
    job.cancel()
    with pytest.raises(JobFailedError):
        job.result()
    assert service.cancelled == [job.job_id()]
    assert job.cancelled()


def test_decode_result_accepts_text_and_refuses_other_documents() -> None:
    """decode_result turns the result document into a PrimitiveResult, or says it is not one."""
    service = InProcessService()
    job = Sampler(as_client(service), "fake_manila", storage=STORAGE).run([bell()], shots=5)
    result = job.result()
    text = json.dumps(result, cls=RuntimeEncoder)
    assert decode_result(text)[0].data.meas.num_shots == 5
    with pytest.raises(DirectAccessError, match="not a PrimitiveResult"):
        decode_result({"results": []})
