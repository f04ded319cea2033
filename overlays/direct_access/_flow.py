"""Sans-I/O flows: the clients' multi-step logic written once, as generators that yield the I/O
they need. `Client` runs each step directly, `AsyncClient` awaits it (so each rule exists once).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Generator, Mapping
from dataclasses import dataclass, field
from types import ModuleType
from typing import TYPE_CHECKING, Any, TypeVar

if TYPE_CHECKING:
    from direct_access._retry import RetryState

__all__ = ["Blocking", "Flow", "Send", "Shielded", "Sleep", "Step", "run_async", "run_sync"]

T = TypeVar("T")


@dataclass(frozen=True)
class Send:
    """One API operation through a generated module (``sync_detailed``/``asyncio_detailed``).

    ``state`` is the call's retry bookkeeping (a fresh one when None); ``time_limit`` caps the
    timeout of each request the call makes, in seconds.
    """

    operation_id: str
    module: ModuleType
    args: tuple[Any, ...] = ()
    kwargs: Mapping[str, Any] = field(default_factory=dict)
    state: RetryState | None = None
    time_limit: float | None = None


@dataclass(frozen=True)
class Blocking:
    """A blocking call (boto3): made directly, or in a worker thread by async code."""

    function: Callable[..., Any]
    args: tuple[Any, ...] = ()
    kwargs: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Sleep:
    """A pause, through the client's injectable sleep."""

    seconds: float


@dataclass(frozen=True)
class Shielded:
    """A flow that runs to its end even while its caller is being cancelled (cleanup)."""

    flow: Flow[Any]


Step = Send | Blocking | Sleep | Shielded
Flow = Generator[Step, Any, T]


def run_sync(flow: Flow[T], execute: Callable[[Step], Any]) -> T:
    """Run ``flow``, making each step with ``execute``; a step's exception (Ctrl-C included)
    is thrown into the flow, so that its ``except`` and ``finally`` clauses run."""
    value: Any = None
    error: BaseException | None = None
    while True:
        try:
            step = flow.send(value) if error is None else flow.throw(error)
        except StopIteration as stop:
            result: T = stop.value
            return result
        try:
            value, error = execute(step), None
        except BaseException as exc:  # handed to the flow, which decides
            value, error = None, exc


async def run_async(flow: Flow[T], execute: Callable[[Step], Awaitable[Any]]) -> T:
    """`run_sync` for async code (task cancellation is thrown into the flow as well)."""
    value: Any = None
    error: BaseException | None = None
    while True:
        try:
            step = flow.send(value) if error is None else flow.throw(error)
        except StopIteration as stop:
            result: T = stop.value
            return result
        try:
            value, error = await execute(step), None
        except BaseException as exc:  # handed to the flow, which decides
            value, error = None, exc
