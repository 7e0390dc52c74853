from enum import StrEnum


class ExecuteApiSyncResponseClearTextSolutionStatus(StrEnum):
    FAILED = "failed"
    SUCCEED = "succeed"

    def __str__(self) -> str:
        return str(self.value)
