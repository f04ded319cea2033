"""Body limits with raw sockets: 413 before a huge body is sent, 408 for a body that stalls."""

from __future__ import annotations

import json
import time

from direct_access_emulator.testing import RunningEmulator
from tests.integration.emulator.support import (
    check_conforms,
    credentials,
    raw_exchange,
    raw_response,
)


def _head(emulator: RunningEmulator, framing: str) -> str:
    headers = credentials(emulator)
    return (
        "POST /v1/jobs HTTP/1.1\r\nHost: emulator\r\nContent-Type: application/json\r\n"
        f"Authorization: {headers['Authorization']}\r\nService-CRN: {headers['Service-CRN']}\r\n"
        f"{framing}\r\n\r\n"
    )


def _check(
    emulator: RunningEmulator, answer: tuple[int, dict[str, str], bytes]
) -> dict[str, object]:
    check_conforms(raw_response(emulator.url, "POST", "/v1/jobs", answer))
    body = json.loads(answer[2])
    assert isinstance(body, dict)
    return body


def test_a_declared_huge_body_gets_413_before_it_is_sent(emulator: RunningEmulator) -> None:
    """Content-Length of 10 GB: 413 arrives while the client has sent only 1 KB of it."""
    head = _head(emulator, f"Content-Length: {10 * 1024**3}")
    answer = raw_exchange(emulator.url, head, [b"x" * 1024])
    assert answer[0] == 413
    assert answer[1]["connection"] == "close"
    assert "larger than 65536 bytes" in json.dumps(_check(emulator, answer))


def test_a_chunked_body_is_counted_while_read(emulator: RunningEmulator) -> None:
    """Without Content-Length, the body is counted chunk by chunk: 413 once past the limit."""
    chunk = b"x" * 16384
    frame = f"{len(chunk):x}\r\n".encode() + chunk + b"\r\n"
    head = _head(emulator, "Transfer-Encoding: chunked")
    # Five chunks are past the 64 KiB limit; the terminating chunk is never sent.
    answer = raw_exchange(emulator.url, head, [frame] * 5)
    assert answer[0] == 413
    _check(emulator, answer)


def test_a_stalled_body_gets_408(emulator: RunningEmulator) -> None:
    """A body not fully received within body_timeout_secs (0.5 s here) answers 408."""
    started = time.monotonic()
    answer = raw_exchange(emulator.url, _head(emulator, "Content-Length: 500"), [b'{"id": "a'])
    elapsed = time.monotonic() - started
    assert answer[0] == 408
    assert answer[1]["connection"] == "close"
    assert elapsed >= emulator.config.server.body_timeout_secs
    _check(emulator, answer)
