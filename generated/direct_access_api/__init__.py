"""A client library for accessing IBM Quantum Direct Access API"""

from .client import AuthenticatedClient, Client

__all__ = (
    "AuthenticatedClient",
    "Client",
)
