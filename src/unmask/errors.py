"""Errors that reach the user. Each carries a stable code, a plain message and what to do next."""

from __future__ import annotations


class UnmaskError(Exception):
    """An error about one input that the user can act on; never shown as a traceback."""

    code = "error"

    def __init__(self, message: str, hint: str = "") -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint


class EmptyFileError(UnmaskError):
    code = "empty_file"


class UnsupportedFormatError(UnmaskError):
    code = "unsupported_format"


class CorruptMediaError(UnmaskError):
    code = "corrupt_media"


class LimitExceededError(UnmaskError):
    code = "limit_exceeded"


class TimeBudgetExceededError(LimitExceededError):
    code = "time_budget_exceeded"


class UnreadableFileError(UnmaskError):
    code = "unreadable_file"


class ModelError(UnmaskError):
    code = "model_error"
