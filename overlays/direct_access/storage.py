"""Job input, results and logs in an S3-compatible store, through presigned URLs.

`S3Storage.prepare` uploads a job's input and presigns a GET for it and PUTs for its results and
logs; `fetch_result` (or `fetch_result_text`, the text as written) and `fetch_logs` read them
back, waiting (with a deadline) for objects that a service reporting ``Completed`` has not
written yet. Needs boto3: ``pip install
'direct-access-toolkit[storage]'``.
"""

from __future__ import annotations

import json
import os
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from types import TracebackType
from typing import TYPE_CHECKING, Any, Literal, Self

from direct_access._errors import ConfigurationError, StorageError, redact_url, redact_urls
from direct_access._secrets import PresignedURL, redact_secrets
from direct_access_api.models import CreateJobStorage, CreateJobStorageLocation, StorageType
from direct_access_spec import STORAGE_VARIABLES

if TYPE_CHECKING:
    from mypy_boto3_s3 import S3Client
    from mypy_boto3_s3.type_defs import ObjectIdentifierTypeDef

__all__ = ["DEFAULT_PREFIX", "PreparedStorage", "S3Storage"]

#: Where a job's objects go in the bucket: ``jobs/<job id>/`` (the bucket names the service).
DEFAULT_PREFIX = "jobs/"
#: The longest validity S3 allows for a presigned URL (SigV4): seven days.
MAX_EXPIRY_SECS = 7 * 24 * 3600


@dataclass(frozen=True)
class PreparedStorage:
    """A job's objects in the store and the ``storage`` to send with the job.

    The repr shows object keys only; the presigned URLs (``storage``) carry signatures.
    """

    job_id: str
    bucket: str
    input_key: str
    results_key: str
    logs_key: str
    expires_in: int
    storage: CreateJobStorage = field(repr=False)

    def urls(self) -> dict[str, str]:
        """The presigned URLs without their signatures, for display."""
        storage = self.storage.to_dict()
        return {
            name: redact_url(str(location["presigned_url"]))
            for name, location in storage.items()
            if isinstance(location, dict) and "presigned_url" in location
        }


def _boto3_client(storage: S3Storage) -> S3Client:
    try:
        import boto3  # noqa: PLC0415 - optional dependency, imported when first needed
        from botocore.config import Config  # noqa: PLC0415
    except ImportError as exc:  # pragma: no cover - the test environment has boto3
        raise StorageError(
            "S3 storage needs boto3: pip install 'direct-access-toolkit[storage]'"
        ) from exc
    # A session of our own: boto3's default session is not thread-safe.
    client: S3Client = boto3.session.Session().client(
        "s3",
        endpoint_url=storage.endpoint,
        region_name=storage.region,
        aws_access_key_id=storage.access_key_id,
        aws_secret_access_key=storage.secret_access_key,
        config=Config(
            signature_version="s3v4",
            s3={"addressing_style": storage.addressing_style},
            retries={"max_attempts": 3, "mode": "standard"},
        ),
    )
    return client


@dataclass
class S3Storage:
    """An S3-compatible bucket for jobs' objects, under ``prefix``/<job id>/.

    ``expiry_margin_secs`` is added to a job's ``timeout_secs`` for the URLs' validity, since the
    job's execution time is not wall-clock time from submission (at most seven days).
    Safe to share between threads; `close` (or ``with``) releases the boto3 client's connections.
    """

    endpoint: str
    bucket: str
    region: str
    access_key_id: str
    secret_access_key: str = field(repr=False)
    prefix: str = DEFAULT_PREFIX
    expiry_margin_secs: int = 900
    addressing_style: Literal["auto", "virtual", "path"] = "path"
    _client: S3Client | None = field(default=None, init=False, repr=False, compare=False)
    _lock: threading.Lock = field(
        default_factory=threading.Lock, init=False, repr=False, compare=False
    )

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> S3Storage:
        """From the ``DIRECT_ACCESS_S3_*`` variables (`direct_access_spec.STORAGE_VARIABLES`):
        ``_ENDPOINT``, ``_BUCKET``, ``_ACCESS_KEY_ID``, ``_SECRET_ACCESS_KEY`` and ``_REGION``
        (default ``us-east-1``); ``prefix`` keeps its default."""
        env = os.environ if environ is None else environ
        values: dict[str, str] = {}
        for variable in STORAGE_VARIABLES:
            value = variable.read(env)
            if value is None:
                raise ConfigurationError(f"{variable.name} is not set")
            values[variable.field] = value
        return cls(
            endpoint=values["endpoint"],
            bucket=values["bucket"],
            region=values["region"],
            access_key_id=values["access_key_id"],
            secret_access_key=values["secret_access_key"],
        )

    def s3(self) -> S3Client:
        """The boto3 client (created on first use, once, whichever thread asks first)."""
        with self._lock:
            if self._client is None:
                self._client = _boto3_client(self)
            return self._client

    def close(self) -> None:
        """Close the boto3 client's connections (a later call creates a new client)."""
        with self._lock:
            client, self._client = self._client, None
        if client is not None:
            client.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    def _scrubbed(self, text: str) -> str:
        return redact_secrets(redact_urls(text), (self.secret_access_key,))

    def _error(self, what: str, cause: object) -> StorageError:
        """A `StorageError` whose message holds no secret key or URL signature."""
        detail = self._scrubbed(str(cause))
        return StorageError(f"{what}: {detail or type(cause).__name__}")

    def _cause(self, exc: BaseException) -> BaseException | None:
        """botocore's exception to chain, unless its text needed scrubbing (a traceback would
        print it as it is)."""
        return exc if self._scrubbed(str(exc)) == str(exc) else None

    def _key(self, job_id: str, name: str) -> str:
        prefix = self.prefix if not self.prefix or self.prefix.endswith("/") else self.prefix + "/"
        return f"{prefix}{job_id}/{name}"

    def prepare(self, job_id: str, params: Mapping[str, Any], timeout_secs: int) -> PreparedStorage:
        """Upload ``params`` as the job's input and presign the URLs the service will use."""
        from botocore.exceptions import BotoCoreError, ClientError  # noqa: PLC0415

        expires_in = min(MAX_EXPIRY_SECS, int(timeout_secs) + self.expiry_margin_secs)
        keys = {
            name: self._key(job_id, name) for name in ("input.json", "results.json", "logs.txt")
        }
        s3 = self.s3()
        try:
            s3.put_object(
                Bucket=self.bucket,
                Key=keys["input.json"],
                Body=json.dumps(params).encode(),
                ContentType="application/json",
            )

            def presign(method: str, key: str) -> CreateJobStorageLocation:
                url = s3.generate_presigned_url(
                    method, Params={"Bucket": self.bucket, "Key": key}, ExpiresIn=expires_in
                )
                return CreateJobStorageLocation(
                    type_=StorageType.S3_COMPATIBLE, presigned_url=PresignedURL(url)
                )

            storage = CreateJobStorage(
                input_=presign("get_object", keys["input.json"]),
                results=presign("put_object", keys["results.json"]),
                logs=presign("put_object", keys["logs.txt"]),
            )
        except (BotoCoreError, ClientError) as exc:
            raise self._error(f"could not upload the input of job {job_id}", exc) from self._cause(
                exc
            )
        return PreparedStorage(
            job_id=job_id,
            bucket=self.bucket,
            input_key=keys["input.json"],
            results_key=keys["results.json"],
            logs_key=keys["logs.txt"],
            expires_in=expires_in,
            storage=storage,
        )

    def _read_text(
        self,
        key: str,
        *,
        timeout: float,
        poll_interval: float = 0.2,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], object] = time.sleep,
        lenient: bool = False,
    ) -> str:
        """The object's UTF-8 text, waiting up to ``timeout`` seconds for it to appear
        (``lenient``: undecodable bytes replaced, for logs)."""
        from botocore.exceptions import BotoCoreError, ClientError  # noqa: PLC0415

        deadline = clock() + timeout
        s3 = self.s3()
        while True:
            try:
                data = s3.get_object(Bucket=self.bucket, Key=key)["Body"].read()
                break
            except ClientError as exc:
                code = str(exc.response.get("Error", {}).get("Code", ""))
                if code not in ("NoSuchKey", "404"):
                    raise self._error(f"could not read {key}", code or exc) from self._cause(exc)
            except BotoCoreError as exc:
                raise self._error(f"could not read {key}", exc) from self._cause(exc)
            remaining = deadline - clock()
            if remaining <= 0:
                raise StorageError(f"{key} was not written within {timeout:g} s")
            sleep(min(poll_interval, remaining))
        try:
            return data.decode("utf-8", errors="replace" if lenient else "strict")
        except UnicodeDecodeError as exc:
            raise StorageError(f"{key} is not UTF-8 text") from exc

    def fetch_result(
        self,
        prepared: PreparedStorage,
        *,
        timeout: float = 30.0,
        poll_interval: float = 0.2,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], object] = time.sleep,
    ) -> dict[str, Any]:
        """The job's result document, waiting up to ``timeout`` seconds for it to appear."""
        text = self.fetch_result_text(
            prepared, timeout=timeout, poll_interval=poll_interval, clock=clock, sleep=sleep
        )
        return self.parse_result(text, prepared.results_key)

    def fetch_result_text(
        self,
        prepared: PreparedStorage,
        *,
        timeout: float = 30.0,
        poll_interval: float = 0.2,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], object] = time.sleep,
    ) -> str:
        """The job's result as the service wrote it (UTF-8 JSON text), for decoders such as
        Qiskit's `RuntimeDecoder`; waits up to ``timeout`` seconds for it to appear."""
        return self._read_text(
            prepared.results_key,
            timeout=timeout,
            poll_interval=poll_interval,
            clock=clock,
            sleep=sleep,
        )

    def fetch_logs(
        self,
        prepared: PreparedStorage,
        *,
        timeout: float = 30.0,
        poll_interval: float = 0.2,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], object] = time.sleep,
    ) -> str:
        """The job's log text, waiting up to ``timeout`` seconds for it to appear."""
        return self._read_text(
            prepared.logs_key,
            timeout=timeout,
            poll_interval=poll_interval,
            clock=clock,
            sleep=sleep,
            lenient=True,
        )

    def result_text_for(self, job_id: str, *, timeout: float = 30.0) -> str:
        """The result text of a job prepared earlier here (by id, for the CLI)."""
        return self._read_text(self._key(job_id, "results.json"), timeout=timeout)

    def logs_for(self, job_id: str, *, timeout: float = 30.0) -> str:
        """The log text of a job prepared earlier here (by id, for the CLI)."""
        return self._read_text(self._key(job_id, "logs.txt"), timeout=timeout, lenient=True)

    @staticmethod
    def parse_result(text: str, key: str) -> dict[str, Any]:
        """The result text as a JSON object, or `StorageError` naming ``key``."""
        try:
            document = json.loads(text)
        except ValueError as exc:
            raise StorageError(f"{key} is not JSON") from exc
        if not isinstance(document, dict):
            raise StorageError(f"{key} is not a JSON object")
        return document

    def delete(self, prepared: PreparedStorage) -> None:
        """Remove the job's objects from the store."""
        self.delete_job_objects(prepared.job_id)

    def delete_job_objects(self, job_id: str) -> int:
        """Remove every object under the job's prefix (``prefix``/<job id>/); how many went."""
        return self.delete_prefix(self._key(job_id, ""))

    def delete_prefix(self, prefix: str) -> int:
        """Remove every object whose key starts with ``prefix``; how many went. ``""`` would
        empty the bucket, and is refused."""
        from botocore.exceptions import BotoCoreError, ClientError  # noqa: PLC0415

        if not prefix:
            raise ConfigurationError('delete_prefix needs a prefix ("" would empty the bucket)')
        s3 = self.s3()
        removed = 0
        try:
            for page in s3.get_paginator("list_objects_v2").paginate(
                Bucket=self.bucket, Prefix=prefix
            ):
                keys: list[ObjectIdentifierTypeDef] = [
                    {"Key": item["Key"]} for item in page.get("Contents", []) if "Key" in item
                ]
                if keys:
                    s3.delete_objects(Bucket=self.bucket, Delete={"Objects": keys, "Quiet": True})
                    removed += len(keys)
        except (BotoCoreError, ClientError) as exc:
            raise self._error(f"could not remove the objects under {prefix}", exc) from self._cause(
                exc
            )
        return removed
