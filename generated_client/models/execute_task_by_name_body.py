from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Self, TypeVar

from attrs import define as _attrs_define
from attrs import field as _attrs_field

from ..types import UNSET, Unset

T = TypeVar("T", bound="ExecuteTaskByNameBody")


@_attrs_define
class ExecuteTaskByNameBody:
    namespace: str
    """ The namespace of the task. """
    task_name: str
    """ The name of the task to be executed. """
    async_: bool
    """ If true, the endpoint will retrieve the executionId; otherwise, it will try to return the execution result
    only if it completes within 60 seconds. """
    input_: str
    """ Input data required for task execution. """
    total_solutions: int
    """ Total number of solutions required for the task. """
    required_solutions: int
    """ Number of solutions required to complete the task. """
    task_requester_timestamp: int
    """ Task Requester Timestamp. This value is used to calculate the random bits in the node selection Phase. """
    label: str | Unset = UNSET
    """ Label of the task. """
    version: int | Unset = UNSET
    """ Version number of the task. """
    gas_limit: str | Unset = UNSET
    """ Execution step limit. """
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        namespace = self.namespace

        task_name = self.task_name

        async_ = self.async_

        input_ = self.input_

        total_solutions = self.total_solutions

        required_solutions = self.required_solutions

        task_requester_timestamp = self.task_requester_timestamp

        label = self.label

        version = self.version

        gas_limit = self.gas_limit

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update(
            {
                "namespace": namespace,
                "taskName": task_name,
                "async": async_,
                "input": input_,
                "totalSolutions": total_solutions,
                "requiredSolutions": required_solutions,
                "taskRequesterTimestamp": task_requester_timestamp,
            }
        )
        if label is not UNSET:
            field_dict["label"] = label
        if version is not UNSET:
            field_dict["version"] = version
        if gas_limit is not UNSET:
            field_dict["gasLimit"] = gas_limit

        return field_dict

    @classmethod
    def from_dict(cls, src_dict: Mapping[str, Any]) -> Self:
        d = dict(src_dict)
        namespace = d.pop("namespace")

        task_name = d.pop("taskName")

        async_ = d.pop("async")

        input_ = d.pop("input")

        total_solutions = d.pop("totalSolutions")

        required_solutions = d.pop("requiredSolutions")

        task_requester_timestamp = d.pop("taskRequesterTimestamp")

        label = d.pop("label", UNSET)

        version = d.pop("version", UNSET)

        gas_limit = d.pop("gasLimit", UNSET)

        execute_task_by_name_body = cls(
            namespace=namespace,
            task_name=task_name,
            async_=async_,
            input_=input_,
            total_solutions=total_solutions,
            required_solutions=required_solutions,
            task_requester_timestamp=task_requester_timestamp,
            label=label,
            version=version,
            gas_limit=gas_limit,
        )

        execute_task_by_name_body.additional_properties = d
        return execute_task_by_name_body

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
