"""The one error type that every reader and writer of recordings raises."""

from __future__ import annotations

from pathlib import Path


class RecordingError(Exception):
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
