"""NTU RGB+D metadata (sample names, classes, official splits) and the clip reader.

A clip is `<name>.skeleton` and/or `<name>_rgb.avi` side by side (docs/ntu-format.md).
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType
from typing import Literal

import cv2
import numpy as np

from recordings.errors import RecordingError
from recordings.frame import Body, Frame
from recordings.skeleton import SkeletonFile, read_skeleton

log = logging.getLogger(__name__)

SAMPLE_NAME = re.compile(r"^S(\d{3})C(\d{3})P(\d{3})R(\d{3})A(\d{3})$")
SKELETON_SUFFIX = ".skeleton"
VIDEO_SUFFIX = "_rgb.avi"
DEFAULT_FPS = 30.0

NTU60_CLASSES: tuple[str, ...] = (
    "drink water", "eat meal/snack", "brushing teeth", "brushing hair", "drop", "pickup", "throw",
    "sitting down", "standing up (from sitting position)", "clapping", "reading", "writing",
    "tear up paper", "wear jacket", "take off jacket", "wear a shoe", "take off a shoe",
    "wear on glasses", "take off glasses", "put on a hat/cap", "take off a hat/cap", "cheer up",
    "hand waving", "kicking something", "reach into pocket", "hopping (one foot jumping)", "jump up",
    "make a phone call/answer phone", "playing with phone/tablet", "typing on a keyboard",
    "pointing to something with finger", "taking a selfie", "check time (from watch)",
    "rub two hands together", "nod head/bow", "shake head", "wipe face", "salute",
    "put the palms together", "cross hands in front (say stop)", "sneeze/cough", "staggering",
    "falling", "touch head (headache)", "touch chest (stomachache/heart pain)",
    "touch back (backache)", "touch neck (neckache)", "nausea or vomiting condition",
    "use a fan (with hand or paper)/feeling warm", "punching/slapping other person",
    "kicking other person", "pushing other person", "pat on back of other person",
    "point finger at the other person", "hugging other person", "giving something to other person",
    "touch other person's pocket", "handshaking", "walking towards each other",
    "walking apart from each other",
)  # fmt: skip
FIRST_MUTUAL_ACTION = 50  # A050-A060 involve two people

CROSS_SUBJECT_TRAIN_PERFORMERS: frozenset[int] = frozenset(
    (1, 2, 4, 5, 8, 9, 13, 14, 15, 16, 17, 18, 19, 25, 27, 28, 31, 34, 35, 38)
)
CROSS_VIEW_TRAIN_CAMERAS: frozenset[int] = frozenset((2, 3))
_BENCHMARKS = {"cs": "cs", "xsub": "cs", "cross-subject": "cs", "cv": "cv", "xview": "cv", "cross-view": "cv"}

# ---------------------------------------------------------------- names, classes, splits


@dataclass(frozen=True)
class SampleName:
    """The five fields of an NTU sample name such as S001C002P003R002A013 (action is 1-based)."""

    setup: int
    camera: int
    performer: int
    replication: int
    action: int

    def __str__(self) -> str:
        return (
            f"S{self.setup:03d}C{self.camera:03d}P{self.performer:03d}"
            f"R{self.replication:03d}A{self.action:03d}"
        )

    @property
    def action_index(self) -> int:
        """The 0-based class index."""
        return self.action - 1

    @property
    def class_name(self) -> str | None:
        """The NTU-60 class name, or None for an action outside A001-A060."""
        return NTU60_CLASSES[self.action_index] if 1 <= self.action <= len(NTU60_CLASSES) else None

    @property
    def is_mutual(self) -> bool:
        """True for the two-person classes (A050 and up)."""
        return self.action >= FIRST_MUTUAL_ACTION


def sample_stem(text: str | Path) -> str:
    """The file name without its `.skeleton` or `_rgb.avi` suffix (or other extension)."""
    name = Path(text).name
    for suffix in (SKELETON_SUFFIX, VIDEO_SUFFIX):
        if name.endswith(suffix) and len(name) > len(suffix):
            return name[: -len(suffix)]
    return Path(name).stem if name.endswith(".avi") else name


def parse_sample_name(text: str | Path) -> SampleName:
    """Parse a bare sample name, a `.skeleton` path or an `_rgb.avi` path."""
    match = SAMPLE_NAME.match(sample_stem(text))
    if match is None:
        raise RecordingError(
            None, f"expected an NTU sample name like S001C002P003R002A013, found {str(text)!r}"
        )
    return SampleName(*(int(group) for group in match.groups()))


def split_of(name: SampleName | str | Path, benchmark: Literal["cs", "cv"]) -> Literal["train", "test"]:
    """Which side of the official NTU-60 cross-subject ("cs") or cross-view ("cv") split a sample is on."""
    sample = name if isinstance(name, SampleName) else parse_sample_name(name)
    kind = _BENCHMARKS.get(benchmark.lower())
    if kind is None:
        raise ValueError(f"benchmark must be 'cs' or 'cv', got {benchmark!r}")
    if kind == "cs":
        train = sample.performer in CROSS_SUBJECT_TRAIN_PERFORMERS
    else:
        train = sample.camera in CROSS_VIEW_TRAIN_CAMERAS
    return "train" if train else "test"


def read_missing_list(path: str | Path) -> frozenset[str]:
    """The sample names in the official list of samples with missing skeletons (headers skipped)."""
    path = Path(path)
    try:
        text = path.read_text(encoding="ascii", errors="replace")
    except IsADirectoryError:
        raise RecordingError(path, "expected a text file, found a directory") from None
    except FileNotFoundError:
        raise RecordingError(path, "file not found") from None
    except OSError as error:
        raise RecordingError(path, f"cannot read the file: {error.strerror or error}") from None
    return frozenset(line.strip() for line in text.splitlines() if SAMPLE_NAME.match(line.strip()))


# ---------------------------------------------------------------- clips


def clip_paths(source: str | Path | SampleName, folder: str | Path | None = None) -> tuple[Path, Path]:
    """The `.skeleton` and video paths of a clip given by name, skeleton path or video path."""
    source_path = Path(str(source))
    if folder is not None:
        source_path = Path(folder) / source_path
    name = source_path.name
    stem = sample_stem(name)
    skeleton = source_path.with_name(stem + SKELETON_SUFFIX)
    is_other_video = name.endswith(".avi") and not name.endswith(VIDEO_SUFFIX)
    video = source_path if is_other_video else source_path.with_name(stem + VIDEO_SUFFIX)
    return skeleton, video


class NtuClip:
    """An NTU clip: its skeleton and/or colour video, read frame by frame.

    `NtuClip("S001C001P001R001A001", folder)`, `NtuClip("x/NAME.skeleton")` or
    `NtuClip("x/NAME_rgb.avi")`; the partner file beside it is used when present. Use as a
    context manager (or call `close`) to release the video decoder.
    """

    def __init__(self, source: str | Path | SampleName, folder: str | Path | None = None) -> None:
        skeleton_path, video_path = clip_paths(source, folder)
        self._skeleton_path = skeleton_path if skeleton_path.exists() else None
        self._video_path = video_path if video_path.exists() else None
        if self._skeleton_path is None and self._video_path is None:
            raise RecordingError(
                skeleton_path.parent / sample_stem(skeleton_path),
                f"no clip found: neither {skeleton_path.name} nor {video_path.name} exists",
            )
        try:
            self._name: SampleName | None = parse_sample_name(skeleton_path)
        except RecordingError:
            self._name = None
        self._skeleton = read_skeleton(self._skeleton_path) if self._skeleton_path else None
        self._capture: cv2.VideoCapture | None = None
        self._next_index = 0
        self._fps = DEFAULT_FPS
        self._video_size: tuple[int, int] | None = None
        self._video_frames: int | None = None
        if self._video_path is not None:
            self._open_video(self._video_path)
        self._num_frames = self._count_frames()

    # video ---------------------------------------------------------------
    def _open_video(self, path: Path) -> None:
        capture = _open_capture(path)
        ok, image = capture.read()
        if not ok or image is None:
            capture.release()
            raise RecordingError(path, "cannot decode the first frame of the video")
        fps = capture.get(cv2.CAP_PROP_FPS)
        self._fps = float(fps) if np.isfinite(fps) and fps > 0 else DEFAULT_FPS
        self._video_size = (image.shape[1], image.shape[0])
        declared = capture.get(cv2.CAP_PROP_FRAME_COUNT)
        declared = int(declared) if np.isfinite(declared) and declared > 0 else 0
        self._video_frames = declared if declared > 0 else _count_by_grabbing(path)
        self._capture = capture
        self._next_index = 1

    def _count_frames(self) -> int:
        skeleton = len(self._skeleton.frames) if self._skeleton is not None else None
        if skeleton is None or self._video_frames is None:
            return skeleton if skeleton is not None else self._video_frames or 0
        if skeleton != self._video_frames:
            log.warning(
                "%s: the skeleton has %d frames and the video %d; using the first %d",
                self._skeleton_path, skeleton, self._video_frames, min(skeleton, self._video_frames),
            )  # fmt: skip
        return min(skeleton, self._video_frames)

    # properties ------------------------------------------------------------
    @property
    def name(self) -> SampleName | None:
        """The parsed sample name, or None when the file name is not an NTU name."""
        return self._name

    @property
    def skeleton_path(self) -> Path | None:
        return self._skeleton_path

    @property
    def video_path(self) -> Path | None:
        return self._video_path

    @property
    def skeleton(self) -> SkeletonFile | None:
        """The parsed `.skeleton` file, or None for a video-only clip."""
        return self._skeleton

    @property
    def num_frames(self) -> int:
        """Frames of the clip: the shorter of the skeleton and the video where both exist."""
        return self._num_frames

    @property
    def fps(self) -> float:
        """The video's frame rate, else 30 (Kinect v2)."""
        return self._fps

    @property
    def video_size(self) -> tuple[int, int] | None:
        """(width, height) of the video, or None without one."""
        return self._video_size

    @property
    def video_frames(self) -> int | None:
        """Frames in the video, or None without one."""
        return self._video_frames

    def __len__(self) -> int:
        return self._num_frames

    # frames ----------------------------------------------------------------
    def _bodies(self, index: int) -> tuple[Body, ...]:
        return self._skeleton.frames[index] if self._skeleton is not None else ()

    def _frame(self, index: int, image: np.ndarray | None) -> Frame:
        return Frame(index=index, timestamp=index / self._fps, image=image, bodies=self._bodies(index))

    def frames(self, start: int = 0) -> Iterator[Frame]:
        """Every frame from `start` in order, decoding the video sequentially (lazy)."""
        capture = _open_capture(self._video_path) if self._video_path is not None else None
        try:
            if capture is not None and start > 0:
                capture.set(cv2.CAP_PROP_POS_FRAMES, start)
            for index in range(max(start, 0), self._num_frames):
                image = None
                if capture is not None:
                    ok, image = capture.read()
                    if not ok or image is None:
                        log.warning("%s: the video ended at frame %d of %d", self._video_path, index,
                                    self._num_frames)  # fmt: skip
                        return
                yield self._frame(index, image)
        finally:
            if capture is not None:
                capture.release()

    def __iter__(self) -> Iterator[Frame]:
        return self.frames()

    def frame(self, index: int) -> Frame:
        """Frame `index` (random access: seeks the video when not reading sequentially)."""
        if not 0 <= index < self._num_frames:
            raise IndexError(f"frame {index} is out of range for a clip of {self._num_frames} frames")
        if self._video_path is None:
            return self._frame(index, None)
        if self._capture is None:
            self._capture = _open_capture(self._video_path)
            self._next_index = 0
        if index != self._next_index:
            self._capture.set(cv2.CAP_PROP_POS_FRAMES, index)
        ok, image = self._capture.read()
        self._next_index = index + 1 if ok else -1
        if not ok or image is None:
            raise RecordingError(self._video_path, "cannot decode this frame of the video", f"frame {index}")
        return self._frame(index, image)

    def close(self) -> None:
        """Release the video decoder (frames() generators release their own)."""
        if self._capture is not None:
            self._capture.release()
            self._capture = None

    def __enter__(self) -> NtuClip:
        return self

    def __exit__(
        self, kind: type[BaseException] | None, error: BaseException | None, trace: TracebackType | None
    ) -> None:
        self.close()

    def __repr__(self) -> str:
        where = self._skeleton_path or self._video_path
        return f"NtuClip({str(where)!r}, frames={self._num_frames})"


def _open_capture(path: Path) -> cv2.VideoCapture:
    """An opened VideoCapture, or a RecordingError naming the file."""
    if path.is_dir():
        raise RecordingError(path, "expected a video file, found a directory")
    capture = cv2.VideoCapture(str(path))
    if not capture.isOpened():
        capture.release()
        raise RecordingError(path, "cannot open the video (not a video file, or no decoder for it)")
    return capture


def _count_by_grabbing(path: Path) -> int:
    """Frames in a video whose container does not say, counted by grabbing each one."""
    capture = _open_capture(path)
    try:
        count = 0
        while capture.grab():
            count += 1
        return count
    finally:
        capture.release()
