"""The NTU RGB+D `.skeleton` text format and its strict and crash-tolerant reading.

Layout (docs/ntu-format.md section 2): line 1 holds the frame count; each frame is a body count
followed, per body, by a 10-value body-info line, the joint count (25) and 25 joint lines of 12
values. Every malformed input raises `RecordingError` at ``line N``. A read file keeps its line
ending (`SkeletonFile.newline`), so `recordings.ntu.skeleton_writer` writes it back byte for byte.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from sta_hands.contract.errors import RecordingError, reading
from sta_hands.contract.frame import NUM_JOINTS, Body

JOINT_VALUES = 12
INFO_VALUES = 10
BODY_LINES = 2 + NUM_JOINTS  # body-info line, joint count, joint lines
MAX_BODY_ID = 2**64 - 1

_NUMBER = re.compile(r"[-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?")
_NON_FINITE = re.compile(r"[-+]?(?:nan|inf|infinity)", re.IGNORECASE)
_INTEGER = re.compile(r"[-+]?\d+")
_NUMBER_CHARS = str.maketrans("", "", "0123456789.-+eE")
_INFO_FIELDS = (
    "body ID", "clippedEdges", "handLeftConfidence", "handLeftState", "handRightConfidence",
    "handRightState", "isRestricted", "leanX", "leanY", "lean trackingState",
)  # fmt: skip
_PROJECTED_COLUMNS = slice(3, 7)  # depthX, depthY, colorX, colorY: NaN where Kinect could not project
_JOINT_FIELDS = (
    "x", "y", "z", "depthX", "depthY", "colorX", "colorY",
    "orientationW", "orientationX", "orientationY", "orientationZ", "trackingState",
)  # fmt: skip


@dataclass(frozen=True)
class SkeletonFile:
    """A parsed `.skeleton` file: the bodies of every frame and how the file was laid out.

    `declared_frames` is the count on line 1; `truncated` is True when a crash-tolerant read
    (``allow_truncated=True``) stopped before that many whole frames or dropped a partial frame.
    `unprojected_joints` counts the joint lines whose image coordinates (depthX ... colorY) are NaN, as
    the official NTU-120 files have for some untracked joints: those joints are read as not tracked
    (trackingState 0), their values kept as written.
    """

    frames: tuple[tuple[Body, ...], ...]
    newline: str = "\n"
    path: Path | None = None
    declared_frames: int | None = None
    truncated: bool = False
    unprojected_joints: int = 0

    def __post_init__(self) -> None:
        object.__setattr__(self, "frames", tuple(tuple(bodies) for bodies in self.frames))
        if self.declared_frames is None:
            object.__setattr__(self, "declared_frames", len(self.frames))

    def __len__(self) -> int:
        return len(self.frames)


class _Truncated(RecordingError):
    """The file ends inside a frame (a crash-tolerant read keeps the frames before it)."""


# ---------------------------------------------------------------- reading


def read_skeleton(
    path: str | Path, *, allow_truncated: bool = False, allow_nan: bool | None = None
) -> SkeletonFile:
    """Read an NTU `.skeleton` file.

    Strict by default: the frame count on line 1 must match the frames present. With
    `allow_truncated` (crash recovery) the whole frames before a cut-off are returned and
    `truncated`/`declared_frames` say what was lost; frames past the declared count are kept (a
    recorder's header says 0 until it closes), and an unterminated last line or a zero-filled tail
    counts as cut off. `allow_nan` (default: `allow_truncated`) accepts NaN and infinite values.
    """
    path = Path(path)
    return parse_skeleton_text(_read_text(path), path, allow_truncated=allow_truncated, allow_nan=allow_nan)


def _read_text(path: Path) -> str:
    """The file's contents as ASCII text, or a RecordingError saying why not."""
    with reading(path, "a .skeleton file"):
        data = path.read_bytes()
    try:
        return data.decode("ascii")
    except UnicodeDecodeError as error:
        line = data.count(b"\n", 0, error.start) + 1
        found = data[error.start]
        raise RecordingError(
            path, f"expected ASCII text, found byte 0x{found:02x} (binary or non-ASCII data)", f"line {line}"
        ) from None


def parse_skeleton_text(
    text: str,
    path: str | Path | None = None,
    *,
    allow_truncated: bool = False,
    allow_nan: bool | None = None,
) -> SkeletonFile:
    """Parse the text of a `.skeleton` file; `path` only names the file in errors."""
    path = None if path is None else Path(path)
    nan_ok = allow_truncated if allow_nan is None else allow_nan
    return _Parser(text, path, allow_truncated, nan_ok).parse()


def _newline_of(text: str) -> str:
    """The line ending of the first line: "\\r\\n" or "\\n"."""
    end = text.find("\n")
    return "\r\n" if end > 0 and text[end - 1] == "\r" else "\n"


def _count(number: int, singular: str, plural: str | None = None) -> str:
    """ "1 line", "2 lines"."""
    return f"{number} {singular if number == 1 else plural or singular + 's'}"


def _following(lines: int) -> str:
    """ "only 1 line follows", "only 3 lines follow"."""
    return f"only {_count(lines, 'line')} {'follows' if lines == 1 else 'follow'}"


def _shown(token: str) -> str:
    """A token quoted for an error message, shortened when long."""
    return repr(token if len(token) <= 24 else token[:24] + "...")


class _Parser:
    """One pass over the lines of a `.skeleton` text."""

    def __init__(self, text: str, path: Path | None, allow_truncated: bool, allow_nan: bool) -> None:
        self.path = path
        self.allow_truncated = allow_truncated
        self.allow_nan = allow_nan
        self.newline = _newline_of(text)
        self.partial_tail = False
        self.unprojected_joints = 0
        if allow_truncated:
            text = text.rstrip("\x00")  # a crash can leave the unwritten tail zero-filled
        self.lines = text.split("\n")
        if self.lines[-1] == "":
            self.lines.pop()
        elif allow_truncated and len(self.lines) > 1:
            self.lines.pop()  # an unterminated last line may have been cut mid-write
            self.partial_tail = True
        while self.lines and not self.lines[-1].strip():
            self.lines.pop()

    # errors ------------------------------------------------------------
    def error(self, index: int, problem: str) -> RecordingError:
        return RecordingError(self.path, problem, f"line {index + 1}")

    def end_of_file(self, index: int, expected: str) -> _Truncated:
        return _Truncated(self.path, f"expected {expected}, found the end of the file", f"line {index + 1}")

    # top level ---------------------------------------------------------
    def parse(self) -> SkeletonFile:
        if not self.lines:
            raise self.error(0, "expected the frame count on line 1, found an empty file")
        declared = self.count(0, "the frame count")
        remaining = len(self.lines) - 1
        if declared > remaining and not self.allow_truncated:
            raise _Truncated(
                self.path,
                f"the header declares {_count(declared, 'frame')}, but {_following(remaining)} "
                "(each frame needs at least one)",
                "line 1",
            )
        frames, truncated = self.frames(declared)
        return SkeletonFile(
            frames=tuple(frames),
            newline=self.newline,
            path=self.path,
            declared_frames=declared,
            truncated=truncated or len(frames) < declared,
            unprojected_joints=self.unprojected_joints,
        )

    def frames(self, declared: int) -> tuple[list[tuple[Body, ...]], bool]:
        """Strict: exactly `declared` frames. Tolerant: every whole frame up to the end."""
        frames: list[tuple[Body, ...]] = []
        index = 1
        while self.more_frames(index, len(frames), declared):
            try:
                bodies, index = self.frame(index, len(frames), declared)
            except _Truncated:
                if self.allow_truncated:
                    return frames, True
                raise
            frames.append(bodies)
        if index < len(self.lines):
            found = self.lines[index].strip()
            raise self.error(
                index,
                f"expected the end of the file after {_count(declared, 'frame')}, found {_shown(found)}",
            )
        return frames, self.partial_tail

    def more_frames(self, index: int, parsed: int, declared: int) -> bool:
        """Whether another frame is expected: by the header (strict) or by the lines left (tolerant)."""
        return index < len(self.lines) if self.allow_truncated else parsed < declared

    def frame(self, index: int, number: int, declared: int) -> tuple[tuple[Body, ...], int]:
        """The bodies of the frame starting at line `index`, and the line after it."""
        if index >= len(self.lines):
            raise self.end_of_file(index, f"the body count of frame {number + 1} of {declared}")
        count = self.count(index, "a body count")
        remaining = len(self.lines) - index - 1
        if count * BODY_LINES > remaining:
            raise _Truncated(
                self.path,
                f"frame {number + 1} declares {_count(count, 'body', 'bodies')} "
                f"({_count(count * BODY_LINES, 'line')}), but {_following(remaining)}",
                f"line {index + 1}",
            )
        bodies = []
        index += 1
        for _ in range(count):
            bodies.append(self.body(index))
            index += BODY_LINES
        return tuple(bodies), index

    # lines -------------------------------------------------------------
    def tokens(self, index: int, expected: str) -> list[str]:
        if index >= len(self.lines):
            raise self.end_of_file(index, expected)
        tokens = self.lines[index].split()
        if not tokens:
            raise self.error(index, f"expected {expected}, found an empty line")
        return tokens

    def count(self, index: int, what: str) -> int:
        """A line holding one non-negative integer."""
        tokens = self.tokens(index, what)
        if len(tokens) != 1:
            raise self.error(index, f"expected {what} (one integer), found {len(tokens)} values")
        token = tokens[0]
        if not _INTEGER.fullmatch(token):
            raise self.error(index, f"expected {what} (an integer), found {_shown(token)}")
        value = int(token)
        if value < 0:
            raise self.error(index, f"expected {what} >= 0, found {value}")
        return value

    def body(self, index: int) -> Body:
        """The body whose info line is line `index`."""
        info = self.info(index)
        joint_count = self.count(index + 1, "the joint count")
        if joint_count != NUM_JOINTS:
            raise self.error(index + 1, f"expected joint count {NUM_JOINTS}, found {joint_count}")
        values = self.joints(index + 2)
        return Body(
            id=info[0],
            joints=values[:, 0:3],
            depth_px=values[:, 3:5],
            color_px=values[:, 5:7],
            orientation=values[:, 7:11],
            tracking=values[:, 11].astype(np.uint8),
            clipped_edges=info[1],
            hand_left_confidence=info[2],
            hand_left_state=info[3],
            hand_right_confidence=info[4],
            hand_right_state=info[5],
            is_restricted=info[6],
            lean=(info[7], info[8]),
            lean_tracking=info[9],
        )

    def info(self, index: int) -> list:
        """The 10 values of a body-info line: integers, except leanX and leanY."""
        tokens = self.tokens(index, f"a body-info line of {INFO_VALUES} values")
        if len(tokens) != INFO_VALUES:
            raise self.error(index, f"expected {INFO_VALUES} values in a body-info line, found {len(tokens)}")
        values: list = []
        for column, token in enumerate(tokens):
            if column in (7, 8):
                values.append(self.number(index, token, f"{_INFO_FIELDS[column]} of a body-info line"))
                continue
            if not token.isdigit():
                raise self.error(
                    index,
                    f"expected {_INFO_FIELDS[column]} (an integer >= 0) in a body-info line, "
                    f"found {_shown(token)}",
                )
            values.append(int(token))
        if values[0] > MAX_BODY_ID:
            raise self.error(index, f"expected a 64-bit body ID, found {values[0]}")
        return values

    def number(self, index: int, token: str, what: str) -> float:
        """One float token, checked as the format allows."""
        if _NUMBER.fullmatch(token):
            value = float(token)
            if math.isfinite(value) or self.allow_nan:
                return value
            raise self.error(index, f"expected a finite number for {what}, found {token} (too large)")
        if _NON_FINITE.fullmatch(token):
            if self.allow_nan:
                return float(token)
            shown = "NaN" if token.lstrip("+-").lower() == "nan" else f"infinity ({token})"
            raise self.error(index, f"expected a finite number for {what}, found {shown}")
        raise self.error(index, f"expected a number for {what}, found {_shown(token)}")

    def joints(self, start: int) -> np.ndarray:
        """25 x 12 float64 values of the joint lines from line `start` (one numpy conversion)."""
        rows = [self.lines[i].split() for i in range(start, start + NUM_JOINTS)]
        flat: list[str] = []
        for offset, row in enumerate(rows):
            if len(row) != JOINT_VALUES:
                raise self.error(
                    start + offset, f"expected {JOINT_VALUES} numbers in a joint line, found {len(row)}"
                )
            flat += row
        values = self.fast_numbers(flat)
        if values is None:
            values = self.checked_numbers(rows, start)
        values = values.reshape(NUM_JOINTS, JOINT_VALUES)
        self.check_tracking(values[:, 11], rows, start)
        unprojected = ~np.isfinite(values[:, _PROJECTED_COLUMNS]).all(axis=1)
        if unprojected.any():
            values[unprojected, 11] = 0
            self.unprojected_joints += int(unprojected.sum())
        return values

    def fast_numbers(self, flat: list[str]) -> np.ndarray | None:
        """All tokens as floats when they are plainly well-formed and finite, else None."""
        if "".join(flat).translate(_NUMBER_CHARS):
            return None
        try:
            values = np.array(list(map(float, flat)), dtype=np.float64)
        except ValueError:
            return None
        return values if np.isfinite(values).all() else None

    def checked_numbers(self, rows: list[list[str]], start: int) -> np.ndarray:
        """Token-by-token conversion that names the first bad value; a NaN image coordinate is kept (the
        joint is read as not tracked)."""
        projected = range(JOINT_VALUES)[_PROJECTED_COLUMNS]
        values = [
            float(token)
            if column in projected and token.lstrip("+-").lower() == "nan"
            else self.number(start + offset, token, f"{_JOINT_FIELDS[column]} of a joint line")
            for offset, row in enumerate(rows)
            for column, token in enumerate(row)
        ]
        return np.array(values, dtype=np.float64)

    def check_tracking(self, states: np.ndarray, rows: list[list[str]], start: int) -> None:
        """The last joint value must be a tracking state 0, 1 or 2."""
        good = (states == 0) | (states == 1) | (states == 2)
        if good.all():
            return
        offset = int(np.argmin(good))
        raise self.error(
            start + offset,
            f"expected a joint trackingState of 0, 1 or 2, found {_shown(rows[offset][-1])}",
        )
