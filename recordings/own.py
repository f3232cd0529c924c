"""The app's own recording format: the NTU layout plus a JSON-lines sidecar, written to survive a crash.

A recording with stem ``<dir>/<name>`` is three files side by side:

- ``<name>.skeleton``: NTU RGB+D skeleton text (docs/ntu-format.md), so NTU readers, training and
  evaluation take it as they are; like NTU's, its numbers keep 7 significant digits. Line 1, the
  frame count, is a fixed-width field of 12 characters (the count left-justified, padded with
  spaces) so that it can be rewritten in place; readers that split on whitespace accept the padding.
- ``<name>_rgb.avi``: the colour frames as Motion-JPEG in an AVI (RIFF) container, one ``00dc`` chunk
  per frame, with an ``idx1`` index added at close. Absent when the source has no colour images.
- ``<name>.jsonl``: the sidecar, one JSON object per line: a header (format, version, app version,
  creation time, device, fps, colour size and the caller's metadata), one line per frame (index,
  timestamp and the caller's per-frame extras), and ``{"end": true, "frames": N}`` at a clean close.

Why a muxer of our own rather than ``cv2.VideoWriter``: OpenCV's writer buffers frames and cannot
flush per frame, so a crash loses every frame it buffered. Here each JPEG chunk is appended with one
unbuffered write, so a crash loses at most the partial last frame.

Crash safety: every file is appended frame by frame without user-space buffering, in the order
video chunk, skeleton block, sidecar line; the sidecar line is the commit record. A frame counts only
when all three of its parts are whole. The files are fsynced every ``fsync_every`` frames and every
``fsync_seconds``. A recording that was not closed cleanly opens as ``recovered``: it keeps
min(whole sidecar lines, whole skeleton blocks, whole video chunks) frames and drops the rest, and
``recover`` rewrites it as a clean one.

While a recording is being written, its skeleton header says 0 frames and its AVI sizes are 0; they
are patched at close (or by ``recover``).
"""

from __future__ import annotations

import contextlib
import importlib.metadata
import json
import logging
import math
import os
import struct
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime
from fractions import Fraction
from itertools import accumulate
from pathlib import Path
from typing import Any, BinaryIO

import cv2
import numpy as np

from recordings.errors import RecordingError
from recordings.frame import Body, Frame
from recordings.jpeg import JpegHeaderError, jpeg_size
from recordings.skeleton import format_frame, read_skeleton

log = logging.getLogger(__name__)

FORMAT = "sta-hands-recording"
VERSION = 1
SKELETON_SUFFIX = ".skeleton"
VIDEO_SUFFIX = "_rgb.avi"
SIDECAR_SUFFIX = ".jsonl"
NEWLINE = "\n"
COUNT_WIDTH = 12  # characters of the fixed-width frame count on line 1 of the .skeleton file

_HEADER_KEYS = ("format", "version", "app_version", "created", "device", "fps", "color_size")
_FRAME_KEYS = ("index", "timestamp", "end")


# ----------------------------------------------------------------------------------------------- paths


@dataclass(frozen=True)
class RecordingPaths:
    """The three files of the recording with stem ``<dir>/<name>``."""

    stem: Path

    @classmethod
    def of(cls, stem_or_path: str | Path) -> RecordingPaths:
        """Accepts the stem or any of the three files' paths."""
        path = Path(stem_or_path)
        for suffix in (VIDEO_SUFFIX, SKELETON_SUFFIX, SIDECAR_SUFFIX):
            if path.name.endswith(suffix) and len(path.name) > len(suffix):
                return cls(path.with_name(path.name[: -len(suffix)]))
        return cls(path)

    def _with(self, suffix: str) -> Path:
        return self.stem.with_name(self.stem.name + suffix)

    @property
    def skeleton(self) -> Path:
        return self._with(SKELETON_SUFFIX)

    @property
    def video(self) -> Path:
        return self._with(VIDEO_SUFFIX)

    @property
    def sidecar(self) -> Path:
        return self._with(SIDECAR_SUFFIX)

    def all(self) -> tuple[Path, Path, Path]:
        return self.skeleton, self.video, self.sidecar


# ------------------------------------------------------------------------------------ small file helpers


class _AppendFile:
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


def _replace_with(path: Path, write: Callable[[Path], None]) -> None:
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


def _json_default(value: Any) -> Any:
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, np.ndarray):
        return value.tolist()
    if isinstance(value, Path):
        return str(value)
    raise TypeError(f"{type(value).__name__} is not JSON serialisable")


def _json_line(path: Path, record: dict[str, Any], position: str) -> bytes:
    try:
        text = json.dumps(record, default=_json_default, separators=(", ", ": "))
    except (TypeError, ValueError) as error:
        raise RecordingError(path, f"cannot store as JSON: {error}", position) from None
    return (text + "\n").encode("utf-8")


def _app_version() -> str:
    try:
        return importlib.metadata.version("sta-hands")
    except importlib.metadata.PackageNotFoundError:
        return "unknown"


# --------------------------------------------------------------------------------------- the AVI muxer

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


class _MjpegAviWriter:
    """Appends JPEG frames to an AVI file, one flushed chunk each; `finish` adds idx1 and the sizes."""

    def __init__(self, path: Path, width: int, height: int, fps: float, *, exclusive: bool) -> None:
        self.file = _AppendFile(path, exclusive=exclusive)
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


# -------------------------------------------------------------------------------------------- the writer


class RecordingWriter:
    """Writes a recording frame by frame; use as a context manager or call `close`.

    ``RecordingWriter(stem, fps=30.0, device="kinect v2", metadata={...})`` creates
    ``stem.skeleton`` and ``stem.jsonl`` at once (and ``stem_rgb.avi`` at the first frame with an
    image); it refuses to replace an existing recording unless ``overwrite=True``. Given the same
    frames, metadata and ``created`` string, the files are byte-for-byte identical.
    """

    def __init__(
        self,
        stem: str | Path,
        *,
        fps: float = 30.0,
        device: str = "unknown",
        metadata: dict[str, Any] | None = None,
        jpeg_quality: int = 90,
        fsync_every: int = 30,
        fsync_seconds: float | None = 2.0,
        created: str | None = None,
        overwrite: bool = False,
    ) -> None:
        self.paths = RecordingPaths.of(stem)
        _check_settings(self.paths.sidecar, fps, jpeg_quality, fsync_every, metadata)
        self.fps = float(fps)
        self.jpeg_quality = int(jpeg_quality)
        self.fsync_every = int(fsync_every)
        self.fsync_seconds = fsync_seconds
        self.frames_written = 0
        self._header: dict[str, Any] = {
            "format": FORMAT, "version": VERSION, "app_version": _app_version(),
            "created": created or datetime.now().astimezone().isoformat(timespec="milliseconds"),
            "device": str(device), "fps": self.fps, "color_size": None, **(metadata or {}),
        }  # fmt: skip
        _json_line(self.paths.sidecar, self._header, "line 1")  # fail now, not at the first frame
        self._overwrite = overwrite
        self._skeleton, self._sidecar = _create_files(self.paths, overwrite)
        self._skeleton.append(f"{0:<{COUNT_WIDTH}}{NEWLINE}".encode("ascii"))
        self._video: _MjpegAviWriter | None = None
        self._started = False
        self._closed = False
        self._last_jpeg: bytes | None = None
        self._color_size: tuple[int, int] | None = None
        self._images_repeated = 0
        self._images_ignored = 0
        self._last_sync = time.monotonic()

    # -- public

    def write(self, frame: Frame, extra: dict[str, Any] | None = None) -> None:
        """Append one frame: its video chunk, its skeleton block, then its sidecar line (the commit)."""
        if self._closed:
            raise RecordingError(self.paths.sidecar, "write after close", f"frame {self.frames_written}")
        position = f"frame {self.frames_written}"
        line = self._frame_line(frame, extra, position)
        block = format_frame(frame.bodies, NEWLINE).encode("ascii")
        if not self._started:
            self._start(frame)
        jpeg = self._jpeg_for(frame, position)
        sizes = self._sizes()
        try:
            if self._video is not None and jpeg is not None:
                self._video.append(jpeg)
            self._skeleton.append(block)
            self._sidecar.append(line)
        except RecordingError:
            self._rollback(sizes)
            raise
        self.frames_written += 1
        self._maybe_sync()

    def close(self) -> None:
        """Finish the files: the AVI index and sizes, the skeleton frame count and the end line."""
        if self._closed:
            return
        self._closed = True
        try:
            if not self._started:
                self._sidecar.append(_json_line(self.paths.sidecar, self._header, "line 1"))
            if self._video is not None:
                self._video.finish()
            self._skeleton.patch(0, f"{self.frames_written:<{COUNT_WIDTH}}".encode("ascii"))
            self._sync()  # the other files are whole before the end line says so
            end = {"end": True, "frames": self.frames_written}
            self._sidecar.append(_json_line(self.paths.sidecar, end, f"line {self.frames_written + 2}"))
            self._sidecar.fsync()
        finally:
            for file in self._files():
                file.close()
        if self._images_repeated > 1 or self._images_ignored > 1:
            log.warning("%s: %d frames without an image repeat the one before; %d images not stored",
                        self.paths.stem, self._images_repeated, self._images_ignored)  # fmt: skip

    def __enter__(self) -> RecordingWriter:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    # -- one frame

    def _frame_line(self, frame: Frame, extra: dict[str, Any] | None, position: str) -> bytes:
        clash = sorted(set(extra or {}) & set(_FRAME_KEYS))
        if clash:
            raise RecordingError(
                self.paths.sidecar, f"per-frame extras may not use the keys {clash}", position
            )
        record = {"index": self.frames_written, "timestamp": float(frame.timestamp), **(extra or {})}
        return _json_line(self.paths.sidecar, record, position)

    def _start(self, frame: Frame) -> None:
        """At the first frame: the colour size is known, so write the header (and open the AVI)."""
        if frame.image is not None:
            height, width = frame.image.shape[:2]
            self._color_size = (width, height)
            self._header["color_size"] = [width, height]
            self._video = _MjpegAviWriter(self.paths.video, width, height, self.fps,
                                          exclusive=not self._overwrite)  # fmt: skip
        self._sidecar.append(_json_line(self.paths.sidecar, self._header, "line 1"))
        self._started = True

    def _jpeg_for(self, frame: Frame, position: str) -> bytes | None:
        if self._video is None:
            if frame.image is not None:
                self._images_ignored += 1
                if self._images_ignored == 1:
                    log.warning(
                        "%s: %s has an image, but the first frame had none: the recording has no "
                        "video and images are not stored",
                        self.paths.stem,
                        position,
                    )
            return None
        if frame.image is None:
            self._images_repeated += 1
            if self._images_repeated == 1:
                log.warning("%s: %s has no image; repeating the previous one", self.paths.video, position)
            return self._last_jpeg
        height, width = frame.image.shape[:2]
        if (width, height) != self._color_size:
            raise RecordingError(
                self.paths.video, f"image size {width}x{height} differs from the first frame's "
                f"{self._color_size[0]}x{self._color_size[1]}", position,
            )  # fmt: skip
        ok, encoded = cv2.imencode(".jpg", frame.image, [cv2.IMWRITE_JPEG_QUALITY, self.jpeg_quality])
        if not ok:
            raise RecordingError(self.paths.video, "JPEG encoding failed", position)
        self._last_jpeg = encoded.tobytes()
        return self._last_jpeg

    # -- files

    def _files(self) -> list[_AppendFile]:
        video = [] if self._video is None else [self._video.file]
        return [*video, self._skeleton, self._sidecar]

    def _sizes(self) -> tuple[int, int, int]:
        return (0 if self._video is None else self._video.file.size, self._skeleton.size, self._sidecar.size)

    def _rollback(self, sizes: tuple[int, int, int]) -> None:
        """After a failed write: cut every file back to the last whole frame."""
        if self._video is not None:
            self._video.rollback(sizes[0])
        self._skeleton.truncate(sizes[1])
        self._sidecar.truncate(sizes[2])

    def _maybe_sync(self) -> None:
        due_by_count = self.fsync_every > 0 and self.frames_written % self.fsync_every == 0
        due_by_time = (
            self.fsync_seconds is not None and time.monotonic() - self._last_sync >= self.fsync_seconds
        )
        if due_by_count or due_by_time:
            self._sync()

    def _sync(self) -> None:
        for file in self._files():
            file.fsync()
        self._last_sync = time.monotonic()


def _check_settings(
    sidecar: Path, fps: float, jpeg_quality: int, fsync_every: int, metadata: dict[str, Any] | None
) -> None:
    if not fps > 0:
        raise RecordingError(sidecar, f"fps must be positive, got {fps}")
    if not 0 <= jpeg_quality <= 100:
        raise RecordingError(sidecar, f"jpeg_quality must be 0..100, got {jpeg_quality}")
    if fsync_every < 0:
        raise RecordingError(sidecar, f"fsync_every must be >= 0, got {fsync_every}")
    clash = sorted(set(metadata or {}) & set(_HEADER_KEYS))
    if clash:
        raise RecordingError(sidecar, f"metadata may not use the header keys {clash}")


def _create_files(paths: RecordingPaths, overwrite: bool) -> tuple[_AppendFile, _AppendFile]:
    """Create the folder, refuse an existing recording, open .skeleton and .jsonl (and drop a stale AVI)."""
    try:
        paths.stem.parent.mkdir(parents=True, exist_ok=True)
    except OSError as error:
        raise RecordingError(
            paths.stem.parent, f"cannot create the folder: {error.strerror or error}"
        ) from None
    existing = [path for path in paths.all() if path.exists()]
    if existing and not overwrite:
        raise RecordingError(
            existing[0], "a recording with this name exists (pass overwrite=True to replace it)"
        )
    skeleton = _AppendFile(paths.skeleton, exclusive=not overwrite)
    try:
        sidecar = _AppendFile(paths.sidecar, exclusive=not overwrite)
        if overwrite:
            paths.video.unlink(missing_ok=True)
    except (RecordingError, OSError) as error:
        skeleton.close()
        paths.skeleton.unlink(missing_ok=True)
        if isinstance(error, RecordingError):
            raise
        raise RecordingError(paths.video, f"cannot remove the old video: {error}") from None
    return skeleton, sidecar


# -------------------------------------------------------------------------------------------- the reader


@dataclass(frozen=True)
class _Sidecar:
    """The parsed .jsonl: header, whole frame records, and where each whole line ends."""

    header: dict[str, Any]
    records: list[dict[str, Any]]
    line_ends: list[int]  # byte offset after line 1 (the header), line 2, ...
    ended: bool
    partial: bool  # trailing bytes that are not a whole record


def _parse_sidecar(path: Path) -> _Sidecar:
    data = _read_bytes(path)
    lines = data.split(b"\n")
    whole, tail = lines[:-1], lines[-1]
    if not whole:
        problem = "empty: no header line" if not data else "the header line is incomplete"
        raise RecordingError(path, problem, "line 1")
    header = _parse_header(path, whole[0])
    ends = list(accumulate(len(line) + 1 for line in whole))
    records: list[dict[str, Any]] = []
    partial = bool(tail) and not tail.startswith(b'{"end"')  # a cut end line is not a frame
    for number, line in enumerate(whole[1:], start=2):
        record = _parse_line(path, line, number, is_last=number == len(whole) and not tail)
        if record is None:  # the last line, cut short
            partial = True
            break
        if record.get("end") is True:
            _check_end(path, record, len(records), number, lines_after=len(whole) - number, tail=tail)
            return _Sidecar(header, records, ends[:number], True, False)
        _check_record(path, record, len(records), number)
        records.append(record)
    return _Sidecar(header, records, ends[: len(records) + 1], False, partial)


def _read_bytes(path: Path) -> bytes:
    try:
        return path.read_bytes()
    except FileNotFoundError:
        raise RecordingError(path, "missing file") from None
    except OSError as error:
        raise RecordingError(path, f"cannot read: {error.strerror or error}") from None


def _parse_header(path: Path, line: bytes) -> dict[str, Any]:
    try:
        header = json.loads(line)
    except (ValueError, UnicodeDecodeError):
        header = None
    if not isinstance(header, dict) or header.get("format") != FORMAT:
        raise RecordingError(path, f"not a {FORMAT} header", "line 1")
    version = header.get("version")
    if not isinstance(version, int) or version < 1:
        raise RecordingError(path, f"bad version {version!r}", "line 1")
    if version > VERSION:
        raise RecordingError(
            path, f"version {version} is newer than this reader supports ({VERSION})", "line 1"
        )
    fps = header.get("fps")
    if not isinstance(fps, int | float) or not fps > 0:
        raise RecordingError(path, f"bad fps {fps!r}", "line 1")
    size = header.get("color_size")
    if size is not None and not (
        isinstance(size, list) and len(size) == 2 and all(isinstance(v, int) and v > 0 for v in size)
    ):
        raise RecordingError(path, f"bad color_size {size!r}", "line 1")
    return header


def _parse_line(path: Path, line: bytes, number: int, *, is_last: bool) -> dict[str, Any] | None:
    """One JSON object, or None for a broken last line (a write cut short)."""
    try:
        record = json.loads(line)
    except (ValueError, UnicodeDecodeError) as error:
        if is_last:
            return None
        raise RecordingError(path, f"bad JSON ({error})", f"line {number}") from None
    if not isinstance(record, dict):
        if is_last:
            return None
        raise RecordingError(path, "expected a JSON object", f"line {number}")
    return record


def _check_record(path: Path, record: dict[str, Any], index: int, number: int) -> None:
    if record.get("index") != index:
        raise RecordingError(path, f"expected the record of frame {index}, got index {record.get('index')!r}",
                             f"line {number}")  # fmt: skip
    timestamp = record.get("timestamp")
    if not isinstance(timestamp, int | float) or isinstance(timestamp, bool) or not math.isfinite(timestamp):
        raise RecordingError(path, f"bad timestamp {timestamp!r}", f"line {number}")


def _check_end(path: Path, record: dict[str, Any], count: int, number: int, *, lines_after: int,
               tail: bytes) -> None:  # fmt: skip
    if record.get("frames") != count:
        raise RecordingError(path, f"end record says {record.get('frames')!r} frames, found {count}",
                             f"line {number}")  # fmt: skip
    if lines_after or tail:
        raise RecordingError(path, "data after the end record", f"line {number + 1}")


@dataclass(frozen=True)
class _VideoIndex:
    """Where each whole JPEG chunk of the AVI lies."""

    chunks: list[tuple[int, int]]  # (byte offset of the data, size)
    partial: bool  # bytes after the last whole chunk that are not the index


def _scan_avi(path: Path) -> _VideoIndex:
    """Find the JPEG chunks of LIST movi by walking the chunk headers; bounded by the file size."""
    try:
        with open(path, "rb") as file:
            file_size = os.fstat(file.fileno()).st_size
            movi = _find_movi(path, file, file_size)
            if movi is None:
                return _VideoIndex([], partial=file_size > 0)
            return _scan_movi(path, file, *movi, file_size)
    except FileNotFoundError:
        raise RecordingError(path, "missing file") from None
    except OSError as error:
        raise RecordingError(path, f"cannot read: {error.strerror or error}") from None


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


def _scan_movi(path: Path, file: BinaryIO, start: int, end: int, file_size: int) -> _VideoIndex:
    chunks: list[tuple[int, int]] = []
    position = start
    while position + 8 <= end:
        file.seek(position)
        fourcc, size = struct.unpack("<4sI", file.read(8))
        if fourcc == b"idx1":
            return _VideoIndex(chunks, partial=False)
        if fourcc != _CHUNK_ID:
            log.warning("%s: unexpected chunk %r at byte %d ends the scan", path, fourcc, position)
            return _VideoIndex(chunks, partial=True)
        following = position + 8 + size + size % 2
        if following > file_size:  # cut short: the size is not trusted, nothing is read
            return _VideoIndex(chunks, partial=True)
        chunks.append((position + 8, size))
        position = following
    return _VideoIndex(chunks, partial=position < end)


def _read_bodies(path: Path) -> tuple[tuple[tuple[Body, ...], ...], bool]:
    """The whole frames of a .skeleton file, and whether a partial one follows them.

    The header count is not trusted (it is 0 until the writer closes); an empty file (a crash before
    anything reached the disk) has no frames.
    """
    if path.is_file() and path.stat().st_size == 0:
        return (), False
    skeleton = read_skeleton(path, allow_truncated=True)
    return skeleton.frames, skeleton.truncated


class Recording:
    """A recording opened for reading; see `open_recording`."""

    def __init__(self, paths: RecordingPaths) -> None:
        self.paths = paths
        self._sidecar = _parse_sidecar(paths.sidecar)
        self._bodies, skeleton_partial = _read_bodies(paths.skeleton)
        self._video = _scan_avi(paths.video) if self.has_video else None
        counts = [len(self._sidecar.records), len(self._bodies)]
        started = [counts[0] + self._sidecar.partial, counts[1] + skeleton_partial]
        if self._video is not None:
            counts.append(len(self._video.chunks))
            started.append(counts[-1] + self._video.partial)
        self.num_frames = min(counts)
        self.frames_dropped_at_recovery = max(started) - self.num_frames
        self.recovered = not self._sidecar.ended or self.frames_dropped_at_recovery > 0
        if self.recovered:
            log.warning("%s was not closed cleanly: kept %d whole frames, dropped %d partial (%s)",
                        paths.stem, self.num_frames, self.frames_dropped_at_recovery,
                        _describe(counts, started))  # fmt: skip

    @property
    def header(self) -> dict[str, Any]:
        return dict(self._sidecar.header)

    @property
    def fps(self) -> float:
        return float(self._sidecar.header["fps"])

    @property
    def color_size(self) -> tuple[int, int] | None:
        size = self._sidecar.header.get("color_size")
        return None if size is None else (size[0], size[1])

    @property
    def has_video(self) -> bool:
        return self.color_size is not None

    @property
    def bodies(self) -> tuple[tuple[Body, ...], ...]:
        """The bodies of every whole frame, without decoding any image."""
        return tuple(self._bodies[: self.num_frames])

    @property
    def extras(self) -> tuple[dict[str, Any], ...]:
        return tuple(self.frame_extras(i) for i in range(self.num_frames))

    def __len__(self) -> int:
        return self.num_frames

    def frame_extras(self, index: int) -> dict[str, Any]:
        """The per-frame dict the writer was given for frame `index` (a copy)."""
        record = self._sidecar.records[self._checked(index)]
        return {key: value for key, value in record.items() if key not in _FRAME_KEYS}

    @property
    def timestamps(self) -> np.ndarray:
        """The recorded time of every whole frame, in seconds, without decoding anything."""
        return np.array([float(r["timestamp"]) for r in self._sidecar.records[: self.num_frames]])

    def frames(self, start: int = 0, images: Sequence[bool] | np.ndarray | None = None) -> Iterator[Frame]:
        """The frames in order from `start`, with their recorded timestamps; images decoded one at a time.

        `images` (one flag per frame) decodes only the flagged frames' images, the others come
        without one: a consumer that samples frames need not pay for decoding the rest.
        """
        with self._open_video() as video:
            for index in range(max(0, start), self.num_frames):
                wanted = images is None or bool(images[index])
                yield self._frame(index, video if wanted else None)

    def frame(self, index: int) -> Frame:
        """Frame `index` (negative counts from the end)."""
        index = self._checked(index)
        with self._open_video() as video:
            return self._frame(index, video)

    def _checked(self, index: int) -> int:
        if not -self.num_frames <= index < self.num_frames:
            raise IndexError(f"frame {index} out of range: the recording has {self.num_frames} frames")
        return index % self.num_frames

    def _open_video(self) -> contextlib.AbstractContextManager[BinaryIO | None]:
        if self._video is None:
            return contextlib.nullcontext()
        try:
            return open(self.paths.video, "rb")
        except OSError as error:
            raise RecordingError(self.paths.video, f"cannot read: {error.strerror or error}") from None

    def _frame(self, index: int, video: BinaryIO | None) -> Frame:
        image = None if video is None else self._image(index, video)
        timestamp = float(self._sidecar.records[index]["timestamp"])
        return Frame(index=index, timestamp=timestamp, image=image, bodies=self._bodies[index])

    def _image(self, index: int, video: BinaryIO) -> np.ndarray:
        assert self._video is not None
        offset, size = self._video.chunks[index]
        video.seek(offset)
        data = video.read(size)
        if len(data) != size:
            raise RecordingError(self.paths.video, "file shrank while reading", f"frame {index}")
        try:  # the size first: OpenCV allocates what the header says before it reads a pixel
            width, height = jpeg_size(data)
        except JpegHeaderError as error:
            problem = f"frame {index}: JPEG data does not decode: {error}"
            raise RecordingError(self.paths.video, problem, f"byte {offset + error.offset}") from None
        if (width, height) != self.color_size:
            found = f"image is {width}x{height}, the header says {self.color_size}"
            problem = f"{found} (read from its JPEG header; not decoded)"
            raise RecordingError(self.paths.video, problem, f"frame {index}")
        image = cv2.imdecode(np.frombuffer(data, np.uint8), cv2.IMREAD_COLOR)
        if image is None:
            raise RecordingError(
                self.paths.video, f"frame {index}: JPEG data does not decode", f"byte {offset}"
            )
        if (image.shape[1], image.shape[0]) != self.color_size:
            raise RecordingError(self.paths.video, f"image is {image.shape[1]}x{image.shape[0]}, the header "
                                 f"says {self.color_size}", f"frame {index}")  # fmt: skip
        return image


def _describe(counts: list[int], started: list[int]) -> str:
    names = ("sidecar lines", "skeleton blocks", "video chunks")
    return ", ".join(
        f"{name} {whole} whole of {begun}"
        for name, whole, begun in zip(names[: len(counts)], counts, started, strict=True)
    )


def open_recording(stem_or_path: str | Path) -> Recording:
    """Open a recording by its stem or any of its three files (.skeleton, _rgb.avi, .jsonl)."""
    return Recording(RecordingPaths.of(stem_or_path))


def recover(stem_or_path: str | Path) -> Recording:
    """Rewrite a recording that was not closed cleanly as a clean one, keeping its whole frames.

    The result is what a clean close would have written. Each file is written to a temporary file
    and moved into place, the sidecar last, so a crash during recovery leaves a recording that still
    opens (as recovered) with the same frames.
    """
    recording = open_recording(stem_or_path)
    if not recording.recovered:
        return recording
    paths, count = recording.paths, recording.num_frames
    if recording._video is not None:
        _replace_with(paths.video, lambda path: _remux(recording, count, path))
    skeleton = [f"{count:<{COUNT_WIDTH}}{NEWLINE}"]
    skeleton += [format_frame(bodies, NEWLINE) for bodies in recording._bodies[:count]]
    _replace_with(paths.skeleton, lambda path: path.write_bytes("".join(skeleton).encode("ascii")))
    kept = _read_bytes(paths.sidecar)[: recording._sidecar.line_ends[count]]
    end = _json_line(paths.sidecar, {"end": True, "frames": count}, f"line {count + 2}")
    _replace_with(paths.sidecar, lambda path: path.write_bytes(kept + end))
    log.warning("%s: recovered %d frames", paths.stem, count)
    return open_recording(paths.stem)


def _remux(recording: Recording, count: int, path: Path) -> None:
    """The first `count` JPEG chunks, copied (not re-encoded) into a finished AVI at `path`."""
    assert recording._video is not None and recording.color_size is not None
    writer = _MjpegAviWriter(path, *recording.color_size, recording.fps, exclusive=False)
    try:
        with open(recording.paths.video, "rb") as video:
            for offset, size in recording._video.chunks[:count]:
                video.seek(offset)
                writer.append(video.read(size))
        writer.finish()
    finally:
        writer.file.close()
