"""`sta-hands info PATH`: what a person asks first about a clip or a recording."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from sta_hands.recordings.sources import bodies_from, open_reader


def describe(path: str | Path, pose: str = "auto", mirror: str = "auto") -> dict[str, Any]:
    """A JSON-able description of an NTU clip, a Kinect Studio .xef file, one of the app's recordings, a
    video or a webcam, with where its bodies come from (`pose`, as `open_reader`'s) and whether its
    images are flipped (`mirror`, as `open_reader`'s)."""
    with open_reader(path, allow_empty=True, pose=pose, mirror=mirror) as reader:
        info = reader.describe()
        info.setdefault("bodies_from", bodies_from(reader))
        return info


def format_info(info: dict[str, Any]) -> str:
    """The description as text for a person."""
    counts = info["bodies_per_frame"]
    lines = [
        f"{info['name']}  ({info['kind']})",
        f"  class:   {info['class_name'] or 'unknown'}"
        + (f" (A{info['action']:03d})" if info["action"] else ""),
        f"  frames:  {info['frames']} (skeleton {info['skeleton_frames']})",
    ]
    if counts:
        lines.append(f"  bodies:  {min(counts)}-{max(counts)} per frame")
    elif counts is None:  # an .xef: info reads its index only, not every body frame
        lines.append("  bodies:  not counted (read when the frames are played)")
    else:
        lines.append("  bodies:  none recorded (no skeleton)")
    if info.get("bodies_from"):  # set by `describe` (a reader's own describe() may not know)
        lines.append(f"  bodies from: {info['bodies_from']}")
    if info.get("hand_crop"):
        lines.append(f"  hand crop: {info['hand_crop']}")
    if info.get("mirrored"):
        lines.append(f"  image:   {info['mirrored']}")
    video = info["video"]
    if video is None:
        lines.append("  video:   none (skeleton only)")
    else:
        lines.append(
            f"  video:   {video['width']}x{video['height']}, {video['fps']:.2f} fps, "
            + (f"{video['frames']} frames" if video["frames"] is not None else "live")
            + (" (the header's count, not checked)" if video.get("frames_checked") is False else "")
        )
    lines.append(f"  aligned: {'yes' if info['aligned'] else 'no'}")
    lines.extend(f"  problem: {problem}" for problem in info["problems"])
    return "\n".join(lines)
