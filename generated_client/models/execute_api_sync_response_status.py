from enum import StrEnum


class ExecuteApiSyncResponseStatus(StrEnum):
    ERROR = "Error"
    RUNNING = "Running"
    SUCCESS = "Success"

    def __str__(self) -> str:
        return str(self.value)
