from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeVar

from attrs import define as _attrs_define

from ..models.region_type import RegionType
from ..models.storage_type import StorageType
from ..types import UNSET, Unset

T = TypeVar("T", bound="StorageLocation")


@_attrs_define
class StorageLocation:
    """Where a job's input is read from, or its results or logs are written to. One shape for
    `input`, `logs` and `results` (the reference repeats it three times, identical but for the
    description, which stands on each use here).

        Attributes:
            type_ (StorageType): The kind of storage location. The reference's enum has only `s3_compatible`, while its
                field
                descriptions speak of `ibmcloud_cos`; docs/api-notes.md says `ibmcloud_cos` is IBM-internal. The
                enum stays the reference's: `ibmcloud_cos` is not accepted, and the fields described as
                required for it stay optional.
            bucket_crn (str | Unset): Fully specified <a href='https://cloud.ibm.com/docs/account?topic=account-crn'>CRN</a>
                for the target Cloud Object Storage bucket. bucket_crn is required when type is <b>ibmcloud_cos</b>
            object_name (str | Unset): Name/ID of the object in the IBM Cloud Object Storage bucket. object_name is required
                when type is <b>ibmcloud_cos</b>
            presigned_url (str | Unset): Presigned GET or PUT URLs to read job params or write results and logs to.
                presigned_url is required when type is <b>s3_compatible</b>
            region (str | Unset): region is required when type is <b>ibmcloud_cos</b>
            region_type (RegionType | Unset): Region, Cross-Region, or Single Data Center as defined by IBM Cloud Object
                Storage (https://cloud.ibm.com/docs/cloud-object-storage?topic=cloud-object-storage-endpoints). region_type is
                required when type is <b>ibmcloud_cos</b>
            runtime_instance_crn (str | Unset): Service CRN of the runtime instance that has access to the provided storage
                location. runtime_instance_crn is required when type is <b>ibmcloud_cos</b>
    """

    type_: StorageType
    bucket_crn: str | Unset = UNSET
    object_name: str | Unset = UNSET
    presigned_url: str | Unset = UNSET
    region: str | Unset = UNSET
    region_type: RegionType | Unset = UNSET
    runtime_instance_crn: str | Unset = UNSET

    def to_dict(self) -> dict[str, Any]:
        type_ = self.type_.value

        bucket_crn = self.bucket_crn

        object_name = self.object_name

        presigned_url = self.presigned_url

        region = self.region

        region_type: str | Unset = UNSET
        if not isinstance(self.region_type, Unset):
            region_type = self.region_type.value

        runtime_instance_crn = self.runtime_instance_crn

        field_dict: dict[str, Any] = {}

        field_dict.update(
            {
                "type": type_,
            }
        )
        if bucket_crn is not UNSET:
            field_dict["bucket_crn"] = bucket_crn
        if object_name is not UNSET:
            field_dict["object_name"] = object_name
        if presigned_url is not UNSET:
            field_dict["presigned_url"] = presigned_url
        if region is not UNSET:
            field_dict["region"] = region
        if region_type is not UNSET:
            field_dict["region_type"] = region_type
        if runtime_instance_crn is not UNSET:
            field_dict["runtime_instance_crn"] = runtime_instance_crn

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        type_ = StorageType._member(src_dict["type"])

        bucket_crn = src_dict.get("bucket_crn", UNSET)

        object_name = src_dict.get("object_name", UNSET)

        presigned_url = src_dict.get("presigned_url", UNSET)

        region = src_dict.get("region", UNSET)

        _region_type = src_dict.get("region_type", UNSET)
        region_type: RegionType | Unset
        if isinstance(_region_type, Unset):
            region_type = UNSET
        else:
            region_type = RegionType._member(_region_type)

        runtime_instance_crn = src_dict.get("runtime_instance_crn", UNSET)

        storage_location = cls(
            type_=type_,
            bucket_crn=bucket_crn,
            object_name=object_name,
            presigned_url=presigned_url,
            region=region,
            region_type=region_type,
            runtime_instance_crn=runtime_instance_crn,
        )

        return storage_location
