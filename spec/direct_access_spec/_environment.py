"""The ``DIRECT_ACCESS_*`` variables: one table of names, meanings and defaults.

The client's `Settings` and `S3Storage` read them, the CLI's help lists them, the emulator prints
them for its clients and the contract suite's deployment target reads them, all from this table.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

__all__ = [
    "CLIENT_VARIABLES",
    "DEFAULT_IAM_URL",
    "DEFAULT_S3_REGION",
    "STORAGE_VARIABLES",
    "VARIABLES",
    "Variable",
    "client_environment",
    "storage_environment",
]

DEFAULT_IAM_URL = "https://iam.cloud.ibm.com"
#: boto3 and S3-compatible stores (SeaweedFS, MinIO, IBM COS with path-style URLs) accept it as
#: the signing region when the store has no regions of its own.
DEFAULT_S3_REGION = "us-east-1"

_PREFIX = "DIRECT_ACCESS_"
_STORAGE_PREFIX = "DIRECT_ACCESS_S3_"


@dataclass(frozen=True)
class Variable:
    """One environment variable: its name, what it holds, its default (``None``: none)."""

    name: str
    meaning: str
    default: str | None = None
    secret: bool = False

    @property
    def field(self) -> str:
        """The name of the setting it fills: ``DIRECT_ACCESS_S3_BUCKET`` fills ``bucket``."""
        return self.name.removeprefix(_STORAGE_PREFIX).removeprefix(_PREFIX).lower()

    def read(self, environ: Mapping[str, str]) -> str | None:
        """Its value in ``environ``, blanks stripped; the default when unset or blank."""
        value = environ.get(self.name, "").strip()
        return value or self.default

    def describe(self) -> str:
        """What it holds and its default, as help texts print it: ``meaning (default X)``."""
        default = f" (default {self.default})" if self.default else ""
        return f"{self.meaning}{default}"


#: What a client needs to reach the service.
CLIENT_VARIABLES = (
    Variable("DIRECT_ACCESS_URL", "base URL of the API, or the client acronym IBM assigned"),
    Variable(
        "DIRECT_ACCESS_IAM_URL", "IBM Cloud IAM, where API keys become tokens", DEFAULT_IAM_URL
    ),
    Variable("DIRECT_ACCESS_API_KEY", "IBM Cloud API key, exchanged for IAM tokens", secret=True),
    Variable(
        "DIRECT_ACCESS_TOKEN", "a bearer token to use as is (instead of an API key)", secret=True
    ),
    Variable("DIRECT_ACCESS_SERVICE_CRN", "CRN of the Direct Access service instance"),
    Variable("DIRECT_ACCESS_API_VERSION", "IBM-API-Version header (optional, e.g. 2025-08-15)"),
    Variable("DIRECT_ACCESS_BACKEND", "default backend for commands that need one (optional)"),
)
#: The S3-compatible store that holds jobs' input and results.
STORAGE_VARIABLES = (
    Variable("DIRECT_ACCESS_S3_ENDPOINT", "URL of the S3-compatible store for job data"),
    Variable("DIRECT_ACCESS_S3_BUCKET", "bucket that holds job input and results"),
    Variable("DIRECT_ACCESS_S3_REGION", "signing region of the store", DEFAULT_S3_REGION),
    Variable("DIRECT_ACCESS_S3_ACCESS_KEY_ID", "HMAC access key id for the store"),
    Variable("DIRECT_ACCESS_S3_SECRET_ACCESS_KEY", "HMAC secret access key", secret=True),
)
#: Every variable, the client's first.
VARIABLES = CLIENT_VARIABLES + STORAGE_VARIABLES


def _environment(table: tuple[Variable, ...], values: Mapping[str, str]) -> dict[str, str]:
    by_field = {v.field: v for v in table}
    unknown = sorted(set(values) - set(by_field))
    if unknown:
        raise TypeError(f"no DIRECT_ACCESS_* variable for {unknown}")
    return {v.name: values[v.field] for v in table if v.field in values}


def client_environment(**values: str) -> dict[str, str]:
    """The client's variables for these settings: ``url=...`` gives ``DIRECT_ACCESS_URL``."""
    return _environment(CLIENT_VARIABLES, values)


def storage_environment(**values: str) -> dict[str, str]:
    """The storage variables: ``bucket=...`` gives ``DIRECT_ACCESS_S3_BUCKET``."""
    return _environment(STORAGE_VARIABLES, values)
