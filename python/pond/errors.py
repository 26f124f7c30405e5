"""pond's exceptions: each carries pond's message, its status and, where a
step's SQL was at fault, that SQL."""


class Error(Exception):
    """Any error pond reports. .message is pond's text, .status its
    pond_status value, .sql the SQL of the failing step (or None)."""

    def __init__(self, message, status=None, sql=None):
        super().__init__(message)
        self.message = message
        self.status = status
        self.sql = sql

    def __str__(self):
        return self.message if self.sql is None else f"{self.message}\n(SQL: {self.sql})"


class UsageError(Error):
    """A wrong argument, or SQL DuckDB rejects (POND_EUSAGE)."""


class InputError(Error):
    """A missing or unreadable input (POND_EINPUT)."""


class TaskError(Error):
    """A task failed after all its attempts (POND_ETASK); for a Python
    function, the message holds its traceback."""


class OutputExistsError(Error):
    """write_parquet(mode='error') and the output is not empty (POND_EEXISTS)."""


class BusyError(Error):
    """The job directory is locked by another run (POND_EBUSY)."""


class InterruptedError(Error):
    """The run was interrupted (POND_EINTR)."""


class PickleError(Error):
    """A Python function cannot be serialised with cloudpickle."""


_BY_STATUS = {1: UsageError, 2: InputError, 3: TaskError, 7: OutputExistsError, 8: BusyError, 9: InterruptedError}


def from_status(status, message, sql=None):
    return _BY_STATUS.get(status, Error)(message, status, sql)
