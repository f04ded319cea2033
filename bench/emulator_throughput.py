"""Emulator throughput: requests per second and p50/p99 latency of get-job, list-jobs and create-job
at several concurrencies, from a load generator in another process, against a minimal app.

The emulator is built with `create_app` and a benchmark configuration (lanes for ten million
jobs); its store is seeded directly through its store API, since stored jobs hold lanes until
they are deleted. Both servers run on the same uvicorn set-up (`bench._serving`).
"""

from __future__ import annotations

import json
import multiprocessing
from collections.abc import Iterator
from concurrent.futures import ProcessPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, replace

import httpx

from bench._jobs import create_body, job_body, stored_job
from bench._load import LoadResult, LoadSpec, run_load
from bench._profiling import profiled_loop, top_entries
from bench._report import Figure, Results
from bench._serving import BaselineApp, ServedApp, serve_app
from bench._sizes import Sizes
from direct_access_emulator.app import create_app
from direct_access_emulator.config import BackendConfig, EmulatorConfig
from direct_access_emulator.core import JobService

__all__ = ["PROFILE_BELOW", "run"]

#: A cell whose rate is below this fraction of the baseline's gets profiled (once per operation and
#: concurrency): the highest goal the README's findings hold an emulator figure to.
PROFILE_BELOW = 0.8
_BACKEND = "fake_backend"
_LANES = 10_000_000
# A list of 10,000 jobs is ~15 MB per answer: those cells are bounded by count, not only by time.
_HEAVY_LIST = 5_000
_BASELINE = "minimal Starlette app, same server"


@dataclass
class _Target:
    served: ServedApp
    headers: dict[str, str]


def _config() -> EmulatorConfig:
    return EmulatorConfig(backends=(BackendConfig(name=_BACKEND, lanes=_LANES),))


def _token(url: str, api_key: str) -> str:
    answer = httpx.post(
        f"{url}/identity/token",
        data={"grant_type": "urn:ibm:params:oauth:grant-type:apikey", "apikey": api_key},
        timeout=30,
    )
    answer.raise_for_status()
    return str(answer.json()["access_token"])


@contextmanager
def _emulator(config: EmulatorConfig) -> Iterator[tuple[_Target, JobService]]:
    """The emulator served, with its token's headers and its `JobService`."""
    app = create_app(config)
    instance = config.instances[0]
    with serve_app(app) as served:
        token = _token(served.url, instance.api_keys[0])
        headers = {"Authorization": f"Bearer {token}", "Service-CRN": instance.crn}
        service: JobService = app.state.service
        yield _Target(served, headers), service


def _ms(seconds: float) -> str:
    return f"{seconds * 1000:.2f}"


class _Cells:
    """Runs cells on the load process and turns pairs of them into figures."""

    def __init__(self, sizes: Sizes, load: ProcessPoolExecutor, results: Results) -> None:
        self.sizes = sizes
        self.load = load
        self.results = results
        self.profiled: set[tuple[str, int]] = set()

    def measure(self, spec: LoadSpec) -> LoadResult:
        future = self.load.submit(run_load, spec)
        return future.result(timeout=spec.warmup_seconds + spec.seconds + 120)

    def spec(
        self,
        target: _Target,
        method: str,
        path: str,
        expected: int,
        concurrency: int,
        *,
        body: str | None = None,
        heavy: bool = False,
    ) -> LoadSpec:
        seconds = self.sizes.load_seconds
        return LoadSpec(
            port=target.served.port,
            method=method,
            path=path,
            headers=target.headers,
            expected_status=expected,
            concurrency=concurrency,
            seconds=seconds,
            warmup_seconds=0.0 if heavy else self.sizes.load_warmup,
            # A heavy answer takes ~0.2 s to make: one per connection (at least 8) bounds the cell.
            max_requests=max(8, concurrency) if heavy else 1_000_000,
            body=body,
        )

    def pair(
        self,
        *,
        name: str,
        operation: str,
        emulator: _Target,
        baseline: _Target,
        spec: LoadSpec,
        note: str,
    ) -> None:
        # Two halves in the order emulator, baseline, baseline, emulator: on a shared machine the
        # load drifts within a cell, and this order cancels a steady drift from the ratio.
        half = replace(spec, seconds=spec.seconds / 2)
        base_half = replace(half, port=baseline.served.port, headers=baseline.headers)
        first, base_first = self.measure(half), self.measure(base_half)
        base_second, second = self.measure(base_half), self.measure(half)
        measured, base = _merged(first, second), _merged(base_first, base_second)
        notes = (
            f"p50/p99 {_ms(measured.percentile(0.5))}/{_ms(measured.percentile(0.99))} ms "
            f"vs {_ms(base.percentile(0.5))}/{_ms(base.percentile(0.99))} ms; "
            f"{measured.requests} requests; {note}"
        )
        if measured.errors or base.errors:
            notes += (
                f"; errors {measured.errors} (statuses {measured.statuses}"
                f"{', ' + measured.first_error if measured.first_error else ''}), "
                f"baseline errors {base.errors}"
            )
        figure = Figure(
            name=name,
            value=measured.rate,
            unit="req/s (higher is better)",
            baseline=_BASELINE,
            baseline_value=base.rate,
            notes=notes,
            details={
                "concurrency": spec.concurrency,
                "requests": measured.requests,
                "errors": measured.errors,
                "statuses": {str(k): v for k, v in measured.statuses.items()},
                "p50_ms": round(measured.percentile(0.5) * 1000, 3),
                "p99_ms": round(measured.percentile(0.99) * 1000, 3),
                "baseline_requests": base.requests,
                "baseline_p50_ms": round(base.percentile(0.5) * 1000, 3),
                "baseline_p99_ms": round(base.percentile(0.99) * 1000, 3),
            },
        )
        # Once per operation and concurrency: the goals are cells of both kinds (c1, c16).
        cell = (operation, spec.concurrency)
        if figure.ratio < PROFILE_BELOW and cell not in self.profiled:
            self.profiled.add(cell)
            with profiled_loop(emulator.served.loop) as profile:
                self.measure(spec)
            figure = replace(figure, profile=top_entries(profile))
        self.results.add(figure)


def _merged(first: LoadResult, second: LoadResult) -> LoadResult:
    """Two measurements of one cell as one: requests over the summed time, all latencies."""
    statuses = dict(first.statuses)
    for status, count in second.statuses.items():
        statuses[status] = statuses.get(status, 0) + count
    return LoadResult(
        requests=first.requests + second.requests,
        errors=first.errors + second.errors,
        elapsed=first.elapsed + second.elapsed,
        latencies=first.latencies + second.latencies,
        statuses=statuses,
        first_error=first.first_error or second.first_error,
    )


def run(sizes: Sizes, results: Results) -> None:
    """Measure every cell and add its figure to ``results``."""
    config = _config()
    instance = config.instances[0].crn
    baseline_app = BaselineApp(job_body(backend=_BACKEND))
    context = multiprocessing.get_context("spawn")  # no fork of a process running servers
    with (
        ProcessPoolExecutor(max_workers=1, mp_context=context) as load,
        serve_app(baseline_app.app) as baseline_served,
    ):
        baseline = _Target(baseline_served, {"Service-CRN": instance})
        cells = _Cells(sizes, load, results)
        with _emulator(config) as (emulator, service):
            store = service.store
            stored = 0

            def seed(count: int) -> None:
                nonlocal stored
                for index in range(stored, count):
                    store.insert(stored_job(index, instance=instance, backend=_BACKEND))
                stored = max(stored, count)

            seed(min(sizes.stored_jobs))
            for concurrency in sizes.concurrencies:
                spec = cells.spec(
                    emulator,
                    "GET",
                    f"/v1/jobs/{stored_job(0, instance='', backend='').id}",
                    200,
                    concurrency,
                )
                cells.pair(
                    name=f"emulator.get_job.c{concurrency}",
                    operation="get_job",
                    emulator=emulator,
                    baseline=baseline,
                    spec=spec,
                    note=f"{stored} jobs stored",
                )
            for count in sizes.stored_jobs:
                seed(count)
                documents = [job.document() for job in service.list(instance)]
                baseline_app.list_body = json.dumps(
                    {"jobs": documents}, separators=(",", ":")
                ).encode()
                size_mb = len(baseline_app.list_body) / 1e6
                for concurrency in sizes.concurrencies:
                    spec = cells.spec(
                        emulator, "GET", "/v1/jobs", 200, concurrency, heavy=count >= _HEAVY_LIST
                    )
                    cells.pair(
                        name=f"emulator.list_jobs.{count}.c{concurrency}",
                        operation="list_jobs",
                        emulator=emulator,
                        baseline=baseline,
                        spec=spec,
                        note=f"{count} jobs, {size_mb:.2f} MB per answer",
                    )
        # A fresh emulator: creates scan the stored jobs for free lanes, so they start from none.
        with _emulator(config) as (emulator, service):
            template = json.dumps(create_body("{id}", backend=_BACKEND))
            for concurrency in sizes.concurrencies:
                before = service.lanes_held(_BACKEND)
                spec = cells.spec(emulator, "POST", "/v1/jobs", 204, concurrency, body=template)
                cells.pair(
                    name=f"emulator.create_job.c{concurrency}",
                    operation="create_job",
                    emulator=emulator,
                    baseline=baseline,
                    spec=spec,
                    note=f"{before} jobs stored at the start",
                )
