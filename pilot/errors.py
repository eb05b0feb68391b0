"""Errors the command line turns into one readable message instead of a stack trace."""

from __future__ import annotations


class PilotError(Exception):
    """An expected failure with a message written for the user."""


class ServiceUnavailable(PilotError):
    """A service the command needs is not answering."""

    def __init__(self, service: str, address: str, detail: str = "", hint: str | None = None) -> None:
        self.service = service
        self.address = address
        hint = hint or "start it with `pilot stack up` (or check `pilot stack status`)"
        reason = f": {detail.rstrip('. ')}" if detail else ""
        super().__init__(f"{service} is not reachable at {address}{reason}. Is it running? {hint}.")


class InvalidInput(PilotError):
    """A value given by the user (a date, an identifier, a parameter) that is not allowed."""
