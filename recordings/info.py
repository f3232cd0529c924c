"""`sta-hands info PATH`: what a person asks first about a clip or a recording."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from recordings.errors import RecordingError
from recordings.frame import HAND_LEFT, HAND_RIGHT, Body
from recordings.ntu import NTU60_CLASSES, NtuClip, SampleName, parse_sample_name
from recordings.own import RecordingPaths, open_recording


def _sample_name(path: Path) -> SampleName | None:
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


def _common(
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


def _describe_ntu(path: Path) -> dict[str, Any]:
    with NtuClip(path) as clip:
        name = clip.name
        class_name = name.class_name if name is not None else None
        bodies = clip.skeleton.frames if clip.skeleton is not None else ()
        video = None
        if clip.video_path is not None and clip.video_size is not None:
            width, height = clip.video_size
            video = {"frames": clip.video_frames, "width": width, "height": height, "fps": clip.fps}
        info = _common(path, name, class_name, bodies, video, clip.num_frames)
        if clip.skeleton_path is None:
            info["problems"].append("no skeleton file beside the video: no bodies, no hand crops")
    info["kind"] = "ntu"
    return info


def _describe_recording(path: Path) -> dict[str, Any]:
    recording = open_recording(path)
    header = recording.header
    stem = RecordingPaths.of(path).stem
    name = _sample_name(stem)
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
    info = _common(path, name, class_name, bodies, video, recording.num_frames)
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
    return _describe_ntu(path)


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
