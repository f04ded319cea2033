"""The documents the API serves about a backend: its summary, Qiskit configuration, properties.

A backend configured with documents (or a fake device's) serves them unchanged; otherwise the
configuration and properties are generated from its qubit count. Nothing here knows HTTP.
"""

from __future__ import annotations

from typing import Any

from direct_access_emulator.config import BackendConfig

__all__ = ["backend_configuration", "backend_lanes", "backend_properties", "backend_summary"]

# When the generated properties say they were measured.
_PROPERTIES_DATE = "2026-01-01T00:00:00Z"


def backend_summary(backend: BackendConfig, *, locked: bool) -> dict[str, Any]:
    """The spec's `Backend`: name, status, version, whether it is reserved now, a message."""
    document: dict[str, Any] = {
        "name": backend.name,
        "status": backend.status,
        "version": backend.version,
        "locked": locked,
    }
    if backend.message is not None:
        document["message"] = backend.message
    return document


def backend_lanes(backend: BackendConfig) -> dict[str, Any]:
    """The spec's `BackendLanes`: the lanes of each kind."""
    return {
        "hpc_workload_manager": {"lanes": backend.lanes},
        "ibm_quantum_compute": {"lanes": backend.compute_lanes},
    }


def backend_configuration(backend: BackendConfig) -> dict[str, Any]:
    """The Qiskit backend configuration: the configured one, else one for its qubit count."""
    if backend.configuration:
        return dict(backend.configuration)
    qubits = backend.num_qubits
    return {
        "backend_name": backend.name,
        "backend_version": backend.version,
        # Qiskit's decoders (qiskit-ibm-runtime's, qrmi's get_backend) require it.
        "online_date": _PROPERTIES_DATE,
        "n_qubits": qubits,
        "basis_gates": ["ecr", "id", "rz", "sx", "x"],
        "coupling_map": [[q, q + 1] for q in range(qubits - 1)],
        "gates": [],
        "local": False,
        "simulator": False,
        "conditional": False,
        "open_pulse": False,
        "memory": True,
        "max_shots": 100000,
        "max_experiments": 300,
        "supported_instructions": ["ecr", "id", "rz", "sx", "x", "measure", "delay", "reset"],
        "description": "A backend of the Direct Access emulator (no circuit is run).",
    }


def backend_properties(backend: BackendConfig) -> dict[str, Any]:
    """The Qiskit backend properties: the configured ones, else the same for every qubit."""
    if backend.properties:
        return dict(backend.properties)
    qubit = [
        {"date": _PROPERTIES_DATE, "name": "T1", "unit": "us", "value": 100.0},
        {"date": _PROPERTIES_DATE, "name": "T2", "unit": "us", "value": 80.0},
        {"date": _PROPERTIES_DATE, "name": "readout_error", "unit": "", "value": 0.01},
    ]
    return {
        "backend_name": backend.name,
        "backend_version": backend.version,
        "last_update_date": _PROPERTIES_DATE,
        "qubits": [qubit for _ in range(backend.num_qubits)],
        "gates": [],
        "general": [],
    }
