"""`DirectAccessBackend`: a Qiskit BackendV2 from the configuration and properties served."""

from __future__ import annotations

import copy

import pytest
from qiskit import QuantumCircuit  # type: ignore[import-untyped,unused-ignore]
from qiskit.transpiler import generate_preset_pass_manager  # type: ignore[import-untyped,unused-ignore]

from direct_access import DirectAccessError
from direct_access.qiskit import DirectAccessBackend
from direct_access_emulator.devices import load_device

DEVICE = load_device("fake_manila").served_as("ideal_manila")


def test_the_target_has_the_device_coupling_errors_and_durations() -> None:
    """The target is the device's: same coupling map, gate errors and durations, readout errors;
    the backend is named as the Direct Access backend, and the documents it read are unchanged."""
    configuration, properties = (
        copy.deepcopy(DEVICE.configuration),
        copy.deepcopy(DEVICE.properties),
    )
    backend = DirectAccessBackend("ideal_manila", configuration, properties)
    assert (backend.name, backend.num_qubits) == ("ideal_manila", 5)
    assert configuration == DEVICE.configuration  # the decoders worked on copies
    assert properties == DEVICE.properties
    device = DEVICE.target
    assert set(backend.target["cx"]) == set(device["cx"])
    assert backend.target["cx"][(1, 2)].error == pytest.approx(device["cx"][(1, 2)].error)
    assert backend.target["sx"][(4,)].duration == pytest.approx(device["sx"][(4,)].duration)
    assert backend.target["measure"][(0,)].error == pytest.approx(device["measure"][(0,)].error)
    assert backend.configuration().backend_name == "ideal_manila"
    assert backend.properties() is not None


def test_transpiling_for_it_gives_circuits_on_the_coupling_map() -> None:
    """`generate_preset_pass_manager(backend=...)` accepts it and yields an ISA circuit."""
    backend = DirectAccessBackend("ideal_manila", DEVICE.configuration, DEVICE.properties)
    circuit = QuantumCircuit(3)
    circuit.h(0)
    circuit.cx(0, 2)
    isa = generate_preset_pass_manager(optimization_level=1, backend=backend).run(circuit)
    for instruction in isa.data:
        qubits = tuple(isa.find_bit(qubit).index for qubit in instruction.qubits)
        assert backend.target.instruction_supported(instruction.operation.name, qubits)


def test_without_properties_the_target_has_no_errors() -> None:
    """A backend that serves no properties still gives a target, without error rates."""
    backend = DirectAccessBackend("ideal_manila", DEVICE.configuration)
    assert backend.properties() is None
    assert backend.target["cx"][(0, 1)] is None or backend.target["cx"][(0, 1)].error is None


def test_a_configuration_qiskit_cannot_read_and_run_are_refused() -> None:
    """A document that is not a Qiskit configuration is a `DirectAccessError` naming the
    backend; `run` points to the primitives."""
    broken = {k: v for k, v in DEVICE.configuration.items() if k != "online_date"}
    with pytest.raises(DirectAccessError, match="backend 'ideal_manila': its configuration"):
        DirectAccessBackend("ideal_manila", broken, DEVICE.properties)
    backend = DirectAccessBackend("ideal_manila", DEVICE.configuration, DEVICE.properties)
    with pytest.raises(DirectAccessError, match="Sampler or Estimator"):
        backend.run(QuantumCircuit(1))
