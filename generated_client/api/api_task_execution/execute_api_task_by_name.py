from http import HTTPStatus
from typing import Any

import httpx

from ... import errors
from ...client import AuthenticatedClient, Client
from ...models.bad_request_response import BadRequestResponse
from ...models.blockchain_signed_error import BlockchainSignedError
from ...models.error import Error
from ...models.execute_api_sync_response import ExecuteApiSyncResponse
from ...models.execute_api_task_by_name_body import ExecuteApiTaskByNameBody
from ...models.execute_task_async_response import ExecuteTaskAsyncResponse
from ...types import Response


def _get_kwargs(
    *,
    body: ExecuteApiTaskByNameBody,
    x_api_key: str,
) -> dict[str, Any]:
    headers: dict[str, Any] = {}
    headers["x-api-key"] = x_api_key

    _kwargs: dict[str, Any] = {
        "method": "post",
        "url": "/task/api/execute-by-name",
    }

    _kwargs["json"] = body.to_dict()

    headers["Content-Type"] = "application/json"

    _kwargs["headers"] = headers
    return _kwargs


def _parse_response(
    *, client: AuthenticatedClient | Client, response: httpx.Response
) -> (
    BadRequestResponse
    | BlockchainSignedError
    | Error
    | ExecuteApiSyncResponse
    | ExecuteTaskAsyncResponse
    | None
):
    if response.status_code == 200:

        def _parse_response_200(
            data: object,
        ) -> ExecuteApiSyncResponse | ExecuteTaskAsyncResponse:
            try:
                if not isinstance(data, dict):
                    raise TypeError()
                response_200_type_0 = ExecuteApiSyncResponse.from_dict(data)

                return response_200_type_0
            except (TypeError, ValueError, AttributeError, KeyError):
                pass
            if not isinstance(data, dict):
                raise TypeError()
            response_200_type_1 = ExecuteTaskAsyncResponse.from_dict(data)

            return response_200_type_1

        response_200 = _parse_response_200(response.json())

        return response_200

    if response.status_code == 400:

        def _parse_response_400(
            data: object,
        ) -> BadRequestResponse | BlockchainSignedError:
            try:
                if not isinstance(data, dict):
                    raise TypeError()
                response_400_type_0 = BadRequestResponse.from_dict(data)

                return response_400_type_0
            except (TypeError, ValueError, AttributeError, KeyError):
                pass
            if not isinstance(data, dict):
                raise TypeError()
            response_400_type_1 = BlockchainSignedError.from_dict(data)

            return response_400_type_1

        response_400 = _parse_response_400(response.json())

        return response_400

    if response.status_code == 401:
        response_401 = Error.from_dict(response.json())

        return response_401

    if response.status_code == 402:
        response_402 = Error.from_dict(response.json())

        return response_402

    if response.status_code == 500:
        response_500 = Error.from_dict(response.json())

        return response_500

    if client.raise_on_unexpected_status:
        raise errors.UnexpectedStatus(response.status_code, response.content)
    else:
        return None


def _build_response(
    *, client: AuthenticatedClient | Client, response: httpx.Response
) -> Response[
    BadRequestResponse
    | BlockchainSignedError
    | Error
    | ExecuteApiSyncResponse
    | ExecuteTaskAsyncResponse
]:
    return Response(
        # A proxy's non-standard code (499, 520, 599) is kept as an int instead of raising ValueError.
        status_code=HTTPStatus(response.status_code)
        if response.status_code in HTTPStatus._value2member_map_
        else response.status_code,  # type: ignore[arg-type]
        content=response.content,
        headers=response.headers,
        parsed=_parse_response(client=client, response=response),
    )


def sync_detailed(
    *,
    client: AuthenticatedClient | Client,
    body: ExecuteApiTaskByNameBody,
    x_api_key: str,
) -> Response[
    BadRequestResponse
    | BlockchainSignedError
    | Error
    | ExecuteApiSyncResponse
    | ExecuteTaskAsyncResponse
]:
    """Execute an API Task by task name

     Execute an API Task using the provided task name. Supports both synchronous and asynchronous
    execution.

    Args:
        x_api_key (str):
        body (ExecuteApiTaskByNameBody):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[BadRequestResponse | BlockchainSignedError | Error | ExecuteApiSyncResponse | ExecuteTaskAsyncResponse]
    """

    kwargs = _get_kwargs(
        body=body,
        x_api_key=x_api_key,
    )

    response = client.get_httpx_client().request(
        **kwargs,
    )

    return _build_response(client=client, response=response)


def sync(
    *,
    client: AuthenticatedClient | Client,
    body: ExecuteApiTaskByNameBody,
    x_api_key: str,
) -> (
    BadRequestResponse
    | BlockchainSignedError
    | Error
    | ExecuteApiSyncResponse
    | ExecuteTaskAsyncResponse
    | None
):
    """Execute an API Task by task name

     Execute an API Task using the provided task name. Supports both synchronous and asynchronous
    execution.

    Args:
        x_api_key (str):
        body (ExecuteApiTaskByNameBody):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        BadRequestResponse | BlockchainSignedError | Error | ExecuteApiSyncResponse | ExecuteTaskAsyncResponse
    """

    return sync_detailed(
        client=client,
        body=body,
        x_api_key=x_api_key,
    ).parsed


async def asyncio_detailed(
    *,
    client: AuthenticatedClient | Client,
    body: ExecuteApiTaskByNameBody,
    x_api_key: str,
) -> Response[
    BadRequestResponse
    | BlockchainSignedError
    | Error
    | ExecuteApiSyncResponse
    | ExecuteTaskAsyncResponse
]:
    """Execute an API Task by task name

     Execute an API Task using the provided task name. Supports both synchronous and asynchronous
    execution.

    Args:
        x_api_key (str):
        body (ExecuteApiTaskByNameBody):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[BadRequestResponse | BlockchainSignedError | Error | ExecuteApiSyncResponse | ExecuteTaskAsyncResponse]
    """

    kwargs = _get_kwargs(
        body=body,
        x_api_key=x_api_key,
    )

    response = await client.get_async_httpx_client().request(**kwargs)

    return _build_response(client=client, response=response)


async def asyncio(
    *,
    client: AuthenticatedClient | Client,
    body: ExecuteApiTaskByNameBody,
    x_api_key: str,
) -> (
    BadRequestResponse
    | BlockchainSignedError
    | Error
    | ExecuteApiSyncResponse
    | ExecuteTaskAsyncResponse
    | None
):
    """Execute an API Task by task name

     Execute an API Task using the provided task name. Supports both synchronous and asynchronous
    execution.

    Args:
        x_api_key (str):
        body (ExecuteApiTaskByNameBody):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        BadRequestResponse | BlockchainSignedError | Error | ExecuteApiSyncResponse | ExecuteTaskAsyncResponse
    """

    return (
        await asyncio_detailed(
            client=client,
            body=body,
            x_api_key=x_api_key,
        )
    ).parsed
