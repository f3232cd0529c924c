"""`sta-hands info PATH`: what a person asks first about a clip or a recording."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from recordings.description import clip_description, sample_name_or_none
from recordings.errors import RecordingError
from recordings.ntu import NTU60_CLASSES, NtuClip
from recordings.own import RecordingPaths, open_recording


def _describe_recording(path: Path) -> dict[str, Any]:
    recording = open_recording(path)
    header = recording.header
    stem = RecordingPaths.of(path).stem
    name = sample_name_or_none(stem)
    class_names = header.get("class_names")
    synthetic = header.get("synthetic") or {}
    class_name = synthetic.get("class_name")
    if class_name is None and name is not None and class_names is None:
        class_name = NTU60_CLASSES[name.action - 1] if name.action <= len(NTU60_CLASSES) else None
    bodies = recording.bodies
    video = None
    if recording.color_size is not None:
        width, height = recording.color_size
        video = {"frames": recording.num_frames, "width": width, "height": height, "fps": recording.fps}
    info = clip_description(path, name, class_name, bodies, video, recording.num_frames)
    info["kind"] = "recording"
    info["recording"] = {
        "device": header.get("device"),
        "app_version": header.get("app_version"),
        "created": header.get("created"),
        "recovered": recording.recovered,
        "frames_dropped_at_recovery": recording.frames_dropped_at_recovery,
    }
    if recording.recovered:
        info["problems"].append(
            f"not closed cleanly: kept {recording.num_frames} whole frames, "
            f"dropped {recording.frames_dropped_at_recovery} partial"
        )
    return info


def describe(path: str | Path) -> dict[str, Any]:
    """A JSON-able description of an NTU clip, a Kinect Studio .xef file or one of the app's recordings."""
    path = Path(path)
    if path.is_dir():
        raise RecordingError(path, "a folder; give a .skeleton, _rgb.avi or .jsonl file")
    if path.suffix.lower() == ".xef":
        from recordings.xef import describe_xef

        return describe_xef(path)
    if RecordingPaths.of(path).sidecar.is_file():
        return _describe_recording(path)
    with NtuClip(path) as clip:
        return clip.describe()


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
