from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Self, TypeVar

from attrs import define as _attrs_define
from attrs import field as _attrs_field

from ..types import UNSET, Unset

T = TypeVar("T", bound="BlockchainSignedError")


@_attrs_define
class BlockchainSignedError:
    """Blockchain Signed Error"""

    status: float | Unset = UNSET
    """ Error code. """
    message: str | Unset = UNSET
    """ Error message. """
    task_registry_contract: str | Unset = UNSET
    """ Task Registry Contract address. """
    node_registry_contract: str | Unset = UNSET
    """ Node Registry Contract address. """
    authorization_contract: str | Unset = UNSET
    """ Authorization Contract address. """
    chain_id: str | Unset = UNSET
    """ Chain identification. """
    block_hash: str | Unset = UNSET
    """ Block hash. """
    block_number: float | Unset = UNSET
    """ Block number. """
    signed_error: str | Unset = UNSET
    """ Error signed by hub. """
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        status = self.status

        message = self.message

        task_registry_contract = self.task_registry_contract

        node_registry_contract = self.node_registry_contract

        authorization_contract = self.authorization_contract

        chain_id = self.chain_id

        block_hash = self.block_hash

        block_number = self.block_number

        signed_error = self.signed_error

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update({})
        if status is not UNSET:
            field_dict["status"] = status
        if message is not UNSET:
            field_dict["message"] = message
        if task_registry_contract is not UNSET:
            field_dict["taskRegistryContract"] = task_registry_contract
        if node_registry_contract is not UNSET:
            field_dict["nodeRegistryContract"] = node_registry_contract
        if authorization_contract is not UNSET:
            field_dict["authorizationContract"] = authorization_contract
        if chain_id is not UNSET:
            field_dict["chainId"] = chain_id
        if block_hash is not UNSET:
            field_dict["blockHash"] = block_hash
        if block_number is not UNSET:
            field_dict["blockNumber"] = block_number
        if signed_error is not UNSET:
            field_dict["signedError"] = signed_error

        return field_dict

    @classmethod
    def from_dict(cls, src_dict: Mapping[str, Any]) -> Self:
        d = dict(src_dict)
        status = d.pop("status", UNSET)

        message = d.pop("message", UNSET)

        task_registry_contract = d.pop("taskRegistryContract", UNSET)

        node_registry_contract = d.pop("nodeRegistryContract", UNSET)

        authorization_contract = d.pop("authorizationContract", UNSET)

        chain_id = d.pop("chainId", UNSET)

        block_hash = d.pop("blockHash", UNSET)

        block_number = d.pop("blockNumber", UNSET)

        signed_error = d.pop("signedError", UNSET)

        blockchain_signed_error = cls(
            status=status,
            message=message,
            task_registry_contract=task_registry_contract,
            node_registry_contract=node_registry_contract,
            authorization_contract=authorization_contract,
            chain_id=chain_id,
            block_hash=block_hash,
            block_number=block_number,
            signed_error=signed_error,
        )

        blockchain_signed_error.additional_properties = d
        return blockchain_signed_error

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
