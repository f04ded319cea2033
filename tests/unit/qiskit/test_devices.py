"""Fake devices: the JSON the backend endpoints serve, and the Qiskit target behind it."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import qiskit_ibm_runtime  # type: ignore[import-untyped,unused-ignore]

from direct_access_emulator.devices import (
    SMALL_DEVICE_QUBITS,
    UnknownDevice,
    list_devices,
    load_device,
)

PACKAGE = Path(qiskit_ibm_runtime.__file__).parent / "fake_provider" / "backends"


def test_manila_serves_the_package_json_unchanged() -> None:
    """fake_manila's configuration and properties are the files the package ships, as they are."""
    device = load_device("fake_manila")
    shipped = PACKAGE / "manila"
    assert device.configuration == json.loads((shipped / "conf_manila.json").read_text())
    assert device.properties == json.loads((shipped / "props_manila.json").read_text())
    assert device.name == "fake_manila"
    assert device.num_qubits == 5


def test_fake_devices_have_no_pulse_defaults() -> None:
    """The package ships no pulse defaults, so a device has none (the endpoint answers 404)."""
    assert load_device("fake_lima").defaults is None


def test_device_target_matches_its_configuration() -> None:
    """The Qiskit target has the device's qubits, basis and coupling map."""
    device = load_device("fake_manila")
    target = device.target
    assert target.num_qubits == device.num_qubits
    assert set(device.configuration["basis_gates"]) <= set(target.operation_names)
    coupling = {tuple(pair) for pair in device.configuration["coupling_map"]}
    assert set(target["cx"]) == coupling
    assert device.backend() is device.backend()


def test_unknown_device_lists_the_small_ones() -> None:
    """An unknown name is refused with the small devices that exist."""
    with pytest.raises(UnknownDevice) as caught:
        load_device("fake_nowhere")
    message = str(caught.value)
    assert "'fake_nowhere'" in message
    assert "fake_manila" in message
    assert "fake_lima" in message
    assert "fake_washington" not in message


def test_list_devices_filters_by_size() -> None:
    """`list_devices` names every fake device, sorted; `max_qubits` keeps the small ones."""
    every = list_devices()
    small = list_devices(max_qubits=SMALL_DEVICE_QUBITS)
    assert list(every) == sorted(every)
    assert {"fake_manila", "fake_lima", "fake_washington"} <= set(every)
    assert "fake_manila" in small
    assert "fake_washington" not in small
    assert all(load_device(name).num_qubits <= SMALL_DEVICE_QUBITS for name in small[:3])


def test_documents_served_for_a_backend_carry_its_name_and_show_the_device() -> None:
    """Served as backend ``ideal_manila``, fake_manila's documents name that backend, say which
    device they come from, and are otherwise the package's JSON."""
    device = load_device("fake_manila")
    served = device.served_as("ideal_manila")
    for document, original in (
        (served.configuration, device.configuration),
        (served.properties, device.properties),
    ):
        assert document["backend_name"] == "ideal_manila"
        assert document["emulated_device"] == "fake_manila"
        unchanged = {"backend_name", "emulated_device", "description"}
        assert {k: v for k, v in document.items() if k not in unchanged} == {
            k: v for k, v in original.items() if k not in unchanged
        }
    assert (
        served.configuration["description"] == "5 qubit device (emulates fake device fake_manila)"
    )
    assert device.configuration["backend_name"] == "ibmq_manila"  # the package's own, untouched
