"""`python -m direct_access_emulator`: serve the emulator (and, if asked, a local S3 store).

Prints one JSON line whose keys are the client's environment variable names, then serves until
SIGINT or SIGTERM and shuts down cleanly. Logs (one JSON access-log line per request) go to stderr.
"""

from __future__ import annotations

import argparse
import errno
import json
import logging
import os
import signal
import socket
import sys
import tempfile
from collections.abc import Sequence
from contextlib import ExitStack
from pathlib import Path
from types import FrameType

from direct_access_spec import SpecMismatch

# A spec changed under the emulator (a value it names removed) fails these imports; `--help`
# still answers, saying what to change, and a start says it in one line.
_MISMATCH: SpecMismatch | None = None
try:
    from direct_access_emulator.config import CONFIG_REFERENCE, ConfigError, EmulatorConfig
    from direct_access_emulator.config_file import load_config
    from direct_access_emulator.server import serve
except SpecMismatch as error:
    _MISMATCH = error
    CONFIG_REFERENCE = ""

__all__ = ["main"]


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m direct_access_emulator",
        description=(
            "A local Direct Access API emulator. Prints one JSON line with the client's "
            "environment variables (DIRECT_ACCESS_URL, DIRECT_ACCESS_IAM_URL, "
            "DIRECT_ACCESS_API_KEY, DIRECT_ACCESS_SERVICE_CRN, DIRECT_ACCESS_BACKEND and, with "
            "--with-storage, DIRECT_ACCESS_S3_*), then serves until SIGINT or SIGTERM."
        ),
        epilog=CONFIG_REFERENCE
        if _MISMATCH is None
        else f"The emulator does not match openapi.yaml, so it cannot start:\n  {_MISMATCH}\n",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--host", default="127.0.0.1", help="address to bind (default 127.0.0.1)")
    parser.add_argument("--port", type=int, default=0, help="port to bind; 0 picks a free one")
    parser.add_argument("--config", type=Path, help="TOML configuration file (fields below)")
    parser.add_argument(
        "--data-dir", type=Path, help="keep jobs (SQLite) and storage here across restarts"
    )
    parser.add_argument(
        "--env-file", type=Path, help="also write the variables as `export NAME='value'` lines"
    )
    parser.add_argument(
        "--with-storage",
        action="store_true",
        help="also run a local S3-compatible store (SeaweedFS) and print its settings",
    )
    return parser


def _shell_quote(value: str) -> str:
    return "'" + value.replace("'", "'\\''") + "'"


def _write_env_file(path: Path, env: dict[str, str]) -> None:
    """Write the file readable by its owner only, also when it replaces a more open one.

    It holds the development key and, with storage, the store's secret. A new file (mode 0o600
    from mkstemp) replaces the old one, so the secret is never in a file others can read.
    """
    text = "".join(f"export {name}={_shell_quote(value)}\n" for name, value in env.items())
    path.parent.mkdir(parents=True, exist_ok=True)
    descriptor, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
    try:
        with os.fdopen(descriptor, "w", encoding="utf-8") as file:
            file.write(text)
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise


def main(argv: Sequence[str] | None = None) -> int:
    """Run the emulator until a signal: exit 0 after a clean stop, 2 on bad input (or a spec the
    emulator does not match), 1 when the local store cannot start."""
    parser = _parser()
    args = parser.parse_args(argv)
    if _MISMATCH is not None:
        print(f"error: {_MISMATCH}", file=sys.stderr)
        return 2
    try:
        config = load_config(args.config) if args.config is not None else EmulatorConfig()
    except ConfigError as error:
        print(f"error: {args.config}: {error}", file=sys.stderr)
        return 2
    logging.basicConfig(level=logging.INFO, stream=sys.stderr, format="%(message)s")
    logging.getLogger("direct_access_emulator.access").setLevel(logging.INFO)
    # httpx logs each request's URL at INFO: for the executors' storage calls that is a presigned
    # URL, whose signature is a credential.
    logging.getLogger("httpx").setLevel(logging.WARNING)

    # The C-level handler writes each signal's number to this pipe, from whichever thread the
    # signal lands on; the main thread waits on it. The Python handler takes no lock: a second
    # signal arriving while the first one's handler held one (make forwards the SIGTERM its group
    # also got) deadlocked `threading.Event.set`, and the emulator never stopped.
    wake_read, wake_write = os.pipe()
    os.set_blocking(wake_write, False)
    signal.set_wakeup_fd(wake_write, warn_on_full_buffer=False)

    def request_stop(signum: int, frame: FrameType | None) -> None:
        """Nothing to do: the wakeup pipe has the signal already."""

    signal.signal(signal.SIGINT, request_stop)
    signal.signal(signal.SIGTERM, request_stop)

    with ExitStack() as stack:
        env: dict[str, str] = {}
        if args.with_storage:
            # Imported here: boto3 is slow to import.
            from direct_access_emulator.seaweedfs import SeaweedFSError, local_s3  # noqa: PLC0415

            storage_dir = args.data_dir / "s3" if args.data_dir is not None else None
            try:
                env_s3 = stack.enter_context(local_s3(storage_dir)).env()
            except SeaweedFSError as error:
                print(f"error: storage: {error}", file=sys.stderr)
                return 1
        else:
            env_s3 = {}
        try:
            emulator = stack.enter_context(
                serve(config, data_dir=args.data_dir, host=args.host, port=args.port)
            )
        except OSError as error:
            if error.errno != errno.EADDRINUSE and not isinstance(error, socket.gaierror):
                raise
            reason = "already in use" if error.errno == errno.EADDRINUSE else error.strerror
            print(f"error: cannot listen on {args.host}:{args.port}: {reason}", file=sys.stderr)
            return 2
        except SpecMismatch as error:  # a status added to the spec, with no rule for it
            print(f"error: {error}", file=sys.stderr)
            return 2
        env.update(emulator.env())
        env.update(env_s3)
        # The file first: whoever sees the line may read the file at once.
        if args.env_file is not None:
            _write_env_file(args.env_file, env)
        print(json.dumps(env), flush=True)
        os.read(wake_read, 1)  # until SIGINT or SIGTERM (a signal any thread received)
    return 0


if __name__ == "__main__":
    sys.exit(main())
