"""Motion-JPEG in an AVI (RIFF) container: a writer that appends one flushed `00dc` chunk per JPEG
frame and adds the `idx1` index and the sizes when it finishes, and a scan that finds the whole
chunks of any such file, finished or cut short by a crash.

Why a muxer of our own rather than ``cv2.VideoWriter``: OpenCV's writer buffers frames and cannot
flush per frame, so a crash loses every frame it buffered. Here each JPEG chunk is appended with one
unbuffered write (`recordings.own.append_file`), so a crash loses at most the partial last frame. While a
file is being written, its RIFF and movi sizes and its frame counts are 0; `finish` patches them.

The scan trusts no size from the file: it walks the chunk headers of LIST movi (its size may still be
0), stops at `idx1`, at an unexpected chunk or at a chunk that runs past the end of the file, and says
whether bytes that are not a whole chunk follow the last whole one.
"""

from __future__ import annotations

import logging
import os
import struct
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path
from typing import BinaryIO

from sta_hands.contract.errors import RecordingError, reading
from sta_hands.recordings.own.append_file import AppendFile

log = logging.getLogger(__name__)

_AVIF_HASINDEX = 0x10
_AVIIF_KEYFRAME = 0x10
_CHUNK_ID = b"00dc"
# Byte offsets inside the fixed header that `_avi_header` builds (asserted there).
_RIFF_SIZE_AT = 4
_AVIH_AT = 32  # start of the avih data
_MAX_BYTES_PER_SEC_AT = _AVIH_AT + 4
_AVIH_FLAGS_AT = _AVIH_AT + 12
_AVIH_TOTAL_FRAMES_AT = _AVIH_AT + 16
_AVIH_BUFFER_AT = _AVIH_AT + 28
_STRH_AT = 108  # start of the strh data
_STRH_LENGTH_AT = _STRH_AT + 32
_STRH_BUFFER_AT = _STRH_AT + 36
_MOVI_SIZE_AT = 216
_MOVI_AT = 220  # the 'movi' fourcc; idx1 offsets count from here
_HEADER_SIZE = 224


def _chunk(fourcc: bytes, data: bytes) -> bytes:
    return fourcc + struct.pack("<I", len(data)) + data + (b"\0" if len(data) % 2 else b"")


def _list(kind: bytes, body: bytes, size: int | None = None) -> bytes:
    return b"LIST" + struct.pack("<I", len(body) + 4 if size is None else size) + kind + body


def _avi_header(width: int, height: int, fps: float) -> bytes:
    """RIFF 'AVI ' + LIST hdrl (avih, strl(strh, strf)) + the start of LIST movi, sizes and counts 0."""
    rate = Fraction(fps).limit_denominator(1001)
    # microseconds per frame, max bytes/s, padding, flags, frames, initial frames, streams, buffer,
    # width, height, 4 reserved
    avih = struct.pack("<14I", round(1e6 / fps), 0, 0, 0, 0, 0, 1, 0, width, height, 0, 0, 0, 0)
    # type, handler, flags, priority, language, initial frames, scale, rate, start, length, buffer,
    # quality (-1: default), sample size, rcFrame (left, top, right, bottom)
    strh = struct.pack(
        "<4s4sIHHIIIIIIIIhhhh",
        b"vids", b"MJPG", 0, 0, 0, 0, rate.denominator, rate.numerator, 0, 0, 0, 0xFFFFFFFF, 0,
        0, 0, width, height,
    )  # fmt: skip
    strf = struct.pack("<IiiHH4sIiiII", 40, width, height, 1, 24, b"MJPG", width * height * 3, 0, 0, 0, 0)
    hdrl = _list(
        b"hdrl", _chunk(b"avih", avih) + _list(b"strl", _chunk(b"strh", strh) + _chunk(b"strf", strf))
    )
    header = b"RIFF" + struct.pack("<I", 0) + b"AVI " + hdrl + _list(b"movi", b"", size=0)
    assert len(header) == _HEADER_SIZE and header[_MOVI_AT : _MOVI_AT + 4] == b"movi"
    return header


class MjpegAviWriter:
    """Appends JPEG frames to an AVI file, one flushed chunk each; `finish` adds idx1 and the sizes."""

    def __init__(self, path: Path, width: int, height: int, fps: float, *, exclusive: bool) -> None:
        self.file = AppendFile(path, exclusive=exclusive)
        self._fps = fps
        self._index: list[tuple[int, int]] = []  # (offset of the chunk header from 'movi', data size)
        self.file.append(_avi_header(width, height, fps))

    def append(self, jpeg: bytes) -> None:
        offset = self.file.size - _MOVI_AT
        self.file.append(_chunk(_CHUNK_ID, jpeg))
        self._index.append((offset, len(jpeg)))

    def rollback(self, size: int) -> None:
        self.file.truncate(size)
        while self._index and self._index[-1][0] + _MOVI_AT >= size:
            self._index.pop()

    def finish(self) -> None:
        movi_end = self.file.size
        self.file.append(_chunk(b"idx1", self._idx1()))
        largest = max((size for _, size in self._index), default=0)
        count = len(self._index)
        self.file.patch(_RIFF_SIZE_AT, struct.pack("<I", self.file.size - 8))
        self.file.patch(_MAX_BYTES_PER_SEC_AT, struct.pack("<I", min(round(largest * self._fps), 2**32 - 1)))
        self.file.patch(_AVIH_FLAGS_AT, struct.pack("<I", _AVIF_HASINDEX))
        self.file.patch(_AVIH_TOTAL_FRAMES_AT, struct.pack("<I", count))
        self.file.patch(_AVIH_BUFFER_AT, struct.pack("<I", largest + 8))
        self.file.patch(_STRH_LENGTH_AT, struct.pack("<I", count))
        self.file.patch(_STRH_BUFFER_AT, struct.pack("<I", largest + 8))
        self.file.patch(_MOVI_SIZE_AT, struct.pack("<I", movi_end - _MOVI_AT))

    def _idx1(self) -> bytes:
        return b"".join(
            struct.pack("<4sIII", _CHUNK_ID, _AVIIF_KEYFRAME, offset, size) for offset, size in self._index
        )


# ------------------------------------------------------------------------------------------- the scan


@dataclass(frozen=True)
class VideoIndex:
    """Where each whole JPEG chunk of the AVI lies."""

    chunks: list[tuple[int, int]]  # (byte offset of the data, size)
    partial: bool  # bytes after the last whole chunk that are not the index


def scan_avi(path: Path) -> VideoIndex:
    """Find the JPEG chunks of LIST movi by walking the chunk headers; bounded by the file size."""
    with reading(path, "an AVI file"), open(path, "rb") as file:
        file_size = os.fstat(file.fileno()).st_size
        movi = _find_movi(path, file, file_size)
        if movi is None:
            return VideoIndex([], partial=file_size > 0)
        return _scan_movi(path, file, *movi, file_size)


def _find_movi(path: Path, file: BinaryIO, file_size: int) -> tuple[int, int] | None:
    """(first chunk offset, end of movi) or None when the file ends before movi starts."""
    riff = file.read(12)
    if not (b"RIFF".startswith(riff[:4]) and b"AVI ".startswith(riff[8:12])):
        raise RecordingError(path, "not an AVI file (no RIFF 'AVI ' header)", "byte 0")
    position = 12
    while position + 12 <= file_size:
        file.seek(position)
        fourcc, size, kind = struct.unpack("<4sI4s", file.read(12))
        if fourcc == b"LIST" and kind == b"movi":
            end = position + 8 + size if size >= 4 else file_size  # 0 while a recording is written
            return position + 12, min(end, file_size)
        position += 8 + size + size % 2
    return None


def _scan_movi(path: Path, file: BinaryIO, start: int, end: int, file_size: int) -> VideoIndex:
    chunks: list[tuple[int, int]] = []
    position = start
    while position + 8 <= end:
        file.seek(position)
        fourcc, size = struct.unpack("<4sI", file.read(8))
        if fourcc == b"idx1":
            return VideoIndex(chunks, partial=False)
        if fourcc != _CHUNK_ID:
            log.warning("%s: unexpected chunk %r at byte %d ends the scan", path, fourcc, position)
            return VideoIndex(chunks, partial=True)
        following = position + 8 + size + size % 2
        if following > file_size:  # cut short: the size is not trusted, nothing is read
            return VideoIndex(chunks, partial=True)
        chunks.append((position + 8, size))
        position = following
    return VideoIndex(chunks, partial=position < end)
