"""Errors meant for the person at the keyboard: printed as one clear line, no traceback."""

from __future__ import annotations


class UserError(Exception):
    """Bad input, a missing file, a refused login: something the user can fix."""

    exit_code = 2


class InputFileError(UserError):
    """A file that cannot be read as what it claims to be. Names the file, line and column."""

    def __init__(
        self, path: object, message: str, line: int | None = None, column: str | None = None
    ) -> None:
        where = str(path)
        if line is not None:
            where += f", line {line}"
        if column is not None:
            where += f", column {column!r}"
        super().__init__(f"{where}: {message}")
        self.path = path
        self.line = line
        self.column = column
