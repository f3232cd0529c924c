"""Writing the NTU RGB+D `.skeleton` text format (read by `recordings.ntu.skeleton`) byte for byte.

Floats are written as C#'s "G7" (`format(x, ".7G")`), as the Kinect SDK's tools wrote them, so a read
file writes back byte for byte with its own line ending; a recorder appends `format_frame` blocks.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from sta_hands.contract.errors import RecordingError
from sta_hands.contract.frame import NUM_JOINTS, Body


def format_number(value: float) -> str:
    """A float as C#'s "G7" writes it (7 significant digits, "E-05" exponents, "0" for zero)."""
    if math.isnan(value):
        return "NaN"
    if math.isinf(value):
        return "Infinity" if value > 0 else "-Infinity"
    return format(value, ".7G")


def format_header(count: int, newline: str = "\n") -> str:
    """Line 1 of a `.skeleton` file: the frame count."""
    return f"{int(count)}{newline}"


def format_body(body: Body, newline: str = "\n") -> str:
    """The body-info line, joint count and 25 joint lines of one body."""
    lean_x, lean_y = body.lean
    info = (
        f"{body.id} {body.clipped_edges} {body.hand_left_confidence} {body.hand_left_state} "
        f"{body.hand_right_confidence} {body.hand_right_state} {body.is_restricted} "
        f"{format_number(lean_x)} {format_number(lean_y)} {body.lean_tracking}"
    )
    columns = np.hstack([body.joints, body.depth_px, body.color_px, body.orientation]).tolist()
    tracking = body.tracking.tolist()
    joints = [
        " ".join(map(format_number, row)) + f" {state}" for row, state in zip(columns, tracking, strict=True)
    ]
    return newline.join([info, str(NUM_JOINTS), *joints]) + newline


def format_frame(bodies: Sequence[Body], newline: str = "\n") -> str:
    """One frame block: the body count and every body (what an appending recorder writes)."""
    return f"{len(bodies)}{newline}" + "".join(format_body(body, newline) for body in bodies)


def format_skeleton(frames: Sequence[Sequence[Body]], newline: str = "\n") -> str:
    """A whole `.skeleton` file as text."""
    _check_newline(newline)
    return format_header(len(frames), newline) + "".join(format_frame(bodies, newline) for bodies in frames)


def write_skeleton(path: str | Path, frames: Sequence[Sequence[Body]], newline: str = "\n") -> None:
    """Write `frames` as a `.skeleton` file with the given line ending."""
    path = Path(path)
    data = format_skeleton(frames, newline).encode("ascii")
    try:
        path.write_bytes(data)
    except OSError as error:
        raise RecordingError(path, f"cannot write the file: {error.strerror or error}") from None


def _check_newline(newline: str) -> None:
    if newline not in ("\n", "\r\n"):
        raise ValueError(f"newline must be '\\n' or '\\r\\n', got {newline!r}")
