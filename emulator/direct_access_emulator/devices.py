"""Emulated devices from the fake backends that `qiskit-ibm-runtime` ships: their JSON and target.

The configuration and properties are the package's JSON files, unchanged, as the backend endpoints
serve them; they ship no pulse defaults. Needs the `qiskit` extra.
"""

from __future__ import annotations

import functools
import json
import warnings
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from qiskit.transpiler import Target  # type: ignore[import-untyped,unused-ignore]
from qiskit_ibm_runtime import fake_provider  # type: ignore[import-untyped,unused-ignore]
from qiskit_ibm_runtime.fake_provider.fake_backend import FakeBackendV2  # type: ignore[import-untyped,unused-ignore]

__all__ = ["SMALL_DEVICE_QUBITS", "Device", "UnknownDevice", "list_devices", "load_device"]

#: Devices up to this many qubits are "small": noisy simulation of them sets up in milliseconds,
#: where a 127-qubit device takes seconds. These are the ones offered by default.
SMALL_DEVICE_QUBITS = 7


class UnknownDevice(LookupError):
    """No fake device has that name; the message lists the small ones available."""


@dataclass(frozen=True)
class Device:
    """One fake device: its name, size and the JSON documents the backend endpoints serve."""

    name: str
    num_qubits: int
    configuration: dict[str, Any] = field(repr=False)
    properties: dict[str, Any] = field(repr=False)
    defaults: dict[str, Any] | None = field(default=None, repr=False)

    def backend(self) -> FakeBackendV2:
        """The Qiskit backend of this device (built once per process, then shared)."""
        return _backend(self.name)

    def served_as(self, backend: str) -> Device:
        """The device as backend ``backend`` serves it: its documents carry that backend's name.

        Qiskit tells backends apart by ``backend_name``: two backends on one device (noisy and
        ideal) must not look alike. The device stays visible in ``emulated_device`` and in the
        configuration's description.
        """
        configuration = dict(self.configuration, backend_name=backend, emulated_device=self.name)
        about = configuration.get("description")
        emulated = f"emulates fake device {self.name}"
        configuration["description"] = f"{about} ({emulated})" if about else emulated.capitalize()
        properties = dict(self.properties, backend_name=backend, emulated_device=self.name)
        return replace(self, configuration=configuration, properties=properties)

    @property
    def target(self) -> Target:
        """The device's Qiskit target: basis, coupling map, and the noise it carries."""
        return self.backend().target


def list_devices(*, max_qubits: int | None = None) -> tuple[str, ...]:
    """Names of the fake devices (such as ``fake_manila``), sorted; ``max_qubits`` limits size."""
    return tuple(
        name
        for name, (_, qubits) in sorted(_catalogue().items())
        if max_qubits is None or qubits <= max_qubits
    )


def load_device(device: str) -> Device:
    """The fake device called ``device`` (``fake_manila``), or `UnknownDevice` naming the others."""
    entry = _catalogue().get(device)
    if entry is None:
        small = ", ".join(list_devices(max_qubits=SMALL_DEVICE_QUBITS))
        msg = (
            f"unknown device {device!r}; small devices available: {small} "
            f"(larger ones: see list_devices())"
        )
        raise UnknownDevice(msg)
    return _load(device)


@functools.cache
def _load(device: str) -> Device:
    cls, qubits = _catalogue()[device]
    folder = Path(cls.dirname)
    defaults_file = getattr(cls, "defs_filename", None)
    defaults = _read_json(folder / defaults_file) if defaults_file else None
    return Device(
        name=device,
        num_qubits=qubits,
        configuration=_read_json(folder / cls.conf_filename),
        properties=_read_json(folder / cls.props_filename),
        defaults=defaults,
    )


@functools.cache
def _backend(device: str) -> FakeBackendV2:
    cls, _ = _catalogue()[device]
    # Some fake devices warn on creation that their error rates are not typical; that is a fact
    # about the data, not a problem of the caller's.
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        return cls()


@functools.cache
def _catalogue() -> dict[str, tuple[Any, int]]:
    """Fake device name -> (class, qubits), read from the classes and their configuration files.

    The classes are not instantiated here: building all of them takes seconds.
    """
    found: dict[str, tuple[Any, int]] = {}
    for attribute in dir(fake_provider):
        cls = getattr(fake_provider, attribute)
        if not (isinstance(cls, type) and issubclass(cls, FakeBackendV2)):
            continue
        name = getattr(cls, "backend_name", None)
        folder = getattr(cls, "dirname", None)
        conf_file = getattr(cls, "conf_filename", None)
        if not (isinstance(name, str) and isinstance(folder, str) and isinstance(conf_file, str)):
            continue
        path = Path(folder) / conf_file
        if not path.is_file():
            continue
        found[name] = (cls, int(_read_json(path)["n_qubits"]))
    return found


def _read_json(path: Path) -> dict[str, Any]:
    document: dict[str, Any] = json.loads(path.read_text("utf-8"))
    return document
