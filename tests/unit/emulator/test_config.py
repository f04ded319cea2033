"""The emulator's configuration: defaults without a file, TOML loading, and errors naming fields."""

from __future__ import annotations

import dataclasses
import datetime
import re
import subprocess
import sys
from pathlib import Path

import pytest

from direct_access_emulator.config import (
    CONFIG_REFERENCE,
    CONFIG_SECTIONS,
    BackendConfig,
    ConfigError,
    EmulatorConfig,
    ExecutionConfig,
    OperationFaults,
    Reservation,
)
from direct_access_emulator.config_file import PARSED_FIELDS, load_config
from direct_access_emulator.device_backends import with_devices


def _load(tmp_path: Path, text: str) -> EmulatorConfig:
    path = tmp_path / "emulator.toml"
    path.write_text(text)
    return load_config(path)


def test_defaults_need_no_file(tmp_path: Path) -> None:
    """An empty file gives the defaults: one instance with a key, one backend with 5 lanes."""
    config = _load(tmp_path, "")
    assert config == EmulatorConfig()
    assert config.instances[0].api_keys == ("da-dev-key-1",)
    assert (config.backends[0].name, config.backends[0].lanes) == ("fake_backend", 5)
    assert config.faults.for_operation("create_job") is None


def test_a_full_file_is_read(tmp_path: Path) -> None:
    """Every section is read into the matching dataclass."""
    config = _load(
        tmp_path,
        """
[server]
max_body_bytes = 2048
body_timeout_secs = 1.5
[auth]
token_lifetime_secs = 60
[[instances]]
crn = "crn:a"
api_keys = ["k1", "k2"]
[[backends]]
name = "b1"
status = "paused"
lanes = 2
reservations = [{ start = "2026-01-01T00:00:00Z", end = 2026-01-01T01:00:00Z }]
defaults = { qubit_freq_est = [5.0] }
[execution]
duration_secs = 0
allowed_storage_hosts = ["127.0.0.1"]
[faults]
seed = 3
[faults.operations."*"]
latency_secs = 0.1
[faults.operations.create_job]
error_503 = 0.25
lanes_full_429 = 1.0
drop_after_commit = 0.1
late_answer = 0.2
late_answer_secs = 3
""",
    )
    assert config.server.max_body_bytes == 2048
    assert config.auth.token_lifetime_secs == 60
    assert config.instances[0].api_keys == ("k1", "k2")
    backend = config.backends[0]
    assert backend.status == "paused"
    assert backend.reserved_at(datetime.datetime(2026, 1, 1, 0, 30, tzinfo=datetime.UTC))
    assert not backend.reserved_at(datetime.datetime(2026, 1, 1, 1, 0, tzinfo=datetime.UTC))
    assert dict(backend.defaults or {}) == {"qubit_freq_est": [5.0]}
    assert config.faults.for_operation("create_job") == OperationFaults(
        error_503=0.25,
        lanes_full_429=1.0,
        drop_after_commit=0.1,
        late_answer=0.2,
        late_answer_secs=3.0,
    )
    assert config.faults.for_operation("get_job") == OperationFaults(latency_secs=0.1)


@pytest.mark.parametrize(
    ("text", "field"),
    [
        ("[[backends]]\nlanes = 0\n", "backends[0].lanes: must be an integer >= 1"),
        ("[[backends]]\nlanes = true\n", "backends[0].lanes: must be an integer >= 1"),
        ('[[backends]]\nstatus = "broken"\n', "backends[0].status"),
        ("[server]\nmax_body = 1\n", "server.max_body: unknown field"),
        ("surprise = 1\n", "surprise: unknown field"),
        ("[auth]\ntoken_lifetime_secs = 0\n", "auth.token_lifetime_secs"),
        ("[[instances]]\napi_keys = []\n", "instances[0].api_keys"),
        ('[[backends]]\nreservations = [{ start = "x", end = "y" }]\n', "reservations[0].start"),
        (
            '[[backends]]\nreservations = [{ start = "2026-01-02T00:00:00Z", '
            'end = "2026-01-01T00:00:00Z" }]\n',
            "backends[0].reservations[0].end: must be after start",
        ),
        ('[execution]\nexecutor = "gpu"\n', 'execution.executor: must be "shape" or "aer"'),
        ("[execution]\nworkers = 0\n", "execution.workers: must be an integer >= 1"),
        ('[[backends]]\ndevice = "fake_nowhere"\n', "backends[0].device: unknown device"),
        ('[[backends]]\ndevice = "fake_manila"\nnum_qubits = 3\n', "backends[0].num_qubits: not"),
        ('[[backends]]\ndevice = "fake_manila"\nnoise = "yes"\n', "backends[0].noise: must be"),
        (
            '[execution]\nexecutor = "aer"\n[[backends]]\nname = "plain"\n',
            "backends[0].device: the aer executor simulates a fake device",
        ),
        (
            "[faults.operations.nope]\nerror_503 = 0.1\n",
            "faults.operations.nope: unknown operation",
        ),
        ("[faults.operations.get_job]\nerror_503 = 2\n", "faults.operations.get_job.error_503"),
        ("[faults.operations.get_job]\nreserved_423 = 1\n", "get_job.reserved_423: unknown field"),
        (
            "[faults.operations.create_job]\nlate_answer = 0.5\n",
            "create_job.late_answer_secs: late_answer needs a delay > 0",
        ),
        (
            "[faults.operations.get_job]\ndrop_after_commit = 1.5\n",
            "faults.operations.get_job.drop_after_commit",
        ),
        ('[[backends]]\nname = "a"\n[[backends]]\nname = "a"\n', "backends[1].name: duplicate"),
        ("[server\n", "not valid TOML"),
        (
            "[[backends]]\nproperties = { t1 = [1.0, nan] }\n",
            r"backends[0].properties.t1[1]: nan is not a JSON number",
        ),
        (
            "[[backends]]\ndefaults = { f = { x = -inf } }\n",
            r"backends[0].defaults.f.x: -inf is not a JSON number",
        ),
    ],
)
def test_a_bad_file_is_refused_naming_the_field(tmp_path: Path, text: str, field: str) -> None:
    """Each mistake raises ConfigError whose message names the offending field."""
    with pytest.raises(
        ConfigError, match=field.replace("[", r"\[").replace("]", r"\]").replace("*", r"\*")
    ):
        _load(tmp_path, text)


def test_python_configs_are_checked_and_replaceable() -> None:
    """Configs built in Python follow the same rules, and dataclasses.replace works."""
    with pytest.raises(ConfigError, match="lanes"):
        EmulatorConfig(backends=(BackendConfig(lanes=0),))
    config = dataclasses.replace(EmulatorConfig(), backends=(BackendConfig(name="x"),))
    assert config.backend("x") is not None
    assert config.backend("fake_backend") is None


def test_a_device_backend_serves_the_device_documents(tmp_path: Path) -> None:
    """device = "fake_lima" gives the device's qubits, configuration and properties, unchanged,
    no pulse defaults, the device's name unless one is given, and noise as asked."""
    from direct_access_emulator.devices import load_device  # noqa: PLC0415 - the qiskit extra

    config = _load(
        tmp_path,
        '[[backends]]\ndevice = "fake_lima"\nnoise = false\n'
        '[[backends]]\nname = "noisy"\ndevice = "fake_manila"\n'
        '[execution]\nexecutor = "aer"\nworkers = 3\n',
    )
    lima, noisy = config.backends
    device = load_device("fake_lima").served_as("fake_lima")  # documents named as the backend
    assert (lima.name, lima.device, lima.noise, lima.num_qubits) == (
        "fake_lima",
        "fake_lima",
        False,
        5,
    )
    assert dict(lima.configuration or {}) == device.configuration
    assert dict(lima.properties or {}) == device.properties
    assert lima.defaults is None
    assert (noisy.name, noisy.device, noisy.noise) == ("noisy", "fake_manila", True)
    assert config.execution.workers == 3
    # replace() keeps the filled-in documents and does not load them again into something else.
    again = dataclasses.replace(config, backends=(lima,))
    assert again.backends == (lima,)


def test_aer_without_backends_defaults_to_small_devices(tmp_path: Path) -> None:
    """The aer executor with no backends configured offers fake_manila and fake_lima, named so."""
    for config in (
        _load(tmp_path, '[execution]\nexecutor = "aer"\n'),
        with_devices(EmulatorConfig(execution=ExecutionConfig(executor="aer"))),
    ):
        assert [(b.name, b.device, b.noise) for b in config.backends] == [
            ("fake_manila", "fake_manila", True),
            ("fake_lima", "fake_lima", True),
        ]
        assert all(b.num_qubits == 5 and b.configuration for b in config.backends)
    assert EmulatorConfig().backends == (BackendConfig(),)


def test_python_device_errors_name_the_backend_index() -> None:
    """A Python config with an unknown device names backends[i].device and the small devices."""
    with pytest.raises(
        ConfigError, match=r"backends\[1\]\.device: unknown device 'x'.*fake_manila"
    ):
        with_devices(
            EmulatorConfig(backends=(BackendConfig(), BackendConfig(name="b", device="x")))
        )


def test_devices_without_the_qiskit_extra_say_what_to_install(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Without Qiskit, a device backend is refused with the pip command that adds it."""
    # None in sys.modules makes an import fail as if the package were not installed.
    monkeypatch.delitem(sys.modules, "direct_access_emulator.devices", raising=False)
    monkeypatch.setitem(sys.modules, "qiskit_ibm_runtime", None)
    with pytest.raises(ConfigError, match=re.escape("pip install 'direct-access-toolkit[qiskit]'")):
        with_devices(EmulatorConfig(backends=(BackendConfig(device="fake_manila"),)))
    with pytest.raises(ConfigError, match=r"need Qiskit \(qiskit_ibm_runtime\)"):
        with_devices(EmulatorConfig(execution=ExecutionConfig(executor="aer")))
    # The shape executor and plain backends need no Qiskit.
    assert EmulatorConfig().execution.executor == "shape"


def test_device_backend_repr_stays_short() -> None:
    """A device's documents are left out of the repr (they run to tens of kilobytes)."""
    config = with_devices(EmulatorConfig(backends=(BackendConfig(name="m", device="fake_manila"),)))
    assert len(repr(config.backends[0])) < 500


def _config_classes() -> list[type[object]]:
    return [EmulatorConfig, Reservation] + [cls for _, cls, _ in CONFIG_SECTIONS]


def test_every_config_field_documents_itself() -> None:
    """Each field carries its documentation (doc metadata); only a section may leave it empty."""
    for cls in _config_classes():
        for item in dataclasses.fields(cls):  # type: ignore[arg-type]
            assert "doc" in item.metadata, f"{cls.__name__}.{item.name} has no doc"
            assert item.metadata["doc"] or item.metadata["section"], f"{cls.__name__}.{item.name}"


def test_the_reference_shows_every_field_the_file_accepts() -> None:
    """--help's reference has a `name = value  # doc` line for each key of each section."""
    lines = CONFIG_REFERENCE.splitlines()
    for header, cls, _ in CONFIG_SECTIONS:
        start = lines.index(next(line for line in lines if line.startswith(f"  {header}")))
        ends = [i for i, line in enumerate(lines) if line.startswith("  [") and i > start]
        section = lines[start + 1 : ends[0] if ends else len(lines)]
        for item in dataclasses.fields(cls):
            if item.metadata["section"]:
                continue
            line = next((x for x in section if x.startswith(f"  {item.name} = ")), None)
            assert line is not None, f"{header} {item.name} missing from the reference"
            assert item.metadata["doc"].split("\n")[0] in "\n".join(section)
    for name in ("start", "end"):  # a reservation's keys, shown inline under backends
        assert f"{name} = " in CONFIG_REFERENCE


def test_the_file_accepts_exactly_the_dataclass_fields() -> None:
    """The TOML parsers and the dataclasses name the same keys: neither can drift."""
    for cls, keys in PARSED_FIELDS.items():
        assert keys == {item.name for item in dataclasses.fields(cls)}, cls.__name__


def test_building_a_config_has_no_side_effects() -> None:
    """EmulatorConfig(executor="aer") imports no Qiskit and keeps the backends it was given."""
    probe = (
        "import sys\n"
        "from direct_access_emulator.config import EmulatorConfig, ExecutionConfig\n"
        "config = EmulatorConfig(execution=ExecutionConfig(executor='aer'))\n"
        "assert config.default_backends, config.backends\n"
        "loaded = [m for m in sys.modules if m.split('.')[0] in ('qiskit', 'qiskit_ibm_runtime')]\n"
        "assert 'direct_access_emulator.devices' not in sys.modules\n"
        "assert not loaded, loaded\n"
    )
    subprocess.run([sys.executable, "-c", probe], check=True, timeout=60)
