from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeVar, cast

from attrs import define as _attrs_define

T = TypeVar("T", bound="JobList")


@_attrs_define
class JobList:
    """The caller's jobs in ascending creation time. `jobs` may be `null` (the reference's type is
    `[array, null]`); clients must treat `null` as no jobs.

        Attributes:
            jobs (list[Job] | None):
    """

    jobs: list[Job] | None

    def to_dict(self) -> dict[str, Any]:
        jobs: list[dict[str, Any]] | None
        if isinstance(self.jobs, list):
            jobs = []
            for jobs_type_0_item_data in self.jobs:
                jobs_type_0_item = jobs_type_0_item_data.to_dict()
                jobs.append(jobs_type_0_item)

        else:
            jobs = self.jobs

        field_dict: dict[str, Any] = {}

        field_dict.update(
            {
                "jobs": jobs,
            }
        )

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        def _parse_jobs(data: object) -> list[Job] | None:
            if data is None:
                return data
            try:
                if not isinstance(data, list):
                    raise TypeError()
                jobs_type_0 = []
                _jobs_type_0 = data
                for jobs_type_0_item_data in _jobs_type_0:
                    jobs_type_0_item = Job.from_dict(jobs_type_0_item_data)

                    jobs_type_0.append(jobs_type_0_item)

                return jobs_type_0
            except (TypeError, ValueError, AttributeError, KeyError):
                pass
            return cast(list[Job] | None, data)

        jobs = _parse_jobs(src_dict["jobs"])

        job_list = cls(
            jobs=jobs,
        )

        return job_list


# Imported after the class, so that models that refer to each other still import
# (generator-templates/model.py.jinja).
from ..models.job import Job
