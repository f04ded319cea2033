"""What the contract suite is aimed at: our emulator (default) or a deployment named by environment.

A target gives the base URL, the identities to call it as (bearer token plus Service-CRN, one per
instance; two for the object-level authorization check), the backend to submit to, and the
storage that positive create cases point their presigned URLs at, so accepted jobs really run.
"""

from __future__ import annotations

import contextlib
import json
import secrets
import time
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any
from urllib.parse import quote

import httpx

from direct_access import Settings
from direct_access_emulator.seaweedfs import S3Settings
from direct_access_spec import STORAGE_VARIABLES, VARIABLES

if TYPE_CHECKING:
    from mypy_boto3_s3 import S3Client
    from starlette.types import ASGIApp

    from contract_tests._breakages import Breakage

__all__ = [
    "Identity",
    "MissingVariables",
    "Sweep",
    "Target",
    "deployment_target",
    "emulator_target",
    "fetch_token",
    "missing_variables",
    "sweep",
]

# Jobs this suite creates carry this prefix, so that it never touches a job it did not create.
JOB_PREFIX = "contract-"
# A valid sampler input (Qiskit Runtime V2 parameters), uploaded once per run.
SAMPLER_INPUT = {
    "pubs": [["OPENQASM 3.0; qubit[1] q; bit[1] c; c[0] = measure q[0];", [], 16]],
    "shots": 16,
    "version": 2,
}


@dataclass(frozen=True)
class Identity:
    """One caller: the headers that authenticate it. The repr hides the token."""

    name: str
    service_crn: str
    token: str = field(repr=False)

    def headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}", "Service-CRN": self.service_crn}


@dataclass
class Target:
    """A service under test and what the suite needs to drive it."""

    kind: str  # "emulator" or "deployment"
    url: str
    backend: str
    identities: tuple[Identity, ...]
    s3: S3Settings | None
    run_id: str = field(default_factory=lambda: secrets.token_hex(4))
    iam_url: str = ""
    api_keys: dict[str, str] = field(default_factory=dict, repr=False)  # identity -> API key
    input_key: str = ""
    _s3_client: Any = field(default=None, repr=False)

    @property
    def job_prefix(self) -> str:
        return f"{JOB_PREFIX}{self.run_id}-"

    def identity(self, name: str) -> Identity:
        """The identity called ``name`` (the first one if unknown)."""
        return next((i for i in self.identities if i.name == name), self.identities[0])

    def refresh_tokens(self) -> bool:
        """Fetch new tokens where API keys are known; whether any token changed."""
        if not self.api_keys:
            return False
        self.identities = tuple(
            Identity(i.name, i.service_crn, fetch_token(self.iam_url, self.api_keys[i.name]))
            if i.name in self.api_keys
            else i
            for i in self.identities
        )
        return True

    def identity_for(self, headers: Mapping[str, str]) -> Identity | None:
        crn = next((v for k, v in headers.items() if k.lower() == "service-crn"), None)
        return next((i for i in self.identities if i.service_crn == crn), None)

    def s3_client(self) -> S3Client:
        if self._s3_client is None:
            import boto3  # noqa: PLC0415 - only when storage is used
            from botocore.config import Config  # noqa: PLC0415

            assert self.s3 is not None
            self._s3_client = boto3.client(
                "s3",
                endpoint_url=self.s3.endpoint,
                region_name=self.s3.region,
                aws_access_key_id=self.s3.access_key_id,
                aws_secret_access_key=self.s3.secret_access_key,
                config=Config(signature_version="s3v4", s3={"addressing_style": "path"}),
            )
        client: S3Client = self._s3_client
        return client

    def upload_input(self) -> None:
        """Upload the shared job input that positive create cases read."""
        if self.s3 is None:
            return
        self.input_key = f"contract/{self.run_id}/input.json"
        self.s3_client().put_object(
            Bucket=self.s3.bucket, Key=self.input_key, Body=json.dumps(SAMPLER_INPUT).encode()
        )

    def storage_for(self, job_id: str, timeout_secs: int) -> dict[str, Any]:
        """The `storage` of a create body: presigned URLs to the target's store."""
        assert self.s3 is not None
        client, bucket = self.s3_client(), self.s3.bucket
        # Short-lived: a URL that reaches a report or a terminal is useless soon after the run.
        expires = max(60, min(900, timeout_secs + 60))

        def location(method: str, key: str) -> dict[str, str]:
            url = client.generate_presigned_url(
                method, Params={"Bucket": bucket, "Key": key}, ExpiresIn=expires
            )
            return {"type": "s3_compatible", "presigned_url": url}

        base = f"contract/{self.run_id}/{job_id}"
        return {
            "input": location("get_object", self.input_key),
            "results": location("put_object", f"{base}/results.json"),
            "logs": location("put_object", f"{base}/logs.txt"),
        }


def fetch_token(iam_url: str, api_key: str) -> str:
    """Exchange an API key for an IAM access token (the form body IBM Cloud IAM takes)."""
    answer = httpx.post(
        f"{iam_url.rstrip('/')}/identity/token",
        data={"grant_type": "urn:ibm:params:oauth:grant-type:apikey", "apikey": api_key},
        headers={"Accept": "application/json"},
        timeout=30,
    )
    if answer.status_code != 200:
        # IAM's own error code, never the key.
        code = answer.json().get("errorCode", "?") if answer.content else "?"
        raise RuntimeError(f"IAM refused the API key: HTTP {answer.status_code}, {code}")
    return str(answer.json()["access_token"])


@contextlib.contextmanager
def emulator_target(
    *, backend: str | None = None, broken: Sequence[Breakage] = ()
) -> Iterator[Target]:
    """Our emulator and its storage, configured for the contract: many lanes, no reservation,
    a body limit above any generated body, no faults, two instances.

    ``broken`` puts deliberate faults into the emulator, all at once (the suite's own tests use it).
    """
    from direct_access_emulator.config import (  # noqa: PLC0415
        AuthConfig,
        BackendConfig,
        EmulatorConfig,
        ExecutionConfig,
        InstanceConfig,
        ServerConfig,
    )
    from direct_access_emulator.seaweedfs import local_s3  # noqa: PLC0415
    from direct_access_emulator.testing import serve  # noqa: PLC0415

    config = EmulatorConfig(
        server=ServerConfig(max_body_bytes=16 * 1024 * 1024, body_timeout_secs=60.0),
        auth=AuthConfig(token_lifetime_secs=3 * 3600),
        instances=(
            InstanceConfig(
                crn="crn:v1:local:public:quantum-computing:local:a/contract:instance-a::",
                api_keys=(f"contract-a-{secrets.token_hex(8)}",),
            ),
            InstanceConfig(
                crn="crn:v1:local:public:quantum-computing:local:a/contract:instance-b::",
                api_keys=(f"contract-b-{secrets.token_hex(8)}",),
            ),
        ),
        backends=(BackendConfig(name=backend or "fake_backend", lanes=100_000),),
        execution=ExecutionConfig(duration_secs=0.05),
    )

    def wrap(app: ASGIApp) -> ASGIApp:
        for fault in broken:
            app = fault.wrap(app)
        return app

    with local_s3() as s3, serve(config, wrap=wrap if broken else None) as emulator:
        identities = tuple(
            Identity(
                name=f"instance-{letter}",
                service_crn=instance.crn,
                token=fetch_token(emulator.url, instance.api_keys[0]),
            )
            for letter, instance in zip("ab", config.instances, strict=True)
        )
        for fault in broken:
            fault.identities.extend(identities)
        target = Target(
            kind="emulator",
            url=emulator.url,
            backend=config.backends[0].name,
            identities=identities,
            s3=s3,
        )
        target.upload_input()
        yield target


class MissingVariables(Exception):
    """The deployment run lacks variables; the message names every one, with how to set it."""


_MEANING = {variable.name: variable.meaning for variable in VARIABLES}
# What a deployment run needs, in the order a user sets them: (variables, one of which is
# needed; what it is), the names and meanings from the one table of variables. Variables with a
# default (the IAM URL, the S3 region) are never missing.
_NEEDED: tuple[tuple[tuple[str, ...], str], ...] = (
    (("DIRECT_ACCESS_URL",), _MEANING["DIRECT_ACCESS_URL"]),
    (("DIRECT_ACCESS_API_KEY", "DIRECT_ACCESS_TOKEN"), _MEANING["DIRECT_ACCESS_API_KEY"]),
    (("DIRECT_ACCESS_SERVICE_CRN",), _MEANING["DIRECT_ACCESS_SERVICE_CRN"]),
    (("DIRECT_ACCESS_BACKEND",), "the backend the suite submits its jobs to"),
    *(((v.name,), v.meaning) for v in STORAGE_VARIABLES if v.default is None),
)


def missing_variables(environ: Mapping[str, str], *, backend: str | None = None) -> list[str]:
    """One line per variable a deployment run lacks: the command that sets it, and what it is."""
    lines = []
    for names, what in _NEEDED:
        if names == ("DIRECT_ACCESS_BACKEND",) and backend:
            continue
        if not any(environ.get(name, "").strip() for name in names):
            alternative = f" (or {names[1]})" if len(names) > 1 else ""
            lines.append(f"  export {names[0]}=...    # {what}{alternative}")
    return lines


@contextlib.contextmanager
def deployment_target(
    environ: Mapping[str, str], *, backend: str | None = None
) -> Iterator[Target]:
    """A deployment named by the client's environment variables (DIRECT_ACCESS_*).

    Raises `MissingVariables` naming every variable that is not set, before any request.
    """
    missing = missing_variables(environ, backend=backend)
    if missing:
        raise MissingVariables(
            "the deployment run needs these variables, which are not set:\n" + "\n".join(missing)
        )

    def get(name: str) -> str:
        return environ.get(name, "").strip()

    # The client's own reading of the variables: a client acronym may stand for the URL.
    settings = Settings.from_env(environ)
    token = get("DIRECT_ACCESS_TOKEN")
    api_keys: dict[str, str] = {}
    if not token:
        api_keys["caller"] = get("DIRECT_ACCESS_API_KEY")
        token = fetch_token(settings.iam_url, api_keys["caller"])
    # The storage variables as the client reads them: the region has its default.
    s3 = S3Settings(**{v.field: v.read(environ) or "" for v in STORAGE_VARIABLES})
    target = Target(
        kind="deployment",
        url=settings.url.rstrip("/"),
        backend=backend or get("DIRECT_ACCESS_BACKEND"),
        identities=(Identity(name="caller", service_crn=settings.service_crn, token=token),),
        s3=s3,
        iam_url=settings.iam_url,
        api_keys=api_keys,
    )
    target.upload_input()
    yield target


def listed_jobs(target: Target) -> dict[str, list[str]]:
    """Ids of this run's jobs the target lists (the run's prefix), each with who lists it."""
    owners: dict[str, list[str]] = {}
    with httpx.Client(base_url=target.url, timeout=30) as http:
        for identity in target.identities:
            try:
                listed = http.get("/v1/jobs", headers=identity.headers())
                jobs = (listed.json().get("jobs") or []) if listed.status_code == 200 else []
            except (httpx.HTTPError, ValueError, AttributeError):
                jobs = []
            for job in jobs:
                job_id = job.get("id") if isinstance(job, dict) else None
                if isinstance(job_id, str) and job_id.startswith(target.job_prefix):
                    owners.setdefault(job_id, []).append(identity.name)
    return owners


@dataclass
class Sweep:
    """What the clean-up did: jobs removed, and those it could not remove (id -> last status)."""

    removed: list[str] = field(default_factory=list)
    left: dict[str, int] = field(default_factory=dict)
    listed_after: list[str] = field(default_factory=list)  # still listed once the sweep ended


def sweep(target: Target, named: Iterable[str] = (), *, deadline_secs: float = 120.0) -> Sweep:
    """Cancel and delete every job of this run: those the target lists with the run's prefix,
    and those the run's creates named, whatever the server answered to them.

    Never any other job: an id without the run's prefix is not touched. Each job is removed as
    the identity that lists it (else as each identity in turn), its id quoted in the path. A 409
    (still stopping) is waited out up to the deadline; a 401 gets fresh tokens once.
    """
    prefix = target.job_prefix
    owners = listed_jobs(target)
    with httpx.Client(base_url=target.url, timeout=30) as http:
        everyone = [identity.name for identity in target.identities]
        for job_id in named:
            if job_id.startswith(prefix):
                owners.setdefault(job_id, everyone)
        result = Sweep()
        refreshed = False
        for job_id, names in sorted(owners.items()):
            path = f"/v1/jobs/{quote(job_id, safe='')}"
            status = 404
            for name in names:
                deadline = time.monotonic() + deadline_secs
                while True:
                    headers = target.identity(name).headers()
                    try:
                        # Delete first: most jobs of a run are finished or were never stored
                        # (the creates the server refused), and answer at once. A 409 is a
                        # job still running: cancel it, then delete (half the requests).
                        status = http.delete(path, headers=headers).status_code
                        if status == 409:
                            http.post(f"{path}/cancel", headers=headers)
                            status = http.delete(path, headers=headers).status_code
                    except httpx.HTTPError:
                        status = 0
                    if status == 401 and not refreshed and target.refresh_tokens():
                        refreshed = True
                        continue
                    if status != 409 or time.monotonic() > deadline:
                        break
                    time.sleep(0.1)  # the job is still stopping; polled against the deadline
                if 200 <= status < 300:
                    break
            listed_job = names is not everyone
            if 200 <= status < 300:
                result.removed.append(job_id)
            elif listed_job or status not in (401, 403, 404):
                result.left[job_id] = status
    result.listed_after = sorted(listed_jobs(target))
    return result
