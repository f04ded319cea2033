"""`run_primitive`: V2 primitive parameters in, a Runtime-encoded `PrimitiveResult` out, on Aer."""

from __future__ import annotations

import json
import math
from typing import Any

import numpy as np
import pytest
from qiskit import QuantumCircuit, qasm3  # type: ignore[import-untyped,unused-ignore]
from qiskit.circuit import Parameter  # type: ignore[import-untyped,unused-ignore]
from qiskit.primitives import PrimitiveResult  # type: ignore[import-untyped,unused-ignore]
from qiskit.primitives.containers.estimator_pub import EstimatorPub  # type: ignore[import-untyped,unused-ignore]
from qiskit.quantum_info import SparsePauliOp  # type: ignore[import-untyped,unused-ignore]
from qiskit.transpiler import generate_preset_pass_manager  # type: ignore[import-untyped,unused-ignore]
from qiskit_aer.primitives import SamplerV2  # type: ignore[import-untyped,unused-ignore]
from qiskit_ibm_runtime import RuntimeDecoder, RuntimeEncoder  # type: ignore[import-untyped,unused-ignore]

from direct_access_emulator.devices import load_device
from direct_access_emulator.qiskit_runner import (
    DEFAULT_PRECISION,
    DEFAULT_SHOTS,
    JobInputError,
    Outcome,
    run_primitive,
)

DEVICE = "fake_manila"

BELL_QASM = """OPENQASM 3.0;
include "stdgates.inc";
bit[2] c;
rz(pi/2) $0;
sx $0;
rz(pi/2) $0;
cx $0, $1;
c[0] = measure $0;
c[1] = measure $1;
"""


def bell(*, measure: bool = True) -> QuantumCircuit:
    """A Bell pair in fake_manila's basis (H written as rz, sx, rz) on qubits 0 and 1."""
    circuit = QuantumCircuit(2)
    circuit.rz(math.pi / 2, 0)
    circuit.sx(0)
    circuit.rz(math.pi / 2, 0)
    circuit.cx(0, 1)
    if measure:
        circuit.measure_all()
    return circuit


def encode(document: dict[str, Any]) -> str:
    """The job input as a client writes it."""
    return json.dumps(document, cls=RuntimeEncoder)


def run(program_id: str, document: dict[str, Any], **kwargs: Any) -> Outcome:
    """Run on fake_manila (ideal unless told), through the JSON text a job's input would be."""
    kwargs.setdefault("device", DEVICE)
    kwargs.setdefault("noise", False)
    kwargs.setdefault("log_level", "info")
    return run_primitive(program_id, encode({"version": 2, **document}), **kwargs)


def decoded(outcome: Outcome) -> PrimitiveResult:
    """The result as a client decodes it."""
    result = json.loads(outcome.result, cls=RuntimeDecoder)
    assert isinstance(result, PrimitiveResult)
    return result


def test_bell_sampler_counts_are_within_statistical_bounds() -> None:
    """An ideal Bell pair gives only 00 and 11, each about half of the shots."""
    outcome = run("sampler", {"pubs": [[bell()]], "shots": 4000})
    counts = decoded(outcome)[0].data.meas.get_counts()
    assert set(counts) == {"00", "11"}
    assert sum(counts.values()) == 4000
    # Five standard deviations of a fair binomial: sqrt(4000 * 0.25) = 31.6.
    assert abs(counts["00"] - 2000) < 5 * 31.6
    assert outcome.quantum_nanoseconds > 0


def test_noisy_bell_sampler_shows_the_device_noise() -> None:
    """With the device's noise model, most shots are 00 or 11 and some are not."""
    outcome = run("sampler", {"pubs": [[bell()]], "shots": 4000}, noise=True)
    counts = decoded(outcome)[0].data.meas.get_counts()
    correlated = counts.get("00", 0) + counts.get("11", 0)
    assert correlated > 0.85 * 4000
    assert correlated < 4000


def test_result_equals_aer_run_directly() -> None:
    """The decoded result holds what Aer's own SamplerV2 gives for the same circuit and seed."""
    outcome = run(
        "sampler",
        {"pubs": [[bell()]], "shots": 500, "options": {"simulator": {"seed_simulator": 11}}},
        noise=True,
    )
    expected = SamplerV2.from_backend(_manila_backend(), seed=11).run([bell()], shots=500).result()
    got = decoded(outcome)
    assert got.metadata == expected.metadata
    assert np.array_equal(got[0].data.meas.array, expected[0].data.meas.array)
    assert got[0].data.meas.num_bits == expected[0].data.meas.num_bits
    assert got[0].metadata["shots"] == 500


def test_same_seed_gives_same_counts_and_another_seed_other_counts() -> None:
    """options.simulator.seed_simulator makes noisy sampling reproducible."""

    def counts(seed: int) -> dict[str, int]:
        options = {"simulator": {"seed_simulator": seed}}
        outcome = run(
            "sampler", {"pubs": [[bell()]], "shots": 2000, "options": options}, noise=True
        )
        result: dict[str, int] = decoded(outcome)[0].data.meas.get_counts()
        return result

    assert counts(42) == counts(42)
    assert counts(42) != counts(43)


def test_openqasm3_input_runs_like_qpy() -> None:
    """A circuit given as an OpenQASM 3 string gives the same counts as the same circuit in QPY."""
    seeded = {"simulator": {"seed_simulator": 7}}
    from_text = run("sampler", {"pubs": [[BELL_QASM, None, 300]], "options": seeded}, noise=True)
    circuit = qasm3.loads(BELL_QASM)
    from_qpy = run("sampler", {"pubs": [[circuit, None, 300]], "options": seeded}, noise=True)
    assert decoded(from_text)[0].data.c.get_counts() == decoded(from_qpy)[0].data.c.get_counts()
    assert sum(decoded(from_text)[0].data.c.get_counts().values()) == 300


def _isa_on(layout: list[int], *, measure: bool = False) -> QuantumCircuit:
    """A Bell pair transpiled for fake_manila onto the physical qubits ``layout``."""
    circuit = QuantumCircuit(2)
    circuit.h(0)
    circuit.cx(0, 1)
    if measure:
        circuit.measure_all()
    manager = generate_preset_pass_manager(
        1, backend=load_device(DEVICE).backend(), initial_layout=layout, seed_transpiler=1
    )
    return manager.run(circuit)


def _as_qrmi_sends(circuit: QuantumCircuit) -> str:
    """The circuit as OpenQASM 3 on physical qubits, written the way qrmi writes it."""
    text: str = qasm3.dumps(
        circuit,
        disable_constants=True,
        allow_aliasing=True,
        experimental=qasm3.ExperimentalFeatures.SWITCH_CASE_V1,
    )
    return text


BELL_PAULIS = ("ZZ", "XX", "YY", "ZI", "IZ")
BELL_VALUES = np.array([1.0, 1.0, -1.0, 0.0, 0.0])


@pytest.mark.parametrize("layout", [[0, 1], [1, 2], [4, 3]], ids=str)
def test_physical_qubit_openqasm3_runs_in_the_device_qubit_space(layout: list[int]) -> None:
    """OpenQASM 3 on physical qubits ($n) with observables laid out over the whole device gives
    the Bell pair's values, wherever on the device the pair sits."""
    isa = _isa_on(layout)
    text = _as_qrmi_sends(isa)
    assert "$" in text
    assert qasm3.loads(text).num_qubits < 5 or layout == [4, 3]  # the importer's width
    laid_out = [SparsePauliOp(p).apply_layout(isa.layout) for p in BELL_PAULIS]
    observables = EstimatorPub.coerce((isa, laid_out)).observables.tolist()  # as qrmi sends them
    document = {"pubs": [[text, observables]], "precision": 0.02}
    document["options"] = {"simulator": {"seed_simulator": 11}}
    pub = decoded(run("estimator", document))[0]
    assert np.all(np.abs(pub.data.evs - BELL_VALUES) < 0.05), pub.data.evs
    sampled = run("sampler", {"pubs": [[_as_qrmi_sends(_isa_on(layout, measure=True)), None, 200]]})
    assert set(decoded(sampled)[0].data.meas.get_counts()) <= {"00", "11"}


def test_qpy_circuit_narrower_than_the_device_takes_device_wide_observables() -> None:
    """A QPY circuit of fewer qubits than the device runs on its first physical qubits, with
    observables over the whole device or over the circuit's own qubits."""
    device_wide = [SparsePauliOp(p).apply_layout([0, 1], num_qubits=5) for p in BELL_PAULIS]
    narrow = [SparsePauliOp(p) for p in BELL_PAULIS]
    for observables in (device_wide, narrow):
        document = {"pubs": [[bell(measure=False), observables]], "precision": 0.02}
        document["options"] = {"simulator": {"seed_simulator": 11}}
        pub = decoded(run("estimator", document))[0]
        assert np.all(np.abs(pub.data.evs - BELL_VALUES) < 0.05), pub.data.evs


def test_shots_come_from_pub_then_call_then_options_then_default() -> None:
    """A pub's shots win over `shots`, which wins over options.default_shots, then 4096."""

    def shots(document: dict[str, Any]) -> list[int]:
        return [pub.data.meas.num_shots for pub in decoded(run("sampler", document))]

    options = {"default_shots": 123}
    assert shots({"pubs": [[bell()]]}) == [DEFAULT_SHOTS]
    assert shots({"pubs": [[bell()]], "options": options}) == [123]
    assert shots({"pubs": [[bell()]], "shots": 77, "options": options}) == [77]
    assert shots({"pubs": [[bell(), None, 5], [bell()]], "shots": 77}) == [5, 77]


def test_parameter_values_are_bound_per_pub_element() -> None:
    """A parametrized circuit runs once per row of parameter values, with the shape kept."""
    theta = Parameter("theta")
    circuit = QuantumCircuit(1)
    circuit.sx(0)
    circuit.rz(theta, 0)
    circuit.sx(0)
    circuit.measure_all()
    outcome = run("sampler", {"pubs": [[circuit, np.array([[0.0], [math.pi]]), 100]]})
    data = decoded(outcome)[0].data.meas
    assert data.shape == (2,)
    # sx.sx is X: always 1; with rz(pi) between, the two halves cancel: always 0.
    assert data[0].get_counts() == {"1": 100}
    assert data[1].get_counts() == {"0": 100}


def test_two_observable_estimator_within_the_precision_asked() -> None:
    """ZZ and XX on a Bell pair are 1, ZI is 0, each within the precision asked."""
    observables = [SparsePauliOp("ZZ"), SparsePauliOp("XX"), SparsePauliOp("IZ")]
    outcome = run(
        "estimator",
        {
            "pubs": [[bell(measure=False), observables]],
            "precision": 0.01,
            "options": {"simulator": {"seed_simulator": 3}},
        },
    )
    pub = decoded(outcome)[0]
    assert np.allclose(pub.data.stds, 0.01)
    assert np.all(np.abs(pub.data.evs - np.array([1.0, 1.0, 0.0])) < 5 * 0.01)
    assert pub.metadata["target_precision"] == 0.01


def test_estimator_accepts_observables_as_pauli_dicts() -> None:
    """Observables written as {Pauli string: coefficient} (the encoder's list form) work too."""
    outcome = run(
        "estimator",
        {"pubs": [[bell(measure=False), [{"ZZ": 1.0}, {"XX": 0.5, "ZZ": 0.5}]]], "precision": 0.01},
    )
    assert np.all(np.abs(decoded(outcome)[0].data.evs - 1.0) < 5 * 0.01)


def test_noisy_estimator_is_below_ideal() -> None:
    """With the device's noise, <ZZ> of a Bell pair is below 1 but still well correlated."""
    outcome = run(
        "estimator",
        {"pubs": [[bell(measure=False), SparsePauliOp("ZZ"), None, 0.001]]},
        noise=True,
    )
    value = float(decoded(outcome)[0].data.evs)
    assert 0.8 < value < 1.0 - 0.001


def test_estimator_precision_defaults() -> None:
    """Precision: the pub's, then `precision`, options.default_shots as 1/sqrt, default, 1/64."""

    def stds(document: dict[str, Any]) -> float:
        return float(decoded(run("estimator", document))[0].data.stds)

    pub = [bell(measure=False), SparsePauliOp("ZZ")]
    assert stds({"pubs": [pub]}) == DEFAULT_PRECISION
    assert stds({"pubs": [pub], "options": {"default_precision": 0.05}}) == 0.05
    assert stds({"pubs": [pub], "options": {"default_shots": 10000}}) == pytest.approx(0.01)
    assert stds({"pubs": [pub], "precision": 0.02}) == 0.02
    assert stds({"pubs": [[*pub, None, 0.03]], "precision": 0.02}) == 0.03


def test_log_lines_follow_the_log_level() -> None:
    """debug shows per-pub lines; warning shows only warnings such as ignored options."""
    document = {"pubs": [[bell()]], "shots": 10, "options": {"twirling": {"enable_gates": True}}}
    debug = run("sampler", document, log_level="debug").log_lines
    info = run("sampler", document, log_level="info").log_lines
    warning = run("sampler", document, log_level="warning").log_lines
    assert any(" DEBUG pub 0: " in line for line in debug)
    assert not any(" DEBUG " in line for line in info)
    assert any(" INFO " in line for line in info)
    assert [line.split(" ", 1)[1] for line in warning] == [
        "WARNING option 'twirling' has no effect on a simulator; ignored"
    ]
    assert run("sampler", document, log_level="critical").log_lines == []


def test_sampler_warning_from_aer_becomes_a_log_line() -> None:
    """A circuit without measurements runs, and Aer's warning about it goes to the job's log."""
    outcome = run("sampler", {"pubs": [[bell(measure=False)]], "shots": 10}, log_level="warning")
    assert any("no output classical registers" in line for line in outcome.log_lines)


def test_input_as_parsed_document_runs_too() -> None:
    """The parsed JSON document (circuits still encoded) is accepted like the text."""
    document = json.loads(encode({"pubs": [[bell()]], "shots": 10, "version": 2}))
    outcome = run_primitive("sampler", document, device=DEVICE, noise=False, log_level="info")
    assert decoded(outcome)[0].data.meas.num_shots == 10


def _manila_backend() -> Any:
    return load_device(DEVICE).backend()


def _too_wide() -> QuantumCircuit:
    circuit = QuantumCircuit(6)
    circuit.x(5)
    circuit.measure_all()
    return circuit


def _off_coupling_map() -> QuantumCircuit:
    circuit = QuantumCircuit(3)
    circuit.cx(0, 2)
    circuit.measure_all()
    return circuit


def _with_h() -> QuantumCircuit:
    circuit = QuantumCircuit(2)
    circuit.h(0)
    circuit.measure_all()
    return circuit


def _two_parameters() -> QuantumCircuit:
    circuit = QuantumCircuit(1)
    circuit.rz(Parameter("a"), 0)
    circuit.sx(0)
    circuit.rz(Parameter("b"), 0)
    circuit.measure_all()
    return circuit


@pytest.mark.parametrize(
    ("program_id", "document", "reason"),
    [
        pytest.param(
            "sampler",
            {"pubs": [[_with_h()]], "version": 2},
            "pub 0: gate 'h' on qubit 0 is not in fake_manila's basis (cx, delay,",
            id="gate-outside-basis",
        ),
        pytest.param(
            "sampler",
            {"pubs": [[bell()], [_off_coupling_map()]], "version": 2},
            "pub 1: gate 'cx' on qubits (0, 2) is not on fake_manila's coupling map (cx pairs: "
            "(0, 1), (1, 0), (1, 2)",
            id="off-coupling-map",
        ),
        pytest.param(
            "sampler",
            {"pubs": [[_too_wide()]], "version": 2},
            "pub 0: circuit has 6 qubits, more than fake_manila's 5",
            id="too-many-qubits",
        ),
        pytest.param(
            "sampler",
            {"pubs": [['OPENQASM 3.0;\ninclude "stdgates.inc";\nbit b;\nh $0;\nb = measure $0;']]}
            | {"version": 2},
            "pub 0: gate 'h' on qubit 0 is not in fake_manila's basis",
            id="qasm-gate-outside-basis",
        ),
        pytest.param(
            "sampler",
            {"pubs": [["OPENQASM 3.0;\nnot a circuit"]], "version": 2},
            "pub 0: circuit is not valid OpenQASM 3: ",
            id="invalid-qasm",
        ),
        pytest.param(
            "sampler",
            {"pubs": [[42]], "version": 2},
            "pub 0: circuit must be an OpenQASM 3 string or an encoded QuantumCircuit, not int",
            id="circuit-not-a-circuit",
        ),
        pytest.param(
            "sampler",
            {"pubs": [[bell()]], "version": 1},
            "'version' is 1: only version 2 primitive parameters run here",
            id="version-1",
        ),
        pytest.param(
            "sampler",
            {"pubs": [[bell()]]},
            "'version' is missing",
            id="version-missing",
        ),
        pytest.param("sampler", {"version": 2}, "'pubs' is missing", id="pubs-missing"),
        pytest.param(
            "sampler",
            {"pubs": [], "version": 2},
            "'pubs' is empty: a job needs at least one pub",
            id="pubs-empty",
        ),
        pytest.param(
            "sampler",
            {"pubs": {"a": 1}, "version": 2},
            "'pubs' must be a list of pubs, not an object",
            id="pubs-not-a-list",
        ),
        pytest.param(
            "sampler",
            {"pubs": [[bell(), None, 10, 1]], "version": 2},
            "pub 0: expected a list [circuit, parameter values?, shots?], got 4 items",
            id="sampler-pub-too-long",
        ),
        pytest.param(
            "estimator",
            {"pubs": [[bell(measure=False)]], "version": 2},
            "pub 0: expected a list [circuit, observables, parameter values?, precision?], "
            "got 1 items",
            id="estimator-pub-without-observables",
        ),
        pytest.param(
            "sampler",
            {"pubs": [[bell(), None, 0]], "version": 2},
            "pub 0: shots must be an integer >= 1, not 0",
            id="pub-shots-zero",
        ),
        pytest.param(
            "sampler",
            {"pubs": [[bell()]], "shots": "many", "version": 2},
            "'shots' must be an integer >= 1, not 'many'",
            id="shots-not-a-number",
        ),
        pytest.param(
            "estimator",
            {"pubs": [[bell(measure=False), SparsePauliOp("ZZ")]], "precision": 0, "version": 2},
            "'precision' must be a number > 0, not 0",
            id="precision-zero",
        ),
        pytest.param(
            "sampler",
            {"pubs": [[_two_parameters(), [[0.1, 0.2, 0.3]]]], "version": 2},
            "pub 0: ",  # Qiskit's own words; see the test below.
            id="parameter-values-wrong-shape",
        ),
        pytest.param(
            "estimator",
            {"pubs": [[bell(measure=False), SparsePauliOp("ZZZ")]], "version": 2},
            "pub 0: the observables act on 3 qubits, the circuit on 2 (physical qubits 0-1 of "
            "fake_manila's 5); give observables on all 5 qubits of the device",
            id="observable-wider-than-circuit",
        ),
        pytest.param(
            "sampler",
            {"pubs": [[bell()]], "options": {"shots_please": 1}, "version": 2},
            "unknown sampler option(s) 'shots_please': expected default_shots,",
            id="unknown-option",
        ),
        pytest.param(
            "sampler",
            {"pubs": [[bell()]], "options": {"default_precision": 0.1}, "version": 2},
            "unknown sampler option(s) 'default_precision'",
            id="estimator-option-on-sampler",
        ),
        pytest.param(
            "sampler",
            {"pubs": [[bell()]], "options": {"simulator": {"speed": 2}}, "version": 2},
            "unknown simulator option(s) 'speed': expected basis_gates, coupling_map,",
            id="unknown-simulator-option",
        ),
        pytest.param(
            "sampler",
            {"pubs": [[bell()]], "precision": 0.1, "version": 2},
            "unknown sampler parameter(s) 'precision'",
            id="unknown-top-level-key",
        ),
        pytest.param(
            "qaoa",
            {"pubs": [[bell()]], "version": 2},
            "unknown program_id 'qaoa': expected one of estimator, sampler",
            id="unknown-program",
        ),
    ],
)
def test_input_the_service_refuses_fails_with_its_reason(
    program_id: str, document: dict[str, Any], reason: str
) -> None:
    """Each non-ISA or malformed input fails with a reason that says what is wrong."""
    with pytest.raises(JobInputError) as caught:
        run_primitive(program_id, encode(document), device=DEVICE, noise=False, log_level="info")
    assert caught.value.reason.startswith(reason), caught.value.reason
    assert str(caught.value) == caught.value.reason


def test_parameter_value_shape_reason_names_the_mismatch() -> None:
    """Parameter values that do not fit the circuit's parameters say so."""
    document = {"pubs": [[_two_parameters(), [[0.1, 0.2, 0.3]]]], "version": 2}
    with pytest.raises(JobInputError, match=r"^pub 0: Length of \(.a., .b.\) inconsistent with"):
        run_primitive("sampler", encode(document), device=DEVICE, noise=False)


def test_input_that_is_not_json_fails() -> None:
    """Text that is not JSON, or JSON that is not an object, fails with that reason."""
    with pytest.raises(JobInputError, match=r"^input is not a JSON document"):
        run_primitive("sampler", "{not json", device=DEVICE, noise=False)
    with pytest.raises(JobInputError, match=r"^input must be a JSON object .* not a list"):
        run_primitive("sampler", "[1, 2]", device=DEVICE, noise=False)


def test_unknown_device_fails_with_the_available_ones() -> None:
    """A job on a device that does not exist fails naming the devices that do."""
    with pytest.raises(JobInputError, match=r"unknown device 'fake_atlantis'.*fake_manila"):
        run_primitive(
            "sampler",
            encode({"pubs": [[bell()]], "version": 2}),
            device="fake_atlantis",
            noise=False,
        )
