"""What `sta-hands run SOURCE` and the GUI can read: one `Source` per kind, all yielding `Frame`s.

SOURCE is a path (an NTU `.skeleton` / `_rgb.avi`, a Kinect Studio `.xef`, one of the app's own
recordings), an NTU sample name (looked up in `--data` or `$STA_HANDS_NTU_ROOT`), `demo` (the bundled clip),
`synthetic` (a clip rendered in memory) or `kinect` (the live Kinect v2, Windows).
"""

from __future__ import annotations

import itertools
import os
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

import numpy as np

from recordings.errors import UserError
from recordings.frame import Frame
from recordings.ntu import SAMPLE_NAME, NtuClip
from recordings.own import RecordingPaths, open_recording

DEMO_CLIP_STEM = "demo_clip"


@dataclass(frozen=True)
class Source:
    """A replayable source: `open(start)` gives a fresh iterator of frames each time (loop, seek).

    `open(start, images)` may skip decoding the images of frames whose flag is False (sources that
    cannot skip decode them anyway); `timestamps`, when known ahead, lets a consumer choose them.
    """

    description: str
    num_frames: int | None
    fps: float
    open: Callable[..., Iterator[Frame]]  # (start, images=None) -> frames from `start`
    path: Path | None = None
    timestamps: np.ndarray | None = None
    stop: Callable[[], None] | None = None  # wakes a live source that may be waiting (e.g. a lost sensor)
    problem: Callable[[], str | None] | None = None  # a live device's trouble now (lost, not found), or None


def read(source: Source, start: int = 0, images: np.ndarray | None = None) -> Iterator[Frame]:
    """The frames of `source` from `start` (`images`: see `Source`); the reader is closed when this
    generator ends, however it ends, in the thread that read it (a live device is released there)."""
    frames = source.open(start) if images is None else source.open(start, images)
    try:
        yield from frames
    finally:
        close(frames)


def close(frames: Iterable[Frame]) -> None:
    """Close a reader's frame iterator if it can be closed (a generator over a file or a device)."""
    closer = getattr(frames, "close", None)
    if closer is not None:
        closer()


def demo_clip_path() -> Path:
    """The bundled synthetic demo clip (its `.jsonl` sidecar), found through importlib.resources."""
    path = Path(str(resources.files("recordings") / "samples" / f"{DEMO_CLIP_STEM}.jsonl"))
    if not path.is_file():
        raise UserError(f"the demo clip is missing at {path}; rebuild it with: python -m models.make_demo")
    return path


def _recording_source(path: Path) -> Source:
    recording = open_recording(path)
    return Source(
        description=f"recording {RecordingPaths.of(path).stem.name}",
        num_frames=recording.num_frames,
        fps=recording.fps,
        open=lambda start, images=None: recording.frames(start, images),
        path=path,
        timestamps=recording.timestamps,
    )


def _ntu_source(path_or_name: str | Path, folder: Path | None) -> Source:
    clip = NtuClip(path_or_name, folder)
    label = str(clip.name) if clip.name is not None else Path(path_or_name).name
    return Source(
        description=f"NTU clip {label}",
        num_frames=clip.num_frames,
        fps=clip.fps,
        open=lambda start, images=None: clip.frames(start),
        path=clip.skeleton_path or clip.video_path,
    )


def _synthetic_source(seed: int) -> Source:
    from recordings.synthetic import plan_clips, render_clip

    spec = plan_clips(1, seed)[0]
    _frames, _metadata, extras = render_clip(spec, images=False)

    def frames_from(start: int, images: np.ndarray | None = None) -> Iterator[Frame]:
        return itertools.islice(render_clip(spec)[0], start, None)  # rendered lazily, 1080p each

    return Source(
        description=f"synthetic clip {spec.name} (seed {seed})",
        num_frames=len(extras),
        fps=30.0,
        open=frames_from,
    )


def _xef_source(path: Path) -> Source:
    from recordings.xef import open_xef

    xef = open_xef(path)
    return Source(
        description=f"Kinect Studio {path.name}",
        num_frames=xef.num_frames,
        fps=xef.fps,
        open=lambda start, images=None: xef.frames(start, images),
        path=path,
        timestamps=xef.timestamps,
    )


def _kinect_source() -> Source:
    """The live Kinect v2; fails at once, in one line, when the binding, the SDK or Windows is missing."""
    from recordings.kinect import KinectSource, KinectUnavailable, kinect_status

    available, reason = kinect_status()
    if not available:
        raise UserError(reason)
    try:
        kinect = KinectSource()
    except KinectUnavailable as error:
        raise UserError(str(error)) from error
    return Source(
        description=kinect.description,
        num_frames=None,
        fps=kinect.fps,
        open=lambda start=0, images=None: iter(kinect),
        stop=kinect.stop,
        problem=lambda: kinect.status.message if kinect.status.state in ("lost", "failed") else None,
    )


def is_recording(path: Path) -> bool:
    return RecordingPaths.of(path).sidecar.is_file()


def open_source(spec: str, data_folder: str | Path | None = None, seed: int = 0) -> Source:
    """The source named by `spec` (see the module docstring); a file with no frame at all is refused."""
    source = _open(spec, data_folder, seed)
    if source.num_frames == 0:
        raise UserError(f"{source.path or spec}: no frames (expected at least one colour or body frame)")
    return source


def _open(spec: str, data_folder: str | Path | None, seed: int) -> Source:
    if spec == "demo":
        return _recording_source(demo_clip_path())
    if spec == "synthetic":
        return _synthetic_source(seed)
    if spec == "kinect":
        return _kinect_source()
    path = Path(spec)
    if path.exists():
        if path.is_dir():
            raise UserError(f"{path}: a folder; give a clip (.skeleton, _rgb.avi) or a recording (.jsonl)")
        if path.suffix.lower() == ".xef":
            return _xef_source(path)
        return _recording_source(path) if is_recording(path) else _ntu_source(path, None)
    if SAMPLE_NAME.match(spec):
        folder = Path(data_folder or os.environ.get("STA_HANDS_NTU_ROOT", "."))
        return _ntu_source(spec, folder)
    raise UserError(f"{spec}: no such file, and not an NTU sample name, 'demo', 'synthetic' or 'kinect'")
