"""The answer size cap over a real loopback socket, where answers framed by Content-Length go on
without a counting stream: a server sending more than it declared is read to what it declared."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator

import pytest

from direct_access import AsyncClient, Client, InvalidResponseError, Settings
from tests.integration.client.raw_server import RawServer, sending

_VERSION = b'{"version":"1.0"}'
# Declares the version document, then sends 1 MB more on the same connection.
_OVER_DECLARED = (
    b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n"
    + b"Content-Length: %d\r\n\r\n" % len(_VERSION)
    + _VERSION
    + b" " * 1_000_000
)
_CHUNKS = b"".join(b"10000\r\n" + b" " * 0x10000 + b"\r\n" for _ in range(16)) + b"0\r\n\r\n"
# No Content-Length: a chunked answer of 1 MB, which only counting can stop.
_CHUNKED = (
    b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n"
    + _CHUNKS
)
# A small Content-Length beside chunked framing: h11 reads the 1 MB of chunks, so the declared
# length must not exempt the answer from counting.
_CHUNKED_DECLARING_2 = (
    b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 2\r\n"
    b"Transfer-Encoding: chunked\r\n\r\n" + _CHUNKS
)


def _settings(url: str) -> Settings:
    return Settings(url=url, service_crn="crn:v1:unit", token="t")  # noqa: S106


@pytest.fixture
def over_declared() -> Iterator[RawServer]:
    with RawServer(sending(_OVER_DECLARED)) as server:
        yield server


@pytest.fixture(params=[_CHUNKED, _CHUNKED_DECLARING_2], ids=["chunked", "chunked-declaring-2"])
def chunked(request: pytest.FixtureRequest) -> Iterator[RawServer]:
    with RawServer(sending(request.param)) as server:
        yield server


def test_an_answer_is_read_to_its_declared_length_and_no_further(
    over_declared: RawServer,
) -> None:
    """The declared 17 bytes are the answer, under a 100-byte cap the 1 MB after them would pass."""
    with Client(_settings(over_declared.url), max_answer_bytes=100) as c:
        assert c.get_version() == "1.0"

    async def main() -> str:
        async with AsyncClient(_settings(over_declared.url), max_answer_bytes=100) as c:
            return await c.get_version()

    assert asyncio.run(main()) == "1.0"


def test_an_answer_without_a_length_is_still_counted_against_the_cap(
    chunked: RawServer,
) -> None:
    """1 MB chunked over a 100,000-byte cap, whatever length it also declares:
    InvalidResponseError, sync and async."""
    with (
        Client(_settings(chunked.url), max_answer_bytes=100_000, retry=None) as c,
        pytest.raises(InvalidResponseError, match="get_version answer is larger"),
    ):
        c.get_version()

    async def main() -> None:
        async with AsyncClient(_settings(chunked.url), max_answer_bytes=100_000, retry=None) as c:
            await c.get_version()

    with pytest.raises(InvalidResponseError, match="get_version answer is larger"):
        asyncio.run(main())
