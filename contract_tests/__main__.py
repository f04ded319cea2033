"""`python -m contract_tests`: run the contract suite on schemathesis' own engine.

It starts the emulator (or names a deployment from `DIRECT_ACCESS_*`), runs `schemathesis run
openapi.yaml` with `schemathesis.toml` and this suite's hooks (`SCHEMATHESIS_HOOKS`), then sweeps
the run's jobs and writes the summary, also after a failure or Ctrl-C. Options it does not know
go to `schemathesis run` as they are (`-n`, `--seed`, `--baseline`, `--workers`, `--include-*`...).
"""

from __future__ import annotations

import argparse
import contextlib
import datetime
import json
import os
import sys
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from schemathesis.config import SchemathesisConfig

    from contract_tests._target import Identity, Target

ROOT = Path(__file__).resolve().parent.parent
SPEC = ROOT / "openapi.yaml"
HOOKS = "contract_tests.hooks"

__all__ = ["main"]


def _parser() -> argparse.ArgumentParser:
    from contract_tests._breakages import BREAKAGES  # noqa: PLC0415

    parser = argparse.ArgumentParser(
        prog="python -m contract_tests",
        description="The Direct Access contract suite: schemathesis run against the emulator "
        "(default) or a deployment. Unknown options go to `schemathesis run`.",
    )
    parser.add_argument(
        "--deployment",
        action="store_true",
        help="aim at the deployment named by DIRECT_ACCESS_* variables instead of the emulator",
    )
    parser.add_argument("--backend", help="backend to submit jobs to (default: the target's)")
    parser.add_argument(
        "--max-jobs",
        type=int,
        help="most jobs the run may create (default 200 with --deployment, else 20000); past "
        "it, creates name a backend that does not exist",
    )
    parser.add_argument(
        "--min-cases", type=int, default=0, help="fail when fewer cases than this were sent"
    )
    parser.add_argument(
        "--allow-drift",
        action="store_true",
        help="report fields the spec lacks (such as metrics) as drift without failing",
    )
    parser.add_argument(
        "--breakage",
        action="append",
        default=[],
        choices=sorted(BREAKAGES),
        help="break the emulator on purpose; repeat to combine (the suite's own tests use it)",
    )
    parser.add_argument(
        "--report-dir",
        type=Path,
        default=Path("reports") / "contract",
        help="where the summary and schemathesis' reports go (default reports/contract, "
        "in the working directory)",
    )
    return parser


def _wfc_document(identities: Sequence[Identity], directory: Path) -> Path:
    """The identities as a Web Fuzzing Commons auth document (file mode 0600, removed after)."""
    path = directory / "identities.json"
    path.touch(mode=0o600)
    entries = [
        {
            "name": identity.name,
            "fixedHeaders": [
                {"name": name, "value": value} for name, value in identity.headers().items()
            ],
        }
        for identity in identities
    ]
    path.write_text(json.dumps({"auth": entries}), "utf-8")
    return path


def main(argv: Sequence[str] | None = None) -> int:
    options, passed = _parser().parse_known_args(argv)
    from contract_tests._target import missing_variables  # noqa: PLC0415

    if options.deployment:
        if options.breakage:
            print("error: --breakage applies to the emulator only", file=sys.stderr)
            return 2
        missing = missing_variables(os.environ, backend=options.backend)
        if missing:
            print(
                "error: the deployment run needs these variables, which are not set:",
                *missing,
                sep="\n",
                file=sys.stderr,
            )
            return 2
    # Loaded before schemathesis reads its configuration, which imports SCHEMATHESIS_HOOKS.
    os.environ["SCHEMATHESIS_HOOKS"] = HOOKS
    with contextlib.ExitStack() as stack:
        return _run(options, passed, stack)


def _run(options: argparse.Namespace, passed: list[str], stack: contextlib.ExitStack) -> int:
    from schemathesis.cli.commands import run as run_command  # noqa: PLC0415
    from schemathesis.cli.constants import ExitCode  # noqa: PLC0415

    from contract_tests import hooks  # noqa: PLC0415
    from contract_tests._breakages import breakage, in_order  # noqa: PLC0415
    from contract_tests._target import deployment_target, emulator_target  # noqa: PLC0415

    if options.deployment:
        target = stack.enter_context(deployment_target(os.environ, backend=options.backend))
    else:
        faults = [breakage(name) for name in in_order(options.breakage)]
        target = stack.enter_context(emulator_target(backend=options.backend, broken=faults))
    state = hooks.state
    state.target = target
    state.allow_drift = options.allow_drift
    default_cap = 200 if target.kind == "deployment" else 20_000
    state.max_jobs = options.max_jobs if options.max_jobs is not None else default_cap
    secrets_dir = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="contract-")))
    config = _configuration(target, secrets_dir)
    report_dir: Path = options.report_dir.resolve()
    report_dir.mkdir(parents=True, exist_ok=True)
    started = time.time()
    exit_code = 1
    try:
        result = run_command.main(
            _arguments(target.url, report_dir, passed),
            prog_name="schemathesis run",
            obj=config,
            standalone_mode=False,
        )
        exit_code = int(result or 0)
    except SystemExit as stop:
        exit_code = stop.code if isinstance(stop.code, int) else 1
    except KeyboardInterrupt:
        exit_code = ExitCode.INTERRUPTED
    finally:
        # Whatever happened (a failure, Ctrl-C, an error of the engine): sweep, then report.
        exit_code = _finish(options, passed, config, started, exit_code, report_dir)
    return exit_code


def _configuration(target: Target, secrets_dir: Path) -> SchemathesisConfig:
    """schemathesis.toml, with the target's identities and what the target allows."""
    from schemathesis.config import SchemathesisConfig  # noqa: PLC0415

    config = SchemathesisConfig.from_path(ROOT / "schemathesis.toml")
    # Presigned URLs carry signatures that grant access while they last: keep them out of
    # reproductions and reports, like the token (schemathesis filters `Authorization` itself).
    sanitization = config.output.sanitization
    sanitization.keys_to_sanitize = (*sanitization.keys_to_sanitize, "presigned_url")
    project = config.projects.default
    project.update(wfc_auth=str(_wfc_document(target.identities, secrets_dir)))
    if len(target.identities) > 1:
        assert project.auth.wfc is not None
        project.auth.wfc.peers = [identity.name for identity in target.identities]
    else:
        # One identity (a deployment): object-level authorization needs two, so it cannot run.
        project.checks.object_level_authorization.enabled = False
    if target.kind == "deployment":
        # Unexpected methods only of the kinds no service acts on: a DELETE or POST that a
        # deployment handled without documenting it would touch jobs this run did not create.
        project.phases.coverage.unexpected_methods = {"options", "trace", "query"}
    return config


def _arguments(url: str, report_dir: Path, passed: list[str]) -> list[str]:
    """`schemathesis run`'s arguments: the spec, the target, schemathesis' own reports."""
    engine = report_dir / "schemathesis"
    return [
        str(SPEC),
        "--url",
        url,
        "--report",
        "ndjson,json,pytest",
        "--report-ndjson-path",
        str(engine / "events.ndjson"),
        "--report-json-path",
        str(engine / "run.json"),
        "--report-pytest-path",
        str(engine / "test_reproduce.py"),
        *passed,
    ]


def _finish(  # noqa: PLR0917 - the run's parts, each named at the one call
    options: argparse.Namespace,
    passed: list[str],
    config: SchemathesisConfig,
    started: float,
    exit_code: int,
    report_dir: Path,
) -> int:
    """Sweep the run's jobs, write the reports; the run's exit code."""
    from schemathesis.cli.constants import ExitCode  # noqa: PLC0415
    from schemathesis.core.version import SCHEMATHESIS_VERSION  # noqa: PLC0415

    from contract_tests._cases import state  # noqa: PLC0415
    from contract_tests._report import RunFacts, write_reports  # noqa: PLC0415
    from contract_tests._target import Sweep, sweep  # noqa: PLC0415

    assert state.target is not None
    cleanup = Sweep()
    try:
        cleanup = sweep(state.target, sorted(state.created))
    finally:
        verdict = "passed" if exit_code == 0 else "failed"
        if exit_code == ExitCode.INTERRUPTED:
            verdict = "interrupted"
        notes = []
        if options.min_cases and state.cases < options.min_cases and exit_code == 0:
            exit_code, verdict = 1, "failed"
            notes.append(f"only {state.cases} cases sent, fewer than {options.min_cases}")
        left = set(cleanup.left) | set(cleanup.listed_after)
        if left:
            exit_code, verdict = 1, "failed"
            notes.append(f"{len(left)} jobs of this run could not be removed")
        facts = RunFacts(
            target=state.target,
            seed=state.seed if state.seed is not None else config.seed,
            started_at=datetime.datetime.fromtimestamp(started, datetime.UTC).isoformat(
                timespec="seconds"
            ),
            duration_secs=time.time() - started,
            schemathesis_version=SCHEMATHESIS_VERSION,
            exit_code=exit_code,
            verdict=verdict,
            sweep=cleanup,
            baseline=_option_value(passed, "--baseline"),
            notes=notes,
        )
        write_reports(state, facts, report_dir)
        print((report_dir / "summary.txt").read_text("utf-8"))
    return exit_code


def _option_value(arguments: Sequence[str], name: str) -> str | None:
    for index, argument in enumerate(arguments):
        if argument == name and index + 1 < len(arguments):
            return arguments[index + 1]
        if argument.startswith(f"{name}="):
            return argument.split("=", 1)[1]
    return None


if __name__ == "__main__":
    sys.exit(main())
