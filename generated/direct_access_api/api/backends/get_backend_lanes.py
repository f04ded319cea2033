from http import HTTPStatus
from typing import Any
from urllib.parse import quote

import httpx

from ... import errors
from ...client import AuthenticatedClient, Client
from ...models.backend_lanes import BackendLanes
from ...models.error_response import ErrorResponse
from ...types import UNSET, Response, Unset


def _get_kwargs(
    backend_name: str,
    *,
    ibm_api_version: str | Unset = UNSET,
) -> dict[str, Any]:
    headers: dict[str, Any] = {}
    if not isinstance(ibm_api_version, Unset):
        headers["IBM-API-Version"] = ibm_api_version

    _kwargs: dict[str, Any] = {
        "method": "get",
        "url": "/v1/backends/{backend_name}/lanes".format(
            backend_name=quote(str(backend_name), safe=""),
        ),
    }

    _kwargs["headers"] = headers
    return _kwargs


def _parse_response(
    *, client: AuthenticatedClient | Client, response: httpx.Response
) -> BackendLanes | ErrorResponse | None:
    if response.status_code == 200:
        response_200 = BackendLanes.from_dict(response.json())

        return response_200

    if response.status_code == 401:
        response_401 = ErrorResponse.from_dict(response.json())

        return response_401

    if response.status_code == 404:
        response_404 = ErrorResponse.from_dict(response.json())

        return response_404

    if client.raise_on_unexpected_status:
        raise errors.UnexpectedStatus(response.status_code, response.content)
    else:
        return None


def _build_response(
    *, client: AuthenticatedClient | Client, response: httpx.Response
) -> Response[BackendLanes | ErrorResponse]:
    return Response(
        status_code=HTTPStatus(response.status_code),
        content=response.content,
        headers=response.headers,
        parsed=_parse_response(client=client, response=response),
    )


def sync_detailed(
    backend_name: str,
    *,
    client: AuthenticatedClient | Client,
    ibm_api_version: str | Unset = UNSET,
) -> Response[BackendLanes | ErrorResponse]:
    """Get a backend's execution lanes

     How many jobs may run at once on the backend: the lanes configured for the caller's HPC
    workload manager and for the compute side. Source: docs/api-notes.md (newer IBM clients).

    Args:
        backend_name (str):
        ibm_api_version (str | Unset):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[BackendLanes | ErrorResponse]
    """

    kwargs = _get_kwargs(
        backend_name=backend_name,
        ibm_api_version=ibm_api_version,
    )

    response = client.get_httpx_client().request(
        **kwargs,
    )

    return _build_response(client=client, response=response)


def sync(
    backend_name: str,
    *,
    client: AuthenticatedClient | Client,
    ibm_api_version: str | Unset = UNSET,
) -> BackendLanes | ErrorResponse | None:
    """Get a backend's execution lanes

     How many jobs may run at once on the backend: the lanes configured for the caller's HPC
    workload manager and for the compute side. Source: docs/api-notes.md (newer IBM clients).

    Args:
        backend_name (str):
        ibm_api_version (str | Unset):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        BackendLanes | ErrorResponse
    """

    return sync_detailed(
        backend_name=backend_name,
        client=client,
        ibm_api_version=ibm_api_version,
    ).parsed


async def asyncio_detailed(
    backend_name: str,
    *,
    client: AuthenticatedClient | Client,
    ibm_api_version: str | Unset = UNSET,
) -> Response[BackendLanes | ErrorResponse]:
    """Get a backend's execution lanes

     How many jobs may run at once on the backend: the lanes configured for the caller's HPC
    workload manager and for the compute side. Source: docs/api-notes.md (newer IBM clients).

    Args:
        backend_name (str):
        ibm_api_version (str | Unset):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[BackendLanes | ErrorResponse]
    """

    kwargs = _get_kwargs(
        backend_name=backend_name,
        ibm_api_version=ibm_api_version,
    )

    response = await client.get_async_httpx_client().request(**kwargs)

    return _build_response(client=client, response=response)


async def asyncio(
    backend_name: str,
    *,
    client: AuthenticatedClient | Client,
    ibm_api_version: str | Unset = UNSET,
) -> BackendLanes | ErrorResponse | None:
    """Get a backend's execution lanes

     How many jobs may run at once on the backend: the lanes configured for the caller's HPC
    workload manager and for the compute side. Source: docs/api-notes.md (newer IBM clients).

    Args:
        backend_name (str):
        ibm_api_version (str | Unset):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        BackendLanes | ErrorResponse
    """

    return (
        await asyncio_detailed(
            backend_name=backend_name,
            client=client,
            ibm_api_version=ibm_api_version,
        )
    ).parsed
