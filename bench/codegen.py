"""Codegen: seconds for `make generate`'s generator command, run into a temporary folder (never
generated/), against the generator's own start-up (`openapi-python-client --help`).

The command is the Makefile's ``run_generator`` (run by ``make generate-into``): the pinned
generator of ``.venv-gen`` with its ruff post-hooks on PATH. Without ``.venv-gen`` (made by
`make generate` or `make check-generated`, which need the network once) the figure is skipped,
not installed here.
"""

from __future__ import annotations

import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from bench._report import Figure, Results
from bench._sizes import Sizes

__all__ = ["run"]

ROOT = Path(__file__).resolve().parent.parent
_GENERATOR_BIN = ROOT / ".venv-gen" / "bin"
_DEADLINE_SECS = 120.0


def _seconds(command: list[str], repeats: int) -> tuple[float, int]:
    times, code = [], 0
    for _ in range(repeats):
        started = time.perf_counter()
        done = subprocess.run(  # noqa: S603 - the project's pinned generator, fixed arguments
            command,
            cwd=ROOT,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            timeout=_DEADLINE_SECS,
            check=False,
        )
        times.append(time.perf_counter() - started)
        code = code or done.returncode
    return statistics.median(times), code


def run(sizes: Sizes, results: Results) -> None:
    """Time the generator and its start-up, and add the figure to ``results``."""
    generator = _GENERATOR_BIN / "openapi-python-client"
    if not generator.is_file():
        results.skip(
            "codegen.generate", f"{generator.relative_to(ROOT)} missing: run make generate"
        )
        return
    with tempfile.TemporaryDirectory(prefix="bench-codegen-") as scratch:
        output = Path(scratch) / "direct_access_api"
        # The Makefile's own command (its run_generator, through `make generate-into`, which
        # deletes the folder first and puts the generator's ruff on PATH), so that the figure
        # times what `make generate` runs; make's start-up adds about 10 ms.
        command = ["make", "--no-print-directory", "-s", "generate-into", f"OUT={output}"]
        generate, code = _seconds(command, sizes.codegen_repeats)
        files = sum(1 for _ in output.rglob("*.py")) if output.is_dir() else 0
    startup, _ = _seconds([str(generator), "--help"], sizes.codegen_repeats)
    python, _ = _seconds([sys.executable, "-c", "pass"], sizes.codegen_repeats)
    notes = (
        f"{files} files generated, ruff post-hooks included; median of {sizes.codegen_repeats}; "
        f"python -c pass takes {python:.3f} s"
    )
    if code:
        notes += f"; the generator exited {code}"
    results.add(
        Figure(
            name="codegen.generate",
            value=generate,
            unit="s (lower is better)",
            baseline="openapi-python-client --help (start-up)",
            baseline_value=startup,
            notes=notes,
            details={"files": files, "exit_code": code},
        )
    )
