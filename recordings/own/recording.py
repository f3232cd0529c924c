"""The app's own recording format: the NTU layout plus a JSON-lines sidecar, written to survive a crash.

A recording with stem ``<dir>/<name>`` is three files side by side:

- ``<name>.skeleton``: NTU RGB+D skeleton text (docs/ntu-format.md), so NTU readers, training and
  evaluation take it as they are; like NTU's, its numbers keep 7 significant digits. Line 1, the
  frame count, is a fixed-width field of 12 characters (the count left-justified, padded with
  spaces) so that it can be rewritten in place; readers that split on whitespace accept the padding.
- ``<name>_rgb.avi``: the colour frames as Motion-JPEG in an AVI (RIFF) container, one ``00dc`` chunk
  per frame, with an ``idx1`` index added at close (`recordings.own.mjpeg_avi`, which says why the muxer
  is our own). Absent when the source has no colour images.
- ``<name>.jsonl``: the sidecar, one JSON object per line: a header (format, version, app version,
  creation time, device, fps, colour size, the first frame's hand-crop rule, so that training on the
  recording crops its hands as its live source did, and the caller's metadata), one line per frame (index,
  timestamp and the caller's per-frame extras), and ``{"end": true, "frames": N}`` at a clean close
  (`recordings.own.format`, with `RecordingPaths`).

Crash safety: every file is appended frame by frame without user-space buffering
(`recordings.own.append_file`), in the order video chunk, skeleton block, sidecar line; the sidecar line
is the commit record. A frame counts only when all three of its parts are whole. The files are
fsynced every ``fsync_every`` frames and every ``fsync_seconds``. A recording that was not closed
cleanly opens as ``recovered``: it keeps min(whole sidecar lines, whole skeleton blocks, whole video
chunks) frames and drops the rest, and ``recover`` rewrites it as a clean one
(`recordings.own.reader`).

While a recording is being written, its skeleton header says 0 frames and its AVI sizes are 0; they
are patched at close (or by ``recover``).

This module holds `RecordingWriter`; `Recording`, `open_recording`, `recover`, `RecordingPaths` and
the format's constants are importable from here too.
"""

from __future__ import annotations

import importlib.metadata
import logging
import time
from datetime import datetime
from pathlib import Path
from typing import Any

import cv2

from sta_hands.contract.errors import RecordingError
from sta_hands.contract.frame import Frame
from sta_hands.recordings.ntu.skeleton_writer import format_frame
from sta_hands.recordings.own.append_file import AppendFile
from sta_hands.recordings.own.format import (
    COUNT_WIDTH,
    FORMAT,
    FRAME_KEYS,
    HEADER_KEYS,
    NEWLINE,
    SIDECAR_SUFFIX,
    SKELETON_SUFFIX,
    VERSION,
    VIDEO_SUFFIX,
    RecordingPaths,
    json_line,
)
from sta_hands.recordings.own.mjpeg_avi import MjpegAviWriter
from sta_hands.recordings.own.reader import Recording, open_recording, recover

__all__ = [
    "COUNT_WIDTH", "FORMAT", "NEWLINE", "SIDECAR_SUFFIX", "SKELETON_SUFFIX", "VERSION", "VIDEO_SUFFIX",
    "Recording", "RecordingPaths", "RecordingWriter", "open_recording", "recover",
]  # fmt: skip

log = logging.getLogger(__name__)


def _app_version() -> str:
    try:
        return importlib.metadata.version("sta-hands")
    except importlib.metadata.PackageNotFoundError:
        return "unknown"


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
        json_line(self.paths.sidecar, self._header, "line 1")  # fail now, not at the first frame
        self._overwrite = overwrite
        self._skeleton, self._sidecar = _create_files(self.paths, overwrite)
        self._skeleton.append(f"{0:<{COUNT_WIDTH}}{NEWLINE}".encode("ascii"))
        self._video: MjpegAviWriter | None = None
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
                self._sidecar.append(json_line(self.paths.sidecar, self._header, "line 1"))
            if self._video is not None:
                self._video.finish()
            self._skeleton.patch(0, f"{self.frames_written:<{COUNT_WIDTH}}".encode("ascii"))
            self._sync()  # the other files are whole before the end line says so
            end = {"end": True, "frames": self.frames_written}
            self._sidecar.append(json_line(self.paths.sidecar, end, f"line {self.frames_written + 2}"))
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
        clash = sorted(set(extra or {}) & set(FRAME_KEYS))
        if clash:
            raise RecordingError(
                self.paths.sidecar, f"per-frame extras may not use the keys {clash}", position
            )
        record = {"index": self.frames_written, "timestamp": float(frame.timestamp), **(extra or {})}
        return json_line(self.paths.sidecar, record, position)

    def _start(self, frame: Frame) -> None:
        """At the first frame: the colour size and the hand-crop rule are known, so write the header (and
        open the AVI)."""
        self._header["hand_crop"] = frame.hand_crop.to_metadata()
        if frame.image is not None:
            height, width = frame.image.shape[:2]
            self._color_size = (width, height)
            self._header["color_size"] = [width, height]
            self._video = MjpegAviWriter(self.paths.video, width, height, self.fps,
                                          exclusive=not self._overwrite)  # fmt: skip
        self._sidecar.append(json_line(self.paths.sidecar, self._header, "line 1"))
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

    def _files(self) -> list[AppendFile]:
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
    clash = sorted(set(metadata or {}) & set(HEADER_KEYS))
    if clash:
        raise RecordingError(sidecar, f"metadata may not use the header keys {clash}")


def _create_files(paths: RecordingPaths, overwrite: bool) -> tuple[AppendFile, AppendFile]:
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
    skeleton = AppendFile(paths.skeleton, exclusive=not overwrite)
    try:
        sidecar = AppendFile(paths.sidecar, exclusive=not overwrite)
        if overwrite:
            paths.video.unlink(missing_ok=True)
    except (RecordingError, OSError) as error:
        skeleton.close()
        paths.skeleton.unlink(missing_ok=True)
        if isinstance(error, RecordingError):
            raise
        raise RecordingError(paths.video, f"cannot remove the old video: {error}") from None
    return skeleton, sidecar
