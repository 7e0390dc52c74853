from enum import StrEnum


class ExecuteTaskSyncResponseClearTextSolutionExecutionStatus(StrEnum):
    FAILED = "failed"
    SUCCEED = "succeed"

    def __str__(self) -> str:
        return str(self.value)

    @classmethod
    def _missing_(
        cls, value: object
    ) -> "ExecuteTaskSyncResponseClearTextSolutionExecutionStatus | None":
        # A value newer than this spec (the service is ahead of the client) parses as an unnamed
        # member that keeps the raw string, instead of raising ValueError in from_dict.
        if not isinstance(value, str):
            return None
        member = str.__new__(cls, value)
        member._name_ = "UNKNOWN"
        member._value_ = value
        return member
