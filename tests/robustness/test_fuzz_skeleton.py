"""Fuzzing the NTU `.skeleton` reader with real files cut, flipped, shuffled, and with generated ones.

Whatever the damage, `read_skeleton` returns frames or raises a `RecordingError` naming the file and
the line, within a time bound and without allocating far beyond the file's size; a crash-tolerant
read of a cut file keeps exactly the whole frames before the cut, identical to the original's.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from sta_hands.contract.errors import RecordingError
from sta_hands.contract.frame import NUM_JOINTS, Body
from sta_hands.recordings.ntu.skeleton import BODY_LINES, SkeletonFile, parse_skeleton_text, read_skeleton
from sta_hands.recordings.ntu.skeleton_writer import format_skeleton
from tests.robustness.guards import MiB, bounded, check_error, fuzz_settings
from tests.robustness.registry import Cases

SKELETON = Cases(
    "NTU .skeleton files",
    "Real NTU RGB+D files (../shared/samples/ntu, never copied here) damaged on the fly, and generated "
    "files. Each read runs in three modes: strict (the default), crash-tolerant "
    "(`allow_truncated=True`) and NaN-accepting (`allow_nan=True`).",
)
SKELETON.add(
    "cut-after-every-line",
    "a real file cut after line k, for every line of its first two and last frames and every 29th line "
    "elsewhere",
    "strict: `RecordingError` naming the file and the line; tolerant: exactly the whole frames before the "
    "cut, identical to the original's, flagged `truncated`",
)
SKELETON.add(
    "cut-at-any-byte",
    "a real file cut at a random byte, sometimes followed by a zero-filled tail (what a crash leaves)",
    "tolerant: the whole frames before the cut, identical to the original's; strict: `RecordingError` "
    "with file and line",
)
SKELETON.add(
    "flipped-bytes",
    "1 to 8 random bytes of a real file XOR-ed (digits become letters, newlines vanish, non-ASCII bytes)",
    "frames, or `RecordingError` naming the file and the line; bounded time and memory",
)
SKELETON.add(
    "lines-swapped-deleted-duplicated",
    "two lines of a real file swapped, or one deleted or duplicated",
    "frames, or `RecordingError` naming the file and the line; bounded time and memory",
)
SKELETON.add(
    "generated",
    "generated files: 0-4 frames of 0-7 bodies with NaN, infinite and huge values, then hostile tokens "
    "(`nan`, `1e999`, `0x10`, 20-digit integers, non-ASCII, empty lines) and a wrong frame count",
    "frames (an untouched file reads back exactly), or `RecordingError` naming the file and the line; "
    "bounded time and memory",
)

REAL = "S001C001P001R001A001"  # 103 frames, one body, LF
EXCERPTS = ("S001C001P001R001A050", "S002C001P003R001A003")  # two bodies LF; one body CRLF
EXCERPT_FRAMES = 12


@dataclass(frozen=True)
class Sample:
    """A skeleton file's bytes, its frames, and the byte offset after each frame's last line."""

    data: bytes
    frames: tuple[tuple[Body, ...], ...]
    frame_ends: tuple[int, ...]
    line_ends: tuple[int, ...]  # byte offset after every line (line 1 first)


def _sample(data: bytes) -> Sample:
    parsed = read_skeleton_bytes(data)
    line_ends = tuple(i + 1 for i, byte in enumerate(data) if byte == 0x0A)
    ends, line = [], 1
    for bodies in parsed.frames:
        line += 1 + BODY_LINES * len(bodies)
        ends.append(line_ends[line - 1])
    return Sample(data, parsed.frames, tuple(ends), line_ends)


def read_skeleton_bytes(data: bytes) -> SkeletonFile:
    return parse_skeleton_text(data.decode("ascii"))


def excerpt(data: bytes, frames: int) -> bytes:
    """The first `frames` frames of a real file, with the header count changed to match."""
    sample = _sample(data)
    newline = b"\r\n" if data.split(b"\n", 1)[0].endswith(b"\r") else b"\n"
    return str(frames).encode() + newline + data[sample.line_ends[0] : sample.frame_ends[frames - 1]]


@pytest.fixture(scope="module")
def real(ntu_samples: Path) -> Sample:
    return _sample((ntu_samples / f"{REAL}.skeleton").read_bytes())


@pytest.fixture(scope="module")
def excerpts(ntu_samples: Path) -> list[Sample]:
    return [_sample(excerpt((ntu_samples / f"{n}.skeleton").read_bytes(), EXCERPT_FRAMES)) for n in EXCERPTS]


def same_frames(a: tuple[tuple[Body, ...], ...], b: tuple[tuple[Body, ...], ...]) -> bool:
    pairs = zip(a, b, strict=True) if len(a) == len(b) else ()
    return len(a) == len(b) and all(
        len(x) == len(y) and all(p.same_as(q) for p, q in zip(x, y, strict=True)) for x, y in pairs
    )


def budget(data: bytes) -> int:
    """What a reader may allocate for a file of this size: its lines, bodies and arrays, with room."""
    return 24 * len(data) + 4 * MiB


def read_both_ways(path: Path, data: bytes) -> dict[str, SkeletonFile | RecordingError]:
    """Strict, tolerant and NaN-accepting reads of `data` written to `path`: a result or an error each."""
    path.write_bytes(data)
    results: dict[str, SkeletonFile | RecordingError] = {}
    modes = {"strict": {}, "tolerant": {"allow_truncated": True}, "nan": {"allow_nan": True}}
    for mode, options in modes.items():
        with bounded(budget(data)):
            try:
                results[mode] = read_skeleton(path, **options)
            except RecordingError as error:
                check_error(error, path)
                results[mode] = error
    return results


def whole_frames_before(sample: Sample, cut: int) -> int:
    return sum(end <= cut for end in sample.frame_ends)


@SKELETON.covers("cut-after-every-line")
def test_a_real_file_cut_after_any_line(real: Sample, tmp_path: Path) -> None:
    per_frame = 1 + BODY_LINES  # one body per frame in this file
    lines = len(real.line_ends)
    chosen = set(range(1, 1 + 2 * per_frame + 1)) | set(range(lines - per_frame - 1, lines))
    chosen |= set(range(1, lines, 29))
    path = tmp_path / f"{REAL}.skeleton"
    for kept in sorted(chosen):
        cut = real.line_ends[kept - 1]
        path.write_bytes(real.data[:cut])
        with pytest.raises(RecordingError) as caught:
            read_skeleton(path)
        check_error(caught.value, path)
        tolerant = read_skeleton(path, allow_truncated=True)
        whole = whole_frames_before(real, cut)
        assert same_frames(tolerant.frames, real.frames[:whole]), f"cut after line {kept}"
        assert tolerant.truncated and tolerant.declared_frames == len(real.frames)


@SKELETON.covers("cut-at-any-byte")
@fuzz_settings()
@given(data=st.data())
def test_a_real_file_cut_at_any_byte(excerpts: list[Sample], tmp_path: Path, data: st.DataObject) -> None:
    sample = excerpts[data.draw(st.integers(0, len(excerpts) - 1))]
    cut = data.draw(st.integers(0, len(sample.data)))
    zeros = data.draw(st.sampled_from([0, 0, 1, 4096]))
    results = read_both_ways(tmp_path / "cut.skeleton", sample.data[:cut] + bytes(zeros))
    tolerant = results["tolerant"]
    if cut < sample.line_ends[0]:
        return  # no whole header line: nothing to keep
    assert isinstance(tolerant, SkeletonFile), tolerant
    assert same_frames(tolerant.frames, sample.frames[: whole_frames_before(sample, cut)])
    strict = results["strict"]
    if isinstance(strict, SkeletonFile):  # only the last newline was cut: still the whole file
        assert cut >= len(sample.data) - 2 and same_frames(strict.frames, sample.frames)


@SKELETON.covers("flipped-bytes")
@fuzz_settings()
@given(data=st.data())
def test_flipped_bytes_give_frames_or_a_recording_error(
    excerpts: list[Sample], tmp_path: Path, data: st.DataObject
) -> None:
    sample = excerpts[data.draw(st.integers(0, len(excerpts) - 1))]
    damaged = bytearray(sample.data)
    offsets = st.integers(0, len(damaged) - 1)
    for offset, mask in data.draw(st.lists(st.tuples(offsets, st.integers(1, 255)), min_size=1, max_size=8)):
        damaged[offset] ^= mask
    read_both_ways(tmp_path / "flipped.skeleton", bytes(damaged))


@SKELETON.covers("lines-swapped-deleted-duplicated")
@fuzz_settings()
@given(data=st.data())
def test_shuffled_lines_give_frames_or_a_recording_error(
    excerpts: list[Sample], tmp_path: Path, data: st.DataObject
) -> None:
    sample = excerpts[data.draw(st.integers(0, len(excerpts) - 1))]
    lines = sample.data.splitlines(keepends=True)
    index = st.integers(0, len(lines) - 1)
    first, second = data.draw(index), data.draw(index)
    how = data.draw(st.sampled_from(["swap", "delete", "duplicate"]))
    if how == "swap":
        lines[first], lines[second] = lines[second], lines[first]
    elif how == "delete":
        del lines[first]
    else:
        lines.insert(first, lines[second])
    results = read_both_ways(tmp_path / "shuffled.skeleton", b"".join(lines))
    if how != "swap" or lines[first] == lines[second]:
        return
    strict = results["strict"]
    if isinstance(strict, SkeletonFile):  # two lines of the same kind swapped: the values moved, no more
        assert len(strict.frames) == len(sample.frames)


HOSTILE = (
    "nan", "NaN", "-inf", "Infinity", "1e999", "-1e999", "1e-999", "0x10", "1.5e", "--1", "+", ".", "",
    "99999999999999999999", "18446744073709551616", "-0", "3", "25", "26", "0", "7", "2.5", "\u00e9", "\t",
    "1 2", "\x00",
)  # fmt: skip
FLOATS = st.one_of(
    st.floats(-10, 10, allow_nan=False, allow_subnormal=False).map(lambda v: float(format(v, ".7G"))),
    st.sampled_from([float("nan"), float("inf"), -float("inf"), 1e30, -3.4e38, 0.0]),
)


@st.composite
def bodies(draw: st.DrawFn) -> Body:
    values = draw(st.lists(FLOATS, min_size=NUM_JOINTS * 11, max_size=NUM_JOINTS * 11))
    joints = np.array(values, dtype=np.float64).reshape(NUM_JOINTS, 11)
    return Body(
        id=draw(st.integers(0, 2**64 - 1)),
        joints=joints[:, 0:3], depth_px=joints[:, 3:5], color_px=joints[:, 5:7], orientation=joints[:, 7:11],
        tracking=draw(st.lists(st.integers(0, 2), min_size=NUM_JOINTS, max_size=NUM_JOINTS)),
        clipped_edges=draw(st.integers(0, 15)), lean=(draw(FLOATS), draw(FLOATS)),
    )  # fmt: skip


@SKELETON.covers("generated")
@fuzz_settings()
@given(
    frames=st.lists(st.lists(bodies(), max_size=7), max_size=4),
    edits=st.lists(
        st.tuples(st.integers(0, 10**6), st.integers(0, 20), st.sampled_from(HOSTILE)), max_size=3
    ),
    header=st.one_of(st.none(), st.integers(-2, 10**12)),
    newline=st.sampled_from(["\n", "\r\n"]),
)
def test_generated_files_give_frames_or_a_recording_error(
    tmp_path: Path,
    frames: list[list[Body]],
    edits: list[tuple[int, int, str]],
    header: int | None,
    newline: str,
) -> None:
    lines = format_skeleton(frames, newline).split(newline)
    for line, column, token in edits:
        tokens = lines[line % len(lines)].split(" ")
        tokens[column % len(tokens)] = token
        lines[line % len(lines)] = " ".join(tokens)
    if header is not None:
        lines[0] = str(header)
    text = newline.join(lines)
    results = read_both_ways(tmp_path / "generated.skeleton", text.encode("utf-8"))
    if not edits and header in (None, len(frames)):
        parsed = results["nan"]
        assert isinstance(parsed, SkeletonFile) and len(parsed.frames) == len(frames)
        for read, written in zip(parsed.frames, frames, strict=True):
            for a, b in zip(read, written, strict=True):
                assert a.id == b.id and np.array_equal(a.joints, b.joints, equal_nan=True)
