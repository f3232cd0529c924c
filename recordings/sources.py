"""`open_reader`: the one dispatch from what a user names to a `Reader`, for `run`, the GUI, `info` and
the training data alike.

A spec is a path (an NTU `.skeleton` / `_rgb.avi`, a Kinect Studio `.xef`, one of the app's own
recordings), an NTU sample name (looked up in `--data` or `$STA_HANDS_NTU_ROOT`), `demo` (the bundled
clip), `synthetic` (a clip rendered in memory) or `kinect` (the live Kinect v2, Windows). A new kind
of source is a module with a `Reader` and one entry in `NAMED` (a word) or `BY_SUFFIX` (a file).
"""

from __future__ import annotations

import itertools
import os
from collections.abc import Callable, Iterator
from importlib import resources
from pathlib import Path

from recordings.errors import RecordingError, UserError
from recordings.frame import Frame
from recordings.ntu import SAMPLE_NAME, NtuClip
from recordings.own import RecordingPaths, open_recording
from recordings.reader import FunctionReader, ImageFlags, Reader
from recordings.xef import open_xef

DEMO_CLIP_STEM = "demo_clip"
CLIP_SUFFIXES = (".skeleton", ".avi", ".xef", ".jsonl")


def demo_clip_path() -> Path:
    """The bundled synthetic demo clip (its `.jsonl` sidecar), found through importlib.resources."""
    path = Path(str(resources.files("recordings") / "samples" / f"{DEMO_CLIP_STEM}.jsonl"))
    if not path.is_file():
        raise UserError(f"the demo clip is missing at {path}; rebuild it with: python -m export.make_demo")
    return path


def synthetic_reader(seed: int = 0) -> Reader:
    """One synthetic clip (the first `plan_clips(1, seed)` gives), rendered lazily as it is read."""
    from recordings.synthetic import plan_clips, render_clip

    spec = plan_clips(1, seed)[0]
    _frames, _metadata, extras = render_clip(spec, images=False)

    def frames_from(start: int, images: ImageFlags = None) -> Iterator[Frame]:
        return itertools.islice(render_clip(spec)[0], start, None)  # 1080p each: rendered as read

    return FunctionReader(f"synthetic clip {spec.name} (seed {seed})", len(extras), 30.0, frames_from)


def kinect_reader() -> Reader:
    """The live Kinect v2; fails at once, in one line, when the binding, the SDK or Windows is missing."""
    from recordings.kinect import KinectSource
    from recordings.kinect_binding import kinect_status

    available, reason = kinect_status()
    if not available:
        raise UserError(reason)
    return KinectSource()


def _file_reader(path: Path) -> Reader:
    """The reader of a file: a `.xef`, one of the app's recordings (a sidecar beside it), else NTU."""
    if path.suffix.lower() == ".xef":
        return open_xef(path)
    if RecordingPaths.of(path).sidecar.is_file():
        return open_recording(path)
    return NtuClip(path)


NAMED: dict[str, Callable[[int], Reader]] = {
    "demo": lambda seed: open_recording(demo_clip_path()),
    "synthetic": synthetic_reader,
    "kinect": lambda seed: kinect_reader(),
}


def open_reader(
    spec: str | Path, data_folder: str | Path | None = None, seed: int = 0, *, allow_empty: bool = False
) -> Reader:
    """The reader of what `spec` names (module doc); a file with no frame at all is refused, unless
    `allow_empty` (`info` describes it)."""
    reader = _open(str(spec), data_folder, seed)
    if reader.num_frames == 0 and not allow_empty:
        raise RecordingError(reader.path or spec, "no frames (expected at least one colour or body frame)")
    return reader


def _open(spec: str, data_folder: str | Path | None, seed: int) -> Reader:
    if spec in NAMED:
        return NAMED[spec](seed)
    path = Path(spec)
    if path.exists() or path.suffix.lower() in CLIP_SUFFIXES:  # a missing clip: its reader says what
        if path.is_dir():
            raise RecordingError(
                path, "a folder; give a clip (.skeleton, _rgb.avi, .xef) or a recording (.jsonl)"
            )
        return _file_reader(path)
    if SAMPLE_NAME.match(spec):
        return NtuClip(spec, Path(data_folder or os.environ.get("STA_HANDS_NTU_ROOT", ".")))
    raise UserError(f"{spec}: no such file, and not an NTU sample name, 'demo', 'synthetic' or 'kinect'")
