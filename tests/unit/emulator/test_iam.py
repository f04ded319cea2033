"""The emulator's IAM: issuing a token costs the same however many are held; expired ones go."""

from __future__ import annotations

from typing import Any

from direct_access_emulator.config import AuthConfig, EmulatorConfig
from direct_access_emulator.iam import TokenIssuer

_KEY = EmulatorConfig().instances[0].api_keys[0]
_CRN = EmulatorConfig().instances[0].crn


class _Clock:
    def __init__(self) -> None:
        self.now = 1_000_000.0

    def __call__(self) -> float:
        return self.now


class _WatchedTable(dict[str, Any]):
    """The issuer's token table, counting every walk over it."""

    walks = 0

    def __iter__(self) -> Any:
        self.walks += 1
        return super().__iter__()

    def items(self) -> Any:
        self.walks += 1
        return super().items()

    def keys(self) -> Any:
        self.walks += 1
        return super().keys()

    def values(self) -> Any:
        self.walks += 1
        return super().values()


def test_issuing_never_walks_the_tokens_held() -> None:
    """With 50,000 live tokens held, 1,000 more issues neither walk nor rebuild the table."""
    issuer = TokenIssuer(EmulatorConfig(), clock=_Clock())
    for _ in range(50_000):
        issuer.issue(_KEY)
    watched = _WatchedTable(issuer._tokens)
    issuer._tokens = watched
    for _ in range(1_000):
        issuer.issue(_KEY)
    assert issuer._tokens is watched  # not rebuilt
    assert watched.walks == 0
    assert len(issuer) == 51_000


def test_expired_tokens_are_dropped_and_refused() -> None:
    """Past their lifetime, tokens are refused, and the next issue drops every one of them."""
    clock = _Clock()
    issuer = TokenIssuer(EmulatorConfig(auth=AuthConfig(token_lifetime_secs=60)), clock=clock)
    old = [issuer.issue(_KEY)["access_token"] for _ in range(1_000)]
    clock.now += 30
    recent = issuer.issue(_KEY)["access_token"]
    assert issuer.instances_of(old[0]) == {_CRN}
    clock.now += 30  # the first thousand reach their expiry, the recent one has 30 s left
    assert issuer.instances_of(old[0]) is None
    fresh = issuer.issue(_KEY)["access_token"]
    assert len(issuer) == 2
    assert issuer.instances_of(recent) == {_CRN}
    assert issuer.instances_of(fresh) == {_CRN}
