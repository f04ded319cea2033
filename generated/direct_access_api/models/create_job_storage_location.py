from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeVar

from attrs import define as _attrs_define
from attrs import field as _attrs_field

from ..models.region_type import RegionType
from ..models.storage_type import StorageType
from ..types import UNSET, Unset

T = TypeVar("T", bound="CreateJobStorageLocation")


@_attrs_define
class CreateJobStorageLocation:
    """A `StorageLocation` as a create request must give it. The only storage type is
    `s3_compatible`, for which "presigned_url is required", so it is required here, and must be
    an absolute http(s) URL of printable ASCII with no space, since the service fetches it
    (a class such as `\\S` is avoided on purpose: ECMA-262 and Python disagree on which
    characters are space, so generators and validators would disagree).

        Attributes:
            type_ (StorageType): The kind of storage location. The reference's enum has only `s3_compatible`, while its
                field
                descriptions speak of `ibmcloud_cos`; docs/api-notes.md says `ibmcloud_cos` is IBM-internal. The
                enum stays the reference's: `ibmcloud_cos` is not accepted, and the fields described as
                required for it stay optional.
            presigned_url (str): Presigned GET or PUT URLs to read job params or write results and logs to. presigned_url is
                required when type is <b>s3_compatible</b>
            bucket_crn (str | Unset): Fully specified <a href='https://cloud.ibm.com/docs/account?topic=account-crn'>CRN</a>
                for the target Cloud Object Storage bucket. bucket_crn is required when type is <b>ibmcloud_cos</b>
            object_name (str | Unset): Name/ID of the object in the IBM Cloud Object Storage bucket. object_name is required
                when type is <b>ibmcloud_cos</b>
            region (str | Unset): region is required when type is <b>ibmcloud_cos</b>
            region_type (RegionType | Unset): Region, Cross-Region, or Single Data Center as defined by IBM Cloud Object
                Storage (https://cloud.ibm.com/docs/cloud-object-storage?topic=cloud-object-storage-endpoints). region_type is
                required when type is <b>ibmcloud_cos</b>
            runtime_instance_crn (str | Unset): Service CRN of the runtime instance that has access to the provided storage
                location. runtime_instance_crn is required when type is <b>ibmcloud_cos</b>
    """

    type_: StorageType
    presigned_url: str
    bucket_crn: str | Unset = UNSET
    object_name: str | Unset = UNSET
    region: str | Unset = UNSET
    region_type: RegionType | Unset = UNSET
    runtime_instance_crn: str | Unset = UNSET
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        type_ = self.type_.value

        presigned_url = self.presigned_url

        bucket_crn = self.bucket_crn

        object_name = self.object_name

        region = self.region

        region_type: str | Unset = UNSET
        if not isinstance(self.region_type, Unset):
            region_type = self.region_type.value

        runtime_instance_crn = self.runtime_instance_crn

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update(
            {
                "type": type_,
                "presigned_url": presigned_url,
            }
        )
        if bucket_crn is not UNSET:
            field_dict["bucket_crn"] = bucket_crn
        if object_name is not UNSET:
            field_dict["object_name"] = object_name
        if region is not UNSET:
            field_dict["region"] = region
        if region_type is not UNSET:
            field_dict["region_type"] = region_type
        if runtime_instance_crn is not UNSET:
            field_dict["runtime_instance_crn"] = runtime_instance_crn

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        d = dict(src_dict)
        type_ = StorageType._member(d.pop("type"))

        presigned_url = d.pop("presigned_url")

        bucket_crn = d.pop("bucket_crn", UNSET)

        object_name = d.pop("object_name", UNSET)

        region = d.pop("region", UNSET)

        _region_type = d.pop("region_type", UNSET)
        region_type: RegionType | Unset
        if isinstance(_region_type, Unset):
            region_type = UNSET
        else:
            region_type = RegionType._member(_region_type)

        runtime_instance_crn = d.pop("runtime_instance_crn", UNSET)

        create_job_storage_location = cls(
            type_=type_,
            presigned_url=presigned_url,
            bucket_crn=bucket_crn,
            object_name=object_name,
            region=region,
            region_type=region_type,
            runtime_instance_crn=runtime_instance_crn,
        )

        create_job_storage_location.additional_properties = d
        return create_job_storage_location

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
