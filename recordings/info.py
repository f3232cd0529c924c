"""`sta-hands info PATH`: what a person asks first about a clip or a recording."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from recordings.sources import open_reader


def describe(path: str | Path) -> dict[str, Any]:
    """A JSON-able description of an NTU clip, a Kinect Studio .xef file or one of the app's recordings."""
    with open_reader(path, allow_empty=True) as reader:
        return reader.describe()


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
        lines.append("  bodies:  none (no skeleton)")
    video = info["video"]
    if video is None:
        lines.append("  video:   none (skeleton only)")
    else:
        lines.append(
            f"  video:   {video['width']}x{video['height']}, {video['fps']:.2f} fps, {video['frames']} frames"
        )
    lines.append(f"  aligned: {'yes' if info['aligned'] else 'no'}")
    lines.extend(f"  problem: {problem}" for problem in info["problems"])
    return "\n".join(lines)
