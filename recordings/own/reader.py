"""A recording in the app's own format (recordings.own.recording) opened for reading, and recovered after a
crash.

`open_recording` accepts the stem or any of the three files. A frame counts only when all three of
its parts are whole (its sidecar line, its skeleton block and, with video, its JPEG chunk); a
recording that was not closed cleanly opens as ``recovered``, keeping min(whole sidecar lines, whole
skeleton blocks, whole video chunks) frames. The skeleton's frame count is not trusted (it is 0 until
the writer closes). Images are decoded one at a time, each JPEG's size read from its header first.
`recover` rewrites such a recording as a clean close would have written it.
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any, BinaryIO

import cv2
import numpy as np

from sta_hands.contract.errors import RecordingError
from sta_hands.contract.frame import Body, Frame
from sta_hands.contract.hand_crop import PAPER_CROP, HandCrop
from sta_hands.contract.reader import RECORDED, Reader, SourceNature
from sta_hands.recordings.description import clip_description, sample_name_or_none
from sta_hands.recordings.jpeg import JpegHeaderError, jpeg_size
from sta_hands.recordings.ntu.skeleton import read_skeleton
from sta_hands.recordings.ntu.skeleton_writer import format_frame
from sta_hands.recordings.own.append_file import replace_with
from sta_hands.recordings.own.format import (
    COUNT_WIDTH,
    FRAME_KEYS,
    NEWLINE,
    SYNTHETIC_DEVICE,
    RecordingPaths,
    json_line,
    parse_sidecar,
    read_bytes,
)
from sta_hands.recordings.own.mjpeg_avi import MjpegAviWriter, scan_avi

log = logging.getLogger(__name__)


def _read_bodies(path: Path) -> tuple[tuple[tuple[Body, ...], ...], bool]:
    """The whole frames of a .skeleton file, and whether a partial one follows them.

    The header count is not trusted (it is 0 until the writer closes); an empty file (a crash before
    anything reached the disk) has no frames.
    """
    if path.is_file() and path.stat().st_size == 0:
        return (), False
    skeleton = read_skeleton(path, allow_truncated=True)
    return skeleton.frames, skeleton.truncated


class Recording(Reader):
    """A recording opened for reading; see `open_recording`."""

    def __init__(self, paths: RecordingPaths) -> None:
        self.paths = paths
        self.path = paths.sidecar
        self.description = f"recording {paths.stem.name}"
        self._sidecar = parse_sidecar(paths.sidecar)
        stored_crop = self._sidecar.header.get("hand_crop")
        self.hand_crop = (  # written by the writer since issue 12; older recordings: the paper's rule
            PAPER_CROP
            if stored_crop is None
            else HandCrop.from_metadata(stored_crop, paths.sidecar, "line 1")
        )
        self._bodies, skeleton_partial = _read_bodies(paths.skeleton)
        self._video = scan_avi(paths.video) if self.has_video else None
        counts = [len(self._sidecar.records), len(self._bodies)]
        started = [counts[0] + self._sidecar.partial, counts[1] + skeleton_partial]
        if self._video is not None:
            counts.append(len(self._video.chunks))
            started.append(counts[-1] + self._video.partial)
        self.num_frames = min(counts)
        self.frames_dropped_at_recovery = max(started) - self.num_frames
        self.recovered = not self._sidecar.ended or self.frames_dropped_at_recovery > 0
        if self.recovered:
            log.warning("%s was not closed cleanly: kept %d whole frames, dropped %d partial (%s)",
                        paths.stem, self.num_frames, self.frames_dropped_at_recovery,
                        _describe(counts, started))  # fmt: skip

    @property
    def header(self) -> dict[str, Any]:
        return dict(self._sidecar.header)

    @property
    def fps(self) -> float:
        return float(self._sidecar.header["fps"])

    @property
    def color_size(self) -> tuple[int, int] | None:
        size = self._sidecar.header.get("color_size")
        return None if size is None else (size[0], size[1])

    @property
    def has_video(self) -> bool:
        return self.color_size is not None

    @property
    def nature(self) -> SourceNature:
        """Its recorded skeleton (estimated when recorded where the hand crop is body-scaled) and its
        images as the app showed them: Kinect-like (a flipped source was stored flipped)."""
        estimated = ", estimated when recorded" if self.hand_crop.rule == "body" else ""
        return SourceNature(
            live=False,
            has_images=self.has_video,
            bodies=RECORDED,
            bodies_label=f"recorded skeleton{estimated}",
            mirrored_by_nature=True,
            synthetic=self.header.get("device") == SYNTHETIC_DEVICE,
        )

    @property
    def bodies(self) -> tuple[tuple[Body, ...], ...]:
        """The bodies of every whole frame, without decoding any image."""
        return tuple(self._bodies[: self.num_frames])

    @property
    def extras(self) -> tuple[dict[str, Any], ...]:
        return tuple(self.frame_extras(i) for i in range(self.num_frames))

    def __len__(self) -> int:
        return self.num_frames

    def frame_extras(self, index: int) -> dict[str, Any]:
        """The per-frame dict the writer was given for frame `index` (a copy)."""
        record = self._sidecar.records[self._checked(index)]
        return {key: value for key, value in record.items() if key not in FRAME_KEYS}

    @property
    def timestamps(self) -> np.ndarray:
        """The recorded time of every whole frame, in seconds, without decoding anything."""
        return np.array([float(r["timestamp"]) for r in self._sidecar.records[: self.num_frames]])

    def frames(self, start: int = 0, images: Sequence[bool] | np.ndarray | None = None) -> Iterator[Frame]:
        """The frames in order from `start`, with their recorded timestamps; images decoded one at a time.

        `images` (one flag per frame) decodes only the flagged frames' images, the others come
        without one: a consumer that samples frames need not pay for decoding the rest.
        """
        with self._open_video() as video:
            for index in range(max(0, start), self.num_frames):
                wanted = images is None or bool(images[index])
                yield self._frame(index, video if wanted else None)

    def describe(self) -> dict[str, Any]:
        """What `sta-hands info` says of the recording (the sidecar's header and the skeleton; no image)."""
        header = self.header
        name = sample_name_or_none(self.paths.stem)
        class_names = header.get("class_names")
        synthetic = header.get("synthetic") or {}
        class_name = synthetic.get("class_name")
        if class_name is None and name is not None and class_names is None:
            class_name = name.class_name
        video = None
        if self.color_size is not None:
            width, height = self.color_size
            video = {"frames": self.num_frames, "width": width, "height": height, "fps": self.fps}
        info = clip_description(self.paths.sidecar, name, class_name, self.bodies, video, self.num_frames)
        info["kind"] = "recording"
        if header.get("mirrored") is True:
            info["mirrored"] = "flipped left-right when recorded (a camera or video), as a Kinect shows it"
        info["recording"] = {
            "device": header.get("device"),
            "app_version": header.get("app_version"),
            "created": header.get("created"),
            "recovered": self.recovered,
            "frames_dropped_at_recovery": self.frames_dropped_at_recovery,
            "hand_crop": self.hand_crop.describe(),
        }
        if self.recovered:
            info["problems"].append(
                f"not closed cleanly: kept {self.num_frames} whole frames, "
                f"dropped {self.frames_dropped_at_recovery} partial"
            )
        return info

    def frame(self, index: int) -> Frame:
        """Frame `index` (negative counts from the end)."""
        index = self._checked(index)
        with self._open_video() as video:
            return self._frame(index, video)

    def _checked(self, index: int) -> int:
        if not -self.num_frames <= index < self.num_frames:
            raise IndexError(f"frame {index} out of range: the recording has {self.num_frames} frames")
        return index % self.num_frames

    def _open_video(self) -> contextlib.AbstractContextManager[BinaryIO | None]:
        if self._video is None:
            return contextlib.nullcontext()
        try:
            return open(self.paths.video, "rb")
        except OSError as error:
            raise RecordingError(self.paths.video, f"cannot read: {error.strerror or error}") from None

    def _frame(self, index: int, video: BinaryIO | None) -> Frame:
        image = None if video is None else self._image(index, video)
        timestamp = float(self._sidecar.records[index]["timestamp"])
        return Frame(index, timestamp, image, self._bodies[index], hand_crop=self.hand_crop)

    def _image(self, index: int, video: BinaryIO) -> np.ndarray:
        assert self._video is not None
        offset, size = self._video.chunks[index]
        video.seek(offset)
        data = video.read(size)
        if len(data) != size:
            raise RecordingError(self.paths.video, "file shrank while reading", f"frame {index}")
        try:  # the size first: OpenCV allocates what the header says before it reads a pixel
            width, height = jpeg_size(data)
        except JpegHeaderError as error:
            problem = f"frame {index}: JPEG data does not decode: {error}"
            raise RecordingError(self.paths.video, problem, f"byte {offset + error.offset}") from None
        if (width, height) != self.color_size:
            found = f"image is {width}x{height}, the header says {self.color_size}"
            problem = f"{found} (read from its JPEG header; not decoded)"
            raise RecordingError(self.paths.video, problem, f"frame {index}")
        image = cv2.imdecode(np.frombuffer(data, np.uint8), cv2.IMREAD_COLOR)
        if image is None:
            raise RecordingError(
                self.paths.video, f"frame {index}: JPEG data does not decode", f"byte {offset}"
            )
        if (image.shape[1], image.shape[0]) != self.color_size:
            raise RecordingError(self.paths.video, f"image is {image.shape[1]}x{image.shape[0]}, the header "
                                 f"says {self.color_size}", f"frame {index}")  # fmt: skip
        return image


def _describe(counts: list[int], started: list[int]) -> str:
    names = ("sidecar lines", "skeleton blocks", "video chunks")
    return ", ".join(
        f"{name} {whole} whole of {begun}"
        for name, whole, begun in zip(names[: len(counts)], counts, started, strict=True)
    )


def open_recording(stem_or_path: str | Path) -> Recording:
    """Open a recording by its stem or any of its three files (.skeleton, _rgb.avi, .jsonl)."""
    return Recording(RecordingPaths.of(stem_or_path))


def recover(stem_or_path: str | Path) -> Recording:
    """Rewrite a recording that was not closed cleanly as a clean one, keeping its whole frames.

    The result is what a clean close would have written. Each file is written to a temporary file
    and moved into place, the sidecar last, so a crash during recovery leaves a recording that still
    opens (as recovered) with the same frames.
    """
    recording = open_recording(stem_or_path)
    if not recording.recovered:
        return recording
    paths, count = recording.paths, recording.num_frames
    if recording._video is not None:
        replace_with(paths.video, lambda path: _remux(recording, count, path))
    skeleton = [f"{count:<{COUNT_WIDTH}}{NEWLINE}"]
    skeleton += [format_frame(bodies, NEWLINE) for bodies in recording._bodies[:count]]
    replace_with(paths.skeleton, lambda path: path.write_bytes("".join(skeleton).encode("ascii")))
    kept = read_bytes(paths.sidecar)[: recording._sidecar.line_ends[count]]
    end = json_line(paths.sidecar, {"end": True, "frames": count}, f"line {count + 2}")
    replace_with(paths.sidecar, lambda path: path.write_bytes(kept + end))
    log.warning("%s: recovered %d frames", paths.stem, count)
    return open_recording(paths.stem)


def _remux(recording: Recording, count: int, path: Path) -> None:
    """The first `count` JPEG chunks, copied (not re-encoded) into a finished AVI at `path`."""
    assert recording._video is not None and recording.color_size is not None
    writer = MjpegAviWriter(path, *recording.color_size, recording.fps, exclusive=False)
    try:
        with open(recording.paths.video, "rb") as video:
            for offset, size in recording._video.chunks[:count]:
                video.seek(offset)
                writer.append(video.read(size))
        writer.finish()
    finally:
        writer.file.close()
