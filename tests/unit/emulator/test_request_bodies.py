"""Reading create bodies: the fast JSON parse reads every body as `json.loads` does."""

from __future__ import annotations

import json
from collections.abc import Callable

import pytest

from direct_access_emulator.http_errors import ApiError
from direct_access_emulator.request_bodies import _json_object, job_id_in, parse_create_job

_BODIES = [
    b'{"id": "j1", "timeout_secs": 300}',
    b'{"a":1,"b":2,"a":3}',
    b'{"a":1.5,"a":2}',
    b'{"a":-0,"b":-0.0,"c":1.0,"d":1E2,"e":1e-400,"f":0.1}',
    b'{"a":2.2250738585072011e-308,"b":9007199254740993.0,"c":1.7976931348623157e308}',
    b'{"a":123456789012345678,"b":-123456789012345678}',
    b'{"a":9223372036854775807,"b":-9223372036854775808}',
    b'{"a":1234567890123456789,"b":-9223372036854775809}',
    b'{"a":18446744073709551615,"b":18446744073709551616}',
    b'{"a":[{"b":[123456789012345678901234567890]}]}',
    b'{"\\u00e9":"\\u0000","b":"\xc3\xa9","c":"\x7f"}',
    b'{"a":"\\ud800"}',
    b'{"a":"\xed\xa0\x80"}',
    b"\xef\xbb\xbf{}",
    '{"a": 1}'.encode("utf-16"),
    b' \t\r\n{"a" : [ 1 , {} , true, false, null] }\n',
    b'{"a":' + b"[" * 1100 + b"]" * 1100 + b"}",
]

_NOT_OBJECTS = [b"[]", b'"x"', b"1", b"null"]
_NOT_JSON = [
    b"",
    b"{",
    b'{"a":NaN}',
    b'{"a":Infinity}',
    b'{"a":01}',
    b'{"a":1.}',
    b'{"a":.5}',
    b'{"a":1}x',
    b'{"a":"\x01"}',
    b'{"a":"\xff"}',
    b"{'a':1}",
]


def _outcome(read: Callable[[bytes], object], body: bytes) -> str:
    try:
        return repr(read(body))
    except (ValueError, RecursionError, ApiError):
        return "refused"


@pytest.mark.parametrize("body", _BODIES)
def test_a_body_is_read_as_json_loads_reads_it(body: bytes) -> None:
    """Same values and types (1 is not 1.0, big integers stay integers), same key order."""
    assert _outcome(_json_object, body) == _outcome(json.loads, body)


def test_a_create_body_names_its_job_whichever_parse_reads_it() -> None:
    """The access log's job id comes from the same reading of the body."""
    assert job_id_in(b'{"id":"j1","n":1}') == "j1"
    assert job_id_in(b'{"id":"j2","n":12345678901234567890123}') == "j2"
    assert job_id_in(b'{"id":"j3","n":1e400}') == "j3"
    assert job_id_in(b'{"id":3}') is None


def _nested(depth: int) -> bytes:
    return b'{"id":"j","extra":' + b"[" * depth + b"]" * depth + b"}"


@pytest.mark.parametrize(
    ("body", "reason"),
    [
        # A JSON array, string, number or null is not a create body.
        *((body, "must be a JSON object") for body in _NOT_OBJECTS),
        # Whatever reads it, a body that is not JSON (NaN and Infinity included).
        *((body, "not valid JSON") for body in _NOT_JSON),
        # JSON that parses (orjson reads 1,000 levels, json.loads about as many) but nests past
        # what the schema check follows (255 levels): a refused body, not a server error.
        (_nested(300), "nests too deeply"),
        (_nested(1000), "nests too deeply"),
    ],
)
def test_a_body_that_is_no_create_body_answers_400_saying_why(body: bytes, reason: str) -> None:
    with pytest.raises(ApiError) as refused:
        parse_create_job(body)
    assert refused.value.status == 400
    assert reason in str(refused.value)
