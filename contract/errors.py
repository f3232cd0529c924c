"""The errors a user sees: `UserError`, the one root of every problem a user can fix (a bad file, a bad
model, a bad argument, a missing optional package), reported by the command line and the GUI as one line
naming what and where; and `RecordingError`, the one type every reader and writer of recordings raises.

Errors of the code itself (a bug) are anything else, and show their traceback.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
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


@contextmanager
def reading(path: Path, expected: str = "a file") -> Iterator[None]:
    """Read `path` inside this block: a folder, a missing file or an OS error while reading becomes one
    RecordingError line naming the file, in the same words for every format."""
    if path.is_dir():
        raise RecordingError(path, f"expected {expected}, found a directory")
    try:
        yield
    except FileNotFoundError:
        raise RecordingError(path, "file not found") from None
    except OSError as error:
        raise RecordingError(path, f"cannot read the file: {error.strerror or error}") from None
