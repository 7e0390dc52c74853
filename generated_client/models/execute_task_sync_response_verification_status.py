from enum import StrEnum


class ExecuteTaskSyncResponseVerificationStatus(StrEnum):
    ERROR = "Error"
    INDETERMINATE = "Indeterminate"
    RUNNING = "Running"
    SUCCESS = "Success"

    def __str__(self) -> str:
        return str(self.value)
