"""Where the service is and who the caller is: `Settings`, from arguments or the environment."""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from dataclasses import dataclass, field

from direct_access._errors import ConfigurationError
from direct_access_spec import CLIENT_VARIABLES, DEFAULT_IAM_URL

__all__ = ["ENVIRONMENT_VARIABLES", "Settings"]

_ACRONYM = re.compile(r"[A-Za-z0-9][A-Za-z0-9-]*")
_ACRONYM_URL = "https://direct-access-{acronym}.quantum-computing.cloud.ibm.com:30060"

#: The variables `Settings.from_env` reads, with what each one is (from `direct_access_spec`).
ENVIRONMENT_VARIABLES: dict[str, str] = {v.name: v.describe() for v in CLIENT_VARIABLES}


def _base_url(value: str, variable: str) -> str:
    value = value.strip()
    if "://" in value:
        if not value.startswith(("http://", "https://")):
            raise ConfigurationError(f"{variable} must be an http(s) URL or a client acronym")
        return value.rstrip("/")
    if not _ACRONYM.fullmatch(value):
        raise ConfigurationError(
            f"{variable} is neither a URL nor a client acronym (letters, digits and '-')"
        )
    return _ACRONYM_URL.format(acronym=value.lower())


@dataclass(frozen=True)
class Settings:
    """How to reach the service and authenticate. The repr hides the API key and the token.

    Exactly one of ``api_key`` (exchanged for IAM tokens at ``iam_url``) and ``token`` (a bearer
    token used as is) must be given. ``url`` may be a client acronym, which stands for
    ``https://direct-access-{acronym}.quantum-computing.cloud.ibm.com:30060``.
    """

    url: str
    service_crn: str
    api_key: str | None = field(default=None, repr=False)
    token: str | None = field(default=None, repr=False)
    iam_url: str = DEFAULT_IAM_URL
    api_version: str | None = None
    backend: str | None = None

    def __post_init__(self) -> None:
        if not self.url.strip():
            raise ConfigurationError(
                "url (DIRECT_ACCESS_URL) is not set: the API's base URL or your client acronym"
            )
        object.__setattr__(self, "url", _base_url(self.url, "url (DIRECT_ACCESS_URL)"))
        if not self.service_crn:
            raise ConfigurationError(
                "service_crn (DIRECT_ACCESS_SERVICE_CRN) is required: the CRN of your instance"
            )
        if self.api_key and self.token:
            raise ConfigurationError(
                "give either api_key (DIRECT_ACCESS_API_KEY) or token (DIRECT_ACCESS_TOKEN), "
                "not both"
            )
        if not self.api_key and not self.token:
            raise ConfigurationError(
                "credentials missing: set api_key (DIRECT_ACCESS_API_KEY) or token "
                "(DIRECT_ACCESS_TOKEN)"
            )
        if not self.iam_url.startswith(("http://", "https://")):
            raise ConfigurationError("iam_url (DIRECT_ACCESS_IAM_URL) must be an http(s) URL")
        object.__setattr__(self, "iam_url", self.iam_url.rstrip("/"))

    def __repr__(self) -> str:
        secret = "api_key=***" if self.api_key else "token=***"
        return (
            f"Settings(url={self.url!r}, service_crn={self.service_crn!r}, {secret}, "
            f"iam_url={self.iam_url!r}, api_version={self.api_version!r}, "
            f"backend={self.backend!r})"
        )

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> Settings:
        """Read the ``DIRECT_ACCESS_*`` variables (see `ENVIRONMENT_VARIABLES`)."""
        env = os.environ if environ is None else environ
        values = {v.field: v.read(env) for v in CLIENT_VARIABLES}
        # __post_init__ checks the values; its messages name the variables.
        return cls(
            url=values["url"] or "",
            service_crn=values["service_crn"] or "",
            api_key=values["api_key"],
            token=values["token"],
            iam_url=values["iam_url"] or DEFAULT_IAM_URL,
            api_version=values["api_version"],
            backend=values["backend"],
        )
