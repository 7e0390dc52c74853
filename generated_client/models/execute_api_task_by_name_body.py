from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, Self, TypeVar

from attrs import define as _attrs_define
from attrs import field as _attrs_field

from ..types import UNSET, Unset

if TYPE_CHECKING:
    from ..models.execute_api_task_by_name_body_input import (
        ExecuteApiTaskByNameBodyInput,
    )


T = TypeVar("T", bound="ExecuteApiTaskByNameBody")


@_attrs_define
class ExecuteApiTaskByNameBody:
    namespace: str
    """ The namespace of the task. """
    task_name: str
    """ The name of the task to be executed. """
    async_: bool
    """ If true, the endpoint will retrieve the executionId; otherwise, it will try to return the execution result
    only if it completes within 60 seconds. """
    input_: ExecuteApiTaskByNameBodyInput
    """ Input data required for task execution: which call of the task's manifest to make. """
    execution_timeout: int
    """ Timeout for the call to the target API, in milliseconds (the published page says seconds; the evidence says
    milliseconds). """
    label: str | Unset = UNSET
    """ Label of the task. """
    version: int | Unset = UNSET
    """ Version number of the task. """
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        namespace = self.namespace

        task_name = self.task_name

        async_ = self.async_

        input_ = self.input_.to_dict()

        execution_timeout = self.execution_timeout

        label = self.label

        version = self.version

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update(
            {
                "namespace": namespace,
                "taskName": task_name,
                "async": async_,
                "input": input_,
                "executionTimeout": execution_timeout,
            }
        )
        if label is not UNSET:
            field_dict["label"] = label
        if version is not UNSET:
            field_dict["version"] = version

        return field_dict

    @classmethod
    def from_dict(cls, src_dict: Mapping[str, Any]) -> Self:
        from ..models.execute_api_task_by_name_body_input import (
            ExecuteApiTaskByNameBodyInput,
        )

        d = dict(src_dict)
        namespace = d.pop("namespace")

        task_name = d.pop("taskName")

        async_ = d.pop("async")

        input_ = ExecuteApiTaskByNameBodyInput.from_dict(d.pop("input"))

        execution_timeout = d.pop("executionTimeout")

        label = d.pop("label", UNSET)

        version = d.pop("version", UNSET)

        execute_api_task_by_name_body = cls(
            namespace=namespace,
            task_name=task_name,
            async_=async_,
            input_=input_,
            execution_timeout=execution_timeout,
            label=label,
            version=version,
        )

        execute_api_task_by_name_body.additional_properties = d
        return execute_api_task_by_name_body

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
