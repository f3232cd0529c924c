"""The app's own recording format: round trip, OpenCV compatibility, crash recovery and errors."""

from __future__ import annotations

import json
import logging
import os
import struct
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np
import pytest

from sta_hands.contract.errors import RecordingError
from sta_hands.contract.frame import Body, Frame
from sta_hands.recordings.ntu.skeleton import read_skeleton
from sta_hands.recordings.own import append_file
from sta_hands.recordings.own import recording as own
from sta_hands.recordings.own.recording import RecordingWriter, open_recording, recover

REPO = Path(__file__).resolve().parents[2]
CREATED = "2024-05-01T12:00:00.000+00:00"
N = 8
WIDTH, HEIGHT = 64, 48


# ------------------------------------------------------------------------------------- frames on the fly


def make_body(seed: int) -> Body:
    """A body whose values have at most 7 significant digits, so the NTU text stores them exactly."""
    rng = np.random.default_rng(seed)
    return Body(
        id=72057594037931101 + seed % 7,
        joints=rng.integers(-20000, 40000, (25, 3)) / 1e4,
        color_px=rng.integers(0, WIDTH * 100, (25, 2)) / 100,
        tracking=rng.integers(0, 3, 25),
        depth_px=rng.integers(0, 51200, (25, 2)) / 100,
        orientation=rng.integers(-10000, 10000, (25, 4)) / 1e4,
        hand_left_state=seed % 5,
        lean=(0.25, -0.125),
        lean_tracking=2,
    )


def make_image(index: int) -> np.ndarray:
    """A smooth 64x48 image that changes with `index` (JPEG keeps it within a few levels)."""
    y, x = np.mgrid[0:HEIGHT, 0:WIDTH]
    return np.stack([x * 4, y * 5, (x + y + 10 * index) % 256], axis=-1).astype(np.uint8)


def make_frame(index: int, *, image: bool = True) -> Frame:
    """0, 1 or 2 bodies; timestamps that are not index / fps, as a real clock gives."""
    bodies = tuple(make_body(100 * index + k) for k in range(index % 3))
    timestamp = index / 30 + 0.001 * index**2
    return Frame(index, timestamp, make_image(index) if image else None, bodies)


def make_extra(index: int) -> dict:
    return {"label": f"A{index:03d}", "truth": [index, index + 0.5], "ok": index % 2 == 0}


def write(stem: Path, count: int, **options) -> None:
    options.setdefault("created", CREATED)
    with RecordingWriter(stem, **options) as writer:
        for index in range(count):
            writer.write(make_frame(index), make_extra(index))


def files(stem: Path) -> dict[str, bytes]:
    paths = own.RecordingPaths.of(stem)
    return {path.name[len(stem.name) :]: path.read_bytes() for path in paths.all() if path.exists()}


def mean_abs_diff(a: np.ndarray, b: np.ndarray) -> float:
    return float(np.abs(a.astype(np.int16) - b.astype(np.int16)).mean())


def assert_same_frame(frame: Frame, index: int, *, image: bool = True) -> None:
    expected = make_frame(index, image=image)
    assert frame.index == index
    assert frame.timestamp == expected.timestamp
    assert len(frame.bodies) == len(expected.bodies)
    assert all(a.same_as(b) for a, b in zip(frame.bodies, expected.bodies, strict=True))
    if image:
        assert frame.image is not None and frame.image.shape == (HEIGHT, WIDTH, 3)
        assert mean_abs_diff(frame.image, expected.image) < 3
    else:
        assert frame.image is None


# ----------------------------------------------------------------------------------------- round trip


@pytest.fixture(scope="module")
def finished(tmp_path_factory: pytest.TempPathFactory) -> Path:
    stem = tmp_path_factory.mktemp("finished") / "rec"
    write(stem, N, fps=30.0, device="kinect v2", metadata={"class": 12, "truth": [1, 2]})
    return stem


def test_round_trip_keeps_bodies_timestamps_extras_and_images(finished: Path) -> None:
    recording = open_recording(finished)
    assert recording.num_frames == len(recording) == N
    assert not recording.recovered and recording.frames_dropped_at_recovery == 0
    frames = list(recording.frames())
    assert len(frames) == N
    for index, frame in enumerate(frames):
        assert_same_frame(frame, index)
        assert recording.frame_extras(index) == make_extra(index)
    assert recording.extras == tuple(make_extra(i) for i in range(N))


def test_header_holds_device_fps_size_and_metadata(finished: Path) -> None:
    header = open_recording(finished).header
    assert header["format"] == "sta-hands-recording" and header["version"] == 1
    assert header["created"] == CREATED and header["device"] == "kinect v2"
    assert header["fps"] == 30.0 and header["color_size"] == [WIDTH, HEIGHT]
    assert header["class"] == 12 and header["truth"] == [1, 2]
    assert isinstance(header["app_version"], str)


@pytest.mark.parametrize("suffix", ["", ".skeleton", "_rgb.avi", ".jsonl"])
def test_opens_from_the_stem_or_any_file(finished: Path, suffix: str) -> None:
    recording = open_recording(str(finished) + suffix)
    assert recording.num_frames == N and recording.paths.stem == finished


def test_random_access_matches_the_sequence(finished: Path) -> None:
    recording = open_recording(finished)
    for index in (5, 0, N - 1, -1):
        assert_same_frame(recording.frame(index), index % N)
    with pytest.raises(IndexError):
        recording.frame(N)


def test_finished_avi_opens_in_opencv_with_the_same_frames(finished: Path) -> None:
    capture = cv2.VideoCapture(str(finished) + "_rgb.avi")
    assert capture.isOpened()
    assert capture.get(cv2.CAP_PROP_FRAME_COUNT) == N
    assert capture.get(cv2.CAP_PROP_FPS) == pytest.approx(30.0)
    images = []
    while True:
        ok, image = capture.read()
        if not ok:
            break
        images.append(image)
    capture.release()
    assert len(images) == N
    for index, image in enumerate(images):
        assert mean_abs_diff(image, make_image(index)) < 3


def test_finished_skeleton_is_strict_ntu_text_with_a_padded_count(finished: Path) -> None:
    path = Path(str(finished) + ".skeleton")
    assert path.read_bytes().split(b"\n")[0] == f"{N}".ljust(12).encode()
    skeleton = read_skeleton(path)
    assert skeleton.declared_frames == N and len(skeleton.frames) == N


def test_sidecar_ends_with_the_end_record(finished: Path) -> None:
    lines = Path(str(finished) + ".jsonl").read_text().splitlines()
    assert len(lines) == N + 2
    assert json.loads(lines[1]) == {"index": 0, "timestamp": 0.0, **make_extra(0)}
    assert json.loads(lines[-1]) == {"end": True, "frames": N}


def test_same_frames_and_created_give_identical_bytes(tmp_path: Path) -> None:
    write(tmp_path / "a" / "rec", 5, metadata={"seed": 7})
    write(tmp_path / "b" / "rec", 5, metadata={"seed": 7})
    first, second = files(tmp_path / "a" / "rec"), files(tmp_path / "b" / "rec")
    assert set(first) == {".skeleton", "_rgb.avi", ".jsonl"}
    assert first == second


def test_jpeg_quality_changes_the_video_size(tmp_path: Path) -> None:
    write(tmp_path / "low", 3, jpeg_quality=20)
    write(tmp_path / "high", 3, jpeg_quality=95)
    assert len(files(tmp_path / "low")["_rgb.avi"]) < len(files(tmp_path / "high")["_rgb.avi"])


def test_fsync_every_n_frames(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    calls: list[int] = []
    monkeypatch.setattr(append_file.os, "fsync", calls.append)
    with RecordingWriter(tmp_path / "rec", fsync_every=2, fsync_seconds=None) as writer:
        for index in range(5):
            writer.write(make_frame(index))
        assert len(calls) == 2 * 3  # after frames 2 and 4, three files each
    assert len(calls) > 6  # and at close


# -------------------------------------------------------------------------------- without images


def test_skeleton_only_recording_has_no_video(tmp_path: Path) -> None:
    stem = tmp_path / "rec"
    with RecordingWriter(stem, created=CREATED) as writer:
        for index in range(4):
            writer.write(make_frame(index, image=False))
    assert not Path(str(stem) + "_rgb.avi").exists()
    recording = open_recording(stem)
    assert recording.header["color_size"] is None and recording.num_frames == 4
    for index, frame in enumerate(recording.frames()):
        assert_same_frame(frame, index, image=False)


def test_missing_image_mid_way_repeats_the_previous_one(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    stem = tmp_path / "rec"
    with caplog.at_level(logging.WARNING), RecordingWriter(stem) as writer:
        for index in range(4):
            writer.write(make_frame(index, image=index != 2))
    assert "no image" in caplog.text
    recording = open_recording(stem)
    assert recording.num_frames == 4
    np.testing.assert_array_equal(recording.frame(2).image, recording.frame(1).image)
    assert_same_frame(recording.frame(3), 3)


def test_empty_recording_opens_with_no_frames(tmp_path: Path) -> None:
    RecordingWriter(tmp_path / "rec", created=CREATED).close()
    recording = open_recording(tmp_path / "rec")
    assert recording.num_frames == 0 and not recording.recovered
    assert list(recording.frames()) == []


# --------------------------------------------------------------------------------- crash recovery


@dataclass(frozen=True)
class InFlight:
    """The files of an open writer after N frames (what a crash leaves), and where each frame ends."""

    data: dict[str, bytes]
    bounds: dict[str, list[int]]  # bounds[suffix][k]: the file's size with k whole frames


@pytest.fixture(scope="module")
def in_flight(tmp_path_factory: pytest.TempPathFactory) -> InFlight:
    stem = tmp_path_factory.mktemp("inflight") / "rec"
    sizes: list[dict[str, int]] = []
    with RecordingWriter(stem, created=CREATED, fsync_every=0, fsync_seconds=None) as writer:
        for index in range(N):
            writer.write(make_frame(index), make_extra(index))
            sizes.append({suffix: len(data) for suffix, data in files(stem).items()})
        data = files(stem)
    starts = {
        ".skeleton": data[".skeleton"].index(b"\n") + 1,
        ".jsonl": data[".jsonl"].index(b"\n") + 1,
        "_rgb.avi": data["_rgb.avi"].index(b"movi") + 4,
    }
    bounds = {suffix: [start] + [size[suffix] for size in sizes] for suffix, start in starts.items()}
    return InFlight(data, bounds)


def cut_copy(in_flight: InFlight, stem: Path, cuts: dict[str, tuple[int, float]]) -> int:
    """Copy the in-flight files to `stem`, each cut inside frame k at fraction f; the frames kept."""
    stem.parent.mkdir(parents=True, exist_ok=True)
    kept = N
    for suffix, data in in_flight.data.items():
        whole, fraction = cuts.get(suffix, (N, 0.0))
        bounds = in_flight.bounds[suffix]
        end = bounds[whole] + int(fraction * (bounds[whole + 1] - bounds[whole])) if whole < N else len(data)
        Path(str(stem) + suffix).write_bytes(data[:end])
        kept = min(kept, whole)
    return kept


CRASHES = {
    "mid-chunk": {"_rgb.avi": (5, 0.5), ".skeleton": (5, 0.0), ".jsonl": (5, 0.0)},
    "inside-a-chunk-header": {"_rgb.avi": (3, 0.001), ".skeleton": (3, 0.0), ".jsonl": (3, 0.0)},
    "mid-skeleton-block": {".skeleton": (4, 0.3), ".jsonl": (4, 0.0)},
    "end-of-skeleton-block": {".skeleton": (5, 0.99), ".jsonl": (5, 0.0)},
    "mid-jsonl-line": {".jsonl": (6, 0.6)},
    "jsonl-line-without-newline": {".jsonl": (2, 0.99)},
    "between-frames": {"_rgb.avi": (7, 0.0), ".skeleton": (7, 0.0), ".jsonl": (7, 0.0)},
    "video-behind": {"_rgb.avi": (2, 0.7)},
    "skeleton-behind": {".skeleton": (1, 0.5)},
    "all-frames-whole": {},
    "first-frame": {"_rgb.avi": (0, 0.5), ".skeleton": (0, 0.0), ".jsonl": (0, 0.0)},
}


@pytest.mark.parametrize("cuts", CRASHES.values(), ids=CRASHES.keys())
def test_crash_cut_keeps_exactly_the_whole_frames(tmp_path: Path, in_flight: InFlight, cuts: dict) -> None:
    stem = tmp_path / "cut"
    kept = cut_copy(in_flight, stem, cuts)
    recording = open_recording(stem)
    assert recording.recovered
    assert recording.num_frames == kept
    for index, frame in enumerate(recording.frames()):
        assert_same_frame(frame, index)
    assert recording.extras == tuple(make_extra(i) for i in range(kept))


def test_crash_cut_counts_the_dropped_partial_frames(tmp_path: Path, in_flight: InFlight) -> None:
    cut_copy(in_flight, tmp_path / "a", CRASHES["mid-jsonl-line"])
    assert open_recording(tmp_path / "a").frames_dropped_at_recovery == N - 6
    cut_copy(in_flight, tmp_path / "b", CRASHES["between-frames"])
    assert open_recording(tmp_path / "b").frames_dropped_at_recovery == 0


def test_crash_cut_logs_what_was_kept(
    tmp_path: Path, in_flight: InFlight, caplog: pytest.LogCaptureFixture
) -> None:
    cut_copy(in_flight, tmp_path / "cut", CRASHES["mid-chunk"])
    with caplog.at_level(logging.WARNING):
        open_recording(tmp_path / "cut")
    assert "kept 5 whole frames" in caplog.text


@pytest.mark.parametrize("name", ["mid-chunk", "mid-skeleton-block", "mid-jsonl-line", "all-frames-whole"])
def test_recover_rewrites_what_a_clean_close_would_have(
    tmp_path: Path, in_flight: InFlight, name: str
) -> None:
    kept = cut_copy(in_flight, tmp_path / "cut" / "rec", CRASHES[name])
    recording = recover(tmp_path / "cut" / "rec")
    assert not recording.recovered and recording.num_frames == kept
    write(tmp_path / "clean" / "rec", kept, fsync_every=0)
    assert files(tmp_path / "cut" / "rec") == files(tmp_path / "clean" / "rec")


def test_crash_before_the_skeleton_reached_the_disk(tmp_path: Path, in_flight: InFlight) -> None:
    cut_copy(in_flight, tmp_path / "cut", {".skeleton": (0, 0.0), ".jsonl": (0, 0.0)})
    Path(str(tmp_path / "cut") + ".skeleton").write_bytes(b"")
    assert open_recording(tmp_path / "cut").num_frames == 0


def test_corrupt_chunk_size_ends_the_scan_without_reading(tmp_path: Path, finished: Path) -> None:
    stem = tmp_path / "rec"
    data = files(finished)
    video = bytearray(data["_rgb.avi"])
    recording = open_recording(finished)
    offset = recording._video.chunks[3][0] - 4  # the size field of chunk 3
    video[offset : offset + 4] = (0x7FFFFFF0).to_bytes(4, "little")
    for suffix, content in {**data, "_rgb.avi": bytes(video)}.items():
        Path(str(stem) + suffix).write_bytes(content)
    damaged = open_recording(stem)
    assert damaged.recovered and damaged.num_frames == 3


def test_a_jpeg_header_claiming_a_huge_image_is_refused_before_decoding(
    tmp_path: Path, finished: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """OpenCV allocates what a JPEG's frame header says: 30000x30000 in a 1 KB chunk is 2.7 GB."""
    stem = tmp_path / "rec"
    data = files(finished)
    video = bytearray(data["_rgb.avi"])
    chunks = open_recording(finished)._video.chunks
    (huge, huge_size), (no_sof, no_sof_size) = chunks[1], chunks[3]
    struct.pack_into(">HH", video, video.index(b"\xff\xc0", huge, huge + huge_size) + 5, 30000, 30000)
    video[video.index(b"\xff\xc0", no_sof, no_sof + no_sof_size) + 1] = 0xE5  # SOF0 becomes APP5
    sos = video.index(b"\xff\xda", no_sof, no_sof + no_sof_size)
    crafted = bytes(video[huge : huge + huge_size])
    assert huge_size < 2000
    for suffix, content in {**data, "_rgb.avi": bytes(video)}.items():
        Path(str(stem) + suffix).write_bytes(content)
    given, decode = [], cv2.imdecode

    def spy(buffer: np.ndarray, flags: int) -> np.ndarray | None:
        given.append(bytes(buffer))
        assert given[-1] != crafted, "cv2.imdecode was called on the crafted JPEG"
        return decode(buffer, flags)

    monkeypatch.setattr(cv2, "imdecode", spy)
    recording = open_recording(stem)
    assert_same_frame(recording.frame(0), 0)  # a normal frame decodes
    with pytest.raises(RecordingError, match=r"image is 30000x30000, the header says \(64, 48\) \(read from "
                       r"its JPEG header; not decoded\)") as error:  # fmt: skip
        recording.frame(1)
    assert error.value.position == "frame 1" and error.value.path == Path(str(stem) + "_rgb.avi")
    with pytest.raises(RecordingError, match="frame 3: JPEG data does not decode: no frame header") as error:
        recording.frame(3)
    assert error.value.position == f"byte {sos}"
    assert len(given) == 1  # frame 0 only
    assert_same_frame(recording.frame(2), 2)


CHILD = """
import itertools, sys, time
from sta_hands.recordings.own.recording import RecordingWriter
from tests.recordings.test_own import make_extra, make_frame
with RecordingWriter(sys.argv[1], fsync_every=0, fsync_seconds=None) as writer:
    for index in itertools.count():
        writer.write(make_frame(index), make_extra(index))
        time.sleep(0.002)
"""


def test_real_crash_keeps_every_committed_frame(tmp_path: Path) -> None:
    stem, sidecar = tmp_path / "rec", tmp_path / "rec.jsonl"
    child = subprocess.Popen([sys.executable, "-c", CHILD, str(stem)], cwd=REPO)
    try:
        deadline = time.monotonic() + 30
        while not (sidecar.exists() and sidecar.read_bytes().count(b"\n") >= 6):
            assert child.poll() is None, "the writer exited"
            assert time.monotonic() < deadline, "the writer wrote nothing"
            time.sleep(0.01)
    finally:
        child.kill()  # SIGKILL: no close, no flush, no end line
        child.wait()
    committed = sidecar.read_bytes().count(b"\n") - 1
    recording = open_recording(stem)
    assert recording.recovered and committed >= 5
    assert recording.num_frames == committed
    for index, frame in enumerate(recording.frames()):
        assert_same_frame(frame, index)


# --------------------------------------------------------------------------------------------- errors


def test_creates_a_missing_folder(tmp_path: Path) -> None:
    write(tmp_path / "new" / "deeper" / "rec", 1)
    assert open_recording(tmp_path / "new" / "deeper" / "rec").num_frames == 1


def test_read_only_folder_is_an_error(tmp_path: Path) -> None:
    folder = tmp_path / "locked"
    folder.mkdir()
    folder.chmod(0o500)
    try:
        if os.access(folder, os.W_OK):
            pytest.skip("running as a user that may write anywhere (root)")
        with pytest.raises(RecordingError) as error:
            RecordingWriter(folder / "rec")
        assert "rec.skeleton" in str(error.value)
    finally:
        folder.chmod(0o700)


def test_unwritable_folder_is_an_error_even_for_root(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    def refuse(path: Path, *args: object, **kwargs: object) -> None:
        raise PermissionError(13, "Permission denied", str(path))

    monkeypatch.setattr(append_file, "open", refuse, raising=False)  # shadows the builtin inside the module
    with pytest.raises(RecordingError, match="Permission denied") as error:
        RecordingWriter(tmp_path / "rec")
    assert error.value.path == tmp_path / "rec.skeleton"


def test_folder_that_cannot_be_created_is_an_error(tmp_path: Path) -> None:
    (tmp_path / "file").write_text("not a folder")
    with pytest.raises(RecordingError, match="cannot create"):
        RecordingWriter(tmp_path / "file" / "rec")


@pytest.mark.parametrize("suffix", [".skeleton", "_rgb.avi", ".jsonl"])
def test_existing_recording_is_not_overwritten(tmp_path: Path, suffix: str) -> None:
    Path(str(tmp_path / "rec") + suffix).write_text("old")
    with pytest.raises(RecordingError, match="exists") as error:
        RecordingWriter(tmp_path / "rec")
    assert error.value.path == Path(str(tmp_path / "rec") + suffix)
    assert Path(str(tmp_path / "rec") + suffix).read_text() == "old"


def test_overwrite_replaces_an_existing_recording(tmp_path: Path) -> None:
    write(tmp_path / "rec", 3)
    with RecordingWriter(tmp_path / "rec", overwrite=True) as writer:
        writer.write(make_frame(0, image=False))
    assert not Path(str(tmp_path / "rec") + "_rgb.avi").exists()
    assert open_recording(tmp_path / "rec").num_frames == 1


def test_image_size_change_is_an_error(tmp_path: Path) -> None:
    with RecordingWriter(tmp_path / "rec") as writer:
        writer.write(make_frame(0))
        small = Frame(1, 0.1, np.zeros((10, 10, 3), np.uint8))
        with pytest.raises(RecordingError, match="frame 1"):
            writer.write(small)
        writer.write(make_frame(1))  # the failed frame left nothing behind
    assert open_recording(tmp_path / "rec").num_frames == 2


@pytest.mark.parametrize("extra", [{"index": 3}, {"timestamp": 1.0}, {"end": True}, {"bad": object()}])
def test_bad_extras_are_an_error_and_write_nothing(tmp_path: Path, extra: dict) -> None:
    with RecordingWriter(tmp_path / "rec") as writer:
        with pytest.raises(RecordingError):
            writer.write(make_frame(0), extra)
        assert writer.frames_written == 0
    assert open_recording(tmp_path / "rec").num_frames == 0


def test_write_after_close_is_an_error(tmp_path: Path) -> None:
    writer = RecordingWriter(tmp_path / "rec")
    writer.close()
    with pytest.raises(RecordingError, match="after close"):
        writer.write(make_frame(0))


@pytest.mark.parametrize("suffix", [".skeleton", "_rgb.avi", ".jsonl"])
def test_missing_file_is_an_error(tmp_path: Path, finished: Path, suffix: str) -> None:
    for name, content in files(finished).items():
        if name != suffix:
            Path(str(tmp_path / "rec") + name).write_bytes(content)
    with pytest.raises(RecordingError) as error:
        open_recording(tmp_path / "rec")
    assert error.value.path == Path(str(tmp_path / "rec") + suffix)


def with_sidecar(tmp_path: Path, finished: Path, lines: list[bytes]) -> Path:
    for name, content in files(finished).items():
        Path(str(tmp_path / "rec") + name).write_bytes(content)
    Path(str(tmp_path / "rec") + ".jsonl").write_bytes(b"".join(lines))
    return tmp_path / "rec"


def sidecar_lines(finished: Path) -> list[bytes]:
    return Path(str(finished) + ".jsonl").read_bytes().splitlines(keepends=True)


@pytest.mark.parametrize(
    ("header", "problem"),
    [
        (b'{"format": "something-else", "version": 1}\n', "not a sta-hands-recording header"),
        (b"[1, 2]\n", "not a sta-hands-recording header"),
        (b"garbage\n", "not a sta-hands-recording header"),
        (b'{"format": "sta-hands-recording", "version": 2, "fps": 30}\n', "version 2 is newer"),
    ],
)
def test_foreign_or_future_header_is_an_error(
    tmp_path: Path, finished: Path, header: bytes, problem: str
) -> None:
    stem = with_sidecar(tmp_path, finished, [header, *sidecar_lines(finished)[1:]])
    with pytest.raises(RecordingError, match=problem) as error:
        open_recording(stem)
    assert error.value.position == "line 1"


def test_bad_json_line_in_the_middle_is_an_error(tmp_path: Path, finished: Path) -> None:
    lines = sidecar_lines(finished)
    lines[3] = b'{"index": 2, "timest\n'
    with pytest.raises(RecordingError, match="bad JSON") as error:
        open_recording(with_sidecar(tmp_path, finished, lines))
    assert error.value.position == "line 4"


def test_bad_last_line_is_a_partial_write(tmp_path: Path, finished: Path) -> None:
    lines = sidecar_lines(finished)[: N + 1]
    lines[-1] = b'{"index": 7, "timest\n'
    recording = open_recording(with_sidecar(tmp_path, finished, lines))
    assert recording.recovered and recording.num_frames == N - 1


def test_records_out_of_order_are_an_error(tmp_path: Path, finished: Path) -> None:
    lines = sidecar_lines(finished)
    lines[2], lines[3] = lines[3], lines[2]
    with pytest.raises(RecordingError, match="frame 1") as error:
        open_recording(with_sidecar(tmp_path, finished, lines))
    assert error.value.position == "line 3"


def test_wrong_end_count_is_an_error(tmp_path: Path, finished: Path) -> None:
    lines = sidecar_lines(finished)
    lines[-1] = b'{"end": true, "frames": 99}\n'
    with pytest.raises(RecordingError, match="99"):
        open_recording(with_sidecar(tmp_path, finished, lines))


def test_not_an_avi_is_an_error(tmp_path: Path, finished: Path) -> None:
    stem = with_sidecar(tmp_path, finished, sidecar_lines(finished))
    Path(str(stem) + "_rgb.avi").write_bytes(b"RIFX" + bytes(400))
    with pytest.raises(RecordingError, match="not an AVI") as error:
        open_recording(stem)
    assert error.value.position == "byte 0"
