"""Crash-safe file writing: an unbuffered file that is only appended to (and patched in place at the
end), and the replacement of a whole file through a synced temporary file beside it.

`AppendFile.append` hands its bytes to the OS before it returns, with no user-space buffer in
between, so a crash loses at most the write in progress; after a failed write the file is cut back to
its last whole append. `replace_with` writes a temporary file, syncs it and moves it over the old
one, so a reader sees either the old file or the new one, never a half-written one.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Callable
from pathlib import Path
from typing import BinaryIO

from sta_hands.contract.errors import RecordingError


class AppendFile:
    """An unbuffered file that we append to: every `append` reaches the OS before it returns."""

    def __init__(self, path: Path, *, exclusive: bool) -> None:
        self.path = path
        try:
            self._file: BinaryIO = open(path, "xb" if exclusive else "wb", buffering=0)  # noqa: SIM115
        except FileExistsError:
            raise RecordingError(path, "already exists (pass overwrite=True to replace it)") from None
        except OSError as error:
            raise RecordingError(path, f"cannot create: {error.strerror or error}") from None
        self.size = 0

    def append(self, data: bytes) -> None:
        self._write_at_end(data)
        self.size += len(data)

    def patch(self, offset: int, data: bytes) -> None:
        """Overwrite bytes already written, then return to the end."""
        try:
            self._file.seek(offset)
            _write_all(self._file, data)
        except OSError as error:
            raise RecordingError(self.path, f"cannot write: {error}", f"byte {offset}") from None
        finally:
            with contextlib.suppress(OSError):
                self._file.seek(self.size)

    def truncate(self, size: int) -> None:
        """Best effort: cut back to `size` bytes after a failed write."""
        with contextlib.suppress(OSError):
            self._file.truncate(size)
            self._file.seek(size)
            self.size = size

    def fsync(self) -> None:
        try:
            os.fsync(self._file.fileno())
        except OSError as error:
            raise RecordingError(self.path, f"cannot sync: {error}") from None

    def close(self) -> None:
        self._file.close()

    def _write_at_end(self, data: bytes) -> None:
        try:
            _write_all(self._file, data)
        except OSError as error:
            self.truncate(self.size)
            raise RecordingError(self.path, f"cannot write: {error}", f"byte {self.size}") from None


def _write_all(file: BinaryIO, data: bytes) -> None:
    view = memoryview(data)
    while view:
        written = file.write(view)
        if not written:
            raise OSError("write returned 0 bytes")
        view = view[written:]


def replace_with(path: Path, write: Callable[[Path], None]) -> None:
    """Call `write` on a temporary path beside `path`, sync that file, and move it over `path`."""
    temporary = path.with_name(path.name + ".tmp")
    try:
        write(temporary)
        with open(temporary, "rb+") as file:
            os.fsync(file.fileno())
        os.replace(temporary, path)
    except OSError as error:
        with contextlib.suppress(OSError):
            temporary.unlink()
        raise RecordingError(path, f"cannot rewrite: {error.strerror or error}") from None
