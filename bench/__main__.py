"""`python -m bench` (`make bench`): run the benchmarks, print the table, save the JSON.

Benchmarks never fail on a number; the exit status is 1 only when a benchmark could not run at
all (an exception), so that a smoke run notices a broken benchmark.
"""

from __future__ import annotations

import argparse
import sys
import time
import traceback
from collections.abc import Callable
from pathlib import Path

from bench import client_overhead, codegen, contract, emulator_throughput, parsing, submit
from bench._report import Results, machine
from bench._sizes import FULL, QUICK, Sizes

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_OUT = ROOT / "reports" / "bench" / "results.json"

#: The benchmarks by name (for --only), in the order a run takes them.
BENCHMARKS: dict[str, tuple[str, Callable[[Sizes, Results], None]]] = {
    "parsing": ("a 10,000-job list through the generated models", parsing.run),
    "client": ("client overhead against raw httpx", client_overhead.run),
    "submit": ("submit throughput and end-to-end latency", submit.run),
    "emulator": ("emulator throughput against a minimal app", emulator_throughput.run),
    "contract": ("contract suite cases per second", contract.run),
    "codegen": ("make generate", codegen.run),
}


def _arguments(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m bench",
        description="Benchmarks of the Direct Access toolkit, each figure against a baseline "
        "measured in the same run. Prints a table; saves the figures as JSON.",
    )
    parser.add_argument(
        "--quick", action="store_true", help="tiny sizes (seconds): checks that everything runs"
    )
    parser.add_argument(
        "--only",
        action="append",
        metavar="NAME",
        help=f"run only these benchmarks (repeat or comma-separate): {', '.join(BENCHMARKS)}",
    )
    parser.add_argument(
        "--out",
        type=Path,
        default=DEFAULT_OUT,
        help="where to save the JSON (default: reports/bench/results.json)",
    )
    arguments = parser.parse_args(argv)
    chosen = [n.strip() for item in arguments.only or [] for n in item.split(",") if n.strip()]
    unknown = [name for name in chosen if name not in BENCHMARKS]
    if unknown:
        parser.error(f"unknown benchmark {', '.join(unknown)}; choose from {', '.join(BENCHMARKS)}")
    arguments.only = chosen or list(BENCHMARKS)
    return arguments


def _machine_line() -> str:
    about = machine()
    return (
        f"machine: {about['cpu']}, {about['cores']} cores, {about['implementation']} "
        f"{about['python']}, {about['system']}, {about['date']}"
    )


def main(argv: list[str] | None = None) -> int:
    arguments = _arguments(argv)
    sizes = QUICK if arguments.quick else FULL
    results = Results()
    broken = False
    started = time.perf_counter()
    print(_machine_line(), flush=True)
    for name in arguments.only:
        title, benchmark = BENCHMARKS[name]
        print(f"- {name}: {title} ...", end="", flush=True)
        began = time.perf_counter()
        try:
            benchmark(sizes, results)
        except Exception as error:
            broken = True
            traceback.print_exc()
            results.skip(name, f"the benchmark failed: {type(error).__name__}: {error}")
        print(f" {time.perf_counter() - began:.1f} s", flush=True)
    seconds = time.perf_counter() - started
    print()
    print("ratio = value / baseline value (the unit says whether higher or lower is better)")
    print(results.table())
    for skipped in results.skipped:
        print(f"not measured: {skipped.name}: {skipped.reason}")
    for figure in results.figures:
        if figure.profile:
            print(f"\nprofile of {figure.name} (ratio {figure.ratio:.2f}), top by own time:")
            print("\n".join(figure.profile))
    results.write(arguments.out, quick=arguments.quick, seconds=seconds)
    print(f"\n{len(results.figures)} figures in {seconds:.0f} s, saved to {arguments.out}")
    return 1 if broken else 0


if __name__ == "__main__":
    sys.exit(main())
