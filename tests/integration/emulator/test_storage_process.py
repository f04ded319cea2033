"""The emulator's SeaweedFS ends with it, even on kill -9, and one left by a crash is recovered."""

from __future__ import annotations

import fcntl
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from direct_access_emulator.seaweedfs import SeaweedFSError, _ports, local_s3, weed_binary
from tests.integration.emulator.support import Cli, wait_for


def _gone(pid: int) -> bool:
    """Whether the process ended (a zombie, not yet reaped, counts as ended)."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return True
    return stat.rpartition(")")[2].split()[0] == "Z"


def _storage_pid(data_dir: Path) -> int:
    record = json.loads((data_dir / "owner.json").read_text("utf-8"))
    pid = record["pid"]
    assert isinstance(pid, int)
    return pid


def test_a_killed_emulator_takes_its_seaweedfs_along_and_restarts(tmp_path: Path) -> None:
    """kill -9 of the emulator ends its SeaweedFS; the same --with-storage --data-dir restarts."""
    first = Cli("--with-storage", "--data-dir", str(tmp_path))
    weed = _storage_pid(tmp_path / "s3")
    assert not _gone(weed)
    first.kill()
    wait_for(lambda: _gone(weed), bool, deadline_secs=10)
    second = Cli("--with-storage", "--data-dir", str(tmp_path))
    assert second.env["DIRECT_ACCESS_S3_ENDPOINT"].startswith("http://127.0.0.1:")
    status, _, err = second.terminate()
    assert status == 0, err
    assert "Traceback" not in err


def test_a_second_emulator_on_the_same_data_dir_is_refused_with_a_message(tmp_path: Path) -> None:
    """While one emulator serves the folder, another start names the owner, without a traceback."""
    first = Cli("--with-storage", "--data-dir", str(tmp_path))
    try:
        done = subprocess.run(
            [
                sys.executable,
                "-m",
                "direct_access_emulator",
                *("--with-storage", "--data-dir"),
                str(tmp_path),
            ],
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )
        assert done.returncode == 1
        assert f"in use by process {first.process.pid}" in done.stderr
        assert "Traceback" not in done.stderr
        assert not _gone(_storage_pid(tmp_path / "s3"))
    finally:
        status, _, err = first.terminate()
    assert status == 0, err


def _locked(path: Path) -> bool:
    with path.open("rb") as file:
        try:
            fcntl.flock(file, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            return True
        fcntl.flock(file, fcntl.LOCK_UN)
    return False


def test_a_seaweedfs_left_by_an_earlier_crash_is_ended_at_start(tmp_path: Path) -> None:
    """A SeaweedFS still holding the folder's locks, its owner gone, is ended; the start works."""
    data = tmp_path / "data"
    data.mkdir()
    # As an emulator started it before SeaweedFS ended with its owner (no parent-death signal).
    command = [str(weed_binary()), "mini", f"-dir={data}", "-ip=127.0.0.1", "-ip.bind=127.0.0.1"]
    command += [f"-{flag}={port}" for flag, port in _ports().items()]
    command += ["-admin.ui=false", "-webdav=false"]
    with (tmp_path / "orphan.log").open("ab") as log:
        orphan = subprocess.Popen(
            command,
            stdout=log,
            stderr=subprocess.STDOUT,
            cwd=tmp_path,
            start_new_session=True,
        )
    try:
        lock = data / "filerldb2" / "00" / "LOCK"
        wait_for(lambda: lock.exists() and _locked(lock), bool, deadline_secs=30)
        with local_s3(tmp_path) as settings:
            assert orphan.poll() is not None
            assert settings.endpoint.startswith("http://127.0.0.1:")
    finally:
        if orphan.poll() is None:
            os.killpg(orphan.pid, 9)
        orphan.wait(timeout=30)


def test_a_folder_in_use_by_this_process_is_refused(tmp_path: Path) -> None:
    """local_s3 on a folder its own live SeaweedFS serves raises instead of ending that one."""
    with local_s3(tmp_path):
        weed = _storage_pid(tmp_path)
        in_use = pytest.raises(SeaweedFSError, match=f"in use by process {os.getpid()}")
        with in_use, local_s3(tmp_path):
            pass
        assert not _gone(weed)
