from http import HTTPStatus
from typing import Any

import httpx

from ... import errors
from ...client import AuthenticatedClient, Client
from ...models.backend_list import BackendList
from ...models.error_response import ErrorResponse
from ...types import UNSET, Response, Unset


def _get_kwargs(
    *,
    ibm_api_version: str | Unset = UNSET,
) -> dict[str, Any]:
    headers: dict[str, Any] = {}
    if not isinstance(ibm_api_version, Unset):
        headers["IBM-API-Version"] = ibm_api_version

    _kwargs: dict[str, Any] = {
        "method": "get",
        "url": "/v1/backends",
    }

    _kwargs["headers"] = headers
    return _kwargs


def _parse_response(
    *, client: AuthenticatedClient | Client, response: httpx.Response
) -> BackendList | ErrorResponse | None:
    if response.status_code == 200:
        response_200 = BackendList.from_dict(response.json())

        return response_200

    if response.status_code == 401:
        response_401 = ErrorResponse.from_dict(response.json())

        return response_401

    if client.raise_on_unexpected_status:
        raise errors.UnexpectedStatus(response.status_code, response.content)
    else:
        return None


def _build_response(
    *, client: AuthenticatedClient | Client, response: httpx.Response
) -> Response[BackendList | ErrorResponse]:
    return Response(
        status_code=HTTPStatus(response.status_code),
        content=response.content,
        headers=response.headers,
        parsed=_parse_response(client=client, response=response),
    )


def sync_detailed(
    *,
    client: AuthenticatedClient | Client,
    ibm_api_version: str | Unset = UNSET,
) -> Response[BackendList | ErrorResponse]:
    """List backends

     The backends this instance can use. Source: docs/api-notes.md (IBM's REST API reference, qrmi).

    Args:
        ibm_api_version (str | Unset):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[BackendList | ErrorResponse]
    """

    kwargs = _get_kwargs(
        ibm_api_version=ibm_api_version,
    )

    response = client.get_httpx_client().request(
        **kwargs,
    )

    return _build_response(client=client, response=response)


def sync(
    *,
    client: AuthenticatedClient | Client,
    ibm_api_version: str | Unset = UNSET,
) -> BackendList | ErrorResponse | None:
    """List backends

     The backends this instance can use. Source: docs/api-notes.md (IBM's REST API reference, qrmi).

    Args:
        ibm_api_version (str | Unset):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        BackendList | ErrorResponse
    """

    return sync_detailed(
        client=client,
        ibm_api_version=ibm_api_version,
    ).parsed


async def asyncio_detailed(
    *,
    client: AuthenticatedClient | Client,
    ibm_api_version: str | Unset = UNSET,
) -> Response[BackendList | ErrorResponse]:
    """List backends

     The backends this instance can use. Source: docs/api-notes.md (IBM's REST API reference, qrmi).

    Args:
        ibm_api_version (str | Unset):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[BackendList | ErrorResponse]
    """

    kwargs = _get_kwargs(
        ibm_api_version=ibm_api_version,
    )

    response = await client.get_async_httpx_client().request(**kwargs)

    return _build_response(client=client, response=response)


async def asyncio(
    *,
    client: AuthenticatedClient | Client,
    ibm_api_version: str | Unset = UNSET,
) -> BackendList | ErrorResponse | None:
    """List backends

     The backends this instance can use. Source: docs/api-notes.md (IBM's REST API reference, qrmi).

    Args:
        ibm_api_version (str | Unset):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        BackendList | ErrorResponse
    """

    return (
        await asyncio_detailed(
            client=client,
            ibm_api_version=ibm_api_version,
        )
    ).parsed
