"""The NTU RGB+D clip reader: `<name>.skeleton` and/or `<name>_rgb.avi` side by side (docs/ntu-format.md).

The names, classes and splits are `recordings.ntu.names`'s, re-exported here.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import cv2
import numpy as np

from sta_hands.contract.errors import RecordingError
from sta_hands.contract.frame import Body, Frame
from sta_hands.contract.reader import (
    KINECT_SKELETON,
    NO_BODIES,
    NONE_LABEL,
    RECORDED,
    ImageFlags,
    Reader,
    SourceNature,
)
from sta_hands.recordings.description import clip_description
from sta_hands.recordings.ntu.names import (
    CROSS_SUBJECT_TRAIN_PERFORMERS,
    CROSS_VIEW_TRAIN_CAMERAS,
    FIRST_MUTUAL_ACTION,
    NTU60_CLASSES,
    SAMPLE_NAME,
    SKELETON_SUFFIX,
    VIDEO_SUFFIX,
    SampleName,
    parse_sample_name,
    read_missing_list,
    sample_stem,
    split_of,
)
from sta_hands.recordings.ntu.skeleton import SkeletonFile, read_skeleton

log = logging.getLogger(__name__)

DEFAULT_FPS = 30.0
VIDEO_FILE_SUFFIXES = (".avi", ".mp4", ".mov", ".mkv")  # a video of any name: read alone, without bodies
NO_SKELETON = "no skeleton file beside the video: no bodies, no hand crops"
# `info` counts the frames that decode (a video cut short keeps its header's count) up to this many
# declared frames (NTU's clips hold at most 300; 0.45 s for 103 at 1920x1080); beyond, it says that the
# header's count was not checked
MAX_FRAMES_COUNTED = 3000
__all__ = [
    "CROSS_SUBJECT_TRAIN_PERFORMERS", "CROSS_VIEW_TRAIN_CAMERAS", "DEFAULT_FPS", "FIRST_MUTUAL_ACTION",
    "NTU60_CLASSES", "SAMPLE_NAME", "SKELETON_SUFFIX", "VIDEO_SUFFIX", "NtuClip", "SampleName", "clip_paths",
    "parse_sample_name", "read_missing_list", "sample_stem", "split_of",
]  # fmt: skip
# ---------------------------------------------------------------- clips


def clip_paths(source: str | Path | SampleName, folder: str | Path | None = None) -> tuple[Path, Path]:
    """The `.skeleton` and video paths of a clip given by name, skeleton path or video path."""
    source_path = Path(str(source))
    if folder is not None:
        source_path = Path(folder) / source_path
    name = source_path.name
    stem = sample_stem(name)
    skeleton = source_path.with_name(stem + SKELETON_SUFFIX)
    is_other_video = source_path.suffix.lower() in VIDEO_FILE_SUFFIXES and not name.endswith(VIDEO_SUFFIX)
    video = source_path if is_other_video else source_path.with_name(stem + VIDEO_SUFFIX)
    return skeleton, video


class NtuClip(Reader):
    """An NTU clip: its skeleton and/or colour video, read frame by frame.

    `NtuClip("S001C001P001R001A001", folder)`, `NtuClip("x/NAME.skeleton")` or
    `NtuClip("x/NAME_rgb.avi")`; the partner file beside it is used when present, or `video` where the
    download keeps the videos in another folder (`nturgb+d_rgb/` beside `nturgb+d_skeletons/`). Use as
    a context manager (or call `close`) to release the video decoder.
    """

    skeleton_path: Path | None  # the `.skeleton` file, None for a video alone
    video_path: Path | None  # the video, None for a skeleton alone
    name: SampleName | None  # the parsed sample name, None when the file name is not an NTU name
    skeleton: SkeletonFile | None  # the parsed `.skeleton` file, None for a video alone
    fps: float  # the video's frame rate, else 30 (Kinect v2)
    num_frames: int  # the shorter of the skeleton and the video where both exist
    video_size: tuple[int, int] | None  # (width, height) of the video, None without one
    video_frames: int | None  # frames in the video, None without one

    def __init__(
        self,
        source: str | Path | SampleName,
        folder: str | Path | None = None,
        *,
        video: str | Path | None = None,
    ) -> None:
        skeleton_path, video_path = clip_paths(source, folder)
        video_path = Path(video) if video is not None else video_path
        self.skeleton_path = skeleton_path if skeleton_path.exists() else None
        self.video_path = video_path if video_path.exists() else None
        if self.skeleton_path is None and self.video_path is None:
            raise RecordingError(
                skeleton_path.parent / sample_stem(skeleton_path),
                f"no clip found: neither {skeleton_path.name} nor {video_path.name} exists",
            )
        try:
            self.name = parse_sample_name(skeleton_path)
        except RecordingError:
            self.name = None
        self.skeleton = read_skeleton(self.skeleton_path) if self.skeleton_path else None
        self._capture: cv2.VideoCapture | None = None
        self._next_index = 0
        self.fps = DEFAULT_FPS
        self.video_size = None
        self.video_frames = None
        if self.video_path is not None:
            self._open_video(self.video_path)
        self.num_frames = self._count_frames()

    @classmethod
    def find(cls, name: str | SampleName, root: str | Path) -> NtuClip:
        """The sample `name` under `root`: its files side by side in `root`, or in its subfolders as
        NTU's download keeps them (`nturgb+d_skeletons/` beside `nturgb+d_rgb/`, NTU-120's too)."""
        folder, stem = Path(root), str(name)
        skeleton = _file_in(folder, stem + SKELETON_SUFFIX)
        video = _file_in(folder, stem + VIDEO_SUFFIX)
        if skeleton is None and video is None:
            return cls(stem, folder)  # says which files it looked for
        return cls(skeleton or video or stem, video=video)

    # video ---------------------------------------------------------------
    def _open_video(self, path: Path) -> None:
        capture = _open_capture(path)
        ok, image = capture.read()
        if not ok or image is None:
            capture.release()
            raise RecordingError(path, "cannot decode the first frame of the video")
        fps = capture.get(cv2.CAP_PROP_FPS)
        self.fps = float(fps) if np.isfinite(fps) and fps > 0 else DEFAULT_FPS
        self.video_size = (image.shape[1], image.shape[0])
        declared = capture.get(cv2.CAP_PROP_FRAME_COUNT)
        declared = int(declared) if np.isfinite(declared) and declared > 0 else 0
        self.video_frames = declared if declared > 0 else _count_by_grabbing(path)
        self._capture = capture
        self._next_index = 1

    def _count_frames(self) -> int:
        skeleton = len(self.skeleton.frames) if self.skeleton is not None else None
        if skeleton is None or self.video_frames is None:
            return skeleton if skeleton is not None else self.video_frames or 0
        if skeleton != self.video_frames:
            log.warning(
                "%s: the skeleton has %d frames and the video %d; using the first %d",
                self.skeleton_path, skeleton, self.video_frames, min(skeleton, self.video_frames),
            )  # fmt: skip
        return min(skeleton, self.video_frames)

    # properties ------------------------------------------------------------
    @property
    def description(self) -> str:  # type: ignore[override]
        if self.name is None and self.skeleton_path is None and self.video_path is not None:
            return f"video {self.video_path.name}"  # a video of any name, not an NTU clip
        return f"NTU clip {self.name if self.name is not None else sample_stem(self.path or '')}"

    @property
    def path(self) -> Path | None:  # type: ignore[override]
        return self.skeleton_path or self.video_path

    @property
    def timestamps(self) -> np.ndarray:
        """Seconds of every frame: NTU frames are evenly spaced at the video's rate."""
        return np.arange(self.num_frames) / self.fps

    @property
    def nature(self) -> SourceNature:
        """A Kinect's skeleton and/or its (mirror) images; a video alone has no bodies, and one not named
        in the NTU layout (`..._rgb.avi`: a phone's `.mp4`) shows the scene as it is, not mirrored."""
        video = self.video_path
        plain_video = self.skeleton is None and video is not None and not video.name.endswith(VIDEO_SUFFIX)
        recorded = self.skeleton is not None
        return SourceNature(
            live=False,
            has_images=video is not None,
            bodies=RECORDED if recorded else NO_BODIES,
            bodies_label=KINECT_SKELETON if recorded else NONE_LABEL,
            mirrored_by_nature=not plain_video,
        )

    def __len__(self) -> int:
        return self.num_frames

    # frames ----------------------------------------------------------------
    def _bodies(self, index: int) -> tuple[Body, ...]:
        return self.skeleton.frames[index] if self.skeleton is not None else ()

    def _frame(self, index: int, image: np.ndarray | None) -> Frame:
        return Frame(index=index, timestamp=index / self.fps, image=image, bodies=self._bodies(index))

    def frames(self, start: int = 0, images: ImageFlags = None) -> Iterator[Frame]:
        """Every frame from `start` in order, decoding the video sequentially (lazy); the frames that
        `images` flags False are passed over in the video without converting their image (image None)."""
        capture = _open_capture(self.video_path) if self.video_path is not None else None
        try:
            if capture is not None and start > 0:
                capture.set(cv2.CAP_PROP_POS_FRAMES, start)
            for index in range(max(start, 0), self.num_frames):
                image = None
                if capture is not None:
                    wanted = images is None or bool(images[index])
                    ok, image = capture.read() if wanted else (capture.grab(), None)
                    if not ok or (wanted and image is None):
                        log.warning("%s: the video ended at frame %d of %d", self.video_path, index,
                                    self.num_frames)  # fmt: skip
                        return
                yield self._frame(index, image)
        finally:
            if capture is not None:
                capture.release()

    def __iter__(self) -> Iterator[Frame]:
        return self.frames()

    def frame(self, index: int) -> Frame:
        """Frame `index` (random access: seeks the video when not reading sequentially)."""
        if not 0 <= index < self.num_frames:
            raise IndexError(f"frame {index} is out of range for a clip of {self.num_frames} frames")
        if self.video_path is None:
            return self._frame(index, None)
        if self._capture is None:
            self._capture = _open_capture(self.video_path)
            self._next_index = 0
        if index != self._next_index:
            self._capture.set(cv2.CAP_PROP_POS_FRAMES, index)
        ok, image = self._capture.read()
        self._next_index = index + 1 if ok else -1
        if not ok or image is None:
            raise RecordingError(self.video_path, "cannot decode this frame of the video", f"frame {index}")
        return self._frame(index, image)

    def describe(self) -> dict[str, Any]:
        """What `sta-hands info` says of the clip: the headers, the skeleton and how many of the video's
        frames decode (grabbed, not converted; `MAX_FRAMES_COUNTED`)."""
        name = self.name
        bodies = self.skeleton.frames if self.skeleton is not None else ()
        video, frames, cut = None, self.num_frames, None
        if self.video_path is not None and self.video_size is not None:
            width, height = self.video_size
            video = {"frames": self.video_frames, "width": width, "height": height, "fps": self.fps}
            declared = self.video_frames or 0
            checked = declared <= MAX_FRAMES_COUNTED
            if not checked:
                video["frames_checked"] = False  # `info` says so
            decodable = _count_by_grabbing(self.video_path) if checked else declared
            if decodable < declared:  # what replay gets: it stops where the video stops decoding
                video["frames"], video["header_frames"] = decodable, declared
                frames = min(frames, decodable)
                cut = f"the video's header says {declared} frames, {decodable} decode (a cut or damaged file)"
        where = self.path
        assert where is not None
        info = clip_description(where, name, name.class_name if name else None, bodies, video, frames)
        if cut is not None:
            info["problems"].insert(0, cut)
        if self.skeleton_path is None:
            info["problems"].append(NO_SKELETON)
        elif self.skeleton is not None and self.skeleton.unprojected_joints:
            info["problems"].append(
                f"{self.skeleton.unprojected_joints} joints have NaN image coordinates: read as not tracked"
            )
        info["kind"] = "ntu"
        return info

    def close(self) -> None:
        """Release the video decoder (frames() generators release their own)."""
        if self._capture is not None:
            self._capture.release()
            self._capture = None

    def __repr__(self) -> str:
        where = self.skeleton_path or self.video_path
        return f"NtuClip({str(where)!r}, frames={self.num_frames})"


def _file_in(root: Path, name: str) -> Path | None:
    """`root/name`, else the first `root/*/name`, else None."""
    if (root / name).is_file():
        return root / name
    return next(iter(sorted(root.glob(f"*/{name}"))), None)


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
