"""Builds Kinect Studio `.xef` files from docs/xef-format.md, for the reader's tests.

Every layout number here is taken again from the doc (its section in brackets), not imported from
`recordings.xef.file`, so a round trip checks the reader against the doc as written. That proves
self-consistency with the doc, not agreement with real files: no public sample exists
(xef-format.md 11), so the reader's test on a real file runs only when one is supplied.

`write_xef(path, make_frames(...), encoding="jpeg")` writes a normal file (metadata, all stream
declarations, then events interleaved in time with periodic 0xFFFF index records, then the footer);
`archived=True` writes the KSConvert layout (zlib payloads, one index record, each stream's events
right after its declaration). `XefBuilder` assembles any other arrangement record by record.
"""

from __future__ import annotations

import struct
import uuid
import zlib
from dataclasses import dataclass, field
from pathlib import Path

import cv2
import numpy as np

# [5] data-type GUIDs
PROPERTIES = uuid.UUID("8083a32f-d7b4-449b-99b9-44c6fcd97570")
COLOR_UNCOMPRESSED = uuid.UUID("2ba0d67d-be11-4534-9444-3fb21ae0f08b")
COLOR_COMPRESSED = uuid.UUID("0a3914dc-3b16-11e1-aac3-001e4fd58c0f")
DEPTH = uuid.UUID("0a3914d6-3b16-11e1-aac3-001e4fd58c0f")
BODY = uuid.UUID("a0c45179-5168-4875-a75c-f8f1760f637c")
CALIBRATION = uuid.UUID("8f78ca9c-c1c0-4673-8e51-36484f7e7492")

HEADER = struct.Struct("<HHIqII")  # [3] index, flags, stored size, ticks, unknown, unpacked size
INDEX_RECORD = 0xFFFF  # [6]
COMPRESSED = 0x0001  # [3]
TICKS = 10_000_000  # [3] 100 ns ticks per second
WIDTH, HEIGHT = 1920, 1080  # [8]
BODY_FRAME_SIZE = 6288  # [8]
DEPTH_FRAME_SIZE = 512 * 424 * 2  # [8]
CALIBRATION_SIZE = 1_736_836  # [8]
FOOTER_TAIL = 0x6B0  # [6]
FIRST_BODY_ID = 72057594037931101  # an NTU-like id above 2**53

# ------------------------------------------------------------------------------------ source frames


@dataclass(frozen=True)
class SourceBody:
    """One body as written into a BODY_FRAME slot (the reader should give back exactly this)."""

    slot: int
    tracking_id: int
    joints: np.ndarray  # 25 x 3 float32, camera space, metres
    states: np.ndarray  # 25 uint8
    orientation: np.ndarray  # 25 x 4 float32 quaternions, x y z w as stored
    lean: tuple[float, float] = (0.25, -0.5)
    lean_state: int = 2


@dataclass(frozen=True)
class SourceFrame:
    """One moment: a colour event and/or a body event (ticks are 100 ns from the recording start)."""

    color_ticks: int | None
    body_ticks: int | None
    image: np.ndarray | None = None  # 1080 x 1920 x 3 BGR
    bodies: tuple[SourceBody, ...] = ()


def frame_image(index: int) -> np.ndarray:
    """A smooth 1920x1080 BGR image that differs per frame and compresses to a small JPEG."""
    x = np.linspace(0.0, 1.0, WIDTH, dtype=np.float32)[None, :]
    y = np.linspace(0.0, 1.0, HEIGHT, dtype=np.float32)[:, None]
    shift = 0.1 * index
    blue = 40 + 180 * ((x + shift) % 1.0) * np.ones_like(y)
    green = 60 + 150 * y * np.ones_like(x)
    red = 128 + 100 * np.sin(6.0 * (x + y) + shift)
    return np.clip(np.stack([blue, green, red], axis=-1), 0, 255).astype(np.uint8)


# A standing person's joints relative to SpineBase (x to the sensor's left, y up), in JointType order.
_TEMPLATE_X = [0, 0, 0, 0, -0.2, -0.3, -0.35, -0.37, 0.2, 0.3, 0.35, 0.37, -0.1, -0.12, -0.12, -0.12,
               0.1, 0.12, 0.12, 0.12, 0, -0.39, -0.35, 0.39, 0.35]  # fmt: skip
_TEMPLATE_Y = [0, 0.3, 0.55, 0.65, 0.5, 0.25, 0.05, 0, 0.5, 0.25, 0.05, 0, -0.05, -0.45, -0.85, -0.9,
               -0.05, -0.45, -0.85, -0.9, 0.5, -0.05, 0, -0.05, 0]  # fmt: skip


def make_body(slot: int, tracking_id: int, seed: int) -> SourceBody:
    """A standing person 2.5-3.5 m away; joint 15 (FootLeft) is not tracked and has z = 0."""
    rng = np.random.default_rng(seed)
    centre = np.array([rng.uniform(-0.8, 0.8), rng.uniform(-0.3, 0.1), rng.uniform(2.5, 3.5)])
    shape = np.stack([_TEMPLATE_X, _TEMPLATE_Y, np.zeros(25)], axis=1)
    joints = (centre + shape + rng.normal(0.0, 0.03, (25, 3))).astype(np.float32)
    states = rng.choice(np.array([1, 2], dtype=np.uint8), 25, p=[0.3, 0.7])
    joints[15] = 0.0
    states[15] = 0
    quaternions = rng.normal(size=(25, 4))
    orientation = (quaternions / np.linalg.norm(quaternions, axis=1, keepdims=True)).astype(np.float32)
    return SourceBody(slot, tracking_id, joints, states, orientation)


def make_frames(
    count: int = 6,
    *,
    fps: float = 30.0,
    start_ticks: int = 1_234_567,
    body_delay_ticks: int = 40_000,
    images: bool = True,
    missing_body: tuple[int, ...] = (),
) -> list[SourceFrame]:
    """Frames whose bodies come and go: id A in slot 0 leaves before the last frame, id B appears in
    slot 2 at frame 2, id C sits in slot 1 for frames 1-3. Frames in `missing_body` have no body
    event; body events come `body_delay_ticks` after their colour event."""
    period = round(TICKS / fps)
    frames = []
    for index in range(count):
        present = []
        if index < count - 1:
            present.append(make_body(0, FIRST_BODY_ID, 100 + index))
        if 1 <= index <= 3:
            present.append(make_body(1, FIRST_BODY_ID + 49, 200 + index))
        if index >= 2:
            present.append(make_body(2, FIRST_BODY_ID + 1, 300 + index))
        ticks = start_ticks + index * period
        body_ticks = None if index in missing_body else ticks + body_delay_ticks
        image = frame_image(index) if images else None
        frames.append(SourceFrame(ticks, body_ticks, image, tuple(present)))
    return frames


# ------------------------------------------------------------------------------------------ payloads


def body_payload(bodies: tuple[SourceBody, ...], *, size: int = BODY_FRAME_SIZE) -> bytes:
    """A BODY_FRAME struct [8]: floor plane, up vector, 6 body slots of 1040 bytes, quality flags.

    Untracked slots are filled with junk (states 0x7F7F7F7F, huge floats) that the reader must ignore.
    """
    buffer = bytearray(b"\x7f" * size)
    struct.pack_into("<4f", buffer, 0, 0.0, 0.98, 0.17, 0.8)  # floor clip plane
    struct.pack_into("<4f", buffer, 16, 0.0, 1.0, 0.0, 0.0)  # up
    for slot in range(6):
        struct.pack_into("<I", buffer, 32 + 1040 * slot + 1016, 0)  # not tracked
    for body in bodies:
        base = 32 + 1040 * body.slot
        for joint in range(25):
            struct.pack_into("<4f", buffer, base + 16 * joint, *body.joints[joint], 1.0)
            struct.pack_into("<4f", buffer, base + 400 + 16 * joint, *body.orientation[joint])
            struct.pack_into("<i", buffer, base + 800 + 4 * joint, int(body.states[joint]))
        struct.pack_into("<20i", buffer, base + 900, *range(20))  # expression etc. confidences
        struct.pack_into("<3i3i", buffer, base + 980, 2, 2, 1, 3, 2, 0)  # hands
        struct.pack_into("<Q", buffer, base + 1008, body.tracking_id)
        struct.pack_into("<I", buffer, base + 1016, 1)
        struct.pack_into("<2fII", buffer, base + 1020, *body.lean, 0, body.lean_state)
        struct.pack_into("<I", buffer, base + 1036, 0)
    if size >= 6276:
        struct.pack_into("<I", buffer, 6272, 0)  # frame quality flags
    return bytes(buffer)


def color_payload(image: np.ndarray, encoding: str, quality: int = 90) -> bytes:
    """One colour event [8]: YUY2 (Y0 U Y1 V, 4,147,200 bytes) or one JPEG image."""
    if encoding == "yuy2":
        return cv2.cvtColor(image, cv2.COLOR_BGR2YUV_YUY2).tobytes()
    ok, jpeg = cv2.imencode(".jpg", image, [cv2.IMWRITE_JPEG_QUALITY, quality])
    assert ok
    return jpeg.tobytes()


def calibration_payload(size: int = CALIBRATION_SIZE) -> bytes:
    """A Calibration event shaped like the hypothesis [8]: 132-byte block with the colour floats first."""
    block = struct.pack("<I7f25f", 1, 365.0, 365.0, 256.0, 208.5, 0.09, -0.27, 0.09,
                        1081.37, 959.5, 539.5, 863.0, 52.0, *[0.0] * 20)  # fmt: skip
    return (block + bytes(size))[:size]


# ------------------------------------------------------------------------------------------- records


@dataclass
class _Stream:
    index: int
    guid: uuid.UUID
    name: str
    tag_size: int
    flags: int
    instance: uuid.UUID


@dataclass
class _Item:
    kind: str  # "event", "index" or "metadata"
    stream: int = 0
    ticks: int = 0
    payload: bytes = b""
    length: int = 0  # of an index record
    stored: bytes | None = None  # written instead of the (compressed) payload


def _record(
    index: int, flags: int, ticks: int, tag: bytes, payload: bytes, raw: int, counter: int = 0
) -> bytes:
    return HEADER.pack(index, flags, len(payload), ticks, counter, raw) + tag + payload


def name_record(stream: _Stream) -> bytes:
    """[4] header, 24-byte tag (index, flags, type GUID, zero), 292-byte payload."""
    tag = struct.pack("<HH", stream.index, stream.flags) + stream.guid.bytes_le + bytes(4)
    name = stream.name.encode("utf-16-le").ljust(256, b"\0")
    payload = name + struct.pack("<HHII HH", 0x3333, stream.tag_size, 1024, 0, stream.index, stream.flags)
    payload += bytes(292 - len(payload))
    assert len(payload) == 292
    return _record(stream.index, stream.flags, 0, tag, payload, 292)


def guid_record(stream: _Stream) -> bytes:
    """[4] header (stream 0), 24-byte tag, 98-byte payload: u32, GUID text, instance GUID."""
    text = ("{" + str(stream.instance) + "}\0").encode("utf-16-le")
    payload = struct.pack("<I", 7) + text + stream.instance.bytes_le
    assert len(payload) == 98
    return _record(0, 0, 0, bytes(24), payload, 98)


def index_record(length: int, decoy_stream: int | None) -> bytes:
    """[6] a 0xFFFF record: no usable length field, `length` bytes of content after the header.

    The content has some sizes and indices, and, at the first 0x1000 boundary, a decoy header of a
    real stream whose following "record" does not validate, so a reader must check two records.
    """
    content = bytearray(b"\xee" * length)
    struct.pack_into("<8I", content, 0, 1, 2, 3, 0x6000, 24, 4_147_200, 6288, 0)
    if decoy_stream is not None:
        content[0x1000 : 0x1000 + 24] = HEADER.pack(decoy_stream, 0, 100, 1000, 0, 100)
    return HEADER.pack(INDEX_RECORD, 0, 0xC0DE, 0, 0, 0) + bytes(content)


Part = tuple[str, bytes]  # what a piece of the file is ("header", "name", "guid", "metadata", "index",
# "event:<stream name>", "footer") and its bytes


class XefBuilder:
    """Assembles an .xef file record by record, following xef-format.md.

    After `build`, `layout` lists (what, byte offset, length) of every part written, so tests can aim
    corruptions at record headers and payloads.
    """

    def __init__(self, *, archived: bool = False, version: int = 5, count_streams: bool = True) -> None:
        self.archived, self.version, self.count_streams = archived, version, count_streams
        self.streams: list[_Stream] = [self._new(0, PROPERTIES, "Properties", 24, 0)]
        self.items: list[_Item] = []
        self.metadata_items: list[bytes] = []
        self.layout: list[tuple[str, int, int]] = []

    def _new(self, index: int, guid: uuid.UUID, name: str, tag_size: int, flags: int) -> _Stream:
        instance = uuid.UUID(int=(0x5EED << 64) + index)
        return _Stream(index, guid, name, tag_size, flags, instance)

    def stream(self, guid: uuid.UUID, name: str) -> int:
        index = len(self.streams)
        flags = COMPRESSED if self.archived else 0
        self.streams.append(self._new(index, guid, name, 4, flags))
        return index

    def event(self, stream: int, ticks: int, payload: bytes, *, stored: bytes | None = None) -> None:
        """An event of `payload`; `stored` replaces what is written (raw size stays len(payload))."""
        self.items.append(_Item("event", stream, ticks, payload, stored=stored))

    def index(self, length: int = 0x6000) -> None:
        self.items.append(_Item("index", length=length))

    def metadata(self, payload: bytes) -> None:
        self.metadata_items.append(payload)

    def build(self, *, footer: bool = True, footer_index: int | None = None) -> bytes:
        count = len(self.streams) if self.count_streams else 0  # [2] N data streams + stream 0
        parts = self._declaration(self.streams[0])
        parts += [("metadata", _record(0, 0, 0, bytes(24), item, len(item))) for item in self.metadata_items]
        parts += self._archived_body() if self.archived else self._normal_body()
        if footer:
            index = len(self.streams) if footer_index is None else footer_index  # [6] N + 1
            parts.append(("footer", HEADER.pack(index, 0, 0, 0, 0, 0) + b"\xff" * FOOTER_TAIL))
        size = sum(len(data) for _, data in parts)
        parts.insert(0, ("header", struct.pack("<8sIIQ", b"EVENTS1\0", self.version, count, size)))
        self.layout, offset = [], 0
        for what, data in parts:
            self.layout.append((what, offset, len(data)))
            offset += len(data)
        return b"".join(data for _, data in parts)

    def _declaration(self, stream: _Stream) -> list[Part]:
        padding = [("padding", bytes(8))] if stream.flags & COMPRESSED else []  # [4] archived files
        return [("name", name_record(stream)), *padding, ("guid", guid_record(stream))]

    def _normal_body(self) -> list[Part]:
        parts = [part for stream in self.streams[1:] for part in self._declaration(stream)]
        counters = dict.fromkeys(range(len(self.streams)), 1000)
        decoy = self.streams[1].index if len(self.streams) > 1 else None
        for item in self.items:
            if item.kind == "index":
                parts.append(("index", index_record(item.length, decoy)))
            else:
                counters[item.stream] += 1
                parts.append(self._event(item, counters[item.stream]))
        return parts

    def _archived_body(self) -> list[Part]:
        parts = [("index", index_record(0xC000, None))]  # [6] once, right after the metadata
        for stream in self.streams[1:]:
            parts += self._declaration(stream)
            events = [item for item in self.items if item.kind == "event" and item.stream == stream.index]
            parts += [self._event(item, 1000 + number) for number, item in enumerate(events)]
        return parts

    def _event(self, item: _Item, frame_number: int) -> Part:
        stream = self.streams[item.stream]
        payload = item.payload
        if item.stored is not None:
            payload = item.stored
        elif stream.flags & COMPRESSED:
            payload = zlib.compress(payload, 1)  # starts 0x78 0x01 [7]
        tag = struct.pack("<I", frame_number)
        record = _record(
            stream.index, stream.flags, item.ticks, tag, payload, len(item.payload), frame_number
        )
        return f"event:{stream.name}", record


# ---------------------------------------------------------------------------------------- whole files


@dataclass
class XefOptions:
    encoding: str | None = "jpeg"  # "jpeg", "yuy2" or None (no colour stream)
    archived: bool = False
    index_every: int = 4  # a 0xFFFF record after every this many events (0: none)
    depth: bool = False  # add a depth stream (real-sized, zero) the reader must skip
    calibration: bool = False
    body_stream: bool = True
    count_streams: bool = True
    footer: bool = True
    quality: int = 90
    extra_body_ticks: list[int] = field(default_factory=list)  # body events without a colour frame


def build_xef(
    frames: list[SourceFrame],
    options: XefOptions | None = None,
    layout: list[tuple[str, int, int]] | None = None,
) -> bytes:
    """The bytes of an .xef file holding `frames`; `layout` (when given) receives XefBuilder.layout."""
    options = options or XefOptions()
    builder = XefBuilder(archived=options.archived, count_streams=options.count_streams)
    builder.metadata("Name\0Kinect Studio test\0".encode("utf-16-le"))
    builder.metadata(struct.pack("<IIQ", 1, 2, 3))
    depth = builder.stream(DEPTH, "Nui Depth") if options.depth else None
    color = None
    if options.encoding is not None:
        guid, name = (COLOR_COMPRESSED, "Nui Color") if options.encoding == "jpeg" else (
            COLOR_UNCOMPRESSED, "Nui Uncompressed Color")  # fmt: skip
        color = builder.stream(guid, name)
    body = builder.stream(BODY, "Nui Body Frame") if options.body_stream else None
    calibration = builder.stream(CALIBRATION, "Nui Calibration Data") if options.calibration else None
    events: list[tuple[int, int, bytes]] = []
    if calibration is not None:
        events.append((270_000, calibration, calibration_payload()))
    for frame in frames:
        if frame.color_ticks is not None and color is not None:
            assert frame.image is not None and options.encoding is not None
            events.append(
                (frame.color_ticks, color, color_payload(frame.image, options.encoding, options.quality))
            )
        if frame.color_ticks is not None and depth is not None:
            events.append((frame.color_ticks + 1, depth, bytes(DEPTH_FRAME_SIZE)))
        if frame.body_ticks is not None and body is not None:
            events.append((frame.body_ticks, body, body_payload(frame.bodies)))
    if body is not None:
        events += [(ticks, body, body_payload(())) for ticks in options.extra_body_ticks]
    events.sort(key=lambda event: event[0])
    lengths = (0x6000, 0x7000)
    for number, (ticks, stream, payload) in enumerate(events, start=1):
        builder.event(stream, ticks, payload)
        if options.index_every and number % options.index_every == 0:
            builder.index(lengths[number % 2])
            if number % (2 * options.index_every) == 0:
                builder.index(0xC000)  # a run of two
    data = builder.build(footer=options.footer)
    if layout is not None:
        layout[:] = builder.layout
    return data


def write_xef(path: str | Path, frames: list[SourceFrame], options: XefOptions | None = None) -> Path:
    path = Path(path)
    path.write_bytes(build_xef(frames, options))
    return path
