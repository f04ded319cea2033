"""Python client for the IBM Quantum Direct Access API, built on the generated `direct_access_api`.

The contract it follows is `openapi.yaml`, shipped inside this package (see `direct_access.spec`).
"""

from __future__ import annotations

__all__ = ["__version__"]

__version__ = "0.1.0"
