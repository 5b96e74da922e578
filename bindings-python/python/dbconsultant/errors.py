"""Exceptions. Every error the library raises is a DatabaseConsultantError; the subclass
tells what went wrong, with the same message the CLI prints."""

from __future__ import annotations


class DatabaseConsultantError(Exception):
    """Base class of every dbconsultant error. ``kind`` is the stable error kind."""

    kind: str = "internal"

    def __init__(self, message: str, kind: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        if kind is not None:
            self.kind = kind


class InvalidInputError(DatabaseConsultantError, ValueError):
    """Bad input: missing or empty migration, unknown dialect, malformed URL, bad rules."""

    kind = "invalid_input"


class DatabaseConnectionError(DatabaseConsultantError, ConnectionError):
    """The database cannot be reached or refuses the credentials (password redacted)."""

    kind = "connection"


class SandboxError(DatabaseConsultantError):
    """The sandbox (copy, rolled-back transaction, scratch database) cannot be set up."""

    kind = "sandbox"


class NotFoundError(DatabaseConsultantError, LookupError):
    """No test run with that id in the store."""

    kind = "not_found"


class ApprovalStateError(DatabaseConsultantError):
    """The run is not pending approval (already decided, passed or failed)."""

    kind = "approval_state"


class InternalError(DatabaseConsultantError):
    """A bug or an unexpected failure inside dbconsultant (including a caught panic)."""

    kind = "internal"


_BY_KIND = {
    cls.kind: cls
    for cls in (InvalidInputError, DatabaseConnectionError, SandboxError, NotFoundError, ApprovalStateError, InternalError)
}


def from_native(error: BaseException) -> DatabaseConsultantError:
    """Map the native module's (kind, message) error to its exception class."""
    kind, message = error.args if len(error.args) == 2 else ("internal", str(error))
    return _BY_KIND.get(kind, InternalError)(message, kind)
