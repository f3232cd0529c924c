"""Kinect Studio `.xef` recordings: `XefFile` reads the colour and body streams as `Frame`s.

Microsoft never documented the container; what the reader relies on comes from docs/xef-format.md,
whose tags ([C2], [C1], [MS], [M], [H]) say how well each fact is known and are repeated beside
every constant. The reader is split by job:

- `recordings.xef.streams`: the data-type GUIDs and what a declared stream is;
- `recordings.xef.container`: one walk over the record headers (declarations, index records,
  footer), checking every size against the file; payloads are skipped, their places kept;
- `recordings.xef.payloads`: colour (YUY2, JPEG), body frames and the Calibration probe, decoded;
  the fitted projection that gives joints their colour pixels (the file stores none [C2]);
- `recordings.xef.timeline`: colour and body events paired by time into frames;
- here: `XefFile` (frames, bodies, problems, `describe()` for `sta-hands info`), `open_xef`,
  `describe_xef`, and `convert_xef` to the app's own recording format (recordings.own.recording).

Reading is two passes: `XefFile(path)` walks the record headers once (seeking past payloads) and
pairs colour and body events by time; `frames()` then decodes payloads lazily by offset. A real file
that disagrees with the doc gives a `RecordingError` naming the byte and what was expected.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any, BinaryIO

import numpy as np

from sta_hands.contract.errors import RecordingError
from sta_hands.contract.frame import Body, Frame
from sta_hands.contract.reader import KINECT_SKELETON, RECORDED, Reader, SourceNature
from sta_hands.recordings.own.recording import RecordingPaths, RecordingWriter
from sta_hands.recordings.xef.container import RECORD_HEADER, TICKS_PER_SECOND, Walk, open_file, walk_file
from sta_hands.recordings.xef.payloads import (
    CALIBRATION_SIZE,
    COLOR_HEIGHT,
    COLOR_WIDTH,
    FITTED_PROJECTION,
    MAPPING_FITTED,
    MAPPING_GIVEN,
    MAX_JOINT_Z,
    MIN_JOINT_Z,
    ColorProjection,
    Where,
    calibration_offsets,
    decode_bodies,
    decode_color,
    inflate,
)
from sta_hands.recordings.xef.streams import (
    BODY,
    CALIBRATION,
    COLOR_COMPRESSED,
    COLOR_ENCODINGS,
    COLOR_UNCOMPRESSED,
    Events,
    XefStream,
)
from sta_hands.recordings.xef.timeline import DEFAULT_PAIR_GAP, frame_rate, pair_by_time, timeline

__all__ = [
    "BODY", "CALIBRATION", "COLOR_COMPRESSED", "COLOR_ENCODINGS", "COLOR_UNCOMPRESSED",
    "DEFAULT_PAIR_GAP", "FITTED_PROJECTION", "MAPPING_FITTED", "MAPPING_GIVEN", "TICKS_PER_SECOND",
    "ColorProjection", "XefFile", "XefStream", "convert_xef", "describe_xef", "open_xef", "pair_by_time",
]  # fmt: skip

log = logging.getLogger(__name__)

Picked = tuple[XefStream, Events]  # a stream and where its events are


class XefFile(Reader):
    """A Kinect Studio recording, read as `Frame`s: colour images paired with bodies by time.

    ``XefFile(path)`` walks the file once (headers only) and raises `RecordingError` on anything
    that contradicts xef-format.md; payloads are decoded lazily by `frames()`. Frames follow the
    colour stream (or the body stream when there is no colour); each gets the body event nearest in
    time within `max_pair_gap` seconds, else no bodies. `projection` overrides the fitted colour
    mapping. With `allow_truncated` (default) a file cut short is read up to its last whole record
    and `problems` says so; otherwise that is an error.
    """

    def __init__(
        self,
        path: str | Path,
        *,
        projection: ColorProjection | None = None,
        allow_truncated: bool = True,
        max_pair_gap: float = DEFAULT_PAIR_GAP,
    ) -> None:
        self.path = Path(path)
        self.description = f"Kinect Studio {self.path.name}"
        walk = walk_file(self.path, allow_truncated)
        self._walk_facts = walk
        self.version = walk.version
        self.streams: tuple[XefStream, ...] = tuple(walk.streams[i].frozen() for i in sorted(walk.streams))
        self._problems: list[str] = []  # found by the walk; `problems` adds what reading frames finds
        self._flagged: dict[int, list[str]] = {}  # frame -> its inferred joints marked not tracked
        self._color = self._pick(walk, (COLOR_UNCOMPRESSED, COLOR_COMPRESSED), "colour")
        self._body = self._pick(walk, (BODY,), "body")
        self._calibration = self._pick(walk, (CALIBRATION,), "calibration")
        self.projection = projection or FITTED_PROJECTION
        self.color_mapping = MAPPING_GIVEN if projection is not None else MAPPING_FITTED
        self.max_pair_gap = max_pair_gap
        self._timeline = timeline(
            None if self._color is None else self._color[1],
            None if self._body is None else self._body[1],
            round(max_pair_gap * TICKS_PER_SECOND),
        )
        self._note_walk(walk)
        self._bodies: tuple[tuple[Body, ...], ...] | None = None

    # -- setup

    def _pick(self, walk: Walk, types: tuple[uuid.UUID, ...], what: str) -> Picked | None:
        """The stream of these types with the most events (None when there is none)."""
        found = [(stream, walk.events[stream.index]) for stream in self.streams if stream.type_guid in types]
        if not found:
            return None
        found.sort(key=lambda pair: -len(pair[1]))
        if len(found) > 1 and len(found[1][1]):
            self._problems.append(f"{len(found)} {what} streams; reading stream {found[0][0].index}")
        return found[0]

    def _note_walk(self, walk: Walk) -> None:
        if walk.cut_at is not None:
            self._problems.append(
                f"cut short at byte {walk.cut_at} ({walk.cut_reason}): read the whole records before it"
            )
        elif walk.footer_at is None:
            self._problems.append("no footer record: the recording may have been cut short")
        if walk.footer_note:
            self._problems.append(walk.footer_note)
        if self._color is None:
            self._problems.append("no colour stream: frames have no image")
        if self._body is None:
            self._problems.append("no body stream: frames have no bodies")
        if self._timeline.unpaired_color:
            self._problems.append(
                f"{self._timeline.unpaired_color} colour frames have no body event within "
                f"{self.max_pair_gap * 1000:.0f} ms (they have no bodies)"
            )
        if self._timeline.unpaired_body:
            self._problems.append(
                f"{self._timeline.unpaired_body} body events have no colour frame (not replayed)"
            )

    # -- facts

    @property
    def problems(self) -> list[str]:
        """What is wrong with the file: found by the walk, and by the body frames decoded so far."""
        if not self._flagged:
            return list(self._problems)
        first = min(self._flagged)
        joints = sum(len(notes) for notes in self._flagged.values())
        return [*self._problems, f"{joints} inferred joints in {len(self._flagged)} of the frames read so "
                f"far lie outside {MIN_JOINT_Z}-{MAX_JOINT_Z} m and are marked not tracked (first: frame "
                f"{first}, {self._flagged[first][0]})"]  # fmt: skip

    @property
    def num_frames(self) -> int:
        return int(self._timeline.ticks.size)

    def __len__(self) -> int:
        return self.num_frames

    @property
    def timestamps(self) -> np.ndarray:
        """Seconds from the first frame, per frame."""
        return self._timeline.seconds()

    @property
    def duration(self) -> float:
        """Seconds from the first frame to the last."""
        return float(self.timestamps[-1]) if self.num_frames else 0.0

    @property
    def fps(self) -> float:
        """Frame rate from the median frame interval, snapped to 30 or 15 (Kinect v2) when within 2%."""
        return frame_rate(self.timestamps)

    @property
    def color_encoding(self) -> str | None:
        """The colour stream's encoding, JPEG or YUY2; None without a colour stream."""
        return None if self._color is None else COLOR_ENCODINGS[self._color[0].type_guid]

    @property
    def nature(self) -> SourceNature:
        """A Kinect's recording: its skeleton and, with a colour stream, its (mirror) images."""
        return SourceNature(
            live=False, has_images=self._color is not None, bodies=RECORDED,
            bodies_label=KINECT_SKELETON, mirrored_by_nature=True,
        )  # fmt: skip

    @property
    def color_stream(self) -> XefStream | None:
        return None if self._color is None else self._color[0]

    @property
    def body_stream(self) -> XefStream | None:
        return None if self._body is None else self._body[0]

    @property
    def truncated(self) -> bool:
        return self._walk_facts.cut_at is not None

    # -- frames

    def frames(
        self, start: int = 0, images: bool | Sequence[bool] | np.ndarray | None = True
    ) -> Iterator[Frame]:
        """The frames in time order from `start`, as `Recording.frames`.

        `images` is True/None (decode every image), False (none) or one flag per frame (decode only the
        flagged frames' images; the others come without one).
        """
        with open_file(self.path) as file:
            for index in range(max(0, start), self.num_frames):
                wanted = images if isinstance(images, bool) else images is None or bool(images[index])
                yield self._frame(file, index, wanted)

    def __iter__(self) -> Iterator[Frame]:
        return self.frames()

    def frame(self, index: int) -> Frame:
        """Frame `index` (negative counts from the end)."""
        if not -self.num_frames <= index < self.num_frames:
            raise IndexError(f"frame {index} out of range: the recording has {self.num_frames} frames")
        with open_file(self.path) as file:
            return self._frame(file, index % self.num_frames, True)

    @property
    def bodies(self) -> tuple[tuple[Body, ...], ...]:
        """The bodies of every frame, without decoding any image (decoded once, then kept)."""
        if self._bodies is None:
            with open_file(self.path) as file:
                self._bodies = tuple(self._frame_bodies(file, index) for index in range(self.num_frames))
        return self._bodies

    def _frame(self, file: BinaryIO, index: int, images: bool) -> Frame:
        image = None
        color = int(self._timeline.color[index])
        if images and self._color is not None and color >= 0:
            where, data = self._payload(file, self._color, color)
            image = decode_color(where, data, COLOR_ENCODINGS[self._color[0].type_guid], index)
        timestamp = float(self._timeline.ticks[index] - self._timeline.ticks[0]) / TICKS_PER_SECOND
        return Frame(index=index, timestamp=timestamp, image=image, bodies=self._frame_bodies(file, index))

    def _frame_bodies(self, file: BinaryIO, index: int) -> tuple[Body, ...]:
        body = int(self._timeline.body[index])
        if self._body is None or body < 0:
            return ()
        where, data = self._payload(file, self._body, body)
        bodies, notes = decode_bodies(where, data, self.projection)
        if notes and index not in self._flagged:
            if not self._flagged:
                log.warning("%s: frame %d: %s: marked not tracked", self.path, index, notes[0])
            self._flagged[index] = notes
        return bodies

    def _payload(self, file: BinaryIO, stream: Picked, event: int) -> tuple[Where, bytes]:
        """An event's payload, inflated when the stream is compressed (sizes were checked by the walk)."""
        info, events = stream
        record = events.record[event]
        start = record + RECORD_HEADER.size + info.tag_size
        stored = events.stored[event]
        file.seek(start)
        data = file.read(stored)
        if len(data) != stored:
            raise RecordingError(self.path, "the file shrank while it was read", f"byte {start}")
        if not info.compressed:
            return Where(self.path, record, start), data
        where = Where(self.path, record, None)
        return where, inflate(where, data, events.raw[event])

    # -- description

    def calibration(self) -> dict[str, Any] | None:
        """What the Calibration stream holds, probed for the hypothesised parameter block (not decoded)."""
        if self._calibration is None or not len(self._calibration[1]):
            return None
        info, events = self._calibration
        with open_file(self.path) as file:
            _, data = self._payload(file, self._calibration, 0)
        found = calibration_offsets(data)
        return {
            "stream": info.index, "events": len(events), "size": int(events.raw[0]),
            "size_as_hypothesised": int(events.raw[0]) == CALIBRATION_SIZE,
            "parameter_offsets": found, "decoded": False,
            "note": "the Calibration layout is private (xef-format.md 8); the fitted projection is used",
        }  # fmt: skip

    def describe(self) -> dict[str, Any]:
        """A JSON-able description for `sta-hands info FILE.xef --json` (keys as recordings.info's), from
        the walk's index and one Calibration event: no body frame is decoded (`bodies_per_frame` None)."""
        video = None
        if self._color is not None:
            video = {"frames": self.num_frames, "width": COLOR_WIDTH, "height": COLOR_HEIGHT, "fps": self.fps}
        pairs = self._timeline.pairs(self._body is not None)
        return {
            "path": str(self.path), "name": self.path.name, "kind": "xef", "fields": None,
            "action": None, "class_name": None, "frames": self.num_frames,
            "skeleton_frames": pairs["paired"] if self._color is not None else self.num_frames,
            "bodies_per_frame": None, "video": video,
            "aligned": not pairs["color_without_body"] and not pairs["bodies_without_color"],
            "problems": self.problems, "duration": self.duration, "color_encoding": self.color_encoding,
            "color_mapping": self.color_mapping, "projection": self.projection.as_dict(),
            "calibration": self.calibration(), "pairs": pairs,
            "streams": [stream.as_dict() for stream in self.streams], "xef": self._walk_facts.facts(),
        }  # fmt: skip

    def __repr__(self) -> str:
        return f"XefFile({str(self.path)!r}, frames={self.num_frames}, color={self.color_encoding})"


# ------------------------------------------------------------------------------------------ the API


def open_xef(path: str | Path, **options: Any) -> XefFile:
    """Open a Kinect Studio `.xef` recording (options as `XefFile`)."""
    return XefFile(path, **options)


def describe_xef(path: str | Path) -> dict[str, Any]:
    """`XefFile(path).describe()`: what `sta-hands info FILE.xef --json` prints."""
    return XefFile(path).describe()


def convert_xef(
    path: str | Path,
    out_stem: str | Path,
    *,
    overwrite: bool = False,
    projection: ColorProjection | None = None,
    jpeg_quality: int = 90,
) -> Path:
    """Write an .xef recording in the app's own format (recordings.own.recording); returns the stem written.

    Every tracked body's joints, the file's timestamps and the colour images (as Motion-JPEG) are
    kept; the sidecar header records ``{"source": "xef", "color_mapping": ...}``.
    """
    xef = XefFile(path, projection=projection)
    stem = RecordingPaths.of(out_stem).stem
    metadata = {"source": "xef", "color_mapping": xef.color_mapping, "source_file": xef.path.name}
    with RecordingWriter(
        stem,
        fps=xef.fps,
        device="Kinect v2 (Kinect Studio .xef)",
        metadata=metadata,
        jpeg_quality=jpeg_quality,
        overwrite=overwrite,
    ) as writer:
        for frame in xef.frames():
            writer.write(frame)
    return stem
