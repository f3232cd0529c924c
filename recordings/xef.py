"""Kinect Studio `.xef` recordings: a pure-Python reader of the colour and body streams.

Microsoft never documented the container. What this reader relies on comes from
docs/xef-format.md, whose tags say how well each fact is known, and every constant below
repeats its tag:

- [C2] two independent sources; [C1] one source only (the reverse engineering in
  Isaac-W/KinectXEFTools, of which every other raw parser is a port); [MS] Microsoft's published
  Kinect Studio source or docs (semantics, never byte offsets); [M] our own measurement;
  [H] our hypothesis.
- The container (file header, 24-byte record headers, stream declarations, the 0xFFFF index
  records, the footer, zlib in archived files) and the body-frame byte layout are [C1]. So are the
  colour, body and all other data-type GUIDs except the [MS] Calibration GUID.
- The colour payloads are [C2]: 1920x1080 YUY2 (4,147,200 bytes) uncompressed, one JPEG
  compressed. Microsoft's default recording set stores JPEG colour [MS].
- The colour pixels of joints: the file stores none [C2]. Kinect Studio draws them through the
  Calibration stream, whose layout is private; this reader reports that stream (and probes its
  hypothesised parameter block, xef-format.md 8) but maps joints with the pinhole we fitted on
  NTU files [M] (xef-format.md 10), and says so in `color_mapping`.

Where a single-source field could be wrong, the reader checks it (sizes against the record and
the file, flags, stream indices, the tag's copy of the index, tracking states, finite and
plausible joints), so that a real file that disagrees gives a `RecordingError` naming the byte
and what was expected, never garbage. Sizes are checked against the file before anything is
read, and nothing larger than the record claims is ever allocated.

Bodies carry what the file has: tracking id, 25 camera-space joints, tracking states,
orientations (reordered to NTU's w x y z) and lean; `color_px` comes from the mapping above;
`depth_px` stays zero and hand states stay 0 ("unknown": the file's numbering is unresolved).

Reading is two passes: `XefFile(path)` walks the record headers once (seeking past payloads) and
pairs colour and body events by time; `frames()` then decodes payloads lazily by offset.
"""

from __future__ import annotations

import array
import logging
import struct
import uuid
import zlib
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType
from typing import Any, BinaryIO

import cv2
import numpy as np

from recordings.errors import RecordingError
from recordings.frame import COLOR_SIZE, INFERRED, JOINT_NAMES, NOT_TRACKED, NUM_JOINTS, Body, Frame
from recordings.jpeg import JpegHeaderError, jpeg_size
from recordings.own import RecordingPaths, RecordingWriter

log = logging.getLogger(__name__)

# ------------------------------------------------------------------- container [C1: KinectXEFTools]

MAGIC = b"EVENTS1\0"  # [C1] file header @0
FILE_HEADER = struct.Struct("<8sIIQ")  # [C1] magic, version?, stream count + 1, total data size?
KNOWN_VERSION = 5  # [C1] observed value of the field @8; another value is reported, not refused
MAX_STREAM_COUNT = 0xFFFE  # stream indices are u16 and 0xFFFF marks index records [C1]
RECORD_HEADER = struct.Struct("<HHIqII")  # [C1] index, flags, stored size, ticks, unknown, raw size
INDEX_RECORD = 0xFFFF  # [C1] stream index of the index/cache records
FLAG_COMPRESSED = 0x0001  # [C1] stream flag bit 0: payloads are zlib streams (archived files)
KNOWN_FLAGS = FLAG_COMPRESSED  # [C1] no other flag bit is known
TICKS_PER_SECOND = 10_000_000  # [MS] record time is a .NET TimeSpan (100 ns ticks)
DECLARATION_TAG_SIZE = 24  # [C1] tag of a stream's name and GUID records and of stream 0's records
NAME_TAG = struct.Struct("<HH16s")  # [C1] name record's tag: stream index, flags, data-type GUID (.NET order)
NAME_PAYLOAD_SIZE = 292  # [C1] payload of a name record
NAME_TEXT_SIZE = 256  # [C1] UTF-16LE stream name at the start of that payload
NAME_TAG_SIZE_AT = 258  # [C1] u16: the tag size of the stream's events
ARCHIVED_NAME_PADDING = 8  # [C1] unknown bytes after a compressed stream's name record
GUID_PAYLOAD_SIZE = 98  # [C1] payload of a GUID record: u32, 78-byte GUID text, 16-byte instance GUID
INSTANCE_GUID_AT = 82  # [C1] offset of the 16-byte instance GUID in that payload
MAX_TAG_SIZE = 1024  # [H] bound on a declared tag size; observed 4 and 24 [C1]
FOOTER_TAIL_LIMIT = 0x1000  # [H] about 0x6B0 bytes follow the footer record [C1]
INDEX_SKIP_STEP = 0x1000  # [C1] index records are 0x6000, 0x7000 or 0xC000 bytes after their header
INDEX_SKIP_LIMIT = 0x40000  # [H] how far to search for the next record (4x the largest seen)
MAX_PAYLOAD_SIZE = 64 << 20  # [H] the largest known payload is 4,147,200 bytes (YUY2 colour)
ZLIB_FIRST_BYTE = 0x78  # [C1] archived payloads are zlib streams; other codecs are possible [H]

# ------------------------------------------------------------------------- GUIDs (xef-format.md 5)

COLOR_UNCOMPRESSED = uuid.UUID("2ba0d67d-be11-4534-9444-3fb21ae0f08b")  # [C1]
COLOR_COMPRESSED = uuid.UUID("0a3914dc-3b16-11e1-aac3-001e4fd58c0f")  # [C1]
BODY = uuid.UUID("a0c45179-5168-4875-a75c-f8f1760f637c")  # [C1]
CALIBRATION = uuid.UUID("8f78ca9c-c1c0-4673-8e51-36484f7e7492")  # [MS] Kinect-Studio-Sample Temp.cs
PROPERTIES = uuid.UUID("8083a32f-d7b4-449b-99b9-44c6fcd97570")  # [C1]
STREAM_KINDS: dict[uuid.UUID, str] = {
    COLOR_UNCOMPRESSED: "color (uncompressed YUY2)",
    COLOR_COMPRESSED: "color (compressed JPEG)",
    BODY: "body",
    CALIBRATION: "calibration",
    PROPERTIES: "properties",
    uuid.UUID("0a3914d6-3b16-11e1-aac3-001e4fd58c0f"): "depth",  # [C1]
    uuid.UUID("0a3914d7-3b16-11e1-aac3-001e4fd58c0f"): "ir",  # [C1]
    uuid.UUID("7e06d98e-d271-4a1f-9bfd-6648a700db75"): "long-exposure ir",  # [C1]
    uuid.UUID("0a3914e2-3b16-11e1-aac3-001e4fd58c0f"): "raw ir",  # [C1]
    uuid.UUID("df82ffac-b533-4438-954a-686a1e20f4aa"): "body index",  # [C1]
    uuid.UUID("787c7abd-9f6e-4a85-8d67-6365ff80cc69"): "title audio",  # [C2]
    uuid.UUID("0a3914d0-3b16-11e1-aac3-001e4fd58c0f"): "system info",  # [MS]
    uuid.UUID("0a3914e9-3b16-11e1-aac3-001e4fd58c0f"): "sensor telemetry",  # [MS]
    uuid.UUID("70b325ba-5819-4c8b-8037-2ece5cbb7467"): "colour settings",  # [MS]
    uuid.UUID("f5280e6e-229c-49ec-a8d2-b06f7ad64311"): "opaque",  # [MS]
    uuid.UUID("9ea644f5-3639-42bc-b325-d2d42cd79b15"): "system audio",  # [MS]
}
COLOR_ENCODINGS = {COLOR_UNCOMPRESSED: "YUY2", COLOR_COMPRESSED: "JPEG"}
_KEPT = (COLOR_UNCOMPRESSED, COLOR_COMPRESSED, BODY, CALIBRATION)  # streams whose events are indexed

# -------------------------------------------------------------------------- payloads (xef-format.md 8)

COLOR_WIDTH, COLOR_HEIGHT = COLOR_SIZE  # [C2] 1920x1080 for both encodings
YUY2_SIZE = COLOR_WIDTH * COLOR_HEIGHT * 2  # [C2] 4,147,200 bytes, byte order Y0 U Y1 V
MIN_JPEG_SIZE = 128  # [H] far below any 1920x1080 JPEG (a black one at quality 1 is 33 KB)
MAX_JPEG_SIZE = 16 << 20  # [H] 4x the largest 1920x1080 JPEG we made (noise at quality 100: 4.1 MB)
NOMINAL_FPS = 30.0  # [MS] colour runs at 30 fps, 15 in low light
LOW_LIGHT_FPS = 15.0  # [MS]

BODY_FRAME_SIZE = 6288  # [C1] believed size of the native BODY_FRAME struct
BODY_FRAME_MIN_SIZE = 6276  # [C1] the fields up to the frame quality flags
BODY_SLOTS = 6  # [C1] and the SDK's BODY_COUNT [MS]
BODY_SLOTS_AT = 32  # [C1] after the floor clip plane and the "up" vector
BODY_SLOT_SIZE = 1040  # [C1]
SLOT_POSITIONS_AT = 0  # [C1] 25 x (x, y, z, w) float32, camera space, metres
SLOT_ORIENTATIONS_AT = 400  # [C1] 25 x (x, y, z, w) float32 quaternions
SLOT_STATES_AT = 800  # [C1] 25 x i32 tracking state, 0 not tracked, 1 inferred, 2 tracked
SLOT_TRACKING_ID_AT = 1008  # [C1] u64
SLOT_TRACKED_AT = 1016  # [C1] u32, 0 or 1
SLOT_LEAN_AT = 1020  # [C1] 2 x float32
SLOT_LEAN_STATE_AT = 1032  # [C1] u32 tracking state of the lean
MIN_JOINT_Z, MAX_JOINT_Z = 0.3, 8.0  # [H] sanity range of a tracked or inferred joint (xef-format.md 8)

_SLOT = np.dtype(
    {
        "names": ["positions", "orientations", "states", "tracking_id", "tracked", "lean", "lean_state"],
        "formats": [
            ("<f4", (NUM_JOINTS, 4)),
            ("<f4", (NUM_JOINTS, 4)),
            ("<i4", (NUM_JOINTS,)),
            "<u8",
            "<u4",
            ("<f4", (2,)),
            "<u4",
        ],
        "offsets": [
            SLOT_POSITIONS_AT,
            SLOT_ORIENTATIONS_AT,
            SLOT_STATES_AT,
            SLOT_TRACKING_ID_AT,
            SLOT_TRACKED_AT,
            SLOT_LEAN_AT,
            SLOT_LEAN_STATE_AT,
        ],
        "itemsize": BODY_SLOT_SIZE,
    }
)

# ------------------------------------------------------------------- colour mapping (xef-format.md 10)

MAPPING_FITTED = "fitted projection (xef-format.md)"
MAPPING_GIVEN = "projection given by the caller"
CALIBRATION_SIZE = 1_736_836  # [C1] size of the one Calibration event KinectXEFTools' author saw
CALIBRATION_BLOCK = 132  # [H] 132 + 512 x 424 x 8 = 1,736,836: a parameter block, then an XY table
CALIBRATION_PATTERNS = {  # [H] libfreenect2's factory colour block (its issue #41) as float32
    "f 1081.37": bytes.fromhex("d72b8744"),
    "cx 959.5": bytes.fromhex("00e06f44"),
    "cy 539.5": bytes.fromhex("00e00644"),
    "shift_d 863": bytes.fromhex("00c05744"),
    "shift_m 52": bytes.fromhex("00005042"),
}
DEFAULT_PAIR_GAP = 0.5 / NOMINAL_FPS  # [H] colour and body events further apart than this are not paired


@dataclass(frozen=True)
class ColorProjection:
    """Camera space to colour pixels: u = fx (X + tx) / Z + cx, v = -fy Y / Z + cy (mirrored like the SDK)."""

    fx: float
    fy: float
    cx: float
    cy: float
    tx: float  # metres, the baseline between the depth and colour cameras

    def project(self, joints: np.ndarray) -> np.ndarray:
        """N x 2 pixels of N x 3 camera-space points; (0, 0) where Z <= 0 (not projectable)."""
        joints = np.asarray(joints, dtype=np.float64)
        z = joints[:, 2]
        valid = z > 0
        safe = np.where(valid, z, 1.0)
        u = self.fx * (joints[:, 0] + self.tx) / safe + self.cx
        v = -self.fy * joints[:, 1] / safe + self.cy
        return np.where(valid[:, None], np.stack([u, v], axis=1), 0.0)

    def as_dict(self) -> dict[str, float]:
        return {"fx": self.fx, "fy": self.fy, "cx": self.cx, "cy": self.cy, "tx": self.tx}


# [M] pooled fit to the SDK's colour pixels in 8 NTU files: median error 0.4-0.7 px, worst 1.9 px.
FITTED_PROJECTION = ColorProjection(fx=1059.3, fy=1055.7, cx=959.8, cy=567.4, tx=0.0544)


# ------------------------------------------------------------------------------------------ streams


@dataclass(frozen=True)
class XefStream:
    """One declared stream: its index, name, data-type GUID (what it holds) and event count."""

    index: int
    name: str
    type_guid: uuid.UUID
    instance_guid: uuid.UUID | None  # from the GUID record after the name record, when present
    tag_size: int  # bytes of tag before each event's payload (4: the sensor's frame number)
    compressed: bool  # archived file: each payload is a zlib stream
    events: int
    declared_at: int  # byte offset of the name record

    @property
    def kind(self) -> str:
        return STREAM_KINDS.get(self.type_guid, "unknown")

    def as_dict(self) -> dict[str, Any]:
        return {
            "index": self.index, "name": self.name, "kind": self.kind, "type_guid": str(self.type_guid),
            "instance_guid": None if self.instance_guid is None else str(self.instance_guid),
            "tag_size": self.tag_size, "compressed": self.compressed, "events": self.events,
            "declared_at": self.declared_at,
        }  # fmt: skip


@dataclass
class _Stream:
    """A stream while the file is walked (the events are counted as they come)."""

    index: int
    flags: int
    name: str
    type_guid: uuid.UUID
    instance_guid: uuid.UUID | None
    tag_size: int
    declared_at: int
    events: int = 0

    @property
    def compressed(self) -> bool:
        return bool(self.flags & FLAG_COMPRESSED)

    def frozen(self) -> XefStream:
        return XefStream(
            self.index,
            self.name,
            self.type_guid,
            self.instance_guid,
            self.tag_size,
            self.compressed,
            self.events,
            self.declared_at,
        )


class _Events:
    """Where the events of one stream are: compact arrays (8 bytes per field), not objects."""

    def __init__(self) -> None:
        self.record = array.array("q")  # byte offset of the record header
        self.ticks = array.array("q")
        self.stored = array.array("q")
        self.raw = array.array("q")

    def add(self, record: int, ticks: int, stored: int, raw: int) -> None:
        self.record.append(record)
        self.ticks.append(ticks)
        self.stored.append(stored)
        self.raw.append(raw)

    def __len__(self) -> int:
        return len(self.record)

    def times(self) -> np.ndarray:
        """The ticks as an int64 array (a copy)."""
        return np.array(self.ticks, dtype=np.int64)


_Picked = tuple[XefStream, _Events]  # a stream and where its events are


@dataclass(frozen=True)
class _Header:
    index: int
    flags: int
    stored: int  # payload bytes in the file
    ticks: int
    unknown: int
    raw: int  # payload bytes after inflating


# ------------------------------------------------------------------------------------ the record walk


class _Walk:
    """One pass over the record headers (xef-format.md 9): declarations, events, index records, footer."""

    def __init__(self, path: Path, file: BinaryIO, size: int, allow_truncated: bool) -> None:
        self.path, self.file, self.size, self.allow_truncated = path, file, size, allow_truncated
        self.streams: dict[int, _Stream] = {}
        self.events: dict[int, _Events] = {}
        self.version = self.count = self.data_size = 0
        self.footer_at: int | None = None
        self.footer_note: str | None = None
        self.cut_at: int | None = None
        self.cut_reason: str | None = None
        self.index_records = 0
        self.metadata_records = 0

    def error(self, position: int, problem: str) -> RecordingError:
        return RecordingError(self.path, problem, f"byte {position}")

    def read_at(self, position: int, size: int) -> bytes:
        """`size` bytes (a small, fixed amount: headers and tags) or fewer at the end of the file."""
        self.file.seek(position)
        return self.file.read(size)

    def header_at(self, position: int) -> _Header | None:
        data = self.read_at(position, RECORD_HEADER.size)
        return _Header(*RECORD_HEADER.unpack(data)) if len(data) == RECORD_HEADER.size else None

    def run(self) -> None:
        self.file_header()
        position: int | None = FILE_HEADER.size
        while position is not None and position < self.size:
            position = self.step(position)

    def file_header(self) -> None:
        data = self.read_at(0, FILE_HEADER.size)
        if len(data) < len(MAGIC) or data[: len(MAGIC)] != MAGIC:
            raise self.error(
                0,
                f"not a Kinect Studio .xef file: expected the magic {MAGIC!r}, found {data[: len(MAGIC)]!r}",
            )
        if len(data) < FILE_HEADER.size:
            raise self.error(0, f"the file header needs {FILE_HEADER.size} bytes, the file has {len(data)}")
        _, self.version, self.count, self.data_size = FILE_HEADER.unpack(data)
        if self.count > MAX_STREAM_COUNT:
            raise self.error(
                12,
                f"expected the number of streams plus one (at most {MAX_STREAM_COUNT}), found {self.count}",
            )
        if self.version != KNOWN_VERSION:
            log.warning(
                "%s: .xef version field is %d, only %d has been seen", self.path, self.version, KNOWN_VERSION
            )

    def step(self, position: int) -> int | None:
        header = self.header_at(position)
        if header is None:
            return self.cut(position, f"{self.size - position} bytes remain, too few for a record header")
        if header.index == INDEX_RECORD:
            return self.skip_index_record(position)
        if self.count and header.index == self.count:
            self.footer_at = position
            return None
        stream = self.streams.get(header.index)
        if stream is None and header.stored != NAME_PAYLOAD_SIZE:
            return self.undeclared(position, header)
        self.check_header(position, header)
        if stream is None:
            return self.declare(position, header)
        return self.event(position, header, stream)

    def undeclared(self, position: int, header: _Header) -> int | None:
        """A record of a new stream that is no declaration: stream 0's first record, the footer, or wrong."""
        if header.index == 0:  # [H] stream 0 not declared like the others: its records use 24-byte tags
            self.check_header(position, header)
            stream = self.add_stream(_Stream(0, header.flags, "", PROPERTIES, None, 24, position))
            return self.event(position, header, stream)
        if self.uncounted_footer(header) or self.size - position <= FOOTER_TAIL_LIMIT:
            self.footer_at = position
            if self.count:
                self.footer_note = (
                    f"the footer has stream index {header.index}, the file header says {self.count}"
                )
            return None
        raise self.error(
            position + 4,
            f"stream {header.index} appears for the first time, so a declaration with a "
            f"{NAME_PAYLOAD_SIZE}-byte payload was expected; found {header.stored} bytes",
        )

    def cut(self, position: int, reason: str, *, data: bool = True) -> None:
        """The file ends early: stop here, or fail when truncation is not allowed or no data could follow.

        A crash cuts a recording inside its data records (xef-format.md 6); a cut inside the metadata
        or the declarations (`data=False`) leaves nothing to read, so that is reported as an error.
        """
        if not self.allow_truncated or not data:
            raise self.error(position, f"{reason} (the file is cut short or corrupt)")
        self.cut_at, self.cut_reason = position, f"{reason}; {self.size - position:,} bytes not read"
        log.warning("%s:byte %d: %s; reading the records before it", self.path, position, self.cut_reason)
        return None

    def check_header(self, position: int, header: _Header) -> None:
        if header.flags & ~KNOWN_FLAGS:
            raise self.error(
                position + 2,
                f"stream {header.index}: unknown stream flags 0x{header.flags:04x} "
                f"(only bit 0, compressed, is known)",
            )
        if header.stored > MAX_PAYLOAD_SIZE:
            raise self.error(
                position + 4,
                f"stream {header.index}: a payload of {header.stored} bytes is "
                f"implausible (at most {MAX_PAYLOAD_SIZE} expected)",
            )
        if self.count and header.index > self.count:
            raise self.error(
                position,
                f"stream index {header.index}, but the file header declares {self.count - 1} streams",
            )

    # -- declarations

    def uncounted_footer(self, header: _Header) -> bool:
        """[H] Without a stream count in the file header, the footer is taken to follow the last stream."""
        return not self.count and header.index == max(self.streams, default=0) + 1

    def declare(self, position: int, header: _Header) -> int | None:
        """A stream's first appearance: its name record (and GUID record) [C1]."""
        end = position + RECORD_HEADER.size + DECLARATION_TAG_SIZE + NAME_PAYLOAD_SIZE
        if end > self.size:
            return self.cut(position, f"the declaration of stream {header.index} is cut short", data=False)
        data = self.read_at(position + RECORD_HEADER.size, DECLARATION_TAG_SIZE + NAME_PAYLOAD_SIZE)
        stream = self.parse_declaration(position, header, data)
        padded = end + ARCHIVED_NAME_PADDING
        for start in (padded, end) if stream.compressed else (end, padded):  # [H] either way, if it fits
            stream.instance_guid, after = self.guid_record(start)
            if stream.instance_guid is not None:
                break
        else:
            after = padded if stream.compressed else end
        self.add_stream(stream)
        return after

    def parse_declaration(self, position: int, header: _Header, data: bytes) -> _Stream:
        tag_index, tag_flags, guid = NAME_TAG.unpack_from(data, 0)
        if (tag_index, tag_flags) != (header.index, header.flags):
            raise self.error(
                position + RECORD_HEADER.size,
                f"the declaration of stream {header.index} "
                f"(flags 0x{header.flags:04x}) names stream {tag_index} (flags "
                f"0x{tag_flags:04x}) in its tag",
            )
        type_guid = uuid.UUID(bytes_le=guid)
        payload = data[DECLARATION_TAG_SIZE:]
        (tag_size,) = struct.unpack_from("<H", payload, NAME_TAG_SIZE_AT)
        if tag_size > MAX_TAG_SIZE:
            raise self.error(
                position + RECORD_HEADER.size + DECLARATION_TAG_SIZE + NAME_TAG_SIZE_AT,
                f"stream {header.index}: a tag of {tag_size} bytes per event is implausible "
                f"(4 or 24 expected)",
            )
        name = _utf16_text(payload[:NAME_TEXT_SIZE])
        return _Stream(header.index, header.flags, name, type_guid, None, tag_size, position)

    def guid_record(self, position: int) -> tuple[uuid.UUID | None, int]:
        """The GUID record after a name record: the instance GUID and where the next record starts."""
        header = self.header_at(position)
        end = position + RECORD_HEADER.size + DECLARATION_TAG_SIZE + GUID_PAYLOAD_SIZE
        if header is None or header.index != 0 or header.stored != GUID_PAYLOAD_SIZE or end > self.size:
            return None, position  # not there: the walk goes on from here and judges the record itself
        payload = self.read_at(position + RECORD_HEADER.size + DECLARATION_TAG_SIZE, GUID_PAYLOAD_SIZE)
        return uuid.UUID(bytes_le=payload[INSTANCE_GUID_AT : INSTANCE_GUID_AT + 16]), end

    def add_stream(self, stream: _Stream) -> _Stream:
        self.streams[stream.index] = stream
        if stream.type_guid in _KEPT:
            self.events[stream.index] = _Events()
        return stream

    # -- events

    def event(self, position: int, header: _Header, stream: _Stream) -> int | None:
        if header.flags != stream.flags:
            raise self.error(
                position + 2,
                f"stream {stream.index} was declared with flags "
                f"0x{stream.flags:04x}, this record has 0x{header.flags:04x}",
            )
        if stream.index != 0:
            self.check_event(position, header, stream)
        end = position + RECORD_HEADER.size + stream.tag_size + header.stored
        if end > self.size:
            return self.cut(
                position,
                f"the last record (stream {stream.index} '{stream.name}', "
                f"{header.stored} bytes) runs {end - self.size} bytes past the end of the file",
                data=stream.index != 0,
            )
        stream.events += 1
        if stream.index == 0:
            self.metadata_records += 1  # file metadata, possibly personal: never logged
        elif stream.index in self.events:
            self.events[stream.index].add(position, header.ticks, header.stored, header.raw)
        return end

    def check_event(self, position: int, header: _Header, stream: _Stream) -> None:
        if header.ticks < 0:
            raise self.error(
                position + 8, f"stream {stream.index}: negative timestamp ({header.ticks} ticks)"
            )
        if stream.compressed and header.raw > MAX_PAYLOAD_SIZE:
            raise self.error(
                position + 20,
                f"stream {stream.index}: {header.raw} bytes after inflating is "
                f"implausible (at most {MAX_PAYLOAD_SIZE} expected)",
            )
        if not stream.compressed and header.raw != header.stored:
            raise self.error(
                position + 20,
                f"stream {stream.index} is not compressed, yet its record says "
                f"{header.stored} bytes stored and {header.raw} unpacked",
            )
        expected = _expected_size(stream.type_guid)
        if expected is not None and not expected[0] <= header.raw <= expected[1]:
            low, high = expected
            wanted = f"{low:,} bytes" if low == high else f"{low:,} to {high:,} bytes"
            raise self.error(
                position + (20 if stream.compressed else 4),
                f"stream {stream.index} "
                f"({STREAM_KINDS[stream.type_guid]}): expected a payload of {wanted} "
                f"(xef-format.md 8), found {header.raw:,}",
            )

    # -- index records (xef-format.md 6)

    def skip_index_record(self, position: int) -> int | None:
        """Index records hold no usable length: try every 0x1000 bytes for a record that validates."""
        self.index_records += 1
        start = position + RECORD_HEADER.size
        limit = start + INDEX_SKIP_LIMIT
        for candidate in range(start + INDEX_SKIP_STEP, min(limit, self.size) + 1, INDEX_SKIP_STEP):
            if candidate == self.size or self.plausible(candidate, chain=True):
                return candidate
        if limit > self.size:
            return self.cut(position, "an index record (stream 0xFFFF) runs to the end of the file")
        raise self.error(
            position,
            f"no valid record follows this index record (stream 0xFFFF) within "
            f"{INDEX_SKIP_LIMIT:#x} bytes (searched every {INDEX_SKIP_STEP:#x} bytes)",
        )

    def plausible(self, position: int, *, chain: bool) -> bool:
        """Does a valid record start here (and, with `chain`, does a valid one follow it)?"""
        header = self.header_at(position)
        if header is None:
            return False
        if header.index == INDEX_RECORD:
            return header.flags == 0  # index records come in runs
        if self.count and header.index == self.count:
            return True  # the footer
        if header.flags & ~KNOWN_FLAGS or header.stored > MAX_PAYLOAD_SIZE or header.ticks < 0:
            return False
        stream = self.streams.get(header.index)
        if stream is None:
            if self.uncounted_footer(header):
                return True
            tag = self.read_at(position + RECORD_HEADER.size, 2)
            return header.stored == NAME_PAYLOAD_SIZE and tag == struct.pack("<H", header.index)
        if header.flags != stream.flags or (not stream.compressed and header.raw != header.stored):
            return False
        end = position + RECORD_HEADER.size + stream.tag_size + header.stored
        if end > self.size:
            return False
        return end == self.size or not chain or self.plausible(end, chain=False)


def _expected_size(type_guid: uuid.UUID) -> tuple[int, int] | None:
    """Allowed unpacked payload sizes of the streams this reader decodes."""
    return {
        COLOR_UNCOMPRESSED: (YUY2_SIZE, YUY2_SIZE),
        COLOR_COMPRESSED: (MIN_JPEG_SIZE, MAX_JPEG_SIZE),
        BODY: (BODY_FRAME_MIN_SIZE, BODY_FRAME_SIZE),
    }.get(type_guid)


def _utf16_text(data: bytes) -> str:
    text = data.decode("utf-16-le", errors="replace").split("\0", 1)[0]
    return "".join(char for char in text if char.isprintable())


# ---------------------------------------------------------------------------------------- decoding


@dataclass(frozen=True)
class _Where:
    """Where a payload sits, to name bytes in errors (an inflated payload has no file offsets)."""

    path: Path
    record: int
    payload: int | None  # file offset of the payload, None when it was inflated

    def error(self, offset: int, problem: str) -> RecordingError:
        if self.payload is not None:
            return RecordingError(self.path, problem, f"byte {self.payload + offset}")
        return RecordingError(
            self.path, f"{problem} (at byte {offset} of the inflated payload)", f"byte {self.record}"
        )


def _inflate(where: _Where, data: bytes, size: int) -> bytes:
    """A zlib payload inflated to exactly `size` bytes (never more is allocated)."""
    if not data or data[0] != ZLIB_FIRST_BYTE:
        found = data[:1].hex() or "nothing"
        raise where.error(
            0,
            f"expected a zlib stream (first byte 0x78), found 0x{found}: this archive "
            f"codec is not supported; unarchive the file with KSConvert",
        )
    inflater = zlib.decompressobj()
    try:
        out = inflater.decompress(data, size)
        if len(out) < size:
            ending = "ends" if inflater.eof else "is cut short"
            raise where.error(0, f"the zlib stream {ending} after {len(out)} bytes, the record says {size}")
        if not inflater.eof and (inflater.decompress(inflater.unconsumed_tail, 1) or not inflater.eof):
            raise where.error(0, f"the zlib stream inflates to more than the {size} bytes the record says")
    except zlib.error as error:
        raise where.error(0, f"the zlib stream is corrupt: {error}") from None
    return out


def _decode_color(where: _Where, data: bytes, encoding: str, frame: int) -> np.ndarray:
    if encoding == "YUY2":
        yuy2 = np.frombuffer(data, np.uint8).reshape(COLOR_HEIGHT, COLOR_WIDTH, 2)
        return cv2.cvtColor(yuy2, cv2.COLOR_YUV2BGR_YUY2)
    try:  # the size first: OpenCV allocates what the header says before it reads a pixel
        size = jpeg_size(data)
    except JpegHeaderError as error:
        raise where.error(error.offset, f"frame {frame}: the JPEG colour payload is bad: {error}") from None
    if size != COLOR_SIZE:
        raise where.error(0, f"frame {frame}: the JPEG header says {size[0]}x{size[1]}, expected "
                          f"{COLOR_WIDTH}x{COLOR_HEIGHT} (xef-format.md 8); not decoded")  # fmt: skip
    try:
        image = cv2.imdecode(np.frombuffer(data, np.uint8), cv2.IMREAD_COLOR)
    except cv2.error:
        image = None
    if image is None:
        raise where.error(0, "the JPEG colour payload does not decode")
    if image.shape != (COLOR_HEIGHT, COLOR_WIDTH, 3):
        raise where.error(
            0,
            f"the JPEG colour image is {image.shape[1]}x{image.shape[0]}, expected "
            f"{COLOR_WIDTH}x{COLOR_HEIGHT}",
        )
    return image


def _decode_bodies(
    where: _Where, data: bytes, projection: ColorProjection
) -> tuple[tuple[Body, ...], list[str]]:
    """The tracked bodies of one BODY_FRAME payload, in slot order (untracked slots are not read), and
    a note per inferred joint that was marked not tracked (its depth is implausible)."""
    slots = np.frombuffer(data, _SLOT, count=BODY_SLOTS, offset=BODY_SLOTS_AT)
    bodies: list[Body] = []
    notes: list[str] = []
    for slot in range(BODY_SLOTS):
        base = BODY_SLOTS_AT + slot * BODY_SLOT_SIZE
        tracked = int(slots[slot]["tracked"])
        if tracked not in (0, 1):
            raise where.error(
                base + SLOT_TRACKED_AT,
                f"body slot {slot}: the 'tracked' flag must be 0 or 1, found {tracked}",
            )
        if tracked:
            bodies.append(_body(where, slots[slot], slot, base, projection, notes))
    return tuple(bodies), notes


def _body(
    where: _Where, record: np.void, slot: int, base: int, projection: ColorProjection, notes: list[str]
) -> Body:
    """One tracked slot as a `Body`, after checking every field it uses (xef-format.md 8 sanity checks)."""
    states = record["states"]
    _check_states(where, states, base, slot)
    joints = record["positions"][:, :3].astype(np.float64)
    orientation = record["orientations"].astype(np.float64)
    lean = record["lean"].astype(np.float64)
    _check_finite(where, joints, base + SLOT_POSITIONS_AT, slot, "position")
    _check_finite(where, orientation, base + SLOT_ORIENTATIONS_AT, slot, "orientation")
    if not np.isfinite(lean).all():
        raise where.error(base + SLOT_LEAN_AT, f"body slot {slot}: the lean is not finite")
    tracking = states.astype(np.uint8)
    for joint in _implausible_inferred(where, joints, states, base, slot):
        tracking[joint] = NOT_TRACKED  # the position stays as recorded
        notes.append(f"body slot {slot}: inferred joint {JOINT_NAMES[joint]} at z = {joints[joint, 2]:.3g} m")
    return Body(
        id=int(record["tracking_id"]),
        joints=joints,
        color_px=projection.project(joints),
        tracking=tracking,
        orientation=orientation[:, [3, 0, 1, 2]],  # stored x y z w; Body keeps w x y z like NTU
        lean=(float(lean[0]), float(lean[1])),
        lean_tracking=int(record["lean_state"]),
    )  # hand states stay 0 ("unknown"): the file's numbering is unresolved (xef-format.md 8)


def _check_states(where: _Where, states: np.ndarray, base: int, slot: int) -> None:
    bad = np.flatnonzero((states < 0) | (states > 2))
    if bad.size:
        joint = int(bad[0])
        raise where.error(
            base + SLOT_STATES_AT + 4 * joint,
            f"body slot {slot}: joint {JOINT_NAMES[joint]} has tracking state {int(states[joint])}, "
            f"expected 0, 1 or 2",
        )


def _implausible_inferred(
    where: _Where, joints: np.ndarray, states: np.ndarray, base: int, slot: int
) -> list[int]:
    """Inferred joints outside 0.3-8 m (the SDK's guesses can be wild: the caller marks them not tracked);
    a tracked one there means the body layout may differ, an error. Not-tracked joints may be anywhere."""
    z = joints[:, 2]
    outside = (states >= INFERRED) & ~((z > MIN_JOINT_Z) & (z < MAX_JOINT_Z))
    bad = np.flatnonzero(outside & (states > INFERRED))
    if bad.size:
        joint = int(bad[0])
        raise where.error(
            base + SLOT_POSITIONS_AT + 16 * joint + 8,
            f"body slot {slot}: joint {JOINT_NAMES[joint]} is at z = {z[joint]:.3g} m, expected "
            f"{MIN_JOINT_Z} to {MAX_JOINT_Z} m: the body layout may differ from xef-format.md 8",
        )
    return [int(joint) for joint in np.flatnonzero(outside)]


def _check_finite(where: _Where, values: np.ndarray, at: int, slot: int, what: str) -> None:
    """Every row (a joint's 16-byte vector at `at` + 16 per joint) must be finite."""
    bad = np.flatnonzero(~np.isfinite(values).all(axis=1))
    if bad.size:
        joint = int(bad[0])
        raise where.error(
            at + 16 * joint, f"body slot {slot}: the {what} of joint {JOINT_NAMES[joint]} is not finite"
        )


# ------------------------------------------------------------------------------------------ pairing


def _nearest(reference: np.ndarray, queries: np.ndarray) -> np.ndarray:
    """For each query, the index of the nearest value in sorted `reference` (earlier on ties); -1 if empty."""
    if reference.size == 0:
        return np.full(queries.shape, -1, dtype=np.int64)
    right = np.clip(np.searchsorted(reference, queries), 0, reference.size - 1)
    left = np.clip(right - 1, 0, reference.size - 1)
    take_right = np.abs(reference[right] - queries) < np.abs(queries - reference[left])
    return np.where(take_right, right, left).astype(np.int64)


def pair_by_time(first: np.ndarray, second: np.ndarray, max_gap: int) -> np.ndarray:
    """For each time in sorted `first`, the index of its partner in sorted `second`, or -1.

    Two events pair when each is the other's nearest and they are at most `max_gap` apart, so every
    event pairs at most once.
    """
    first, second = np.asarray(first, np.int64), np.asarray(second, np.int64)
    forward = _nearest(second, first)
    if second.size == 0:
        return forward
    backward = _nearest(first, second)
    mutual = backward[forward] == np.arange(first.size)
    close = np.abs(second[forward] - first) <= max_gap
    return np.where(mutual & close, forward, -1)


@dataclass(frozen=True)
class _Timeline:
    """The frames: per frame, its colour and body event numbers (-1: none) and its time in ticks."""

    color: np.ndarray
    body: np.ndarray
    ticks: np.ndarray
    unpaired_color: int
    unpaired_body: int
    largest_gap: float  # seconds between a frame's colour and body events, at most


def _timeline(color: _Events | None, body: _Events | None, max_gap: int) -> _Timeline:
    """Frames follow the colour events in time order (or the body events when there is no colour)."""
    body_times = body.times() if body is not None else np.zeros(0, dtype=np.int64)
    body_order = np.argsort(body_times, kind="stable")
    body_sorted = body_times[body_order]
    if color is None:
        no_color = np.full(body_order.size, -1, dtype=np.int64)
        return _Timeline(no_color, body_order, body_sorted, 0, 0, 0.0)
    color_times = color.times()
    color_order = np.argsort(color_times, kind="stable")
    color_sorted = color_times[color_order]
    partner = pair_by_time(color_sorted, body_sorted, max_gap)
    paired = partner >= 0
    frame_body = np.where(paired, body_order[np.maximum(partner, 0)], -1) if body_order.size else partner
    gaps = np.abs(body_sorted[partner[paired]] - color_sorted[paired])
    largest = float(gaps.max()) / TICKS_PER_SECOND if gaps.size else 0.0
    count = int(paired.sum())
    return _Timeline(
        color_order, frame_body, color_sorted, color_order.size - count, body_order.size - count, largest
    )


# ----------------------------------------------------------------------------------------- the file


def _file_size(path: Path) -> int:
    if path.is_dir():
        raise RecordingError(path, "expected an .xef file, found a directory")
    try:
        return path.stat().st_size
    except FileNotFoundError:
        raise RecordingError(path, "file not found") from None
    except OSError as error:
        raise RecordingError(path, f"cannot read the file: {error.strerror or error}") from None


def _open(path: Path) -> BinaryIO:
    try:
        return open(path, "rb")
    except OSError as error:
        raise RecordingError(path, f"cannot read the file: {error.strerror or error}") from None


def _walk(path: Path, allow_truncated: bool) -> _Walk:
    size = _file_size(path)
    with _open(path) as file:
        walk = _Walk(path, file, size, allow_truncated)
        walk.run()
    return walk


class XefFile:
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
        walk = _walk(self.path, allow_truncated)
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
        self._timeline = _timeline(
            None if self._color is None else self._color[1],
            None if self._body is None else self._body[1],
            round(max_pair_gap * TICKS_PER_SECOND),
        )
        self._note_walk(walk)
        self._bodies: tuple[tuple[Body, ...], ...] | None = None

    # -- setup

    def _pick(self, walk: _Walk, types: tuple[uuid.UUID, ...], what: str) -> _Picked | None:
        """The stream of these types with the most events (None when there is none)."""
        found = [(stream, walk.events[stream.index]) for stream in self.streams if stream.type_guid in types]
        if not found:
            return None
        found.sort(key=lambda pair: -len(pair[1]))
        if len(found) > 1 and len(found[1][1]):
            self._problems.append(f"{len(found)} {what} streams; reading stream {found[0][0].index}")
        return found[0]

    def _note_walk(self, walk: _Walk) -> None:
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
        if not self.num_frames:
            return np.zeros(0)
        return (self._timeline.ticks - self._timeline.ticks[0]) / TICKS_PER_SECOND

    @property
    def duration(self) -> float:
        """Seconds from the first frame to the last."""
        return float(self.timestamps[-1]) if self.num_frames else 0.0

    @property
    def fps(self) -> float:
        """Frame rate from the median frame interval, snapped to 30 or 15 (Kinect v2) when within 2%."""
        if self.num_frames < 2:
            return NOMINAL_FPS
        interval = float(np.median(np.diff(self.timestamps)))
        if interval <= 0:
            return NOMINAL_FPS
        rate = 1.0 / interval
        for nominal in (NOMINAL_FPS, LOW_LIGHT_FPS):
            if abs(rate - nominal) <= 0.02 * nominal:
                return nominal
        return rate

    @property
    def color_encoding(self) -> str | None:
        """The colour stream's encoding, JPEG or YUY2; None without a colour stream."""
        return None if self._color is None else COLOR_ENCODINGS[self._color[0].type_guid]

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
        with _open(self.path) as file:
            for index in range(max(0, start), self.num_frames):
                wanted = images if isinstance(images, bool) else images is None or bool(images[index])
                yield self._frame(file, index, wanted)

    def __iter__(self) -> Iterator[Frame]:
        return self.frames()

    def frame(self, index: int) -> Frame:
        """Frame `index` (negative counts from the end)."""
        if not -self.num_frames <= index < self.num_frames:
            raise IndexError(f"frame {index} out of range: the recording has {self.num_frames} frames")
        with _open(self.path) as file:
            return self._frame(file, index % self.num_frames, True)

    @property
    def bodies(self) -> tuple[tuple[Body, ...], ...]:
        """The bodies of every frame, without decoding any image (decoded once, then kept)."""
        if self._bodies is None:
            with _open(self.path) as file:
                self._bodies = tuple(self._frame_bodies(file, index) for index in range(self.num_frames))
        return self._bodies

    def _frame(self, file: BinaryIO, index: int, images: bool) -> Frame:
        image = None
        color = int(self._timeline.color[index])
        if images and self._color is not None and color >= 0:
            where, data = self._payload(file, self._color, color)
            image = _decode_color(where, data, COLOR_ENCODINGS[self._color[0].type_guid], index)
        timestamp = float(self._timeline.ticks[index] - self._timeline.ticks[0]) / TICKS_PER_SECOND
        return Frame(index=index, timestamp=timestamp, image=image, bodies=self._frame_bodies(file, index))

    def _frame_bodies(self, file: BinaryIO, index: int) -> tuple[Body, ...]:
        body = int(self._timeline.body[index])
        if self._body is None or body < 0:
            return ()
        where, data = self._payload(file, self._body, body)
        bodies, notes = _decode_bodies(where, data, self.projection)
        if notes and index not in self._flagged:
            if not self._flagged:
                log.warning("%s: frame %d: %s: marked not tracked", self.path, index, notes[0])
            self._flagged[index] = notes
        return bodies

    def _payload(self, file: BinaryIO, stream: _Picked, event: int) -> tuple[_Where, bytes]:
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
            return _Where(self.path, record, start), data
        where = _Where(self.path, record, None)
        return where, _inflate(where, data, events.raw[event])

    # -- description

    def calibration(self) -> dict[str, Any] | None:
        """What the Calibration stream holds, probed for the hypothesised parameter block (not decoded)."""
        if self._calibration is None or not len(self._calibration[1]):
            return None
        info, events = self._calibration
        with _open(self.path) as file:
            _, data = self._payload(file, self._calibration, 0)
        block = data[:CALIBRATION_BLOCK]
        found = {name: _aligned_find(block, pattern) for name, pattern in CALIBRATION_PATTERNS.items()}
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
        pairs = self._pairs()
        return {
            "path": str(self.path), "name": self.path.name, "kind": "xef", "fields": None,
            "action": None, "class_name": None, "frames": self.num_frames,
            "skeleton_frames": pairs["paired"] if self._color is not None else self.num_frames,
            "bodies_per_frame": None, "video": video,
            "aligned": not pairs["color_without_body"] and not pairs["bodies_without_color"],
            "problems": self.problems, "duration": self.duration, "color_encoding": self.color_encoding,
            "color_mapping": self.color_mapping, "projection": self.projection.as_dict(),
            "calibration": self.calibration(), "pairs": pairs,
            "streams": [stream.as_dict() for stream in self.streams], "xef": self._container_facts(),
        }  # fmt: skip

    def _pairs(self) -> dict[str, Any]:
        timeline = self._timeline
        return {
            "paired": int((timeline.body >= 0).sum()) if self._body is not None else 0,
            "color_without_body": timeline.unpaired_color,
            "bodies_without_color": timeline.unpaired_body,
            "largest_gap_s": timeline.largest_gap,
        }

    def _container_facts(self) -> dict[str, Any]:
        walk = self._walk_facts
        return {
            "version": walk.version, "stream_count_field": walk.count, "data_size_field": walk.data_size,
            "file_size": walk.size, "footer_at": walk.footer_at, "cut_at": walk.cut_at,
            "index_records": walk.index_records, "metadata_records": walk.metadata_records,
        }  # fmt: skip

    # -- context manager (nothing is held open between calls; kept for symmetry with NtuClip)

    def close(self) -> None:
        """Nothing to release: every read opens and closes the file."""

    def __enter__(self) -> XefFile:
        return self

    def __exit__(
        self, kind: type[BaseException] | None, error: BaseException | None, trace: TracebackType | None
    ) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"XefFile({str(self.path)!r}, frames={self.num_frames}, color={self.color_encoding})"


def _aligned_find(block: bytes, pattern: bytes) -> int | None:
    """The first 4-byte-aligned offset of `pattern` in `block`, or None."""
    for offset in range(0, len(block) - len(pattern) + 1, 4):
        if block[offset : offset + len(pattern)] == pattern:
            return offset
    return None


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
    """Write an .xef recording in the app's own format (recordings.own); returns the stem written.

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
