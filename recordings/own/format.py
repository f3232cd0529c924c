"""The files of a recording in the app's own format, and its JSON-lines sidecar written and parsed.

`RecordingPaths` names the three files of a stem (``.skeleton``, ``_rgb.avi``, ``.jsonl``). The
sidecar is one JSON object per line: a header (format, version, app version, creation time, device,
fps, colour size, the hand-crop rule of its frames (`contract.hand_crop`) and the caller's
metadata), one line per frame (index, timestamp and the caller's per-frame extras), and
``{"end": true, "frames": N}`` at a clean close. `parse_sidecar` reads it back, checking every line,
and takes a last line cut short by a crash as a frame not written.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from itertools import accumulate
from pathlib import Path
from typing import Any

import numpy as np

from sta_hands.contract.errors import RecordingError, reading

FORMAT = "sta-hands-recording"
VERSION = 1
SKELETON_SUFFIX = ".skeleton"
VIDEO_SUFFIX = "_rgb.avi"
SIDECAR_SUFFIX = ".jsonl"
NEWLINE = "\n"
COUNT_WIDTH = 12  # characters of the fixed-width frame count on line 1 of the .skeleton file

SYNTHETIC_DEVICE = "synthetic"  # the `device` of clips the synthetic generator writes (the demo clip too)
HEADER_KEYS = ("format", "version", "app_version", "created", "device", "fps", "color_size", "hand_crop")
FRAME_KEYS = ("index", "timestamp", "end")


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


# ----------------------------------------------------------------------------------------- the sidecar


def _json_default(value: Any) -> Any:
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, np.ndarray):
        return value.tolist()
    if isinstance(value, Path):
        return str(value)
    raise TypeError(f"{type(value).__name__} is not JSON serialisable")


def json_line(path: Path, record: dict[str, Any], position: str) -> bytes:
    try:
        text = json.dumps(record, default=_json_default, separators=(", ", ": "))
    except (TypeError, ValueError) as error:
        raise RecordingError(path, f"cannot store as JSON: {error}", position) from None
    return (text + "\n").encode("utf-8")


@dataclass(frozen=True)
class Sidecar:
    """The parsed .jsonl: header, whole frame records, and where each whole line ends."""

    header: dict[str, Any]
    records: list[dict[str, Any]]
    line_ends: list[int]  # byte offset after line 1 (the header), line 2, ...
    ended: bool
    partial: bool  # trailing bytes that are not a whole record


def parse_sidecar(path: Path) -> Sidecar:
    data = read_bytes(path)
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
            return Sidecar(header, records, ends[:number], True, False)
        _check_record(path, record, len(records), number)
        records.append(record)
    return Sidecar(header, records, ends[: len(records) + 1], False, partial)


def read_bytes(path: Path) -> bytes:
    with reading(path):
        return path.read_bytes()


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
