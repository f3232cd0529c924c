"""The errors a user sees: `UserError`, the one root of every problem a user can fix (a bad file, a bad
model, a bad argument, a missing optional package), reported by the command line and the GUI as one line
naming what and where; and `RecordingError`, the one type every reader and writer of recordings raises.

Errors of the code itself (a bug) are anything else, and show their traceback.
"""

from __future__ import annotations

from pathlib import Path


class UserError(Exception):
    """Something the user can fix; its message is one line saying what is wrong and where."""


class RecordingError(UserError):
    """Bad or unreadable input: names the file, the position in it and what was expected.

    `position` is a human-readable place such as ``"line 12"``, ``"frame 40"`` or
    ``"byte 1024"``; the message reads ``file:position: problem``.
    """

    def __init__(self, path: str | Path | None, problem: str, position: str | None = None) -> None:
        self.path = None if path is None else Path(path)
        self.problem = problem
        self.position = position
        where = str(self.path) if self.path is not None else "<input>"
        if position:
            where = f"{where}:{position}"
        super().__init__(f"{where}: {problem}")
