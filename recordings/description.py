"""What `sta-hands info` says of a clip, in one dict that every format's `describe()` fills the same way:
its name and NTU fields, class, frame counts, bodies per frame, video, alignment and problems."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from sta_hands.contract.errors import RecordingError
from sta_hands.contract.frame import HAND_LEFT, HAND_RIGHT, Body
from sta_hands.recordings.ntu.names import SampleName, parse_sample_name


def sample_name_or_none(path: Path) -> SampleName | None:
    try:
        return parse_sample_name(path)
    except RecordingError:
        return None


def _hands_outside(frames: tuple[tuple[Body, ...], ...], size: tuple[int, int] | None) -> int:
    """Frames where a hand joint of some body falls outside the colour image."""
    if size is None:
        return 0
    width, height = size
    count = 0
    for bodies in frames:
        xy = np.array([body.color_px[[HAND_LEFT, HAND_RIGHT]] for body in bodies]).reshape(-1, 2)
        inside = (xy[:, 0] >= 0) & (xy[:, 0] < width) & (xy[:, 1] >= 0) & (xy[:, 1] < height)
        count += int(not inside.all())
    return count


def clip_description(
    path: Path,
    name: SampleName | None,
    class_name: str | None,
    bodies: tuple[tuple[Body, ...], ...],
    video: dict[str, Any] | None,
    frames: int,
) -> dict[str, Any]:
    problems = []
    if video is not None and bodies and video["frames"] != len(bodies):
        problems.append(
            f"the skeleton has {len(bodies)} frames and the video {video['frames']}; replay uses {frames}"
        )
    size = None if video is None else (video["width"], video["height"])
    outside = _hands_outside(bodies, size)
    if outside:
        problems.append(f"{outside} frames have a hand joint outside the image (crops are padded)")
    empty = sum(1 for frame_bodies in bodies if not frame_bodies)
    if empty:
        problems.append(f"{empty} frames have no body")
    return {
        "path": str(path),
        "name": str(name) if name is not None else path.name,
        "fields": None if name is None else {
            "setup": name.setup, "camera": name.camera, "performer": name.performer,
            "replication": name.replication, "action": name.action,
        },
        "action": None if name is None else name.action,
        "class_name": class_name,
        "frames": frames,
        "skeleton_frames": len(bodies),
        "bodies_per_frame": [len(frame_bodies) for frame_bodies in bodies],
        "video": video,
        "aligned": video is None or not bodies or video["frames"] == len(bodies),
        "problems": problems,
    }  # fmt: skip
