from enum import StrEnum


class JobStatus(StrEnum):
    CANCELLED = "Cancelled"
    COMPLETED = "Completed"
    FAILED = "Failed"
    RUNNING = "Running"

    def __str__(self) -> str:
        return str(self.value)
