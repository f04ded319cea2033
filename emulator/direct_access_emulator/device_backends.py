"""Backends built from fake devices: their qubits and documents filled in from qiskit-ibm-runtime.

`with_devices(config)` is the configuration the emulator serves: each backend naming a
``device`` gets the device's qubit count, configuration and properties, and the aer executor's
built-in backends become `AER_DEFAULT_DEVICES`. It imports Qiskit (the qiskit extra) only when
a device is named, and says what to install when it is missing. The app calls it;
`EmulatorConfig()` itself never does.
"""

from __future__ import annotations

import importlib
from dataclasses import replace
from types import MappingProxyType, ModuleType

from direct_access_emulator.config import (
    AER_DEFAULT_DEVICES,
    BackendConfig,
    ConfigError,
    EmulatorConfig,
)

__all__ = ["with_devices"]

_QISKIT_EXTRA = "pip install 'direct-access-toolkit[qiskit]'"


def _devices() -> ModuleType:
    """The devices module, or a ConfigError saying how to install what it needs."""
    try:
        # Imported here: Qiskit takes a second to import and is an optional extra.
        return importlib.import_module("direct_access_emulator.devices")
    except ImportError as error:
        raise ConfigError(
            f"fake devices and the aer executor need Qiskit ({error.name or error}): "
            f"{_QISKIT_EXTRA}"
        ) from None


def _with_device(backend: BackendConfig, where: str) -> BackendConfig:
    """The backend with its device's qubits, configuration and properties filled in."""
    if backend.device is None or backend.configuration is not None:
        return backend  # no device, or filled in already
    devices = _devices()
    try:
        device = devices.load_device(backend.device).served_as(backend.name)
    except devices.UnknownDevice as error:
        raise ConfigError(f"{where}.device: {error}") from None
    return replace(
        backend,
        num_qubits=device.num_qubits,
        configuration=MappingProxyType(device.configuration),
        properties=MappingProxyType(device.properties),
        defaults=None if device.defaults is None else MappingProxyType(device.defaults),
    )


def with_devices(config: EmulatorConfig) -> EmulatorConfig:
    """``config`` with its device backends filled in (``config`` itself when none needs it)."""
    backends = config.backends
    if config.execution.executor == "aer" and config.default_backends:
        # The built-in backend has no device to simulate; the aer executor's default is the
        # small fake devices, under their own names.
        backends = tuple(
            BackendConfig(name=device, device=device) for device in AER_DEFAULT_DEVICES
        )
    filled = tuple(_with_device(b, f"backends[{i}]") for i, b in enumerate(backends))
    return config if filled == config.backends else replace(config, backends=filled)
