from enum import StrEnum


class ExecuteTaskSyncResponseClearTextSolutionExecutionStatus(StrEnum):
    FAILED = "failed"
    SUCCEED = "succeed"

    def __str__(self) -> str:
        return str(self.value)
