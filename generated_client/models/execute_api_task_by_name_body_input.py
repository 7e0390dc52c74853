from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, Self, TypeVar

from attrs import define as _attrs_define
from attrs import field as _attrs_field

from ..types import UNSET, Unset

if TYPE_CHECKING:
    from ..models.execute_api_task_by_name_body_input_headers import (
        ExecuteApiTaskByNameBodyInputHeaders,
    )
    from ..models.execute_api_task_by_name_body_input_params import (
        ExecuteApiTaskByNameBodyInputParams,
    )


T = TypeVar("T", bound="ExecuteApiTaskByNameBodyInput")


@_attrs_define
class ExecuteApiTaskByNameBodyInput:
    """Input data required for task execution: which call of the task's manifest to make."""

    path: str
    """ A path template of the task's manifest, e.g. /store/order/{orderId}. """
    method: str
    """ The HTTP method declared for that path in the manifest. """
    params: ExecuteApiTaskByNameBodyInputParams | Unset = UNSET
    """ Values for the path and query parameters the manifest declares. """
    body: Any | Unset = UNSET
    """ The request body for POST/PUT calls, validated against the manifest's requestBody. """
    headers: ExecuteApiTaskByNameBodyInputHeaders | Unset = UNSET
    """ Headers injected into the outgoing call to the target API. """
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        path = self.path

        method = self.method

        params: dict[str, Any] | Unset = UNSET
        if not isinstance(self.params, Unset):
            params = self.params.to_dict()

        body = self.body

        headers: dict[str, Any] | Unset = UNSET
        if not isinstance(self.headers, Unset):
            headers = self.headers.to_dict()

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update(
            {
                "path": path,
                "method": method,
            }
        )
        if params is not UNSET:
            field_dict["params"] = params
        if body is not UNSET:
            field_dict["body"] = body
        if headers is not UNSET:
            field_dict["headers"] = headers

        return field_dict

    @classmethod
    def from_dict(cls, src_dict: Mapping[str, Any]) -> Self:
        from ..models.execute_api_task_by_name_body_input_headers import (
            ExecuteApiTaskByNameBodyInputHeaders,
        )
        from ..models.execute_api_task_by_name_body_input_params import (
            ExecuteApiTaskByNameBodyInputParams,
        )

        d = dict(src_dict)
        path = d.pop("path")

        method = d.pop("method")

        _params = d.pop("params", UNSET)
        params: ExecuteApiTaskByNameBodyInputParams | Unset
        if isinstance(_params, Unset):
            params = UNSET
        else:
            params = ExecuteApiTaskByNameBodyInputParams.from_dict(_params)

        body = d.pop("body", UNSET)

        _headers = d.pop("headers", UNSET)
        headers: ExecuteApiTaskByNameBodyInputHeaders | Unset
        if isinstance(_headers, Unset):
            headers = UNSET
        else:
            headers = ExecuteApiTaskByNameBodyInputHeaders.from_dict(_headers)

        execute_api_task_by_name_body_input = cls(
            path=path,
            method=method,
            params=params,
            body=body,
            headers=headers,
        )

        execute_api_task_by_name_body_input.additional_properties = d
        return execute_api_task_by_name_body_input

    @property
    def additional_keys(self) -> list[str]:
        return list(self.additional_properties.keys())

    def __getitem__(self, key: str) -> Any:
        return self.additional_properties[key]

    def __setitem__(self, key: str, value: Any) -> None:
        self.additional_properties[key] = value

    def __delitem__(self, key: str) -> None:
        del self.additional_properties[key]

    def __contains__(self, key: str) -> bool:
        return key in self.additional_properties
