"""The `direct-access` command: run, submit, watch and clean up jobs from a shell or a pipeline,
as tables or ``--json``.

Exit codes: 0 success, 1 an API or service error, 2 a usage or configuration error, 3 a wait that
timed out, 4 a job that ended Failed or Cancelled, 130 interrupted (Ctrl-C; the job is cancelled
and deleted unless ``--keep``, and its id printed). Progress and messages go to stderr, data to
stdout. Secrets are never printed; presigned URLs are shown without their signature.
"""

from __future__ import annotations

# The command modules register themselves on the apps when imported.
from direct_access.cli import _jobs, _results, _service, _submit  # noqa: F401
from direct_access.cli._app import (
    EXIT_API_ERROR,
    EXIT_FAILED_JOB,
    EXIT_INTERRUPTED,
    EXIT_TIMEOUT,
    EXIT_USAGE,
    app,
)

__all__ = [
    "EXIT_API_ERROR",
    "EXIT_FAILED_JOB",
    "EXIT_INTERRUPTED",
    "EXIT_TIMEOUT",
    "EXIT_USAGE",
    "app",
    "main",
]


def main() -> None:
    """Run the command (the ``direct-access`` entry point); exits with the codes above."""
    app(prog_name="direct-access")
