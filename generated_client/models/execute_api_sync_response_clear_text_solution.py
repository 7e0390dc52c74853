from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, Self, TypeVar

from attrs import define as _attrs_define
from attrs import field as _attrs_field

from ..models.execute_api_sync_response_clear_text_solution_status import (
    ExecuteApiSyncResponseClearTextSolutionStatus,
)
from ..types import UNSET, Unset

if TYPE_CHECKING:
    from ..models.execute_api_sync_response_clear_text_solution_output import (
        ExecuteApiSyncResponseClearTextSolutionOutput,
    )


T = TypeVar("T", bound="ExecuteApiSyncResponseClearTextSolution")


@_attrs_define
class ExecuteApiSyncResponseClearTextSolution:
    """The result of the API task execution."""

    output: ExecuteApiSyncResponseClearTextSolutionOutput | Unset = UNSET
    """ The output of the task execution, containing task-specific details. """
    status: ExecuteApiSyncResponseClearTextSolutionStatus | Unset = UNSET
    """ Status of the execution within the solution. """
    sender_address: str | Unset = UNSET
    """ The address of the sender who executed the task. """
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        output: dict[str, Any] | Unset = UNSET
        if not isinstance(self.output, Unset):
            output = self.output.to_dict()

        status: str | Unset = UNSET
        if not isinstance(self.status, Unset):
            status = self.status.value

        sender_address = self.sender_address

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update({})
        if output is not UNSET:
            field_dict["output"] = output
        if status is not UNSET:
            field_dict["status"] = status
        if sender_address is not UNSET:
            field_dict["senderAddress"] = sender_address

        return field_dict

    @classmethod
    def from_dict(cls, src_dict: Mapping[str, Any]) -> Self:
        from ..models.execute_api_sync_response_clear_text_solution_output import (
            ExecuteApiSyncResponseClearTextSolutionOutput,
        )

        d = dict(src_dict)
        _output = d.pop("output", UNSET)
        output: ExecuteApiSyncResponseClearTextSolutionOutput | Unset
        if isinstance(_output, Unset):
            output = UNSET
        else:
            output = ExecuteApiSyncResponseClearTextSolutionOutput.from_dict(_output)

        _status = d.pop("status", UNSET)
        status: ExecuteApiSyncResponseClearTextSolutionStatus | Unset
        if isinstance(_status, Unset):
            status = UNSET
        else:
            status = ExecuteApiSyncResponseClearTextSolutionStatus(_status)

        sender_address = d.pop("senderAddress", UNSET)

        execute_api_sync_response_clear_text_solution = cls(
            output=output,
            status=status,
            sender_address=sender_address,
        )

        execute_api_sync_response_clear_text_solution.additional_properties = d
        return execute_api_sync_response_clear_text_solution

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
