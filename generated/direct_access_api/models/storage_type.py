from enum import StrEnum


class StorageType(StrEnum):
    S3_COMPATIBLE = "s3_compatible"

    def __str__(self) -> str:
        return str(self.value)
