from enum import StrEnum


class BackendStatus(StrEnum):
    OFFLINE = "offline"
    ONLINE = "online"
    PAUSED = "paused"

    def __str__(self) -> str:
        return str(self.value)
