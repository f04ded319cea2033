"""Parsing: a list-jobs body of 10,000 jobs through the generated models, and through strict mode's
schema check, against `json.loads` alone: time, and peak memory (tracemalloc).

The body is what the emulator answers for such a list (`Job.document` of finished jobs with
realistic presigned URLs).
"""

from __future__ import annotations

import gc
import json
import statistics
import time
import tracemalloc
from collections.abc import Callable
from dataclasses import replace

from bench._jobs import stored_job
from bench._profiling import profiled, top_entries
from bench._report import Figure, Results
from bench._sizes import Sizes
from direct_access_api.models import JobList
from direct_access_spec import violations

__all__ = ["PROFILE_ABOVE", "run"]

_JOB_LIST = "/components/schemas/JobList"
#: A parsing figure above this ratio to ``json.loads`` gets profiled: the goal the README's
#: findings hold the models' parse to.
PROFILE_ABOVE = 3.0


def _body(jobs: int) -> bytes:
    documents = [
        stored_job(index, instance="-", backend="fake_backend").document() for index in range(jobs)
    ]
    return json.dumps({"jobs": documents}, separators=(",", ":")).encode()


def _seconds(action: Callable[[], object], repeats: int) -> float:
    """The median wall time of ``action`` (collector run before each, so none is inherited)."""
    times = []
    for _ in range(repeats):
        gc.collect()
        started = time.perf_counter()
        action()
        times.append(time.perf_counter() - started)
    return statistics.median(times)


def _collector_off(action: Callable[[], object]) -> Callable[[], object]:
    """``action`` with the cyclic collector paused while it runs (and its state restored)."""

    def paused() -> object:
        was_enabled = gc.isenabled()
        gc.disable()
        try:
            return action()
        finally:
            if was_enabled:
                gc.enable()

    return paused


def _timed_against_loads(name: str, seconds: float, loads_seconds: float, notes: str) -> Figure:
    return Figure(
        name=name,
        value=seconds * 1000,
        unit="ms (lower is better)",
        baseline="json.loads alone",
        baseline_value=loads_seconds * 1000,
        notes=notes,
    )


def _memory(action: Callable[[], object]) -> tuple[int, int]:
    """Peak memory allocated while ``action`` runs, and what its result holds afterwards."""
    gc.collect()
    tracemalloc.start()
    try:
        kept = action()
        held, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    del kept
    return peak, held


def run(sizes: Sizes, results: Results) -> None:
    """Measure the three parsings and add the figures to ``results``."""
    jobs = sizes.parse_jobs
    body = _body(jobs)
    size = f"{jobs:,} jobs, {len(body) / 1e6:.1f} MB body"

    def loads() -> object:
        return json.loads(body)

    def models() -> object:
        return JobList.from_dict(json.loads(body))

    parsed = json.loads(body)

    def strict() -> object:
        found = violations(_JOB_LIST, parsed)
        assert not found, found[:3]
        return found

    loads_s = _seconds(loads, sizes.parse_repeats)
    models_s = _seconds(models, sizes.parse_repeats)
    figure = _timed_against_loads(
        f"parse.job_list.{jobs}.models",
        models_s,
        loads_s,
        f"JobList.from_dict(json.loads(body)); {size}; median of {sizes.parse_repeats}",
    )
    if figure.ratio > PROFILE_ABOVE:
        with profiled() as profile:
            models()
        figure = replace(figure, profile=top_entries(profile))
    results.add(figure)
    # The same parse with the cyclic collector paused: the collector's share of the one above
    # (the models of 10,000 jobs are 60,000 objects it traverses as they are made).
    paused_s = _seconds(_collector_off(models), sizes.parse_repeats)
    results.add(
        _timed_against_loads(
            f"parse.job_list.{jobs}.models.collector_paused",
            paused_s,
            loads_s,
            "the models' parse with gc.disable() around it (the library never does this: "
            f"see the findings); {size}; median of {sizes.parse_repeats}",
        )
    )
    (loads_peak, loads_held), (models_peak, models_held) = _memory(loads), _memory(models)
    results.add(
        Figure(
            name=f"parse.job_list.{jobs}.models.peak_memory",
            value=models_peak / 1e6,
            unit="MB peak, tracemalloc (lower is better)",
            baseline="json.loads alone",
            baseline_value=loads_peak / 1e6,
            notes=(
                f"the result held afterwards: {models_held / 1e6:.1f} MB vs "
                f"{loads_held / 1e6:.1f} MB (the models share the parsed strings; the peak is "
                f"json.loads' own); {size}"
            ),
            details={"held_mb": models_held / 1e6, "baseline_held_mb": loads_held / 1e6},
        )
    )
    violations(_JOB_LIST, {"jobs": []})  # the validator is compiled once per schema
    strict_s = _seconds(strict, sizes.parse_repeats)
    figure = _timed_against_loads(
        f"parse.job_list.{jobs}.strict_check",
        strict_s,
        loads_s,
        "direct_access_spec.violations on the parsed list, what strict mode adds to an "
        f"answer it parses anyway; {size}; median of {sizes.parse_repeats}; "
        "profiled on a tenth of the list",
    )
    if figure.ratio > PROFILE_ABOVE:
        # A tenth of the list: the same work per job, in a tenth of the (profiled) time.
        part = json.loads(body)
        part["jobs"] = part["jobs"][: max(1, jobs // 10)]
        with profiled() as profile:
            violations(_JOB_LIST, part)
        figure = replace(figure, profile=top_entries(profile))
    results.add(figure)
