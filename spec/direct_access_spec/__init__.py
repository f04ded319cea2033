"""The API contract, `openapi.yaml`, and the configuration contract, the ``DIRECT_ACCESS_*``
variables: what the client overlays, the emulator and the contract suite share.

A package of its own rather than a module of the client: the emulator and the contract suite read
the spec without importing the client (its auth, retries, storage and the generated models), so
that a broken client import cannot break the emulator and the emulator starts without loading
them. It depends on pyyaml and jsonschema_rs only.
"""

from __future__ import annotations

from direct_access_spec._document import (
    SPEC_URI,
    escape,
    inline_refs,
    inlined_schema,
    load_spec,
    resolve,
    spec_text,
)
from direct_access_spec._environment import (
    CLIENT_VARIABLES,
    DEFAULT_IAM_URL,
    DEFAULT_S3_REGION,
    STORAGE_VARIABLES,
    VARIABLES,
    Variable,
    client_environment,
    storage_environment,
)
from direct_access_spec._operations import (
    Operation,
    SpecMismatch,
    find_operation,
    operation,
    operations,
)
from direct_access_spec._validation import INTEGER_FORMATS, SpecViolation, violations

__all__ = [
    "CLIENT_VARIABLES",
    "DEFAULT_IAM_URL",
    "DEFAULT_S3_REGION",
    "INTEGER_FORMATS",
    "SPEC_URI",
    "STORAGE_VARIABLES",
    "VARIABLES",
    "Operation",
    "SpecMismatch",
    "SpecViolation",
    "Variable",
    "client_environment",
    "escape",
    "find_operation",
    "inline_refs",
    "inlined_schema",
    "load_spec",
    "operation",
    "operations",
    "resolve",
    "spec_text",
    "storage_environment",
    "violations",
]
