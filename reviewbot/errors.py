"""Errors a user can fix. The CLI prints them without a traceback and exits non-zero."""

from __future__ import annotations

from pathlib import Path


class ReviewbotError(Exception):
    """An error caused by input or configuration, with where it happened and how to fix it."""

    exit_code = 2

    def __init__(
        self,
        message: str,
        *,
        file: str | Path | None = None,
        line: int | None = None,
        field: str | None = None,
        hint: str | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.file = str(file) if file is not None else None
        self.line = line
        self.field = field
        self.hint = hint

    @property
    def where(self) -> str:
        """`file:line: field` as far as known, or an empty string."""
        parts = []
        if self.file:
            parts.append(self.file + (f":{self.line}" if self.line else ""))
        elif self.line:
            parts.append(f"line {self.line}")
        if self.field:
            parts.append(self.field)
        return ": ".join(parts)

    def __str__(self) -> str:
        text = f"{self.where}: {self.message}" if self.where else self.message
        return f"{text}\n  hint: {self.hint}" if self.hint else text


class ConfigError(ReviewbotError):
    """`reviewbot.toml`, the environment or the workspace is wrong."""


class PolicyError(ReviewbotError):
    """A policy document cannot be parsed; `more` holds the file's other mistakes found in the same reading."""

    more: tuple[PolicyError, ...] = ()

    def __str__(self) -> str:
        return "\n".join([super().__str__(), *map(str, self.more)])


class NotFoundError(ReviewbotError):
    """A theme, ticket, document or section named on the command line does not exist."""

    exit_code = 1
