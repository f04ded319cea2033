"""The aer emulator as the clients people use meet it: IBM's qrmi, used as its docs show.

qrmi (IBM's Direct Access client, Rust with Qiskit primitives) is configured only by environment
variables for a resource of type ``ibm-quantum-system``; it sends OpenQASM 3 on physical qubits
(``$0``) with observables laid out over the whole device, as a real system receives them.
"""

from __future__ import annotations

import datetime
import gc
import statistics
from collections.abc import Iterator
from typing import Any

import numpy as np
import pytest
from qiskit.quantum_info import SparsePauliOp  # type: ignore[import-untyped,unused-ignore]
from qiskit.transpiler import generate_preset_pass_manager  # type: ignore[import-untyped,unused-ignore]

# The documented imports; qrmi re-exports them without declaring them public.
from qrmi.primitives import QRMIService  # type: ignore[attr-defined,unused-ignore]
from qrmi.primitives.ibm import (  # type: ignore[attr-defined,unused-ignore]
    EstimatorV2,
    SamplerV2,
    get_backend,
)

from direct_access import Client, Settings
from direct_access.qiskit import encode_params
from direct_access.storage import S3Storage
from direct_access_emulator.config import BackendConfig, EmulatorConfig, ExecutionConfig
from direct_access_emulator.devices import load_device
from direct_access_emulator.seaweedfs import S3Settings
from direct_access_emulator.testing import RunningEmulator, serve
from tests.integration.qiskit.circuits import bell

IDEAL = "ideal_manila"
NOISY = "fake_manila"


@pytest.fixture(scope="module")
def emulator() -> Iterator[RunningEmulator]:
    """The aer emulator: fake_manila served as two backends, ideal and noisy, one worker."""
    config = EmulatorConfig(
        backends=(
            BackendConfig(name=IDEAL, device="fake_manila", noise=False),
            BackendConfig(name=NOISY, device="fake_manila"),
        ),
        execution=ExecutionConfig(executor="aer", workers=1),
    )
    with serve(config) as running:
        yield running
        gc.collect()  # qrmi's jobs delete themselves when collected: while the emulator is up


@pytest.fixture(scope="module")
def resource(emulator: RunningEmulator, s3: S3Settings) -> Iterator[Any]:
    """The ideal backend as a qrmi resource, configured the way qrmi's documentation says."""
    env = emulator.env()
    variables = {
        "QRMI_JOB_QPU_RESOURCES": IDEAL,
        "QRMI_JOB_QPU_TYPES": "ibm-quantum-system",
        f"{IDEAL}_QRMI_IBM_QS_ENDPOINT": env["DIRECT_ACCESS_URL"],
        f"{IDEAL}_QRMI_IBM_QS_IAM_ENDPOINT": env["DIRECT_ACCESS_IAM_URL"],
        f"{IDEAL}_QRMI_IBM_QS_IAM_APIKEY": env["DIRECT_ACCESS_API_KEY"],
        f"{IDEAL}_QRMI_IBM_QS_SERVICE_CRN": env["DIRECT_ACCESS_SERVICE_CRN"],
        f"{IDEAL}_QRMI_IBM_QS_S3_ENDPOINT": s3.endpoint,
        f"{IDEAL}_QRMI_IBM_QS_S3_BUCKET": s3.bucket,
        f"{IDEAL}_QRMI_IBM_QS_S3_REGION": s3.region,
        f"{IDEAL}_QRMI_IBM_QS_AWS_ACCESS_KEY_ID": s3.access_key_id,
        f"{IDEAL}_QRMI_IBM_QS_AWS_SECRET_ACCESS_KEY": s3.secret_access_key,
        f"{IDEAL}_QRMI_JOB_TIMEOUT_SECONDS": "60",
    }
    with pytest.MonkeyPatch.context() as patch:
        for name, value in variables.items():
            patch.setenv(name, value)
        (found,) = QRMIService().resources()
        yield found


def test_qrmi_estimator_gives_the_bell_pair_expectation_values(resource: Any) -> None:
    """qrmi's EstimatorV2, the standard way (transpile for `get_backend`, `apply_layout` on the
    observables): ZZ, XX are +1, YY -1, ZI, IZ 0, within 0.05 at precision 0.02."""
    manager = generate_preset_pass_manager(optimization_level=1, backend=get_backend(resource))
    isa = manager.run(bell(measure=False))
    paulis = ("ZZ", "XX", "YY", "ZI", "IZ")
    observables = [SparsePauliOp(label).apply_layout(isa.layout) for label in paulis]
    assert observables[0].num_qubits == 5  # over the whole device; the circuit sends `$n` qubits
    estimator = EstimatorV2(resource, options={"run_options": {"simulator": {"seed_simulator": 5}}})
    job = estimator.run([(isa, observables)], precision=0.02)
    data = job.result()[0].data
    assert np.allclose(data.stds, 0.02)
    expected = np.array([1.0, 1.0, -1.0, 0.0, 0.0])
    assert np.all(np.abs(data.evs - expected) < 0.05), dict(zip(paulis, data.evs, strict=True))


def test_qrmi_sampler_gives_bell_counts(resource: Any) -> None:
    """qrmi's SamplerV2 on an ISA Bell circuit: 00 and 11 only, all shots."""
    manager = generate_preset_pass_manager(optimization_level=1, backend=get_backend(resource))
    job = SamplerV2(resource).run([manager.run(bell(measure=True))], shots=1000)
    counts = job.result()[0].data.meas.get_counts()
    assert set(counts) <= {"00", "11"}
    assert sum(counts.values()) == 1000
    assert min(counts.values()) > 400


def test_backend_documents_name_the_configured_backend(
    resource: Any, emulator: RunningEmulator
) -> None:
    """Two backends on one device are two backends to Qiskit: each one's configuration and
    properties carry its own name, and say which device they emulate."""
    assert get_backend(resource).name == IDEAL
    with Client(Settings.from_env(emulator.env())) as client:
        for name in (IDEAL, NOISY):
            configuration = client.get_backend_configuration(name)
            properties = client.get_backend_properties(name)
            assert configuration["backend_name"] == properties["backend_name"] == name
            assert configuration["emulated_device"] == "fake_manila"
            assert "fake_manila" in configuration["description"]


def test_first_job_after_start_is_at_most_twice_as_slow_as_later_ones(s3: S3Settings) -> None:
    """Once `serve` returns (the command prints its line then), the workers are warm: the
    first noisy 20,000-shot job takes at most twice the median of the next four, as the service
    times them (created_time to end_time)."""
    config = EmulatorConfig(
        backends=(BackendConfig(name=NOISY, device="fake_manila"),),
        execution=ExecutionConfig(executor="aer", workers=1),
    )
    storage = S3Storage(s3.endpoint, s3.bucket, s3.region, s3.access_key_id, s3.secret_access_key)
    manager = generate_preset_pass_manager(1, backend=load_device("fake_manila").backend())
    params = encode_params({"pubs": [(manager.run(bell(measure=True)), None, 20000)], "version": 2})
    durations = []
    with serve(config) as running, Client(Settings.from_env(running.env())) as client:
        for _ in range(5):
            job = client.run(
                NOISY, "sampler", params, storage=storage, timeout_secs=60, poll_interval=0.02
            ).job
            assert isinstance(job.end_time, datetime.datetime)
            durations.append((job.end_time - job.created_time).total_seconds())
    first, later = durations[0], statistics.median(durations[1:])
    assert first <= 2 * later, durations
