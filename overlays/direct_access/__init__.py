"""Python client for the IBM Quantum Direct Access API, built on the generated `direct_access_api`.

`Client` / `AsyncClient` cover every operation of `openapi.yaml` (shipped in `direct_access_spec`)
with IAM auth, typed errors, bounded retries, `wait`, strict checking and
one-call `run` through `direct_access.storage`.
"""

from __future__ import annotations

from importlib import metadata as _metadata

from direct_access._async_client import AsyncClient
from direct_access._auth import BearerAuth, IAMAuth
from direct_access._base_client import DEFAULT_RETRY
from direct_access._client import Client
from direct_access._errors import (
    APIConnectionError,
    APIError,
    APITimeoutError,
    AuthenticationError,
    BackendReservedError,
    BadRequestError,
    ConfigurationError,
    ConflictError,
    DirectAccessError,
    DriftError,
    DuplicateJobError,
    IAMError,
    InvalidResponseError,
    JobFailedError,
    JobTimeoutError,
    NotFoundError,
    PayloadTooLargeError,
    RequestTimeoutError,
    ServerError,
    SpecViolationError,
    StorageError,
    TooManyJobsError,
    UnexpectedStatusError,
    UnprocessableEntityError,
)
from direct_access._metrics import JobMetrics, job_metrics
from direct_access._retry import RetryPolicy
from direct_access._run import RunResult
from direct_access._settings import ENVIRONMENT_VARIABLES, Settings
from direct_access._strict import StrictMode
from direct_access._wait import TERMINAL_STATUSES
from direct_access_api.models import (
    Backend,
    BackendLanes,
    BackendStatus,
    CreateJobStorage,
    CreateJobStorageLocation,
    ErrorResponse,
    Job,
    JobStatus,
    LogLevel,
    StorageType,
)

__all__ = [
    "DEFAULT_RETRY",
    "ENVIRONMENT_VARIABLES",
    "TERMINAL_STATUSES",
    "APIConnectionError",
    "APIError",
    "APITimeoutError",
    "AsyncClient",
    "AuthenticationError",
    "Backend",
    "BackendLanes",
    "BackendReservedError",
    "BackendStatus",
    "BadRequestError",
    "BearerAuth",
    "Client",
    "ConfigurationError",
    "ConflictError",
    "CreateJobStorage",
    "CreateJobStorageLocation",
    "DirectAccessError",
    "DriftError",
    "DuplicateJobError",
    "ErrorResponse",
    "IAMAuth",
    "IAMError",
    "InvalidResponseError",
    "Job",
    "JobFailedError",
    "JobMetrics",
    "JobStatus",
    "JobTimeoutError",
    "LogLevel",
    "NotFoundError",
    "PayloadTooLargeError",
    "RequestTimeoutError",
    "RetryPolicy",
    "RunResult",
    "ServerError",
    "Settings",
    "SpecViolationError",
    "StorageError",
    "StorageType",
    "StrictMode",
    "TooManyJobsError",
    "UnexpectedStatusError",
    "UnprocessableEntityError",
    "__version__",
    "job_metrics",
]

#: The installed distribution's version (pyproject.toml is its one source).
__version__ = _metadata.version("direct-access-toolkit")
