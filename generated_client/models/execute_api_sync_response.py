from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, Self, TypeVar

from attrs import define as _attrs_define
from attrs import field as _attrs_field

from ..models.execute_api_sync_response_status import ExecuteApiSyncResponseStatus
from ..types import UNSET, Unset

if TYPE_CHECKING:
    from ..models.execute_api_sync_response_clear_text_solution import (
        ExecuteApiSyncResponseClearTextSolution,
    )
    from ..models.execute_api_sync_response_total_transferred_bytes import (
        ExecuteApiSyncResponseTotalTransferredBytes,
    )


T = TypeVar("T", bound="ExecuteApiSyncResponse")


@_attrs_define
class ExecuteApiSyncResponse:
    """Successful execution of the API task."""

    execution_id: str | Unset = UNSET
    """ The ID of the executed task. """
    clear_text_solution: ExecuteApiSyncResponseClearTextSolution | Unset = UNSET
    """ The result of the API task execution. """
    status: ExecuteApiSyncResponseStatus | Unset = UNSET
    """ Status of the execution. """
    total_transferred_bytes: ExecuteApiSyncResponseTotalTransferredBytes | Unset = UNSET
    """ Total bytes transferred during the request and response. """
    error_msg: str | Unset = UNSET
    """ Error message if execution encountered issues but still returned a result. """
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        execution_id = self.execution_id

        clear_text_solution: dict[str, Any] | Unset = UNSET
        if not isinstance(self.clear_text_solution, Unset):
            clear_text_solution = self.clear_text_solution.to_dict()

        status: str | Unset = UNSET
        if not isinstance(self.status, Unset):
            status = self.status.value

        total_transferred_bytes: dict[str, Any] | Unset = UNSET
        if not isinstance(self.total_transferred_bytes, Unset):
            total_transferred_bytes = self.total_transferred_bytes.to_dict()

        error_msg = self.error_msg

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update({})
        if execution_id is not UNSET:
            field_dict["executionId"] = execution_id
        if clear_text_solution is not UNSET:
            field_dict["clearTextSolution"] = clear_text_solution
        if status is not UNSET:
            field_dict["status"] = status
        if total_transferred_bytes is not UNSET:
            field_dict["totalTransferredBytes"] = total_transferred_bytes
        if error_msg is not UNSET:
            field_dict["errorMsg"] = error_msg

        return field_dict

    @classmethod
    def from_dict(cls, src_dict: Mapping[str, Any]) -> Self:
        from ..models.execute_api_sync_response_clear_text_solution import (
            ExecuteApiSyncResponseClearTextSolution,
        )
        from ..models.execute_api_sync_response_total_transferred_bytes import (
            ExecuteApiSyncResponseTotalTransferredBytes,
        )

        d = dict(src_dict)
        execution_id = d.pop("executionId", UNSET)

        _clear_text_solution = d.pop("clearTextSolution", UNSET)
        clear_text_solution: ExecuteApiSyncResponseClearTextSolution | Unset
        if isinstance(_clear_text_solution, Unset):
            clear_text_solution = UNSET
        else:
            clear_text_solution = ExecuteApiSyncResponseClearTextSolution.from_dict(
                _clear_text_solution
            )

        _status = d.pop("status", UNSET)
        status: ExecuteApiSyncResponseStatus | Unset
        if isinstance(_status, Unset):
            status = UNSET
        else:
            status = ExecuteApiSyncResponseStatus(_status)

        _total_transferred_bytes = d.pop("totalTransferredBytes", UNSET)
        total_transferred_bytes: ExecuteApiSyncResponseTotalTransferredBytes | Unset
        if isinstance(_total_transferred_bytes, Unset):
            total_transferred_bytes = UNSET
        else:
            total_transferred_bytes = (
                ExecuteApiSyncResponseTotalTransferredBytes.from_dict(
                    _total_transferred_bytes
                )
            )

        error_msg = d.pop("errorMsg", UNSET)

        execute_api_sync_response = cls(
            execution_id=execution_id,
            clear_text_solution=clear_text_solution,
            status=status,
            total_transferred_bytes=total_transferred_bytes,
            error_msg=error_msg,
        )

        execute_api_sync_response.additional_properties = d
        return execute_api_sync_response

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
