"""Fuzzing the reader of the app's own recordings (.jsonl sidecar, .skeleton, _rgb.avi).

A recording is cut, flipped or shuffled one file at a time or all at once; opening it and reading
every frame gives the frames it holds or a `RecordingError` naming one of its three files, within a
time bound and without allocating far beyond the files' size. Cuts (what a crash leaves) never
give wrong data: the frames kept are exactly the originals.
"""

from __future__ import annotations

import json
import struct
from dataclasses import dataclass
from pathlib import Path
from unittest import mock

import cv2
import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from sta_hands.contract.errors import RecordingError
from sta_hands.recordings.own.recording import RecordingPaths, RecordingWriter, open_recording
from tests.recordings.test_own import make_extra, make_frame
from tests.robustness.guards import MiB, bounded, check_error, fuzz_settings
from tests.robustness.registry import Cases

RECORDING = Cases(
    "The app's own recordings (.jsonl + .skeleton + _rgb.avi)",
    "A 6-frame recording with images and 0-2 bodies per frame, damaged on the fly; each example opens it "
    "and reads every frame.",
)
RECORDING.add(
    "all-three-files-cut",
    "each of the three files cut at a random byte (what a crash or a full disk leaves)",
    "opens as `recovered` with the frames whole in all three files, identical to the originals "
    "(bodies, timestamps, extras, images); a sidecar cut inside its header line is a `RecordingError`",
)
RECORDING.add(
    "one-file-flipped",
    "1 to 6 random bytes XOR-ed in one of the three files",
    "frames, or `RecordingError` naming that file; bounded time and memory",
)
RECORDING.add(
    "lines-swapped",
    "two lines of the sidecar or of the skeleton swapped, or one deleted",
    "frames, or `RecordingError` naming the file and the line",
)
RECORDING.add(
    "non-finite-timestamp",
    "a frame record whose timestamp is NaN or infinite (valid JSON to Python)",
    "`RecordingError`: bad timestamp, at its line",
)
RECORDING.add(
    "chunk-size-huge",
    "a video chunk claiming 2 GB",
    "the scan stops there without reading or allocating it; the frames before it replay",
)
RECORDING.add(
    "jpeg-header-size",
    "a JPEG chunk (about 1 KB) whose frame header (SOF0) claims another size than the recording's, "
    "0x0 to 65535x65535 (OpenCV would allocate up to 12 GB)",
    "`RecordingError` naming the _rgb.avi and the frame (`image is WxH, the header says (64, 48) (read "
    "from its JPEG header; not decoded)`): OpenCV never sees the chunk; the other frames decode",
)

N = 6
SUFFIXES = (".jsonl", ".skeleton", "_rgb.avi")


@dataclass(frozen=True)
class Original:
    files: dict[str, bytes]
    images: list[np.ndarray]

    @property
    def size(self) -> int:
        return sum(len(data) for data in self.files.values())


@pytest.fixture(scope="module")
def original(tmp_path_factory: pytest.TempPathFactory) -> Original:
    stem = tmp_path_factory.mktemp("original") / "rec"
    with RecordingWriter(stem, created="2024-05-01T12:00:00.000+00:00", fsync_every=0) as writer:
        for index in range(N):
            writer.write(make_frame(index), make_extra(index))
    recording = open_recording(stem)
    images = [frame.image for frame in recording.frames()]
    files = {suffix: Path(str(stem) + suffix).read_bytes() for suffix in SUFFIXES}
    return Original(files, images)  # type: ignore[arg-type]


def write_copy(folder: Path, files: dict[str, bytes]) -> RecordingPaths:
    folder.mkdir(parents=True, exist_ok=True)
    for suffix, data in files.items():
        Path(str(folder / "rec") + suffix).write_bytes(data)
    return RecordingPaths.of(folder / "rec")


def read_everything(paths: RecordingPaths, size: int) -> list | RecordingError:
    """Open the recording and read every frame and extra; the frames, or the error (checked)."""
    with bounded(24 * size + 8 * MiB):
        try:
            recording = open_recording(paths.stem)
            frames = list(recording.frames())
            assert len(frames) == recording.num_frames == len(recording.extras)
            recording.timestamps  # noqa: B018 - reading it is the test
            return frames
        except RecordingError as error:
            check_error(error, paths.all(), position=False)
            return error


@RECORDING.covers("all-three-files-cut")
@fuzz_settings()
@given(cuts=st.tuples(*(st.integers(0, 1000) for _ in SUFFIXES)))
def test_cut_files_keep_exactly_their_whole_frames(
    original: Original, tmp_path_factory: pytest.TempPathFactory, cuts: tuple[int, ...]
) -> None:
    files = {  # each file cut at cut/1000 of its length
        suffix: data[: round(cut * len(data) / 1000)]
        for (suffix, data), cut in zip(original.files.items(), cuts, strict=True)
    }
    paths = write_copy(tmp_path_factory.mktemp("cut"), files)
    result = read_everything(paths, original.size)
    header_end = original.files[".jsonl"].index(b"\n") + 1
    if isinstance(result, RecordingError):
        assert len(files[".jsonl"]) < header_end, result  # only a sidecar without its header may fail
        return
    for index, frame in enumerate(result):
        expected = make_frame(index)
        assert frame.index == index and frame.timestamp == expected.timestamp
        assert all(a.same_as(b) for a, b in zip(frame.bodies, expected.bodies, strict=True))
        assert frame.image is not None and np.array_equal(frame.image, original.images[index])


@RECORDING.covers("one-file-flipped")
@fuzz_settings()
@given(data=st.data())
def test_flipped_bytes_give_frames_or_a_recording_error(
    original: Original, tmp_path_factory: pytest.TempPathFactory, data: st.DataObject
) -> None:
    suffix = data.draw(st.sampled_from(SUFFIXES))
    damaged = bytearray(original.files[suffix])
    offsets = st.integers(0, len(damaged) - 1)
    for offset, mask in data.draw(st.lists(st.tuples(offsets, st.integers(1, 255)), min_size=1, max_size=6)):
        damaged[offset] ^= mask
    paths = write_copy(tmp_path_factory.mktemp("flip"), {**original.files, suffix: bytes(damaged)})
    result = read_everything(paths, original.size)
    if not isinstance(result, RecordingError):
        assert len(result) <= N


@RECORDING.covers("lines-swapped")
@fuzz_settings()
@given(data=st.data())
def test_shuffled_lines_give_frames_or_a_recording_error(
    original: Original, tmp_path_factory: pytest.TempPathFactory, data: st.DataObject
) -> None:
    suffix = data.draw(st.sampled_from([".jsonl", ".skeleton"]))
    lines = original.files[suffix].splitlines(keepends=True)
    first, second = data.draw(st.integers(0, len(lines) - 1)), data.draw(st.integers(0, len(lines) - 1))
    if data.draw(st.booleans()):
        lines[first], lines[second] = lines[second], lines[first]
    else:
        del lines[first]
    paths = write_copy(tmp_path_factory.mktemp("shuffle"), {**original.files, suffix: b"".join(lines)})
    result = read_everything(paths, original.size)
    if isinstance(result, RecordingError) and result.path == paths.skeleton:
        assert result.position is not None and result.position.startswith("line ")


@RECORDING.covers("non-finite-timestamp")
@pytest.mark.parametrize("value", ["NaN", "Infinity", "-Infinity"])
def test_a_non_finite_timestamp_is_an_error(original: Original, tmp_path: Path, value: str) -> None:
    lines = original.files[".jsonl"].splitlines(keepends=True)
    record = json.loads(lines[3])
    lines[3] = json.dumps(record).replace(json.dumps(record["timestamp"]), value, 1).encode() + b"\n"
    paths = write_copy(tmp_path, {**original.files, ".jsonl": b"".join(lines)})
    with pytest.raises(RecordingError, match=r"bad timestamp -?(nan|inf)") as caught:
        open_recording(paths.stem)
    assert caught.value.path == paths.sidecar and caught.value.position == "line 4"


@RECORDING.covers("chunk-size-huge")
def test_a_huge_chunk_size_is_not_read(original: Original, tmp_path: Path) -> None:
    video = bytearray(original.files["_rgb.avi"])
    third = [i for i in range(len(video) - 4) if video[i : i + 4] == b"00dc"][2]
    video[third + 4 : third + 8] = (0x7FFFFFF0).to_bytes(4, "little")
    paths = write_copy(tmp_path, {**original.files, "_rgb.avi": bytes(video)})
    with bounded(24 * original.size + 8 * MiB):
        recording = open_recording(paths.stem)
        frames = list(recording.frames())
    assert recording.recovered and len(frames) == 2


@RECORDING.covers("jpeg-header-size")
@fuzz_settings()
@given(frame=st.integers(0, N - 1), width=st.integers(0, 0xFFFF), height=st.integers(0, 0xFFFF))
def test_a_jpeg_header_of_another_size_is_not_decoded(
    original: Original, tmp_path_factory: pytest.TempPathFactory, frame: int, width: int, height: int
) -> None:
    paths = write_copy(tmp_path_factory.mktemp("size"), original.files)
    start, length = open_recording(paths.stem)._video.chunks[frame]
    video = bytearray(original.files["_rgb.avi"])
    struct.pack_into(">HH", video, video.index(b"\xff\xc0", start) + 5, height, width)
    crafted = bytes(video[start : start + length])
    paths.video.write_bytes(bytes(video))
    decode = cv2.imdecode

    def spy(buffer: np.ndarray, flags: int) -> np.ndarray | None:
        assert (width, height) == (64, 48) or bytes(buffer) != crafted, "OpenCV got the crafted JPEG"
        return decode(buffer, flags)

    with mock.patch.object(cv2, "imdecode", spy), bounded(24 * original.size + 8 * MiB):
        recording = open_recording(paths.stem)
        for index in range(N):
            if index != frame or (width, height) == (64, 48):
                assert np.array_equal(recording.frame(index).image, original.images[index])
                continue
            with pytest.raises(RecordingError) as error:
                recording.frame(index)
    if (width, height) == (64, 48):
        return
    check_error(error.value, paths.all(), position=False)
    assert error.value.path == paths.video and f"frame {frame}" in str(error.value)
    if width and height:
        assert f"image is {width}x{height}, the header says (64, 48)" in str(error.value)
    else:
        assert "JPEG data does not decode" in str(error.value)
