"""End to end on Qiskit Aer: Qiskit primitives -> our client -> the emulator over HTTP -> SeaweedFS.

Jobs run in the emulator's aer executor (two warm workers) on fake_manila, with its noise model
or ideally; results come back as `PrimitiveResult`s, failures with their reasons, cancel ends the
running simulation, and a burst of jobs on a 5-lane backend completes through the lane policy.
"""

from __future__ import annotations

import ast
import dataclasses
import json
import logging
import math
import multiprocessing
import os
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest
from qiskit import QuantumCircuit  # type: ignore[import-untyped,unused-ignore]
from qiskit.providers import BackendV2  # type: ignore[import-untyped,unused-ignore]
from qiskit.quantum_info import SparsePauliOp  # type: ignore[import-untyped,unused-ignore]
from qiskit.transpiler import generate_preset_pass_manager  # type: ignore[import-untyped,unused-ignore]
from qiskit_ibm_runtime import RuntimeEncoder  # type: ignore[import-untyped,unused-ignore]
from typer.testing import CliRunner

from direct_access import Client, JobFailedError, JobStatus, RetryPolicy, Settings
from direct_access.cli import app as cli_app
from direct_access.qiskit import Estimator, Sampler, get_backend
from direct_access.storage import S3Storage
from direct_access_emulator.aer import AerExecutor
from direct_access_emulator.config import BackendConfig, EmulatorConfig, ExecutionConfig
from direct_access_emulator.devices import load_device
from direct_access_emulator.seaweedfs import S3Settings
from direct_access_emulator.testing import RunningEmulator, serve
from direct_access_emulator.workers import WorkerPool
from tests.integration.emulator.support import Cli
from tests.integration.qiskit.circuits import bell

#: The backends: as the default aer config has it (noisy, named as the device), and ideal.
NOISY = "fake_manila"
IDEAL = "ideal_manila"
POLL = 0.05
WORKER_NAME = "direct-access-aer-worker"

#: The README's example, line for line; run as a user would, with only environment variables.
README_EXAMPLE = """\
import os
from qiskit import QuantumCircuit
from qiskit.transpiler import generate_preset_pass_manager
from direct_access import Client
from direct_access.qiskit import Sampler, get_backend
from direct_access.storage import S3Storage

name = os.environ.get("DIRECT_ACCESS_BACKEND", "fake_manila")
with Client.from_env() as client:
    backend = get_backend(client, name)      # a Qiskit BackendV2: gates, coupling, errors, durations
    bell = QuantumCircuit(2); bell.h(0); bell.cx(0, 1); bell.measure_all()
    isa = generate_preset_pass_manager(optimization_level=1, backend=backend).run(bell)
    sampler = Sampler(client, backend, storage=S3Storage.from_env(), options={"default_shots": 1000})
    print(sampler.run([isa]).result()[0].data.meas.get_counts())
"""  # noqa: E501 - the README's lines as they are


@pytest.fixture(scope="module")
def emulator() -> Iterator[RunningEmulator]:
    """The emulator with the aer executor, two workers, noisy and ideal fake_manila (5 lanes)."""
    config = EmulatorConfig(
        backends=(
            BackendConfig(name=NOISY, device="fake_manila", lanes=5),
            BackendConfig(name=IDEAL, device="fake_manila", noise=False, lanes=5),
        ),
        execution=ExecutionConfig(executor="aer", workers=2),
    )
    with serve(config) as running:
        yield running


@pytest.fixture
def client(emulator: RunningEmulator) -> Iterator[Client]:
    """A client configured from the emulator's environment variables."""
    with Client(Settings.from_env(emulator.env())) as c:
        yield c


@pytest.fixture
def storage(s3: S3Settings) -> S3Storage:
    """The job store on the session's SeaweedFS."""
    return S3Storage(s3.endpoint, s3.bucket, s3.region, s3.access_key_id, s3.secret_access_key)


def isa(circuit: QuantumCircuit) -> QuantumCircuit:
    """``circuit`` transpiled for fake_manila from the configuration the backend serves."""
    conf = load_device("fake_manila").configuration
    manager = generate_preset_pass_manager(
        1, basis_gates=conf["basis_gates"], coupling_map=conf["coupling_map"], seed_transpiler=1
    )
    return manager.run(circuit)


def long_circuit() -> QuantumCircuit:
    """An ISA circuit that simulates for minutes: a mid-circuit measurement forces shot-by-shot
    simulation through 50 entangling layers (about 0.2 ms a shot; run with a million shots)."""
    pairs = sorted({tuple(sorted(pair)) for pair in load_device("fake_manila").target["cx"]})
    circuit = QuantumCircuit(5)
    circuit.sx(range(5))
    circuit.measure_all(add_bits=True)
    for _ in range(50):
        circuit.sx(range(5))
        circuit.rz(0.3, range(5))
        for a, b in pairs:
            circuit.cx(a, b)
    circuit.measure_all()
    return circuit


def sampler(client: Client, storage: S3Storage, backend: str, **options: object) -> Sampler:
    """A Sampler on ``backend`` polling quickly (the jobs here take milliseconds)."""
    return Sampler(client, backend, storage=storage, options=dict(options), poll_interval=POLL)


# ---------------------------------------------------------------- the worker processes


def _pool(emulator: RunningEmulator) -> WorkerPool:
    """The served emulator's aer worker pool (started with the app)."""
    executor = emulator.executor
    assert isinstance(executor, AerExecutor)
    assert executor.pool is not None
    return executor.pool


def _full_pool(pool: WorkerPool) -> frozenset[int]:
    """Wait until the pool has all its workers (none being replaced); their pids."""
    deadline = time.monotonic() + 60
    while len(pids := pool.worker_pids()) != pool.size:
        assert time.monotonic() < deadline, f"the pool never got back to {pool.size}: {pids}"
        time.sleep(0.02)  # polling, bounded by the deadline
    return pids


def _busy_worker(pool: WorkerPool, job_id: str) -> int:
    """The pid of the worker the pool gave ``job_id`` to."""
    deadline = time.monotonic() + 30
    while (pid := pool.worker_pid(job_id)) is None:
        assert time.monotonic() < deadline, f"job {job_id} never reached a worker"
        time.sleep(0.02)  # polling, bounded by the deadline
    return pid


def _seconds_until_gone(pool: WorkerPool, pid: int, limit: float) -> float:
    """How long until the worker ``pid`` has ended and the pool has reaped it."""
    started = time.monotonic()
    while pid in pool.worker_pids():
        assert time.monotonic() - started < limit, f"worker {pid} outlived its job"
        time.sleep(0.01)  # polling, bounded by the limit
    return time.monotonic() - started


def _aer_workers() -> set[int]:
    """The live aer worker processes that are children of this process."""
    return {
        process.pid
        for process in multiprocessing.active_children()
        if process.name == WORKER_NAME and process.pid is not None
    }


# ---------------------------------------------------------------- the tests


def test_bell_sampler_on_the_ideal_backend_gives_only_00_and_11(
    client: Client, storage: S3Storage
) -> None:
    """An ideal Bell-state job returns counts of 00 and 11 only, each near half the shots."""
    shots = 2000
    job = sampler(client, storage, IDEAL).run([isa(bell())], shots=shots)
    assert len(job.job_id()) == 36  # the Direct Access id, known before the job ends
    counts = job.result()[0].data.meas.get_counts()
    assert set(counts) <= {"00", "11"}
    assert sum(counts.values()) == shots
    # Five standard deviations of a fair coin over the shots.
    assert abs(counts.get("00", 0) - shots / 2) < 5 * math.sqrt(shots / 4)
    assert job.done()


def test_bell_sampler_on_the_noisy_backend_gives_mostly_00_and_11(
    client: Client, storage: S3Storage
) -> None:
    """With fake_manila's noise, 00 and 11 still dominate but 01 and 10 appear."""
    shots = 2000
    job = sampler(client, storage, NOISY, default_shots=shots).run([isa(bell())])
    counts = job.result()[0].data.meas.get_counts()
    assert sum(counts.values()) == shots
    correlated = counts.get("00", 0) + counts.get("11", 0)
    assert correlated / shots > 0.85
    # manila's readout and CX errors flip a few percent: about 60 of 2000 shots.
    assert correlated < shots


def test_estimator_two_observables_within_the_precision_asked(
    client: Client, storage: S3Storage
) -> None:
    """ZZ and XX of a Bell pair come back as 1 within the precision, with that precision."""
    circuit = isa(bell(measure=False))
    observables = [SparsePauliOp(label).apply_layout(circuit.layout) for label in ("ZZ", "XX")]
    precision = 0.02
    estimator = Estimator(client, IDEAL, storage=storage, poll_interval=POLL)
    result = estimator.run([(circuit, observables)], precision=precision).result()
    data = result[0].data
    assert data.evs.shape == (2,)
    assert np.allclose(data.stds, precision)
    assert np.all(np.abs(data.evs - 1.0) < 5 * precision)


def test_backend_from_the_service_has_the_device_target_and_runs_jobs(
    client: Client, storage: S3Storage
) -> None:
    """`get_backend` gives a Qiskit BackendV2 named as the Direct Access backend, whose target
    has fake_manila's coupling, gate errors and durations; a circuit transpiled for it runs
    through a Sampler given the backend, and the job reports its usage and logs."""
    backend = get_backend(client, IDEAL)
    assert isinstance(backend, BackendV2)
    assert (backend.name, backend.num_qubits) == (IDEAL, 5)
    device = load_device("fake_manila").target
    assert set(backend.target["cx"]) == set(device["cx"])
    for gate, qubits in (("cx", (0, 1)), ("sx", (2,)), ("measure", (3,))):
        ours, theirs = backend.target[gate][qubits], device[gate][qubits]
        assert ours.error == pytest.approx(theirs.error)
        assert ours.duration == pytest.approx(theirs.duration)
        assert ours.error > 0
    manager = generate_preset_pass_manager(optimization_level=1, backend=backend)
    circuit = manager.run(bell())
    job = Sampler(
        client, backend, storage=storage, options={"default_shots": 500}, poll_interval=POLL,
        log_level="info",
    ).run([circuit])  # fmt: skip
    assert set(job.result()[0].data.meas.get_counts()) <= {"00", "11"}
    assert job.error_message() is None
    usage = job.usage()
    assert usage is not None
    assert 0 < usage < 60
    assert f"job {job.job_id()}: sampler on {IDEAL}" in job.logs()


def test_same_seed_gives_the_same_counts(client: Client, storage: S3Storage) -> None:
    """Two noisy jobs with the same seed_simulator return the same counts; another seed differs."""
    circuit = isa(bell())

    def counts(seed: int) -> dict[str, int]:
        run = sampler(client, storage, NOISY, simulator={"seed_simulator": seed})
        found: dict[str, int] = run.run([circuit], shots=1000).result()[0].data.meas.get_counts()
        return found

    first, second, other = counts(1234), counts(1234), counts(4321)
    assert first == second
    assert other != first


def test_non_isa_circuits_fail_with_what_is_wrong(client: Client, storage: S3Storage) -> None:
    """Gates outside the basis, CX off the coupling map and too many qubits fail the job with
    code 1012 and a reason naming the problem."""
    outside_basis = bell()
    off_coupling = QuantumCircuit(3)
    off_coupling.cx(0, 2)
    off_coupling.measure_all()
    too_wide = QuantumCircuit(6)
    too_wide.x(5)
    too_wide.measure_all()
    expected = {
        "gate 'h' on qubit 0 is not in fake_manila's basis": outside_basis,
        "gate 'cx' on qubits (0, 2) is not on fake_manila's coupling map": off_coupling,
        "circuit has 6 qubits, more than fake_manila's 5": too_wide,
    }
    jobs = {
        reason: sampler(client, storage, IDEAL).run([circuit], shots=10)
        for reason, circuit in expected.items()
    }
    for reason, job in jobs.items():
        with pytest.raises(JobFailedError) as caught:
            job.result()
        assert caught.value.job.status is JobStatus.FAILED
        assert caught.value.job.reason_code == 1012
        assert caught.value.reason_message is not None
        assert reason in caught.value.reason_message
        assert "transpile" in (caught.value.job.reason_solution or "")
        assert reason in (job.error_message() or "")  # the same reason, from the job
        assert reason in job.logs()
        assert job.usage() is None  # nothing ran


def test_malformed_input_fails_with_its_reason_also_in_the_logs(
    client: Client, storage: S3Storage
) -> None:
    """Parameters the service refuses (an unknown option, pubs not a list) fail the job with
    the reason, which the job's logs repeat."""
    circuit = json.loads(json.dumps(isa(bell()), cls=RuntimeEncoder))
    cases = {
        "unknown sampler option(s) 'bogus'": {
            "pubs": [[circuit]],
            "options": {"bogus": 1},
            "version": 2,
        },
        "'pubs' must be a list of pubs, not a string": {"pubs": "oops", "version": 2},
    }
    for reason, params in cases.items():
        job_id = str(uuid.uuid4())
        with pytest.raises(JobFailedError) as caught:
            client.run(
                IDEAL,
                "sampler",
                params,
                storage=storage,
                timeout_secs=60,
                wait_timeout=30,
                poll_interval=POLL,
                job_id=job_id,
                keep_objects=True,  # the logs are read below
            )
        assert caught.value.job.id == job_id
        assert caught.value.job.reason_code == 1012
        assert reason in (caught.value.reason_message or "")
        logs = storage.logs_for(job_id, timeout=10)
        assert " ERROR " in logs
        assert reason in logs
        storage.delete_job_objects(job_id)


def test_cancel_ends_a_long_simulation_within_a_second(
    emulator: RunningEmulator, client: Client, storage: S3Storage
) -> None:
    """Cancelling a job mid-simulation ends its worker within a second (job Cancelled); a fresh
    worker takes its place and the next job finishes promptly."""
    pool = _pool(emulator)
    baseline = _full_pool(pool)
    job = sampler(client, storage, IDEAL).run([long_circuit()], shots=1_000_000)
    busy = _busy_worker(pool, job.job_id())
    assert busy in baseline
    # running() reports the job's last poll, which follows the worker's start moments later.
    deadline = time.monotonic() + 30
    while not job.running():
        assert time.monotonic() < deadline, f"job {job.job_id()} never showed Running"
        time.sleep(0.02)  # polling, bounded by the deadline
    job.cancel()
    assert _seconds_until_gone(pool, busy, limit=1.0) < 1.0
    assert busy not in _aer_workers()
    with pytest.raises(JobFailedError) as caught:
        job.result()
    assert caught.value.job.status is JobStatus.CANCELLED
    assert job.cancelled()
    assert f"WARNING job {job.job_id()}: cancelled on request" in job.logs()
    # The pool is back to two workers, one of them new.
    after = _full_pool(pool)
    assert busy not in after
    assert after != baseline
    started = time.monotonic()
    quick = sampler(client, storage, IDEAL).run([isa(bell())], shots=100).result()
    assert quick[0].data.meas.num_shots == 100
    assert time.monotonic() - started < 5


def test_timeout_ends_a_long_simulation(
    emulator: RunningEmulator, client: Client, storage: S3Storage
) -> None:
    """A job past its timeout_secs is Cancelled with that reason and its worker ends at once."""
    pool = _pool(emulator)
    _full_pool(pool)
    job_id = str(uuid.uuid4())
    params = {"pubs": [[long_circuit()]], "shots": 1_000_000, "version": 2}
    outcome: list[BaseException] = []

    def run() -> None:
        try:
            client.run(
                IDEAL,
                "sampler",
                json.loads(json.dumps(params, cls=RuntimeEncoder)),
                storage=storage,
                timeout_secs=2,
                wait_timeout=30,
                poll_interval=POLL,
                job_id=job_id,
                keep_objects=True,  # the logs are read below
            )
        except BaseException as error:  # handed to the test thread
            outcome.append(error)

    runner = threading.Thread(target=run)
    runner.start()
    busy = _busy_worker(pool, job_id)
    # The timeout falls within 2 s of the start; the worker must be gone a second after that.
    _seconds_until_gone(pool, busy, limit=3.0)
    assert busy not in _aer_workers()
    runner.join(30)
    (error,) = outcome
    assert isinstance(error, JobFailedError)
    assert error.job.status is JobStatus.CANCELLED
    assert "exceeded its timeout of 2 seconds" in (error.reason_message or "")
    # The logs say why it ended too, also for a timed-out job.
    assert "ERROR The job exceeded its timeout of 2 seconds" in storage.logs_for(job_id, timeout=10)


def test_twenty_jobs_at_once_on_five_lanes_all_complete(
    emulator: RunningEmulator, storage: S3Storage, caplog: pytest.LogCaptureFixture
) -> None:
    """20 sampler jobs submitted together on a 5-lane backend all complete: the client's lane
    policy retries the 429s, and run deletes each finished job so its lane frees up."""
    # The patient policy, with waits short enough for a test (the jobs take milliseconds).
    policy = dataclasses.replace(RetryPolicy.patient(), busy_wait=0.2, busy_wait_max=1.0)
    caplog.set_level(logging.DEBUG, logger="direct_access")
    circuit = isa(bell())
    with Client(Settings.from_env(emulator.env()), retry=policy) as patient:
        run = sampler(patient, storage, NOISY)
        jobs = [run.run([circuit], shots=100 + n) for n in range(20)]
        results = [job.result() for job in jobs]
        assert [r[0].data.meas.num_shots for r in results] == [100 + n for n in range(20)]
        assert patient.list_jobs() == []  # every lane freed
    lanes_full = [
        r
        for r in caplog.records
        if "retrying create_job after TooManyJobsError 429" in r.getMessage()
    ]
    assert lanes_full, "no 429 was met: the burst did not exceed the lanes"


def test_cli_prints_counts_and_expectation_values(
    emulator: RunningEmulator, s3: S3Settings, client: Client, storage: S3Storage
) -> None:
    """`direct-access jobs result` shows a sampler's counts and an estimator's values with
    their standard deviations; --json prints the encoded document."""
    circuit = isa(bell())
    sampler_id, estimator_id = str(uuid.uuid4()), str(uuid.uuid4())
    sampled = client.run(
        IDEAL,
        "sampler",
        json.loads(
            json.dumps({"pubs": [[circuit]], "shots": 300, "version": 2}, cls=RuntimeEncoder)
        ),
        storage=storage,
        timeout_secs=60,
        poll_interval=POLL,
        job_id=sampler_id,
        log_level="info",
        keep_objects=True,  # `jobs result` reads them below
    )
    assert "sampler: completed in" in sampled.logs
    unmeasured = isa(bell(measure=False))
    zz = SparsePauliOp("ZZ").apply_layout(unmeasured.layout)
    estimate = {"pubs": [[unmeasured, [zz], None, 0.05]], "version": 2}
    client.run(
        IDEAL,
        "estimator",
        json.loads(json.dumps(estimate, cls=RuntimeEncoder)),
        storage=storage,
        timeout_secs=60,
        poll_interval=POLL,
        job_id=estimator_id,
        keep_objects=True,
    )
    env = emulator.env() | s3.env()
    runner = CliRunner()

    counts = runner.invoke(cli_app, ["jobs", "result", sampler_id], env=env)
    assert counts.exit_code == 0, counts.output
    assert "pub 0, meas: 300 shots, counts" in counts.stdout
    shown = dict(line.split() for line in counts.stdout.splitlines()[1:])
    assert set(shown) <= {"00", "11"}
    assert sum(map(int, shown.values())) == 300

    values = runner.invoke(cli_app, ["jobs", "result", estimator_id], env=env)
    assert values.exit_code == 0, values.output
    assert "pub 0: expectation values ± standard deviations" in values.stdout
    (line,) = [line for line in values.stdout.splitlines() if "±" in line and "[0]" in line]
    value, deviation = line.split()[1], line.split()[3]
    assert abs(float(value) - 1.0) < 5 * 0.05
    assert math.isclose(float(deviation), 0.05, rel_tol=0.01)

    raw = runner.invoke(cli_app, ["jobs", "result", sampler_id, "--json"], env=env)
    assert raw.exit_code == 0, raw.output
    assert json.loads(raw.stdout)["__type__"] == "PrimitiveResult"


def test_the_readme_example_runs_against_the_emulator_command(tmp_path: Path) -> None:
    """The README's example, run as a program with only the variables that
    `python -m direct_access_emulator --config aer.toml --with-storage` prints, prints Bell
    counts; the emulator's log holds neither presigned signatures nor the store's secret."""
    config = tmp_path / "aer.toml"
    config.write_text('[execution]\nexecutor = "aer"\n')
    emulator = Cli("--config", str(config), "--with-storage")
    try:
        example = subprocess.run(
            [sys.executable, "-c", README_EXAMPLE],
            env=os.environ | emulator.env,
            capture_output=True,
            text=True,
            timeout=90,
            check=False,
        )
    finally:
        status, _, log = emulator.terminate()
    assert example.returncode == 0, example.stderr
    counts = ast.literal_eval(example.stdout.strip())
    assert sum(counts.values()) == 1000
    assert (counts.get("00", 0) + counts.get("11", 0)) / 1000 > 0.85
    assert status == 0
    assert "/v1/jobs" in log
    assert "X-Amz-Signature" not in log
    assert emulator.env["DIRECT_ACCESS_S3_SECRET_ACCESS_KEY"] not in log


def test_workers_start_with_the_app_and_end_with_it() -> None:
    """The aer executor's workers start (and warm) when the emulator starts, before any job,
    and none is left once it stops."""
    config = EmulatorConfig(execution=ExecutionConfig(executor="aer", workers=2))
    with serve(config) as running:
        assert [b.name for b in running.config.backends] == ["fake_manila", "fake_lima"]
        pool = _pool(running)  # started with the app, before any job
        ours = pool.worker_pids()
        assert len(ours) == 2
        assert ours <= _aer_workers()
    assert pool.worker_pids() == frozenset()
    assert not ours & _aer_workers()
