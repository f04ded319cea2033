"""How much each benchmark does: the full sizes of `make bench` and the tiny ones of `--quick`."""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["FULL", "QUICK", "Sizes"]


@dataclass(frozen=True)
class Sizes:
    """Counts and durations of one run (see FULL for what each means)."""

    quick: bool
    client_calls: int  # sequential calls per operation and side (client, raw httpx)
    client_rounds: int  # the calls are split in rounds, client and baseline alternating
    client_jobs: int  # jobs stored while list-jobs is timed
    client_batches: int  # concurrent batches timed per side
    fan_out: int  # calls per concurrent batch
    submit_jobs: int  # sequential submits per side
    submit_rounds: int  # split in rounds, client and baseline alternating
    run_repeats: int  # end-to-end runs per side
    load_seconds: float  # measured time of one emulator-throughput cell
    load_warmup: float  # unmeasured time before it
    concurrencies: tuple[int, ...]
    stored_jobs: tuple[int, ...]  # list-jobs is measured with this many stored jobs
    parse_jobs: int  # jobs in the parsed list body
    parse_repeats: int
    contract_examples: int  # --contract-max-examples of the suite's run
    contract_only: (
        str | None
    )  # a pytest -k word naming the operations run (None: all, stateful too)
    codegen_repeats: int


FULL = Sizes(
    quick=False,
    client_calls=150,
    client_rounds=30,
    client_jobs=100,
    client_batches=6,
    fan_out=64,
    submit_jobs=300,
    submit_rounds=3,
    run_repeats=15,
    load_seconds=2.0,
    load_warmup=0.3,
    concurrencies=(1, 16, 64),
    stored_jobs=(10, 1_000, 10_000),
    parse_jobs=10_000,
    parse_repeats=5,
    contract_examples=10,
    contract_only=None,
    codegen_repeats=3,
)

QUICK = Sizes(
    quick=True,
    client_calls=10,
    client_rounds=2,
    client_jobs=3,
    client_batches=2,
    fan_out=8,
    submit_jobs=5,
    submit_rounds=1,
    run_repeats=1,
    load_seconds=0.2,
    load_warmup=0.05,
    concurrencies=(1, 4),
    stored_jobs=(10, 100),
    parse_jobs=100,
    parse_repeats=1,
    contract_examples=1,
    contract_only="versions",
    codegen_repeats=1,
)
