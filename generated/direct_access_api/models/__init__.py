"""Contains all the data models used in inputs/outputs"""

from .api_versions import ApiVersions
from .backend import Backend
from .backend_configuration import BackendConfiguration
from .backend_defaults import BackendDefaults
from .backend_lanes import BackendLanes
from .backend_list import BackendList
from .backend_properties import BackendProperties
from .backend_status import BackendStatus
from .create_job_request import CreateJobRequest
from .create_job_storage import CreateJobStorage
from .create_job_storage_location import CreateJobStorageLocation
from .error_item import ErrorItem
from .error_response import ErrorResponse
from .error_target import ErrorTarget
from .job import Job
from .job_list import JobList
from .job_status import JobStatus
from .lane_count import LaneCount
from .log_level import LogLevel
from .region_type import RegionType
from .service_version import ServiceVersion
from .storage import Storage
from .storage_location import StorageLocation
from .storage_type import StorageType
from .usage import Usage

__all__ = (
    "ApiVersions",
    "Backend",
    "BackendConfiguration",
    "BackendDefaults",
    "BackendLanes",
    "BackendList",
    "BackendProperties",
    "BackendStatus",
    "CreateJobRequest",
    "CreateJobStorage",
    "CreateJobStorageLocation",
    "ErrorItem",
    "ErrorResponse",
    "ErrorTarget",
    "Job",
    "JobList",
    "JobStatus",
    "LaneCount",
    "LogLevel",
    "RegionType",
    "ServiceVersion",
    "Storage",
    "StorageLocation",
    "StorageType",
    "Usage",
)
