"""`open_reader`: the one dispatch from what a user names to a `Reader`, for `run`, the GUI, `info` and
the training data alike.

A spec is a path (an NTU `.skeleton` / `_rgb.avi`, a Kinect Studio `.xef`, one of the app's own
recordings, any `.mp4` / `.mov` / `.mkv` / `.avi` video), an NTU sample name (looked up in `--data` or
`$STA_HANDS_NTU_ROOT`), `demo` (the bundled clip), `synthetic` (a clip rendered in memory), `kinect`
(the live Kinect v2, Windows) or `webcam` / `webcam:N` (any camera OpenCV opens). A new kind of source
is a module with a `Reader` and one entry in `NAMED` (a word) or `BY_SUFFIX` (a file).

Where the bodies come from is `pose`'s choice (`recordings.estimated`): "auto" keeps a recorded
skeleton and estimates bodies from the image where there is none (a plain video, the webcam),
"estimate" always estimates (to compare with the Kinect's), "kinect" never does. Before that, `mirror`
flips the images of sources that are not mirror images as a Kinect's are (`recordings.mirror`: "auto"
flips the webcam and videos not named in the NTU layout), so that estimated sides follow the Kinect's.
"""

from __future__ import annotations

import itertools
import logging
import os
from collections.abc import Callable, Iterator
from importlib import resources
from pathlib import Path

from recordings.errors import RecordingError, UserError
from recordings.estimated import EstimatedBodies, EstimatorFactory, bundled_estimator
from recordings.frame import Frame
from recordings.mirror import MirroredImages, should_mirror
from recordings.ntu import SAMPLE_NAME, VIDEO_FILE_SUFFIXES, NtuClip
from recordings.own import RecordingPaths, open_recording
from recordings.reader import RECORDED, SYNTHETIC_CLIP, FunctionReader, ImageFlags, Reader
from recordings.webcam import Webcam, camera_index
from recordings.xef import open_xef

log = logging.getLogger(__name__)

DEMO_CLIP_STEM = "demo_clip"
CLIP_SUFFIXES = (".skeleton", ".xef", ".jsonl", *VIDEO_FILE_SUFFIXES)
POSE_MODES = ("auto", "kinect", "estimate")


def demo_clip_path() -> Path:
    """The bundled synthetic demo clip (its `.jsonl` sidecar), found through importlib.resources."""
    path = Path(str(resources.files("recordings") / "samples" / f"{DEMO_CLIP_STEM}.jsonl"))
    if not path.is_file():
        raise UserError(f"the demo clip is missing at {path}; rebuild it with: python -m commands.make_demo")
    return path


def synthetic_reader(seed: int = 0) -> Reader:
    """One synthetic clip (the first `plan_clips(1, seed)` gives), rendered lazily as it is read."""
    from recordings.synthetic import plan_clips, render_clip

    spec = plan_clips(1, seed)[0]
    _frames, _metadata, extras = render_clip(spec, images=False)

    def frames_from(start: int, images: ImageFlags = None) -> Iterator[Frame]:
        return itertools.islice(render_clip(spec)[0], start, None)  # 1080p each: rendered as read

    description = f"synthetic clip {spec.name} (seed {seed})"
    return FunctionReader(description, len(extras), 30.0, frames_from, nature=SYNTHETIC_CLIP)


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
    spec: str | Path,
    data_folder: str | Path | None = None,
    seed: int = 0,
    *,
    allow_empty: bool = False,
    pose: str = "auto",
    camera_size: tuple[int, int] | None = None,
    estimator_factory: EstimatorFactory | None = None,
    mirror: str = "auto",
) -> Reader:
    """The reader of what `spec` names (module doc), its images flipped where `mirror` says and its bodies
    from where `pose` says; a file with no frame at all is refused, unless `allow_empty` (`info` describes
    it). `camera_size`: the (width, height) asked of a webcam; `estimator_factory`: the pose estimator
    (default: the bundled one)."""
    if pose not in POSE_MODES:
        raise UserError(f"--pose {pose!r}: expected one of {', '.join(POSE_MODES)}")
    reader = _open(str(spec), data_folder, seed, camera_size)
    if reader.num_frames == 0 and not allow_empty:
        raise RecordingError(reader.path or spec, "no frames (expected at least one colour or body frame)")
    try:
        return with_pose(with_mirror(reader, mirror, pose), pose, estimator_factory)
    except BaseException:
        reader.close()
        raise


def open_webcam(index: int, size: tuple[int, int] | None) -> Reader:
    """Camera `index` through OpenCV (tests replace this with a fake camera's)."""
    return Webcam(index, size)


def recorded_bodies(reader: Reader) -> bool:
    """Whether `reader` has bodies of its own (a skeleton, a Kinect): a plain video, a webcam and mirrored
    images have not."""
    return reader.nature.bodies == RECORDED


def has_images(reader: Reader) -> bool:
    """Whether `reader` has colour images to estimate bodies from."""
    return reader.nature.has_images


def with_mirror(reader: Reader, mirror: str, pose: str) -> Reader:
    """`reader` with its images flipped left-right where `mirror` says (`recordings.mirror`). A recorded
    skeleton fits the images as they are: flipping a source that has one needs its bodies estimated."""
    if not should_mirror(reader, mirror) or not has_images(reader):
        return reader
    if pose != "estimate" and recorded_bodies(reader):
        raise UserError(
            f"{reader.description}: --mirror {mirror} would flip the images away from its recorded "
            "skeleton; add --pose estimate to estimate the bodies from the flipped images"
        )
    return MirroredImages(reader)


def with_pose(reader: Reader, pose: str, estimator_factory: EstimatorFactory | None = None) -> Reader:
    """`reader` with its bodies from where `pose` says (module doc). With "auto", an estimator that cannot
    run here leaves a video without bodies (a warning says why); with "estimate" it is an error."""
    if pose == "kinect" or (pose == "auto" and recorded_bodies(reader)):
        return reader
    if not has_images(reader):
        if pose == "estimate":
            raise UserError(f"{reader.description}: --pose estimate needs images, and it has no video")
        return reader
    try:
        return EstimatedBodies(reader, estimator_factory or bundled_estimator)
    except UserError as error:
        if pose == "estimate":
            raise
        log.warning("%s: no bodies: %s", reader.description, error)
        return reader


def bodies_from(reader: Reader) -> str:
    """Where `reader`'s bodies come from, for `info` and the GUI."""
    return reader.nature.bodies_label


def _open(
    spec: str, data_folder: str | Path | None, seed: int, camera_size: tuple[int, int] | None
) -> Reader:
    if spec in NAMED:
        return NAMED[spec](seed)
    if (index := camera_index(spec)) is not None:
        return open_webcam(index, camera_size)
    if camera_size is not None:
        raise UserError(f"--size asks a camera for a resolution; {spec} is not a camera (webcam or webcam:N)")
    path = Path(spec)
    if path.exists() or path.suffix.lower() in CLIP_SUFFIXES:  # a missing clip: its reader says what
        if path.is_dir():
            raise RecordingError(
                path, "a folder; give a clip (.skeleton, _rgb.avi, .xef), a video or a recording (.jsonl)"
            )
        return _file_reader(path)
    if SAMPLE_NAME.match(spec):
        return NtuClip.find(spec, Path(data_folder or os.environ.get("STA_HANDS_NTU_ROOT", ".")))
    raise UserError(
        f"{spec}: no such file, and not an NTU sample name, 'demo', 'synthetic', 'kinect' or 'webcam[:N]'"
    )
