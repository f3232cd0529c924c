"""`open_reader`: the one dispatch from what a user names to a `Reader`, for `run`, the GUI, `info` and
the training data alike.

A spec is a path (an NTU `.skeleton` / `_rgb.avi`, a Kinect Studio `.xef`, one of the app's own
recordings, any `.mp4` / `.mov` / `.mkv` / `.avi` video), an NTU sample name (looked up in `--data` or
`$STA_HANDS_NTU_ROOT`), `demo` (the bundled clip), `synthetic` (a clip rendered in memory), `kinect`
(the live Kinect v2, Windows) or `webcam` / `webcam:N` (any camera OpenCV opens). These are the rows
of `SOURCES`, the one table of sources: it feeds the dispatch, the error texts, the CLI help
(`source_help`, `size_help`) and the GUI's menus and file dialogs (`app.gui.menus`). A new kind of
source is a module with a `Reader` (its `nature` says what it is) and one row there.

Where the bodies come from is `pose`'s choice (`recordings.estimate.bodies`): "auto" keeps a recorded
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
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

from sta_hands.contract.errors import RecordingError, UserError
from sta_hands.contract.frame import Frame
from sta_hands.contract.reader import RECORDED, SYNTHETIC_CLIP, FunctionReader, ImageFlags, Reader
from sta_hands.recordings.camera.webcam import Webcam, camera_index
from sta_hands.recordings.estimate.bodies import EstimatedBodies, EstimatorFactory, bundled_estimator
from sta_hands.recordings.mirror import MirroredImages, should_mirror
from sta_hands.recordings.ntu.clip import (
    SAMPLE_NAME,
    SKELETON_SUFFIX,
    VIDEO_FILE_SUFFIXES,
    VIDEO_SUFFIX,
    NtuClip,
)
from sta_hands.recordings.own.recording import RecordingPaths, open_recording
from sta_hands.recordings.xef.file import open_xef

log = logging.getLogger(__name__)

DEMO_CLIP_STEM = "demo_clip"
POSE_MODES = ("auto", "kinect", "estimate")


def demo_clip_path() -> Path:
    """The bundled synthetic demo clip (its `.jsonl` sidecar), found through importlib.resources."""
    path = Path(str(resources.files("sta_hands.recordings") / "samples" / f"{DEMO_CLIP_STEM}.jsonl"))
    if not path.is_file():
        raise UserError(
            f"the demo clip is missing at {path}; rebuild it with: python -m sta_hands.commands.make_demo"
        )
    return path


def synthetic_reader(seed: int = 0) -> Reader:
    """One synthetic clip (the first `plan_clips(1, seed)` gives), rendered lazily as it is read."""
    from sta_hands.recordings.synthetic import plan_clips, render_clip

    spec = plan_clips(1, seed)[0]
    _frames, _metadata, extras = render_clip(spec, images=False)

    def frames_from(start: int, images: ImageFlags = None) -> Iterator[Frame]:
        return itertools.islice(render_clip(spec)[0], start, None)  # 1080p each: rendered as read

    description = f"synthetic clip {spec.name} (seed {seed})"
    return FunctionReader(description, len(extras), 30.0, frames_from, nature=SYNTHETIC_CLIP)


def kinect_reader() -> Reader:
    """The live Kinect v2; fails at once, in one line, when the binding, the SDK or Windows is missing."""
    from sta_hands.recordings.kinect.binding import kinect_status
    from sta_hands.recordings.kinect.source import KinectSource

    available, reason = kinect_status()
    if not available:
        raise UserError(reason)
    return KinectSource()


def kinect_available() -> tuple[bool, str]:
    """Whether the live Kinect can open here, and why not (the GUI greys its entry out)."""
    from sta_hands.recordings.kinect.binding import kinect_status

    return kinect_status()


@dataclass(frozen=True)
class SourceRequest:
    """What `open_reader` was asked, as a row's opener takes it."""

    spec: str
    data_folder: str | Path | None = None
    seed: int = 0
    camera_size: tuple[int, int] | None = None


@dataclass(frozen=True)
class SourceKind:
    """One row of `SOURCES`: how a user names a kind of source, what it is, what it takes, how it opens.

    A row with `suffixes` is a kind of file (its name endings make a path a clip, and fill the file
    dialogs' filters); the others are named by a word or a pattern. `claims(spec)` picks the row: the
    first in the table that claims a spec opens it."""

    named: str  # as the help and the errors name it: "'demo'", "'webcam[:N]'", "any video"
    help: str  # one line for a person: the CLI help, the menu entry's tooltip
    claims: Callable[[str], bool]
    open: Callable[[SourceRequest], Reader]
    suffixes: tuple[str, ...] = ()  # a file's name endings (lower case)
    options: tuple[str, ...] = ()  # options only this kind takes: `open_reader` refuses "--size" elsewhere
    menu: str = ""  # the GUI menu that lists it ("File", "Source"); "" for none
    entry: str = ""  # that menu entry's text; a file row's opens a file dialog for its suffixes
    spec: str = ""  # what a word row's menu entry opens
    shortcut: str = ""  # the menu entry's key
    available: Callable[[], tuple[bool, str]] | None = None  # whether it can open here, and why not

    @property
    def is_file(self) -> bool:
        return bool(self.suffixes)

    @property
    def name_and_suffixes(self) -> str:
        """`named`, a file row's with its suffixes: "any video (.mp4, .mov, .mkv, .avi)"."""
        return f"{self.named} ({', '.join(self.suffixes)})" if self.is_file else self.named

    @property
    def help_line(self) -> str:
        """Its name, the options it takes and its one line: "'webcam[:N]' (--size): camera N ..."."""
        options = f" ({', '.join(self.options)})" if self.options else ""
        return f"{self.name_and_suffixes}{options}: {self.help}"


def _word(word: str) -> Callable[[str], bool]:
    return lambda spec: spec == word


def _clip_file(test: Callable[[Path], bool] = lambda path: True) -> Callable[[str], bool]:
    """Claims a path that exists or ends as a clip of the table does (a missing clip: its reader says
    what is missing), and that passes `test`."""

    def claims(spec: str) -> bool:
        path = Path(spec)
        return (path.exists() or path.name.lower().endswith(clip_suffixes())) and test(path)

    return claims


def _ntu_root(request: SourceRequest) -> Path:
    return Path(request.data_folder or os.environ.get("STA_HANDS_NTU_ROOT", "."))


def _is_xef(path: Path) -> bool:
    return path.name.lower().endswith(".xef")


def _is_recording(path: Path) -> bool:
    return RecordingPaths.of(path).sidecar.is_file()


def _is_ntu_file(path: Path) -> bool:
    return path.name.lower().endswith((SKELETON_SUFFIX, VIDEO_SUFFIX))


def _webcam(request: SourceRequest) -> Reader:
    return open_webcam(camera_index(request.spec) or 0, request.camera_size)


SOURCES: tuple[SourceKind, ...] = (
    SourceKind(
        "'demo'", "the bundled demo clip (synthetic figures)", _word("demo"),
        lambda request: open_recording(demo_clip_path()), menu="File", entry="&Demo", spec="demo",
    ),
    SourceKind(
        "'synthetic'", "a synthetic clip, rendered as it plays", _word("synthetic"),
        lambda request: synthetic_reader(request.seed), options=("--seed",),
        menu="File", entry="&Synthetic clip", spec="synthetic",
    ),
    SourceKind(
        "'kinect'", "the live Kinect v2 (Windows, Kinect for Windows SDK 2.0)", _word("kinect"),
        lambda request: kinect_reader(), available=kinect_available,
        menu="File", entry="&Kinect v2 (live)", spec="kinect",
    ),
    SourceKind(
        "'webcam[:N]'", "camera N through OpenCV (webcam: the first), bodies estimated from the image",
        lambda spec: camera_index(spec) is not None, _webcam, options=("--size",),
        menu="Source", entry="&Webcam", spec="webcam", shortcut="Ctrl+Shift+W",
    ),
    SourceKind(
        "a Kinect Studio file", "a Kinect Studio recording: colour and skeleton", _clip_file(_is_xef),
        lambda request: open_xef(Path(request.spec)), suffixes=(".xef",),
    ),
    SourceKind(
        "a recording", "one of the app's own recordings (its .jsonl, .skeleton or .avi)",
        _clip_file(_is_recording), lambda request: open_recording(Path(request.spec)), suffixes=(".jsonl",),
    ),
    SourceKind(
        "an NTU clip", "an NTU RGB+D skeleton and/or its video, side by side", _clip_file(_is_ntu_file),
        lambda request: NtuClip(Path(request.spec)), suffixes=(SKELETON_SUFFIX, VIDEO_SUFFIX),
    ),
    SourceKind(
        "any video", "a plain video, bodies estimated from the image", _clip_file(),
        lambda request: NtuClip(Path(request.spec)), suffixes=VIDEO_FILE_SUFFIXES,
        menu="Source", entry="Open &video…",
    ),
    SourceKind(
        "an NTU sample name", "S001C001P001R001A001, found in --data or $STA_HANDS_NTU_ROOT",
        lambda spec: SAMPLE_NAME.match(spec) is not None,
        lambda request: NtuClip.find(request.spec, _ntu_root(request)),
    ),
)  # fmt: skip


def source_kinds() -> tuple[SourceKind, ...]:
    """The rows of `SOURCES` (read when called: a test adds a row by replacing the table)."""
    return SOURCES


def clip_suffixes() -> tuple[str, ...]:
    """The name endings of every kind of file in the table."""
    return tuple(suffix for kind in source_kinds() for suffix in kind.suffixes)


def _or(names: list[str]) -> str:
    return names[0] if len(names) == 1 else f"{', '.join(names[:-1])} or {names[-1]}"


def source_help() -> str:
    """The CLI help of a SOURCE argument: every row, its name and its one line."""
    files = [kind.help_line for kind in source_kinds() if kind.is_file]
    words = [kind.help_line for kind in source_kinds() if not kind.is_file]
    return f"a path ({'; '.join(files)}), or {'; '.join(words)}"


def size_help() -> str:
    """The CLI help of `--size`: which sources take it."""
    cameras = _or([kind.named for kind in source_kinds() if "--size" in kind.options])
    return f"with {cameras}: the resolution to ask the camera for, e.g. 640x480"


def file_filter(kinds: tuple[SourceKind, ...] | None = None) -> str:
    """A file dialog's filter for `kinds` (default: every kind of file in the table), then all files."""
    kinds = tuple(kind for kind in kinds or source_kinds() if kind.is_file)
    patterns = " ".join(dict.fromkeys(f"*{suffix}" for kind in kinds for suffix in kind.suffixes))
    label = kinds[0].named.capitalize() if len(kinds) == 1 else "Clips, recordings and videos"
    return f"{label} ({patterns});;All files (*)"


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
    reader = _open(SourceRequest(str(spec), data_folder, seed, camera_size))
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


def _open(request: SourceRequest) -> Reader:
    """The reader of the first row of `SOURCES` that claims the spec, with the options it takes."""
    kinds = source_kinds()
    kind = next((kind for kind in kinds if kind.claims(request.spec)), None)
    if kind is None:
        named = _or([kind.named for kind in kinds if not kind.is_file])
        raise UserError(f"{request.spec}: no such file, and not {named}")
    if request.camera_size is not None and "--size" not in kind.options:
        cameras = _or([kind.named for kind in kinds if "--size" in kind.options])
        raise UserError(f"--size asks a camera for a resolution; {request.spec} is not a camera ({cameras})")
    if kind.is_file and Path(request.spec).is_dir():
        files = _or([kind.name_and_suffixes for kind in kinds if kind.is_file])
        raise RecordingError(Path(request.spec), f"a folder; give a file: {files}")
    return kind.open(request)
