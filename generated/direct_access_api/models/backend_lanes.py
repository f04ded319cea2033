from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeVar

from attrs import define as _attrs_define

T = TypeVar("T", bound="BackendLanes")


@_attrs_define
class BackendLanes:
    """Execution lanes of a backend.

    Attributes:
        hpc_workload_manager (LaneCount): A number of execution lanes.
        ibm_quantum_compute (LaneCount): A number of execution lanes.
    """

    hpc_workload_manager: LaneCount
    ibm_quantum_compute: LaneCount

    def to_dict(self) -> dict[str, Any]:
        hpc_workload_manager = self.hpc_workload_manager.to_dict()

        ibm_quantum_compute = self.ibm_quantum_compute.to_dict()

        field_dict: dict[str, Any] = {}

        field_dict.update(
            {
                "hpc_workload_manager": hpc_workload_manager,
                "ibm_quantum_compute": ibm_quantum_compute,
            }
        )

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        hpc_workload_manager = LaneCount.from_dict(src_dict["hpc_workload_manager"])

        ibm_quantum_compute = LaneCount.from_dict(src_dict["ibm_quantum_compute"])

        backend_lanes = cls(
            hpc_workload_manager=hpc_workload_manager,
            ibm_quantum_compute=ibm_quantum_compute,
        )

        return backend_lanes


# Imported after the class, so that models that refer to each other still import
# (generator-templates/model.py.jinja).
from ..models.lane_count import LaneCount
