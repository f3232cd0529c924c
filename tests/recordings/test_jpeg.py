"""The JPEG header reader: the size a JPEG declares, read before anything decodes it."""

from __future__ import annotations

import struct

import cv2
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from sta_hands.recordings.jpeg import JpegHeaderError, jpeg_size


def encoded(width: int, height: int, *params: int, channels: int = 3) -> bytes:
    shape = (height, width, channels) if channels > 1 else (height, width)
    image = np.random.default_rng(width * height).integers(0, 256, shape, dtype=np.uint8)
    ok, data = cv2.imencode(".jpg", image, list(params))
    assert ok
    return data.tobytes()


def segment(marker: int, body: bytes) -> bytes:
    return bytes([0xFF, marker]) + struct.pack(">H", len(body) + 2) + body


def sof(marker: int, width: int, height: int) -> bytes:
    return segment(marker, struct.pack(">BHHB", 8, height, width, 1) + bytes([1, 0x11, 0]))


SOI, EOI = b"\xff\xd8", b"\xff\xd9"
SOS = segment(0xDA, bytes([1, 1, 0, 0, 63, 0]))
APP0 = segment(0xE0, b"JFIF\0" + bytes(9))
DHT = segment(0xC4, bytes([0]) + bytes([1] + [0] * 15) + bytes([0]))


@pytest.mark.parametrize(
    ("width", "height", "params", "channels"),
    [
        (64, 48, (cv2.IMWRITE_JPEG_QUALITY, 90), 3),
        (1920, 1080, (cv2.IMWRITE_JPEG_QUALITY, 50), 3),
        (1, 1, (), 3),
        (9, 7, (), 1),
        (640, 360, (cv2.IMWRITE_JPEG_PROGRESSIVE, 1), 3),  # SOF2
        (33, 17, (cv2.IMWRITE_JPEG_OPTIMIZE, 1), 3),
    ],
    ids=["64x48", "1920x1080", "1x1", "grey", "progressive", "optimized"],
)
def test_the_size_of_real_jpegs(width: int, height: int, params: tuple, channels: int) -> None:
    assert jpeg_size(encoded(width, height, *params, channels=channels)) == (width, height)


@pytest.mark.parametrize("marker", sorted(set(range(0xC0, 0xD0)) - {0xC4, 0xC8, 0xCC}))
def test_every_sof_marker_gives_the_size(marker: int) -> None:
    assert jpeg_size(SOI + APP0 + sof(marker, 30000, 20000) + SOS) == (30000, 20000)


@pytest.mark.parametrize("marker", [0xC4, 0xC8, 0xCC])
def test_dht_jpg_and_dac_are_skipped_by_their_length(marker: int) -> None:
    """Their second byte is in c0-cf but they are no frame header: the SOF after them counts."""
    lookalike = segment(marker, struct.pack(">BHHB", 8, 9999, 9999, 1) + bytes(3))
    assert jpeg_size(SOI + lookalike + sof(0xC0, 64, 48) + SOS) == (64, 48)


def test_other_segments_fill_bytes_and_standalone_markers_are_skipped() -> None:
    comment = segment(0xFE, b"\xff\xc0" + struct.pack(">BHH", 8, 1, 1))  # a SOF lookalike inside a comment
    header = SOI + APP0 + b"\xff\xff\xff" + comment + b"\xff\x01" + DHT + b"\xff\xd3" + sof(0xC1, 320, 240)
    assert jpeg_size(header + SOS) == (320, 240)


BAD_HEADERS = {  # id: (data, message, byte of the error)
    "empty": (b"", "expected a JPEG \\(starting ff d8\\), found nothing", 0),
    "png": (b"\x89PNG\r\n", "found 89 50", 0),
    "sos-first": (
        SOI + APP0 + DHT + SOS + sof(0xC0, 64, 48),
        "no frame header \\(SOF marker\\) before the first scan",
        42,
    ),
    "eoi-first": (SOI + APP0 + EOI, "before the end of the image", 20),
    "no-sof": (SOI + APP0, "cut short before a frame header", 20),
    "junk": (SOI + b"\x00" + APP0, "expected a marker \\(ff\\) in the header, found 00", 2),
    "ff00": (SOI + b"\xff\x00", "ff 00 is not a marker", 2),
    "two-soi": (SOI + SOI + sof(0xC0, 64, 48), "ff d8 is not a marker", 2),
    "length-1": (SOI + b"\xff\xe0\x00\x01", "the ff e0 segment's length is 1, at least 2 expected", 4),
    "length-past-end": (
        SOI + b"\xff\xe0\x10\x00" + bytes(20),
        "the ff e0 segment claims 4096 bytes, 22 remain",
        4,
    ),
    "sof-short": (SOI + b"\xff\xc0\x00\x05\x08\x00\x10", "the SOF0 segment is 5 bytes, too short", 2),
    "zero-height": (SOI + sof(0xC0, 64, 0) + SOS, "SOF0 marker declares 64x0", 7),
    "zero-width": (SOI + sof(0xC2, 0, 48) + SOS, "SOF2 marker declares 0x48", 7),
}


@pytest.mark.parametrize("name", list(BAD_HEADERS))
def test_bad_headers_are_errors_naming_the_byte(name: str) -> None:
    data, message, offset = BAD_HEADERS[name]
    with pytest.raises(JpegHeaderError, match=message) as error:
        jpeg_size(data)
    assert error.value.offset == offset


@pytest.mark.parametrize(
    ("padding", "message"),
    [(b"\xff" * 5000, "more than 4096 fill bytes"), (segment(0xE1, b"") * 5000, "within 4096 markers")],
    ids=["fill-bytes", "empty-segments"],
)
def test_a_crafted_long_header_ends_after_a_bounded_number_of_steps(padding: bytes, message: str) -> None:
    with pytest.raises(JpegHeaderError, match=message):
        jpeg_size(SOI + padding + sof(0xC0, 64, 48) + SOS)
    assert jpeg_size(SOI + padding[:4000] + sof(0xC0, 64, 48) + SOS) == (64, 48)


def test_every_cut_before_the_frame_header_is_an_error() -> None:
    data = encoded(64, 48)
    end = data.index(b"\xff\xc0") + 2 + struct.unpack_from(">H", data, data.index(b"\xff\xc0") + 2)[0]
    for cut in range(end):
        with pytest.raises(JpegHeaderError):
            jpeg_size(data[:cut])
    assert jpeg_size(data[:end]) == (64, 48)


@settings(max_examples=300, deadline=None)
@given(st.binary(max_size=64).map(lambda tail: SOI + tail) | st.binary(max_size=64))
def test_any_bytes_give_a_size_or_a_header_error(data: bytes) -> None:
    try:
        width, height = jpeg_size(data)
    except JpegHeaderError as error:
        assert 0 <= error.offset <= len(data)
    else:
        assert width > 0 and height > 0
