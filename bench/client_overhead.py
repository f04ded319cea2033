"""Client overhead: get-job and list-jobs through `direct_access.Client` / `AsyncClient` (strict off
and on) against raw httpx requests with the same headers, on one emulator, in one process.

Client and baseline calls alternate in rounds, so that a slow moment of the shared machine falls
on both. Each per-call figure is the median of single-call times; the fan-out figures time a batch
of concurrent calls (`asyncio.gather`, no semaphore). The emulator's own time is in both sides.

The ``floor`` figures are raw httpx plus the generated model's ``from_dict`` of the answer, no
overlay: the least any client handing out the generated models takes, measured beside the rest.
"""

from __future__ import annotations

import asyncio
import cProfile
import statistics
import time
import uuid
from collections.abc import Awaitable, Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, replace
from typing import Any

import httpx

from bench._jobs import create_body
from bench._profiling import profiled, top_entries
from bench._report import Figure, Results
from bench._sizes import Sizes
from direct_access import AsyncClient, Client, Settings
from direct_access_api.models import Job, JobList
from direct_access_emulator.config import BackendConfig, EmulatorConfig
from direct_access_emulator.testing import serve

__all__ = ["PROFILE_ABOVE", "run"]

#: A client figure above this ratio to its baseline gets profiled (client side, cProfile): the
#: tightest goal the README's findings hold a client figure to, so that each one short of its goal
#: has a profile.
PROFILE_ABOVE = 1.2
_BACKEND = "fake_backend"
_SETTLE_DEADLINE_SECS = 30.0
_WARMUP_CALLS = 5
# A profile needs a few calls, not a full round: strict list calls take tens of milliseconds.
_PROFILED_CALLS = 30


@dataclass(frozen=True)
class _Setup:
    settings: Settings
    url: str
    headers: dict[str, str]
    job_id: str
    jobs: int


@contextmanager
def _emulator(sizes: Sizes) -> Iterator[_Setup]:
    """A served emulator holding ``client_jobs`` finished jobs."""
    config = EmulatorConfig(backends=(BackendConfig(name=_BACKEND, lanes=1_000_000),))
    with serve(config) as emulator:
        settings = Settings.from_env(emulator.env())
        assert settings.api_key is not None
        with httpx.Client(base_url=emulator.url, timeout=30) as http:
            token = http.post(
                "/identity/token",
                data={
                    "grant_type": "urn:ibm:params:oauth:grant-type:apikey",
                    "apikey": settings.api_key,
                },
            ).json()["access_token"]
            headers = {"Authorization": f"Bearer {token}", "Service-CRN": settings.service_crn}
            ids = [str(uuid.uuid4()) for _ in range(sizes.client_jobs)]
            for job_id in ids:
                answer = http.post(
                    "/v1/jobs", json=create_body(job_id, backend=_BACKEND), headers=headers
                )
                answer.raise_for_status()
            # The jobs fail at once (their storage host is never fetched); wait for that, so
            # that every timed answer is the same.
            deadline = time.monotonic() + _SETTLE_DEADLINE_SECS
            while any(j["status"] == "Running" for j in _jobs(http, headers)):
                if time.monotonic() > deadline:
                    raise RuntimeError("the benchmark's jobs did not finish in time")
                time.sleep(0.01)  # polled against the deadline above
        yield _Setup(settings, emulator.url, headers, ids[0], len(ids))


def _jobs(http: httpx.Client, headers: dict[str, str]) -> list[dict[str, Any]]:
    jobs: list[dict[str, Any]] = http.get("/v1/jobs", headers=headers).json()["jobs"] or []
    return jobs


def _time_calls(call: Callable[[], object], count: int, into: list[float]) -> None:
    for _ in range(count):
        started = time.perf_counter()
        call()
        into.append(time.perf_counter() - started)


async def _time_calls_async(
    call: Callable[[], Awaitable[object]], count: int, into: list[float]
) -> None:
    for _ in range(count):
        started = time.perf_counter()
        await call()
        into.append(time.perf_counter() - started)


async def _time_batches(
    call: Callable[[], Awaitable[object]], fan_out: int, count: int, into: list[float]
) -> None:
    for _ in range(count):
        started = time.perf_counter()
        await asyncio.gather(*(call() for _ in range(fan_out)))
        into.append(time.perf_counter() - started)


def _as_is(document: Any) -> object:
    return document


def _raw_get(
    http: httpx.Client, path: str, parse: Callable[[Any], object] = _as_is
) -> Callable[[], object]:
    def call() -> object:
        answer = http.get(path)
        answer.raise_for_status()
        return parse(answer.json())

    return call


def _raw_get_async(
    http: httpx.AsyncClient, path: str, parse: Callable[[Any], object] = _as_is
) -> Callable[[], Awaitable[object]]:
    async def call() -> object:
        answer = await http.get(path)
        answer.raise_for_status()
        return parse(answer.json())

    return call


# The generated model of each timed operation's answer (what the floor figures parse into).
_MODELS: dict[str, Callable[[Any], object]] = {
    "get_job": Job.from_dict,
    "list_jobs": JobList.from_dict,
}
# The figures of each side: (key, the figure's last part, what the notes say).
_SIDES = (
    ("loose", "default", "strict off"),
    ("strict", "strict", "strict on"),
    ("floor", "floor", "raw httpx plus the generated from_dict, no overlay"),
)


def _figure(
    name: str,
    samples: list[float],
    baseline: str,
    baseline_samples: list[float],
    *,
    notes: str,
    unit: str = "ms per call (lower is better)",
) -> Figure:
    value = statistics.median(samples) * 1000
    base = statistics.median(baseline_samples) * 1000
    added = (value - base) * 1000
    return Figure(
        name=name,
        value=value,
        unit=unit,
        baseline=baseline,
        baseline_value=base,
        notes=f"{notes}; adds {added:+.0f} µs; {len(samples)} samples",
        details={"samples": len(samples), "added_us": round(added, 1)},
    )


def _sync(sizes: Sizes, setup: _Setup, results: Results) -> None:
    per_round = max(1, sizes.client_calls // sizes.client_rounds)
    operations = {"get_job": f"/v1/jobs/{setup.job_id}", "list_jobs": "/v1/jobs"}
    with (
        Client(setup.settings, strict=False) as loose,
        Client(setup.settings, strict=True) as strict,
        httpx.Client(base_url=setup.url, headers=setup.headers, timeout=30) as http,
    ):
        for operation, path in operations.items():
            calls: dict[str, Callable[[], object]] = {
                "loose": _client_call(loose, operation, setup.job_id),
                "strict": _client_call(strict, operation, setup.job_id),
                "floor": _raw_get(http, path, _MODELS[operation]),
                "raw": _raw_get(http, path),
            }
            samples: dict[str, list[float]] = {key: [] for key in calls}
            for call in calls.values():
                _time_calls(call, _WARMUP_CALLS, [])
            for _ in range(sizes.client_rounds):
                for key, call in calls.items():
                    _time_calls(call, per_round, samples[key])
            what = _what(operation, setup)
            for key, suffix, mode in _SIDES:
                figure = _figure(
                    f"client.{operation}.sync.{suffix}",
                    samples[key],
                    "raw httpx.Client, same headers",
                    samples["raw"],
                    notes=f"{mode}, {what}",
                )
                if figure.ratio > PROFILE_ABOVE:
                    with profiled() as profile:
                        _time_calls(calls[key], _PROFILED_CALLS, [])
                    figure = _with_profile(figure, profile)
                results.add(figure)


def _client_call(client: Client, operation: str, job_id: str) -> Callable[[], object]:
    if operation == "get_job":
        return lambda: client.get_job(job_id)
    return client.list_jobs


def _async_client_call(
    client: AsyncClient, operation: str, job_id: str
) -> Callable[[], Awaitable[object]]:
    if operation == "get_job":
        return lambda: client.get_job(job_id)
    return client.list_jobs


def _what(operation: str, setup: _Setup) -> str:
    return "one job" if operation == "get_job" else f"{setup.jobs} jobs listed"


def _with_profile(figure: Figure, profile: cProfile.Profile) -> Figure:
    return replace(figure, profile=top_entries(profile))


async def _async(sizes: Sizes, setup: _Setup, results: Results) -> None:
    per_round = max(1, sizes.client_calls // sizes.client_rounds)
    async with (
        AsyncClient(setup.settings, strict=False) as loose,
        AsyncClient(setup.settings, strict=True) as strict,
        httpx.AsyncClient(base_url=setup.url, headers=setup.headers, timeout=30) as http,
    ):
        for operation, path in (("get_job", f"/v1/jobs/{setup.job_id}"), ("list_jobs", "/v1/jobs")):
            calls: dict[str, Callable[[], Awaitable[object]]] = {
                "loose": _async_client_call(loose, operation, setup.job_id),
                "strict": _async_client_call(strict, operation, setup.job_id),
                "floor": _raw_get_async(http, path, _MODELS[operation]),
                "raw": _raw_get_async(http, path),
            }
            single: dict[str, list[float]] = {key: [] for key in calls}
            batches: dict[str, list[float]] = {key: [] for key in calls}
            for call in calls.values():
                await _time_calls_async(call, _WARMUP_CALLS, [])
                await _time_batches(call, sizes.fan_out, 1, [])
            for _ in range(sizes.client_rounds):
                for key, call in calls.items():
                    await _time_calls_async(call, per_round, single[key])
            for _ in range(sizes.client_batches):
                for key, call in calls.items():
                    await _time_batches(call, sizes.fan_out, 1, batches[key])
            what = _what(operation, setup)
            for key, suffix, mode in _SIDES:
                figure = _figure(
                    f"client.{operation}.async.{suffix}",
                    single[key],
                    "raw httpx.AsyncClient, same headers",
                    single["raw"],
                    notes=f"{mode}, {what}",
                )
                if figure.ratio > PROFILE_ABOVE:
                    with profiled() as profile:
                        await _time_calls_async(calls[key], _PROFILED_CALLS, [])
                    figure = _with_profile(figure, profile)
                results.add(figure)
                figure = _figure(
                    f"client.{operation}.async.gather{sizes.fan_out}.{suffix}",
                    batches[key],
                    f"raw httpx.AsyncClient, {sizes.fan_out} at once",
                    batches["raw"],
                    notes=f"{mode}, {what}; time of a batch of {sizes.fan_out} concurrent calls",
                    unit=f"ms per {sizes.fan_out}-call batch (lower is better)",
                )
                if figure.ratio > PROFILE_ABOVE:
                    with profiled() as profile:
                        await _time_batches(calls[key], sizes.fan_out, 1, [])
                    figure = _with_profile(figure, profile)
                results.add(figure)


def run(sizes: Sizes, results: Results) -> None:
    """Measure the client against raw httpx, sync and async, and add the figures to ``results``."""
    with _emulator(sizes) as setup:
        _sync(sizes, setup, results)
        asyncio.run(_async(sizes, setup, results))
