"""Fuzzing the Kinect Studio .xef reader beyond tests/recordings/test_xef.py: bounded time and memory.

Files come from tests/recordings/xef_builder.py (no public .xef exists): plain and archived (zlib)
recordings, cut and flipped together, with records swapped, and generated from random record headers.
Reading means what `sta-hands info` and a replay do: `describe()` and every frame with its image.
"""

from __future__ import annotations

import struct
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from recordings.errors import RecordingError
from recordings.xef import XefFile
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
