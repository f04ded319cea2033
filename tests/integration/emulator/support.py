"""Helpers for the emulator's integration tests: tokens, job bodies, spec conformance, raw HTTP."""

from __future__ import annotations

import socket
import time
from collections.abc import Callable, Iterable
from typing import Any, TypeVar
from urllib.parse import urlsplit

import httpx

from direct_access_emulator.config import EmulatorConfig, ExecutionConfig, ServerConfig
from direct_access_emulator.testing import RunningEmulator
from direct_access_spec import find_operation, operations, violations

GRANT_TYPE = "urn:ibm:params:oauth:grant-type:apikey"
_T = TypeVar("_T")


def fast_config(**changes: Any) -> EmulatorConfig:
    """Defaults with short execution and body limits, so that tests run fast."""
    values: dict[str, Any] = {
        "server": ServerConfig(max_body_bytes=64 * 1024, body_timeout_secs=0.5),
        "execution": ExecutionConfig(duration_secs=0.05),
    }
    values.update(changes)
    return EmulatorConfig(**values)


def issue_token(url: str, api_key: str) -> str:
    """An access token from the emulator's IAM endpoint."""
    response = httpx.post(
        f"{url}/identity/token", data={"grant_type": GRANT_TYPE, "apikey": api_key}
    )
    assert response.status_code == 200, response.text
    token = response.json()["access_token"]
    assert isinstance(token, str)
    return token


def credentials(emulator: RunningEmulator, instance: int = 0) -> dict[str, str]:
    """The Authorization and Service-CRN headers of an instance."""
    env = emulator.env(instance)
    token = issue_token(emulator.url, env["DIRECT_ACCESS_API_KEY"])
    return {"Authorization": f"Bearer {token}", "Service-CRN": env["DIRECT_ACCESS_SERVICE_CRN"]}


def location(url: str) -> dict[str, str]:
    return {"type": "s3_compatible", "presigned_url": url}


def job_body(
    job_id: str,
    *,
    backend: str = "fake_backend",
    program_id: str = "sampler",
    input_url: str = "http://127.0.0.1:9/input.json",
    results_url: str = "http://127.0.0.1:9/results.json",
    logs_url: str | None = None,
    timeout_secs: int = 60,
    **extra: Any,
) -> dict[str, Any]:
    """A schema-valid create body (port 9 is discard: such a job fails quickly, unreachable)."""
    storage = {"input": location(input_url), "results": location(results_url)}
    if logs_url is not None:
        storage["logs"] = location(logs_url)
    return {
        "id": job_id,
        "program_id": program_id,
        "backend": backend,
        "timeout_secs": timeout_secs,
        "storage": storage,
        **extra,
    }


def wait_for(
    probe: Callable[[], _T], accept: Callable[[_T], bool], *, deadline_secs: float = 10.0
) -> _T:
    """Poll ``probe`` until ``accept`` holds on its value; fail after the deadline."""
    deadline = time.monotonic() + deadline_secs
    value = probe()
    while not accept(value):
        assert time.monotonic() < deadline, f"condition not met in {deadline_secs}s: {value!r}"
        time.sleep(0.05)
        value = probe()
    return value


# ---------------------------------------------------------------- conformance to the spec


def documented_statuses() -> set[tuple[str, int]]:
    """Every (operationId, status) the spec documents."""
    return {(op.operation_id, int(status)) for op in operations() for status in op.statuses}


def check_conforms(response: httpx.Response) -> tuple[str, int] | None:
    """Assert the answer is what the spec documents for its operation and status.

    Returns (operationId, status) when the status is documented for the operation. A status the
    operation does not document (405, an unknown path, an injected 503) must still be an error
    in the `ErrorResponse` shape.
    """
    request = response.request
    path = request.url.path
    if path == "/identity/token" and request.method == "POST":
        return None  # IBM Cloud IAM's own shape, checked by the IAM tests
    response.read()
    op = find_operation(request.method, request.url.raw_path.decode("ascii").split("?")[0])
    status = response.status_code
    if op is not None and str(status) in op.statuses:
        schema = op.schema_pointer(status)
        if schema is None:
            assert response.content == b"", f"{op.operation_id} {status} must have no body"
        else:
            assert response.headers["content-type"].startswith("application/json")
            problems = violations(schema, response.json())
            assert not problems, f"{op.operation_id} {status}: {problems} in {response.text}"
            if status >= 400:
                assert response.json()["status_code"] == status
        return op.operation_id, status
    assert status >= 400, f"{request.method} {path} answered an undocumented {status}"
    assert response.headers["content-type"].startswith("application/json"), response.text
    problems = violations("/components/schemas/ErrorResponse", response.json())
    assert not problems, f"{request.method} {path} {status}: {problems}"
    assert response.json()["status_code"] == status
    return None


class Recorder:
    """An httpx event hook that checks every answer and records (operationId, status) pairs."""

    def __init__(self) -> None:
        self.seen: set[tuple[str, int]] = set()

    def __call__(self, response: httpx.Response) -> None:
        found = check_conforms(response)
        if found is not None:
            self.seen.add(found)

    def note(self, found: tuple[str, int] | None) -> None:
        if found is not None:
            self.seen.add(found)


def api_client(
    emulator: RunningEmulator,
    headers: dict[str, str] | None = None,
    recorder: Recorder | None = None,
) -> httpx.Client:
    """An httpx client whose every answer is checked against the spec."""
    return httpx.Client(
        base_url=emulator.url,
        headers=headers or {},
        event_hooks={"response": [recorder or Recorder()]},
        timeout=10.0,
    )


# ---------------------------------------------------------------- raw HTTP


def raw_exchange(
    url: str,
    head: str,
    parts: Iterable[bytes] = (),
    *,
    read_deadline_secs: float = 10.0,
) -> tuple[int, dict[str, str], bytes]:
    """Send a request head and body parts over a plain socket, then read the whole answer.

    The connection is not closed for writing, so the server sees a client still sending.
    """
    address = urlsplit(url)
    assert address.hostname is not None
    assert address.port is not None
    with socket.create_connection((address.hostname, address.port), timeout=5) as conn:
        conn.sendall(head.encode("ascii"))
        for part in parts:
            conn.sendall(part)
        conn.settimeout(read_deadline_secs)
        received = b""
        while b"\r\n\r\n" not in received:
            chunk = conn.recv(65536)
            assert chunk, f"connection closed without an answer: {received!r}"
            received += chunk
        head_bytes, _, body = received.partition(b"\r\n\r\n")
        lines = head_bytes.decode("latin-1").split("\r\n")
        status = int(lines[0].split()[1])
        headers = {
            name.strip().lower(): value.strip()
            for name, _, value in (line.partition(":") for line in lines[1:])
        }
        length = int(headers.get("content-length", "0"))
        while len(body) < length:
            chunk = conn.recv(65536)
            assert chunk, "connection closed in the middle of the answer"
            body += chunk
        return status, headers, body


def raw_response(
    url: str, method: str, path: str, answer: tuple[int, dict[str, str], bytes]
) -> httpx.Response:
    """A raw answer as an httpx.Response, so that `check_conforms` can judge it."""
    status, headers, body = answer
    return httpx.Response(
        status,
        headers=headers,
        content=body,
        request=httpx.Request(method, f"{url}{path}"),
    )


# ---------------------------------------------------------------- the command line


class Cli:
    """`python -m direct_access_emulator` in a subprocess, and the JSON line it printed."""

    def __init__(self, *args: str, deadline_secs: float = 60.0) -> None:
        import json  # noqa: PLC0415 - only the CLI helpers need it
        import select  # noqa: PLC0415
        import subprocess  # noqa: PLC0415
        import sys  # noqa: PLC0415

        self.process = subprocess.Popen(
            [sys.executable, "-m", "direct_access_emulator", "--port", "0", *args],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
        )
        assert self.process.stdout is not None
        deadline = time.monotonic() + deadline_secs
        line = b""
        while not line.endswith(b"\n"):
            remaining = deadline - time.monotonic()
            assert remaining > 0, "the emulator printed no line in time"
            ready, _, _ = select.select([self.process.stdout], [], [], remaining)
            if ready:
                byte = self.process.stdout.read1(1)  # type: ignore[attr-defined]
                assert byte, f"the emulator exited: {self.stop_output()}"
                line += byte
        self.env: dict[str, str] = json.loads(line)

    def stop_output(self) -> str:
        self.process.kill()
        _, err = self.process.communicate(timeout=30)
        return err.decode(errors="replace")

    def terminate(self, deadline_secs: float = 30.0) -> tuple[int, str, str]:
        """SIGTERM, then the exit status, the rest of stdout and stderr."""
        self.process.terminate()
        out, err = self.process.communicate(timeout=deadline_secs)
        return self.process.returncode, out.decode(), err.decode()

    def kill(self) -> None:
        """SIGKILL, as a crash."""
        self.process.kill()
        self.process.communicate(timeout=30)
