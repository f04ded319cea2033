from http import HTTPStatus
from typing import Any, cast

import httpx

from ... import errors
from ...client import AuthenticatedClient, Client
from ...models.create_job_request import CreateJobRequest
from ...models.error_response import ErrorResponse
from ...types import UNSET, Response, Unset


def _get_kwargs(
    *,
    body: CreateJobRequest,
    ibm_api_version: str | Unset = UNSET,
) -> dict[str, Any]:
    headers: dict[str, Any] = {}
    if not isinstance(ibm_api_version, Unset):
        headers["IBM-API-Version"] = ibm_api_version

    _kwargs: dict[str, Any] = {
        "method": "post",
        "url": "/v1/jobs",
    }

    _kwargs["json"] = body.to_dict()

    headers["Content-Type"] = "application/json"

    _kwargs["headers"] = headers
    return _kwargs


def _parse_response(
    *, client: AuthenticatedClient | Client, response: httpx.Response
) -> Any | ErrorResponse | None:
    if response.status_code == 204:
        response_204 = cast(Any, None)
        return response_204

    if response.status_code == 400:
        response_400 = ErrorResponse.from_dict(response.json())

        return response_400

    if response.status_code == 401:
        response_401 = ErrorResponse.from_dict(response.json())

        return response_401

    if response.status_code == 404:
        response_404 = ErrorResponse.from_dict(response.json())

        return response_404

    if response.status_code == 408:
        response_408 = ErrorResponse.from_dict(response.json())

        return response_408

    if response.status_code == 409:
        response_409 = ErrorResponse.from_dict(response.json())

        return response_409

    if response.status_code == 413:
        response_413 = ErrorResponse.from_dict(response.json())

        return response_413

    if response.status_code == 422:
        response_422 = ErrorResponse.from_dict(response.json())

        return response_422

    if response.status_code == 423:
        response_423 = ErrorResponse.from_dict(response.json())

        return response_423

    if response.status_code == 429:
        response_429 = ErrorResponse.from_dict(response.json())

        return response_429

    if client.raise_on_unexpected_status:
        raise errors.UnexpectedStatus(response.status_code, response.content)
    else:
        return None


def _build_response(
    *, client: AuthenticatedClient | Client, response: httpx.Response
) -> Response[Any | ErrorResponse]:
    return Response(
        status_code=HTTPStatus(response.status_code),
        content=response.content,
        headers=response.headers,
        parsed=_parse_response(client=client, response=response),
    )


def sync_detailed(
    *,
    client: AuthenticatedClient | Client,
    body: CreateJobRequest,
    ibm_api_version: str | Unset = UNSET,
) -> Response[Any | ErrorResponse]:
    """Run a job

     Invoke a Qiskit Runtime primitive.

    Validation failures: the reference lists both 400 and 422. IBM's simulators answered 400
    for every validation failure; either is a documented answer.

    Args:
        ibm_api_version (str | Unset):
        body (CreateJobRequest): The body of Run a job. The reference gives only a table (id,
            program_id, backend,
            log_level, storage, timeout_secs) and no schema, so this schema is ours. It holds every
            rule a server enforces, so that what it accepts a server can run; each rule says where it
            comes from.

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[Any | ErrorResponse]
    """

    kwargs = _get_kwargs(
        body=body,
        ibm_api_version=ibm_api_version,
    )

    response = client.get_httpx_client().request(
        **kwargs,
    )

    return _build_response(client=client, response=response)


def sync(
    *,
    client: AuthenticatedClient | Client,
    body: CreateJobRequest,
    ibm_api_version: str | Unset = UNSET,
) -> Any | ErrorResponse | None:
    """Run a job

     Invoke a Qiskit Runtime primitive.

    Validation failures: the reference lists both 400 and 422. IBM's simulators answered 400
    for every validation failure; either is a documented answer.

    Args:
        ibm_api_version (str | Unset):
        body (CreateJobRequest): The body of Run a job. The reference gives only a table (id,
            program_id, backend,
            log_level, storage, timeout_secs) and no schema, so this schema is ours. It holds every
            rule a server enforces, so that what it accepts a server can run; each rule says where it
            comes from.

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Any | ErrorResponse
    """

    return sync_detailed(
        client=client,
        body=body,
        ibm_api_version=ibm_api_version,
    ).parsed


async def asyncio_detailed(
    *,
    client: AuthenticatedClient | Client,
    body: CreateJobRequest,
    ibm_api_version: str | Unset = UNSET,
) -> Response[Any | ErrorResponse]:
    """Run a job

     Invoke a Qiskit Runtime primitive.

    Validation failures: the reference lists both 400 and 422. IBM's simulators answered 400
    for every validation failure; either is a documented answer.

    Args:
        ibm_api_version (str | Unset):
        body (CreateJobRequest): The body of Run a job. The reference gives only a table (id,
            program_id, backend,
            log_level, storage, timeout_secs) and no schema, so this schema is ours. It holds every
            rule a server enforces, so that what it accepts a server can run; each rule says where it
            comes from.

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[Any | ErrorResponse]
    """

    kwargs = _get_kwargs(
        body=body,
        ibm_api_version=ibm_api_version,
    )

    response = await client.get_async_httpx_client().request(**kwargs)

    return _build_response(client=client, response=response)


async def asyncio(
    *,
    client: AuthenticatedClient | Client,
    body: CreateJobRequest,
    ibm_api_version: str | Unset = UNSET,
) -> Any | ErrorResponse | None:
    """Run a job

     Invoke a Qiskit Runtime primitive.

    Validation failures: the reference lists both 400 and 422. IBM's simulators answered 400
    for every validation failure; either is a documented answer.

    Args:
        ibm_api_version (str | Unset):
        body (CreateJobRequest): The body of Run a job. The reference gives only a table (id,
            program_id, backend,
            log_level, storage, timeout_secs) and no schema, so this schema is ours. It holds every
            rule a server enforces, so that what it accepts a server can run; each rule says where it
            comes from.

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Any | ErrorResponse
    """

    return (
        await asyncio_detailed(
            client=client,
            body=body,
            ibm_api_version=ibm_api_version,
        )
    ).parsed
