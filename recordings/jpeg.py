"""The size a JPEG says it has, read from its header before anything decodes it.

`cv2.imdecode` allocates the image its frame header (SOF marker) declares before it reads any pixel
data, so a few hundred bytes claiming 30000x30000 make it allocate gigabytes. Readers of JPEG
payloads (.xef compressed colour, the app's own MJPEG recordings) call `jpeg_size` first and refuse
a size other than the stream's.

The header (ITU-T T.81, annex B): SOI (ff d8), then marker segments, each ff, a marker byte and, for
all but the standalone markers (TEM, RST0-7), a big-endian u16 length that counts itself. The frame
header is one of SOF0-SOF15 (c0-cf, except c4 DHT, c8 JPG and cc DAC): length, precision (u8), height
(u16), width (u16), components (u8). It must come before the first scan (SOS, da).
"""

from __future__ import annotations

import struct

SOI = b"\xff\xd8"
SOS = 0xDA
EOI = 0xD9
SOF_MARKERS = frozenset(range(0xC0, 0xD0)) - {0xC4, 0xC8, 0xCC}  # c4 DHT, c8 JPG, cc DAC are not SOF
STANDALONE = frozenset({0x01, *range(0xD0, 0xD8)})  # TEM, RST0-RST7: no length field
SOF_BODY = struct.Struct(">BHH")  # precision, height (lines), width (samples per line)
MAX_STEPS = 4096  # markers and fill bytes before the SOF; real headers have about ten segments


class JpegHeaderError(ValueError):
    """The header is not one a JPEG decoder could start on; `offset` is the byte it fails at."""

    def __init__(self, problem: str, offset: int) -> None:
        super().__init__(problem)
        self.problem = problem
        self.offset = offset


def jpeg_size(data: bytes | bytearray | memoryview) -> tuple[int, int]:
    """(width, height) from the frame header (SOF) of the JPEG in `data`; nothing is decoded.

    Raises `JpegHeaderError` when `data` does not start with SOI, when a segment is cut short, when
    no SOF marker comes before the first scan (SOS) or the end (EOI), or when the SOF declares a zero
    height or width (a height given later by a DNL marker, which OpenCV cannot decode either), or
    after `MAX_STEPS` markers and fill bytes without one (so a crafted header costs little time).
    """
    data = memoryview(data).cast("B")
    if bytes(data[:2]) != SOI:
        found = bytes(data[:2]).hex(" ") or "nothing"
        raise JpegHeaderError(f"expected a JPEG (starting ff d8), found {found}", 0)
    position = 2
    for _ in range(MAX_STEPS):
        marker, at = _marker(data, position)
        if marker in STANDALONE:
            position = at + 2
            continue
        if marker in (0x00, 0xD8):
            raise JpegHeaderError(f"ff {marker:02x} is not a marker that may follow SOI in a header", at)
        if marker in (SOS, EOI):
            name = "the first scan (SOS)" if marker == SOS else "the end of the image (EOI)"
            raise JpegHeaderError(f"no frame header (SOF marker) before {name}", at)
        if at + 4 > len(data):
            raise JpegHeaderError(f"the header is cut short in the ff {marker:02x} segment", at)
        (length,) = struct.unpack_from(">H", data, at + 2)
        end = at + 2 + length
        if length < 2:
            raise JpegHeaderError(
                f"the ff {marker:02x} segment's length is {length}, at least 2 expected", at + 2
            )
        if end > len(data):
            raise JpegHeaderError(
                f"the ff {marker:02x} segment claims {length} bytes, {len(data) - at - 2} remain", at + 2
            )
        if marker in SOF_MARKERS:
            if length < 2 + SOF_BODY.size:
                raise JpegHeaderError(f"the SOF{marker - 0xC0} segment is {length} bytes, too short", at)
            _, height, width = SOF_BODY.unpack_from(data, at + 4)
            if not height or not width:
                raise JpegHeaderError(
                    f"the SOF{marker - 0xC0} marker declares {width}x{height} (a zero size is not decodable)",
                    at + 5,
                )
            return width, height
        position = end
    raise JpegHeaderError(f"no frame header (SOF marker) within {MAX_STEPS} markers", position)


def _marker(data: memoryview, position: int) -> tuple[int, int]:
    """The marker byte at `position` (after up to `MAX_STEPS` ff fill bytes) and the offset of its last ff."""
    if position >= len(data):
        raise JpegHeaderError("the header is cut short before a frame header (SOF marker)", position)
    if data[position] != 0xFF:
        raise JpegHeaderError(f"expected a marker (ff) in the header, found {data[position]:02x}", position)
    start = position
    while position + 1 < len(data) and data[position + 1] == 0xFF:  # fill bytes (T.81 B.1.1.2)
        position += 1
        if position - start > MAX_STEPS:
            raise JpegHeaderError(f"more than {MAX_STEPS} fill bytes (ff) in the header", start)
    if position + 1 >= len(data):
        raise JpegHeaderError("the header is cut short before a frame header (SOF marker)", position)
    return data[position + 1], position
