from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Self, TypeVar

from attrs import define as _attrs_define
from attrs import field as _attrs_field

from ..types import UNSET, Unset

T = TypeVar("T", bound="ExecuteTaskSyncResponseClearTextSolutionSignature")


@_attrs_define
class ExecuteTaskSyncResponseClearTextSolutionSignature:
    """Signature details of the execution."""

    v: int | Unset = UNSET
    """ The recovery id of the signature. """
    r: str | Unset = UNSET
    """ The 'r' value of the signature. """
    s: str | Unset = UNSET
    """ The 's' value of the signature. """
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        v = self.v

        r = self.r

        s = self.s

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update({})
        if v is not UNSET:
            field_dict["v"] = v
        if r is not UNSET:
            field_dict["r"] = r
        if s is not UNSET:
            field_dict["s"] = s

        return field_dict

    @classmethod
    def from_dict(cls, src_dict: Mapping[str, Any]) -> Self:
        d = dict(src_dict)
        v = d.pop("v", UNSET)

        r = d.pop("r", UNSET)

        s = d.pop("s", UNSET)

        execute_task_sync_response_clear_text_solution_signature = cls(
            v=v,
            r=r,
            s=s,
        )

        execute_task_sync_response_clear_text_solution_signature.additional_properties = d
        return execute_task_sync_response_clear_text_solution_signature

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
