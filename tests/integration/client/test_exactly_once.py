"""Exactly once under faults that act and then lose the answer: 0 lost, 0 duplicated, 0 raised
while the job is held, through `Client` and `AsyncClient` (the soak of `bench/`, shorter)."""

from __future__ import annotations

import pytest

from bench.exactly_once import soak, soak_config
from direct_access_emulator.testing import serve

SUBMITS = 80


@pytest.mark.parametrize("asynchronous", [False, True], ids=["Client", "AsyncClient"])
def test_submits_under_faults_after_the_commit_are_exactly_once(asynchronous: bool) -> None:
    """Creates that fail before acting, act and lose or delay the answer, or get 423/429 after
    the duplicate check: every job either returned and held, or raised and absent."""
    with serve(soak_config(SUBMITS)) as emulator:
        counts = soak(emulator, SUBMITS, asynchronous=asynchronous)
    summary = counts.summary()
    assert (counts.lost, counts.duplicated, counts.raised_while_held) == (0, 0, 0), summary
    assert len(counts.returned) + len(counts.raised) == SUBMITS
    # The mix really happened: some creates were refused, most went through.
    assert counts.raised, summary
    assert len(counts.returned) > SUBMITS // 2, summary
