"""The command's skeleton: its Typer apps, global options, consoles, exit codes, and what every
command shares (the client, the store, JSON output, errors)."""

from __future__ import annotations

import importlib
import json
import logging
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, Annotated, Any, NoReturn

import typer
from rich.console import Console

from direct_access import (
    Client,
    ConfigurationError,
    DirectAccessError,
    JobTimeoutError,
    Settings,
    __version__,
)
from direct_access._errors import redact_urls
from direct_access_spec import CLIENT_VARIABLES, STORAGE_VARIABLES

if TYPE_CHECKING:
    from direct_access.storage import S3Storage

EXIT_API_ERROR = 1
EXIT_USAGE = 2
EXIT_TIMEOUT = 3
EXIT_FAILED_JOB = 4
#: What shells report for a command ended by Ctrl-C (128 + SIGINT).
EXIT_INTERRUPTED = 130

#: The extras of the distribution, with the modules they bring that the CLI imports.
EXTRAS: dict[str, tuple[str, ...]] = {"storage": ("boto3", "botocore")}

_STORAGE_HELP = (
    "For jobs run/submit/result/logs, the S3 store of jobs' input, results and logs (objects "
    "under jobs/<job id>/; needs the storage extra):"
)
HELP = "\n\n".join(
    [
        "IBM Quantum Direct Access from the shell.",
        "Environment variables read:",
        *(f"{v.name}: {v.describe()}" for v in CLIENT_VARIABLES),
        _STORAGE_HELP,
        *(f"{v.name}: {v.describe()}" for v in STORAGE_VARIABLES),
        "Exit codes: 0 ok, 1 API error, 2 usage or configuration, 3 wait timed out, "
        "4 job Failed or Cancelled, 130 interrupted (Ctrl-C).",
    ]
)

app = typer.Typer(help=HELP, no_args_is_help=True, add_completion=False)
jobs_app = typer.Typer(help="Run, submit, watch, cancel and delete jobs.", no_args_is_help=True)
backends_app = typer.Typer(help="The backends of this instance.", no_args_is_help=True)
app.add_typer(jobs_app, name="jobs")
app.add_typer(backends_app, name="backends")


def stdout() -> Console:
    """A console on the current standard output (made per use: tests swap the streams, and
    COLUMNS is read when a console is made)."""
    return Console(highlight=False, soft_wrap=True)


def stderr() -> Console:
    """A console on the current standard error (progress, messages, errors)."""
    return Console(stderr=True, highlight=False, soft_wrap=True)


def fail(message: str, code: int) -> NoReturn:
    """Print ``error: message`` on stderr (URLs without their query) and exit with ``code``."""
    stderr().print(f"error: {redact_urls(message)}", markup=False)
    raise typer.Exit(code)


def say(message: str) -> None:
    """A message for the person at the terminal, on stderr (stdout stays for data)."""
    stderr().print(redact_urls(message), markup=False)


class _StderrHandler(logging.Handler):
    """Writes records to whatever `sys.stderr` is at the time."""

    def emit(self, record: logging.LogRecord) -> None:
        try:
            sys.stderr.write(redact_urls(self.format(record)) + "\n")
        except Exception:  # logging must never break the command
            self.handleError(record)


_VERBOSE = _StderrHandler()
_VERBOSE.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))


def _verbose(ctx: typer.Context, value: bool) -> None:
    """--verbose: the client's debug log (retry decisions, status changes) on stderr, for the
    rest of the command. botocore's logger stays quiet: its DEBUG output holds signatures."""
    if not value:
        return
    logger = logging.getLogger("direct_access")
    if _VERBOSE in logger.handlers:
        return
    level = logger.level
    logger.addHandler(_VERBOSE)
    logger.setLevel(logging.DEBUG)

    def restore() -> None:
        logger.removeHandler(_VERBOSE)
        logger.setLevel(level)

    ctx.call_on_close(restore)


JsonOption = Annotated[bool, typer.Option("--json", help="Print JSON for scripts.")]
VerboseOption = Annotated[
    bool,
    typer.Option(
        "--verbose", "-v", callback=_verbose, help="Log retries and status changes on stderr."
    ),
]


def _version(value: bool) -> None:
    if value:
        stdout().print(f"direct-access-toolkit {__version__}", markup=False)
        raise typer.Exit


@app.callback()
def _root(
    version: Annotated[
        bool,
        typer.Option(
            "--version", callback=_version, is_eager=True, help="Print the toolkit's version."
        ),
    ] = False,
    verbose: VerboseOption = False,
) -> None:
    """Global options, also accepted after each command (``jobs run ... --verbose``)."""


@contextmanager
def client() -> Iterator[Client]:
    """A client from the environment; configuration and API errors become exit codes."""
    try:
        settings = Settings.from_env()
    except ConfigurationError as exc:
        fail(str(exc), EXIT_USAGE)
    try:
        with Client(settings) as opened:
            yield opened
    except JobTimeoutError as exc:
        fail(str(exc), EXIT_TIMEOUT)
    except ConfigurationError as exc:
        fail(str(exc), EXIT_USAGE)
    except DirectAccessError as exc:
        fail(str(exc), EXIT_API_ERROR)


def require_extra(extra: str, command: str) -> None:
    """Exit 2 naming the ``pip install`` that brings ``extra`` when one of its modules is
    missing (rather than a `ModuleNotFoundError` deep inside boto3)."""
    for module in EXTRAS[extra]:
        try:
            importlib.import_module(module)
        except ImportError as exc:
            missing = exc.name or module
            fail(
                f"{command} needs the {extra} extra ({missing} is not installed): "
                f"pip install 'direct-access-toolkit[{extra}]'",
                EXIT_USAGE,
            )


def storage(command: str) -> S3Storage:
    """The S3 store from DIRECT_ACCESS_S3_*; exit 2 without the storage extra or a setting."""
    require_extra("storage", command)
    from direct_access.storage import S3Storage  # noqa: PLC0415 - after the extra is checked

    try:
        return S3Storage.from_env()
    except ConfigurationError as exc:
        fail(f"{command} needs the S3 store: {exc}", EXIT_USAGE)


def redacted(document: Any) -> Any:
    """``document`` with every URL in it shown without its query (presigned signatures)."""
    if isinstance(document, dict):
        return {k: redacted(v) for k, v in document.items()}
    if isinstance(document, list):
        return [redacted(v) for v in document]
    if isinstance(document, str):
        return redact_urls(document)
    return document


def print_json(document: Any) -> None:
    """``document`` as indented JSON on stdout, URLs redacted."""
    stdout().print(json.dumps(redacted(document), indent=2, sort_keys=True), markup=False)
