"""The .xef container walked once, headers only (xef-format.md 2-7, 9): the file header, every record
header, the stream declarations, the 0xFFFF index records and the footer; payloads are skipped and
only their places kept (`Events`), for the reader to decode lazily.

Everything here is [C1] (the reverse engineering in Isaac-W/KinectXEFTools) unless its comment says
[MS] (Microsoft's published source) or [H] (our hypothesis). Where a single-source fact could be wrong,
the walk checks it (sizes against the record and the file, flags, stream indices, the tag's copy of
the index, the payload sizes of the streams decoded), so that a real file that disagrees gives a
`RecordingError` naming the byte and what was expected. Sizes are checked against the file before
anything is read. A file cut short is read up to its last whole record when that is allowed.
"""

from __future__ import annotations

import logging
import struct
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any, BinaryIO

from sta_hands.contract.errors import RecordingError, reading
from sta_hands.recordings.xef.payloads import expected_payload_size
from sta_hands.recordings.xef.streams import (
    BODY,
    CALIBRATION,
    COLOR_COMPRESSED,
    COLOR_UNCOMPRESSED,
    FLAG_COMPRESSED,
    PROPERTIES,
    STREAM_KINDS,
    DeclaredStream,
    Events,
)

log = logging.getLogger(__name__)

MAGIC = b"EVENTS1\0"  # [C1] file header @0
FILE_HEADER = struct.Struct("<8sIIQ")  # [C1] magic, version?, stream count + 1, total data size?
KNOWN_VERSION = 5  # [C1] observed value of the field @8; another value is reported, not refused
MAX_STREAM_COUNT = 0xFFFE  # stream indices are u16 and 0xFFFF marks index records [C1]
RECORD_HEADER = struct.Struct("<HHIqII")  # [C1] index, flags, stored size, ticks, unknown, raw size
INDEX_RECORD = 0xFFFF  # [C1] stream index of the index/cache records
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
_KEPT = (COLOR_UNCOMPRESSED, COLOR_COMPRESSED, BODY, CALIBRATION)  # streams whose events are indexed


@dataclass(frozen=True)
class _Header:
    index: int
    flags: int
    stored: int  # payload bytes in the file
    ticks: int
    unknown: int
    raw: int  # payload bytes after inflating


# ------------------------------------------------------------------------------------ the record walk


class Walk:
    """One pass over the record headers (xef-format.md 9): declarations, events, index records, footer."""

    def __init__(self, path: Path, file: BinaryIO, size: int, allow_truncated: bool) -> None:
        self.path, self.file, self.size, self.allow_truncated = path, file, size, allow_truncated
        self.streams: dict[int, DeclaredStream] = {}
        self.events: dict[int, Events] = {}
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

    def facts(self) -> dict[str, Any]:
        """What the walk found of the container, for `XefFile.describe()`."""
        return {
            "version": self.version, "stream_count_field": self.count, "data_size_field": self.data_size,
            "file_size": self.size, "footer_at": self.footer_at, "cut_at": self.cut_at,
            "index_records": self.index_records, "metadata_records": self.metadata_records,
        }  # fmt: skip

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
            stream = self.add_stream(DeclaredStream(0, header.flags, "", PROPERTIES, None, 24, position))
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

    def parse_declaration(self, position: int, header: _Header, data: bytes) -> DeclaredStream:
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
        return DeclaredStream(header.index, header.flags, name, type_guid, None, tag_size, position)

    def guid_record(self, position: int) -> tuple[uuid.UUID | None, int]:
        """The GUID record after a name record: the instance GUID and where the next record starts."""
        header = self.header_at(position)
        end = position + RECORD_HEADER.size + DECLARATION_TAG_SIZE + GUID_PAYLOAD_SIZE
        if header is None or header.index != 0 or header.stored != GUID_PAYLOAD_SIZE or end > self.size:
            return None, position  # not there: the walk goes on from here and judges the record itself
        payload = self.read_at(position + RECORD_HEADER.size + DECLARATION_TAG_SIZE, GUID_PAYLOAD_SIZE)
        return uuid.UUID(bytes_le=payload[INSTANCE_GUID_AT : INSTANCE_GUID_AT + 16]), end

    def add_stream(self, stream: DeclaredStream) -> DeclaredStream:
        self.streams[stream.index] = stream
        if stream.type_guid in _KEPT:
            self.events[stream.index] = Events()
        return stream

    # -- events

    def event(self, position: int, header: _Header, stream: DeclaredStream) -> int | None:
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

    def check_event(self, position: int, header: _Header, stream: DeclaredStream) -> None:
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
        expected = expected_payload_size(stream.type_guid)
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


def _utf16_text(data: bytes) -> str:
    text = data.decode("utf-16-le", errors="replace").split("\0", 1)[0]
    return "".join(char for char in text if char.isprintable())


# ----------------------------------------------------------------------------------------- the file


def _file_size(path: Path) -> int:
    with reading(path, "an .xef file"):
        return path.stat().st_size


def open_file(path: Path) -> BinaryIO:
    try:
        return open(path, "rb")
    except OSError as error:
        raise RecordingError(path, f"cannot read the file: {error.strerror or error}") from None


def walk_file(path: Path, allow_truncated: bool) -> Walk:
    size = _file_size(path)
    with open_file(path) as file:
        walk = Walk(path, file, size, allow_truncated)
        walk.run()
    return walk
