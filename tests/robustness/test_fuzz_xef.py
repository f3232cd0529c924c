"""Fuzzing the Kinect Studio .xef reader beyond tests/recordings/test_xef.py: bounded time and memory.

Files come from tests/recordings/xef_builder.py (no public .xef exists): plain and archived (zlib)
recordings, cut and flipped together, with records swapped, and generated from random record headers.
Reading means what `sta-hands info` and a replay do: `describe()` and every frame with its image.
"""

from __future__ import annotations

import struct
from pathlib import Path
from unittest import mock

import cv2
import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from sta_hands.contract.errors import RecordingError
from sta_hands.contract.frame import INFERRED, NOT_TRACKED, TRACKED
from sta_hands.recordings.xef.file import XefFile
from tests.recordings.xef_builder import XefOptions, build_xef, make_frames
from tests.robustness.guards import MiB, bounded, check_error, fuzz_settings
from tests.robustness.registry import Cases

XEF = Cases(
    "Kinect Studio .xef files",
    "Files built by tests/recordings/xef_builder.py from docs/xef-format.md, damaged on the fly; each "
    "example runs `describe()` (what `sta-hands info` shows) and decodes every frame with its image.",
)
XEF.add(
    "cut-and-flipped",
    "a plain or archived (zlib) file cut at a random byte, then 0 to 4 bytes XOR-ed",
    "the whole records before the cut as frames (the cut noted in `problems`), or `RecordingError` "
    "naming the file and the byte; bounded time and memory",
)
XEF.add(
    "records-swapped",
    "two records (declarations, events, index records, footer) swapped or one dropped",
    "frames, or `RecordingError` naming the file and the byte",
)
XEF.add(
    "generated-records",
    "a valid file header followed by 1 to 12 generated records (random stream indices, flags, sizes up "
    "to 4 GB, times, payloads)",
    "frames, or `RecordingError` naming the file and the byte; nothing larger than the file is read",
)
XEF.add(
    "jpeg-header-size",
    "a JPEG colour payload whose frame header (SOF0) claims another size, 0x0 to 65535x65535 (its few "
    "hundred KB would make OpenCV allocate up to 12 GB)",
    "`RecordingError` naming the file, the byte and the frame (`the JPEG header says WxH, expected "
    "1920x1080 ...; not decoded`), read from the header: OpenCV never sees the payload; the other frames "
    "decode",
)
XEF.add(
    "implausible-inferred-joint",
    "an inferred joint at any finite depth (behind the sensor, 0, 1e38 m) in a body frame",
    "the file plays; outside 0.3-8 m the joint is marked not tracked (its position kept) and `problems` "
    "counts it; a tracked joint there stays a `RecordingError` (the body layout may differ)",
)

BUILT: dict[str, tuple[bytes, list[tuple[str, int, int]]]] = {}
for name, options in {
    "plain": XefOptions(index_every=2, quality=30),
    "archived": XefOptions(archived=True, quality=30),
}.items():
    layout: list[tuple[str, int, int]] = []
    BUILT[name] = (build_xef(make_frames(3, missing_body=(1,)), options, layout), layout)


def budget(size: int) -> int:
    """The file's size many times over, plus two decoded 1920x1080 images (6 MB each) and their conversion."""
    return 16 * size + 32 * MiB


def read_everything(path: Path) -> list | RecordingError:
    with bounded(budget(path.stat().st_size)):
        try:
            xef = XefFile(path)
            xef.describe()
            frames = [frame.index for frame in xef.frames()]  # images decoded, then dropped
            return frames
        except RecordingError as error:
            check_error(error, path)
            assert error.position is not None and error.position.startswith("byte ")
            return error


@XEF.covers("cut-and-flipped")
@fuzz_settings()
@given(data=st.data())
def test_cut_and_flipped_files_give_frames_or_a_recording_error(tmp_path: Path, data: st.DataObject) -> None:
    name = data.draw(st.sampled_from(sorted(BUILT)))
    original = BUILT[name][0]
    damaged = bytearray(original[: data.draw(st.integers(0, len(original)))])
    if damaged:
        offsets = st.integers(0, len(damaged) - 1)
        for offset, mask in data.draw(st.lists(st.tuples(offsets, st.integers(1, 255)), max_size=4)):
            damaged[offset] ^= mask
    path = tmp_path / f"{name}.xef"
    path.write_bytes(bytes(damaged))
    result = read_everything(path)
    if not isinstance(result, RecordingError):
        assert len(result) <= 3


@XEF.covers("records-swapped")
@fuzz_settings()
@given(data=st.data())
def test_swapped_records_give_frames_or_a_recording_error(tmp_path: Path, data: st.DataObject) -> None:
    name = data.draw(st.sampled_from(sorted(BUILT)))
    original, layout = BUILT[name]
    parts = [original[offset : offset + length] for _, offset, length in layout]
    first = data.draw(st.integers(1, len(parts) - 1))  # the file header stays first
    second = data.draw(st.integers(1, len(parts) - 1))
    if data.draw(st.booleans()):
        parts[first], parts[second] = parts[second], parts[first]
    else:
        del parts[first]
    path = tmp_path / f"{name}.xef"
    path.write_bytes(b"".join(parts))
    read_everything(path)


RECORD = struct.Struct("<HHIqII")


@st.composite
def records(draw: st.DrawFn) -> bytes:
    index = draw(st.one_of(st.integers(0, 6), st.just(0xFFFF), st.integers(0, 0xFFFF)))
    flags = draw(st.sampled_from([0, 1, 2, 0x8000]))
    payload = draw(st.binary(max_size=400))
    stored = draw(st.one_of(st.just(len(payload)), st.integers(0, 2**32 - 1)))
    raw = draw(st.one_of(st.just(stored), st.integers(0, 2**32 - 1)))
    ticks = draw(st.integers(-(2**63), 2**63 - 1))
    return RECORD.pack(index, flags, stored, ticks, 0, raw) + payload


@XEF.covers("generated-records")
@fuzz_settings()
@given(count=st.integers(0, 8), body=st.lists(records(), min_size=1, max_size=12))
def test_generated_records_give_frames_or_a_recording_error(
    tmp_path: Path, count: int, body: list[bytes]
) -> None:
    path = tmp_path / "generated.xef"
    path.write_bytes(struct.pack("<8sIIQ", b"EVENTS1\0", 5, count, 0) + b"".join(body))
    read_everything(path)


@pytest.mark.parametrize("name", sorted(BUILT))
def test_the_unharmed_files_read_within_the_bounds(tmp_path: Path, name: str) -> None:
    path = tmp_path / f"{name}.xef"
    path.write_bytes(BUILT[name][0])
    assert read_everything(path) == [0, 1, 2]


PLAIN, PLAIN_LAYOUT = BUILT["plain"]
PAYLOADS = {  # the first colour and body payloads of the plain file: (offset, length)
    what: next((offset + RECORD.size + 4, length - RECORD.size - 4) for kind, offset, length in PLAIN_LAYOUT
               if kind == what)
    for what in ("event:Nui Color", "event:Nui Body Frame")
}  # fmt: skip


@XEF.covers("jpeg-header-size")
@fuzz_settings()
@given(width=st.integers(0, 0xFFFF), height=st.integers(0, 0xFFFF))
def test_a_jpeg_header_of_another_size_is_not_decoded(tmp_path: Path, width: int, height: int) -> None:
    start, length = PAYLOADS["event:Nui Color"]
    data = bytearray(PLAIN)
    struct.pack_into(">HH", data, data.index(b"\xff\xc0", start) + 5, height, width)
    crafted = bytes(data[start : start + length])
    path = tmp_path / "size.xef"
    path.write_bytes(bytes(data))
    decode = cv2.imdecode

    def spy(buffer: np.ndarray, flags: int) -> np.ndarray | None:
        assert (width, height) == (1920, 1080) or bytes(buffer) != crafted, "OpenCV got the crafted JPEG"
        return decode(buffer, flags)

    with mock.patch.object(cv2, "imdecode", spy), bounded(budget(len(data))):
        xef = XefFile(path)
        assert xef.frame(1).image is not None
        if (width, height) == (1920, 1080):
            assert xef.frame(0).image is not None
            return
        with pytest.raises(RecordingError, match="frame 0: the JPEG") as error:
            xef.frame(0)
    check_error(error.value, path)
    assert error.value.position is not None and error.value.position.startswith("byte ")
    if width and height:
        assert f"the JPEG header says {width}x{height}, expected 1920x1080" in str(error.value)


@XEF.covers("implausible-inferred-joint")
@fuzz_settings()
@given(
    z=st.floats(allow_nan=False, allow_infinity=False, allow_subnormal=False, width=32),  # ORT may set FTZ
    joint=st.integers(0, 24),
    state=st.sampled_from([INFERRED, TRACKED]),
)
def test_an_inferred_joint_at_any_depth_plays(tmp_path: Path, z: float, joint: int, state: int) -> None:
    slot0 = PAYLOADS["event:Nui Body Frame"][0] + 32  # frame 0's body slot 0 (after the floor and up)
    data = bytearray(PLAIN)
    struct.pack_into("<f", data, slot0 + 16 * joint + 8, z)
    struct.pack_into("<i", data, slot0 + 800 + 4 * joint, state)
    path = tmp_path / "joint.xef"
    path.write_bytes(bytes(data))
    plausible = 0.3 < z < 8.0
    xef = XefFile(path)
    if state == TRACKED and not plausible:
        with pytest.raises(RecordingError, match="the body layout may differ") as error:
            list(xef.frames(images=False))
        check_error(error.value, path)
        return
    frames = list(xef.frames(images=False))
    body = frames[0].bodies[0]
    assert len(frames) == 3 and body.joints[joint, 2] == z
    assert body.tracking[joint] == (state if plausible else NOT_TRACKED)
    counted = [problem for problem in xef.problems if "inferred joints" in problem]
    if plausible:
        assert counted == []
    else:
        assert len(counted) == 1 and counted[0].startswith("1 inferred joints in 1 of the frames read")
