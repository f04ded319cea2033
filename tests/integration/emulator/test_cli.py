"""`python -m direct_access_emulator`: its JSON line, env file, storage, signals and bad configs."""

from __future__ import annotations

import json
import signal
import socket
import stat
import subprocess
import sys
from pathlib import Path
from urllib.parse import urlsplit

import httpx

from direct_access_emulator.config import CONFIG_REFERENCE
from tests.integration.emulator.support import Cli, issue_token

CLIENT_KEYS = {
    "DIRECT_ACCESS_URL",
    "DIRECT_ACCESS_IAM_URL",
    "DIRECT_ACCESS_API_KEY",
    "DIRECT_ACCESS_SERVICE_CRN",
    "DIRECT_ACCESS_BACKEND",
}
STORAGE_KEYS = {
    "DIRECT_ACCESS_S3_ENDPOINT",
    "DIRECT_ACCESS_S3_BUCKET",
    "DIRECT_ACCESS_S3_REGION",
    "DIRECT_ACCESS_S3_ACCESS_KEY_ID",
    "DIRECT_ACCESS_S3_SECRET_ACCESS_KEY",
}


def _closed(url: str) -> bool:
    address = urlsplit(url)
    assert address.hostname is not None
    assert address.port is not None
    with socket.socket() as probe:
        return probe.connect_ex((address.hostname, address.port)) != 0


def test_prints_the_client_variables_and_stops_on_sigterm(tmp_path: Path) -> None:
    """One JSON line with exactly the client's variables; SIGTERM stops it with status 0.

    The env file it replaces was world-readable; the new one is the owner's only.
    """
    env_file = tmp_path / "emulator.env"
    env_file.write_text("export OLD=1\n")
    env_file.chmod(0o644)
    cli = Cli("--env-file", str(env_file))
    url = cli.env["DIRECT_ACCESS_URL"]
    assert set(cli.env) == CLIENT_KEYS
    token = issue_token(cli.env["DIRECT_ACCESS_IAM_URL"], cli.env["DIRECT_ACCESS_API_KEY"])
    headers = {
        "Authorization": f"Bearer {token}",
        "Service-CRN": cli.env["DIRECT_ACCESS_SERVICE_CRN"],
    }
    backend = cli.env["DIRECT_ACCESS_BACKEND"]
    assert httpx.get(f"{url}/v1/backends/{backend}", headers=headers).status_code == 200
    lines = env_file.read_text().splitlines()
    assert stat.S_IMODE(env_file.stat().st_mode) == 0o600
    assert f"export DIRECT_ACCESS_URL='{url}'" in lines
    assert len(lines) == len(CLIENT_KEYS)
    status, out, err = cli.terminate()
    assert status == 0
    assert out == ""
    assert token not in err
    access = [json.loads(line) for line in err.splitlines() if line.startswith("{")]
    assert {"method", "path", "status", "duration_ms", "job_id"} <= set(access[-1])
    assert _closed(url)


def test_a_burst_of_signals_still_stops_it() -> None:
    """SIGTERM after SIGTERM (a group's signal and the one `make` forwards) ends it with status 0:
    a handler interrupted by the next signal must not wait on a lock the first one holds."""
    for _ in range(3):
        cli = Cli()
        try:
            for _ in range(200):
                cli.process.send_signal(signal.SIGTERM)
                cli.process.send_signal(signal.SIGINT)
            cli.process.communicate(timeout=30)
        finally:
            if cli.process.returncode is None:  # hung: end it, then fail
                cli.kill()
        assert cli.process.returncode == 0
        assert _closed(cli.env["DIRECT_ACCESS_URL"])


def test_with_storage_prints_a_working_store_and_stops_it(tmp_path: Path) -> None:
    """--with-storage adds the S3 variables of a running store, stopped with the emulator."""
    cli = Cli("--with-storage", "--data-dir", str(tmp_path))
    assert set(cli.env) == CLIENT_KEYS | STORAGE_KEYS
    endpoint = cli.env["DIRECT_ACCESS_S3_ENDPOINT"]
    assert urlsplit(endpoint).hostname == "127.0.0.1"
    # An unsigned request reaches the store and is refused: signatures are checked.
    assert httpx.get(f"{endpoint}/{cli.env['DIRECT_ACCESS_S3_BUCKET']}/x").status_code == 403
    assert (tmp_path / "s3").is_dir()
    status, _, err = cli.terminate()
    assert status == 0
    assert cli.env["DIRECT_ACCESS_S3_SECRET_ACCESS_KEY"] not in err
    assert _closed(endpoint)


def test_a_bad_config_is_refused_naming_the_field(tmp_path: Path) -> None:
    """A config with lanes = 0 exits with status 2 and names backends[0].lanes."""
    config = tmp_path / "bad.toml"
    config.write_text('[[backends]]\nname = "b"\nlanes = 0\n')
    result = subprocess.run(
        [sys.executable, "-m", "direct_access_emulator", "--config", str(config)],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 2
    assert "backends[0].lanes: must be an integer >= 1" in result.stderr
    assert result.stdout == ""


def test_help_prints_the_configuration_reference() -> None:
    """--help ends with the reference made from the config's field documentation."""
    result = subprocess.run(
        [sys.executable, "-m", "direct_access_emulator", "--help"],
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    assert CONFIG_REFERENCE in result.stdout


def test_a_port_in_use_is_refused_with_a_message(tmp_path: Path) -> None:
    """--port on a port another server holds: exit 2, a one-line reason, no traceback."""
    with socket.create_server(("127.0.0.1", 0)) as holder:
        port = holder.getsockname()[1]
        done = subprocess.run(
            [sys.executable, "-m", "direct_access_emulator", "--port", str(port)],
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )
    assert done.returncode == 2, done.stderr
    assert done.stdout == ""
    assert f"127.0.0.1:{port}" in done.stderr
    assert "already in use" in done.stderr
    assert "Traceback" not in done.stderr
