"""The one error type services raise for a broken business rule."""
from __future__ import annotations


class DomainError(Exception):
    """A rule was broken; `field` names the form field it belongs to (None: the whole form).

    `message` is already translated (lazy strings are fine) so views can show it as is.
    """

    def __init__(self, message, field: str | None = None):
        super().__init__(message)  # lazy: translated when shown, not while a session is failing
        self.message = message
        self.field = field


class Conflict(DomainError):
    """Someone else changed the record first; the user should reload and look again."""
