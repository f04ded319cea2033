"""Circuits as a device runs them: in its full qubit space, and checked against its target.

Qubit ``i`` of a job's circuit is the device's physical qubit ``i``, whether the circuit came as
OpenQASM 3 on physical qubits (``$n``) or as QPY. Needs the qiskit extra.
"""

from __future__ import annotations

from collections.abc import Mapping

from qiskit import QuantumCircuit  # type: ignore[import-untyped,unused-ignore]
from qiskit.circuit import Qubit  # type: ignore[import-untyped,unused-ignore]

from direct_access_emulator.devices import Device

__all__ = ["CircuitMismatch", "in_device_space", "isa_problem"]

# A failure reason names this many of the device's qubit pairs: enough to see the pattern.
_PAIRS_SHOWN = 12


class CircuitMismatch(ValueError):
    """The circuit and its observables do not fit together on the device; the message says how."""


def in_device_space(
    circuit: QuantumCircuit, observable_qubits: int | None, device: Device
) -> QuantumCircuit:
    """The circuit as the device runs it: its qubit ``i`` is the device's physical qubit ``i``.

    A circuit on physical qubits (OpenQASM 3 ``$n``, as `qasm3.dumps` writes ISA circuits) loads
    only as wide as its highest qubit, a QPY circuit as wide as it was built; on a device both
    live in its full qubit space. Observables over the whole device (`apply_layout` on an ISA
    circuit gives those) get the circuit widened to it; observables as wide as the circuit fit
    it as it is. Anything else is a mismatch that the reason explains.
    """
    width, full = circuit.num_qubits, device.num_qubits
    if observable_qubits is None or observable_qubits == width:
        return circuit
    if observable_qubits == full and width < full:
        # Built anew rather than grown: the importer's layout covers only the loaded qubits.
        widened = QuantumCircuit(
            [*circuit.qubits, *(Qubit() for _ in range(full - width))],
            circuit.clbits,
            *circuit.cregs,
            name=circuit.name,
            global_phase=circuit.global_phase,
            metadata=circuit.metadata,
        )
        return widened.compose(circuit, circuit.qubits, circuit.clbits, copy=False)
    raise CircuitMismatch(
        f"the observables act on {observable_qubits} qubits, the circuit on "
        f"{width} (physical qubits 0-{width - 1} of {device.name}'s {full}); give observables "
        f"on all {full} qubits of the device (SparsePauliOp.apply_layout(isa_circuit.layout)) "
        f"or on the circuit's {width}"
    )


def isa_problem(circuit: QuantumCircuit, device: Device) -> str | None:
    """Why ``circuit`` cannot run on ``device`` as it is (too wide, a gate outside its basis or
    coupling map), or None when it is an ISA circuit for it."""
    if circuit.num_qubits > device.num_qubits:
        return (
            f"circuit has {circuit.num_qubits} qubits, more than {device.name}'s "
            f"{device.num_qubits}"
        )
    physical = {qubit: index for index, qubit in enumerate(circuit.qubits)}
    return _instructions_problem(circuit, physical, device)


def _instructions_problem(
    circuit: QuantumCircuit, physical: Mapping[Qubit, int], device: Device
) -> str | None:
    target = device.target
    for instruction in circuit.data:
        operation = instruction.operation
        name = operation.name
        qubits = tuple(physical[qubit] for qubit in instruction.qubits)
        if name not in {"barrier", "store"} and not target.instruction_supported(name, qubits):
            return _unsupported(name, qubits, device)
        for block in getattr(operation, "blocks", ()):
            inner = dict(zip(block.qubits, qubits, strict=True))
            problem = _instructions_problem(block, inner, device)
            if problem:
                return problem
    return None


def _unsupported(name: str, qubits: tuple[int, ...], device: Device) -> str:
    target = device.target
    on = f"qubit {qubits[0]}" if len(qubits) == 1 else f"qubits {qubits}"
    if name not in target.operation_names:
        basis = ", ".join(sorted(target.operation_names))
        return (
            f"gate {name!r} on {on} is not in {device.name}'s basis ({basis}); "
            f"transpile the circuit for the backend first"
        )
    if len(qubits) == 2:
        pairs = sorted(pair for pair in target[name] if pair is not None)
        shown = ", ".join(str(pair) for pair in pairs[:_PAIRS_SHOWN])
        more = f", ... {len(pairs) - _PAIRS_SHOWN} more" if len(pairs) > _PAIRS_SHOWN else ""
        return (
            f"gate {name!r} on {on} is not on {device.name}'s coupling map "
            f"({name} pairs: {shown}{more}); transpile the circuit for the backend first"
        )
    return f"gate {name!r} on {on} is not supported by {device.name}"
