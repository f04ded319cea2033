"""Circuits the Qiskit integration tests share."""

from __future__ import annotations

from qiskit import QuantumCircuit  # type: ignore[import-untyped,unused-ignore]


def bell(*, measure: bool = True) -> QuantumCircuit:
    """A Bell pair (H, CX), not yet transpiled."""
    circuit = QuantumCircuit(2)
    circuit.h(0)
    circuit.cx(0, 1)
    if measure:
        circuit.measure_all()
    return circuit
