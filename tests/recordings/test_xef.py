"""The Kinect Studio .xef reader: files built from docs/xef-format.md (tests/recordings/xef_builder.py)
read back, pairing by time, `info`, `convert`, hostile inputs, and a real file when one is supplied.

No public .xef exists (xef-format.md 11): these tests prove the reader agrees with the doc, and only
`test_a_real_file` (STA_HANDS_XEF_SAMPLE=/path/to/file.xef) can show that the doc agrees with Kinect Studio.
"""

from __future__ import annotations

import dataclasses
import json
import os
import struct
import time
import tracemalloc
import zlib
from pathlib import Path

import cv2
import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from sta_hands.contract.errors import RecordingError
from sta_hands.contract.frame import HAND_LEFT, INFERRED, JOINT, NOT_TRACKED, TRACKED
from sta_hands.recordings.info import format_info
from sta_hands.recordings.own.recording import open_recording
from sta_hands.recordings.xef import file as xef_module
from sta_hands.recordings.xef.file import (
    MAPPING_FITTED,
    MAPPING_GIVEN,
    ColorProjection,
    XefFile,
    convert_xef,
    describe_xef,
    open_xef,
    pair_by_time,
)
from tests.recordings.xef_builder import (
    BODY,
    COLOR_COMPRESSED,
    DEPTH,
    FIRST_BODY_ID,
    HEADER,
    TICKS,
    SourceBody,
    SourceFrame,
    XefBuilder,
    XefOptions,
    body_payload,
    build_xef,
    color_payload,
    frame_image,
    make_body,
    make_frames,
    write_xef,
)

SOURCE = make_frames(6, missing_body=(4,))
BODY_EVENT = "event:Nui Body Frame"
JPEG_EVENT = "event:Nui Color"


def expected_pixels(joints: np.ndarray) -> np.ndarray:
    """xef-format.md 10, pooled fit, written out again: u = fx (X + tx) / Z + cx, v = -fy Y / Z + cy."""
    x, y, z = (joints[:, i].astype(np.float64) for i in range(3))
    with np.errstate(divide="ignore", invalid="ignore"):
        u, v = 1059.3 * (x + 0.0544) / z + 959.8, -1055.7 * y / z + 567.4
    return np.where((z > 0)[:, None], np.stack([u, v], axis=1), 0.0)


def assert_same_bodies(bodies: tuple, sources: tuple[SourceBody, ...]) -> None:
    sources = tuple(sorted(sources, key=lambda body: body.slot))
    assert [body.id for body in bodies] == [source.tracking_id for source in sources]
    for body, source in zip(bodies, sources, strict=True):
        np.testing.assert_array_equal(body.joints, source.joints.astype(np.float64))
        np.testing.assert_array_equal(body.tracking, source.states)
        np.testing.assert_array_equal(body.orientation, source.orientation[:, [3, 0, 1, 2]])
        np.testing.assert_allclose(body.color_px, expected_pixels(source.joints), rtol=0, atol=1e-9)
        assert body.lean == tuple(float(np.float32(value)) for value in source.lean)
        assert body.lean_tracking == source.lean_state


def timestamps_of(sources: list[SourceFrame]) -> list[float]:
    return [(frame.color_ticks - sources[0].color_ticks) / TICKS for frame in sources]


@pytest.fixture(scope="module")
def folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("xef")


@pytest.fixture(scope="module")
def jpeg_layout(folder: Path) -> list[tuple[str, int, int]]:
    """What lies where in `jpeg_file` (from the builder, not the reader)."""
    layout: list[tuple[str, int, int]] = []
    (folder / "jpeg.xef").write_bytes(build_xef(SOURCE, None, layout))
    return layout


@pytest.fixture(scope="module")
def jpeg_file(folder: Path, jpeg_layout: list) -> Path:
    return folder / "jpeg.xef"


@pytest.fixture(scope="module")
def yuy2_file(folder: Path) -> Path:
    options = XefOptions(encoding="yuy2", depth=True, calibration=True, index_every=3)
    return write_xef(folder / "yuy2.xef", make_frames(2), options)


def corrupted(folder: Path, data: bytes, name: str, *patches: tuple[int, bytes]) -> Path:
    buffer = bytearray(data)
    for offset, value in patches:
        buffer[offset : offset + len(value)] = value
    path = folder / name
    path.write_bytes(bytes(buffer))
    return path


def read_all(path: Path, *, images: bool = True) -> list:
    xef = XefFile(path)
    xef.describe()
    return list(xef.frames(images=images))


# ------------------------------------------------------------------------------------------ round trips


def test_jpeg_frames_round_trip(jpeg_file: Path) -> None:
    xef = open_xef(jpeg_file)
    frames = list(xef.frames())
    assert xef.num_frames == len(frames) == 6 and xef.color_encoding == "JPEG"
    assert [frame.index for frame in frames] == list(range(6))
    assert [frame.timestamp for frame in frames] == pytest.approx(timestamps_of(SOURCE), abs=1e-12)
    assert xef.duration == pytest.approx(timestamps_of(SOURCE)[-1]) and xef.fps == 30.0
    for frame, source in zip(frames, SOURCE, strict=True):
        assert frame.image is not None and frame.image.shape == (1080, 1920, 3)
        assert np.abs(frame.image.astype(int) - source.image).mean() < 2.0  # JPEG error only
        assert_same_bodies(frame.bodies, source.bodies if source.body_ticks is not None else ())
    assert xef.color_mapping == MAPPING_FITTED
    assert xef.frame(3).bodies[1].id == frames[3].bodies[1].id
    flagged = list(xef.frames(2, images=[i % 2 == 0 for i in range(6)]))
    assert [frame.image is not None for frame in flagged] == [True, False, True, False]
    assert [frame.index for frame in flagged] == [2, 3, 4, 5] and flagged[1].bodies[0].same_as(
        frames[3].bodies[0]
    )
    assert np.array_equal(xef.frame(-1).image, frames[-1].image)


def test_ids_appear_and_disappear(jpeg_file: Path) -> None:
    ids = [[body.id for body in bodies] for bodies in XefFile(jpeg_file).bodies]
    a, b, c = FIRST_BODY_ID, FIRST_BODY_ID + 1, FIRST_BODY_ID + 49
    assert ids == [[a], [a, c], [a, c, b], [a, c, b], [], [b]]  # slot order; frame 4 has no body event


def test_yuy2_frames_are_exact(yuy2_file: Path) -> None:
    xef = XefFile(yuy2_file)
    sources = make_frames(2)
    frames = list(xef.frames())
    assert xef.color_encoding == "YUY2" and len(frames) == 2
    for frame, source in zip(frames, sources, strict=True):
        yuy2 = cv2.cvtColor(source.image, cv2.COLOR_BGR2YUV_YUY2)
        assert np.array_equal(frame.image, cv2.cvtColor(yuy2, cv2.COLOR_YUV2BGR_YUY2))
        assert np.abs(frame.image.astype(int) - source.image).mean() < 3.0  # only chroma subsampling
        assert_same_bodies(frame.bodies, source.bodies)


def test_streams_are_listed_with_names_guids_and_counts(yuy2_file: Path) -> None:
    streams = {stream.name: stream for stream in XefFile(yuy2_file).streams}
    assert set(streams) == {"Properties", "Nui Depth", "Nui Uncompressed Color", "Nui Body Frame",
                            "Nui Calibration Data"}  # fmt: skip
    assert str(streams["Nui Body Frame"].type_guid) == "a0c45179-5168-4875-a75c-f8f1760f637c"
    assert streams["Nui Uncompressed Color"].kind == "color (uncompressed YUY2)"
    assert [streams[name].events for name in ("Nui Depth", "Nui Body Frame", "Nui Calibration Data")] == [
        2,
        2,
        1,
    ]
    assert streams["Nui Body Frame"].tag_size == 4 and not streams["Nui Body Frame"].compressed
    assert streams["Nui Body Frame"].instance_guid is not None


@pytest.mark.parametrize("count_streams", [True, False], ids=["counted", "count-0"])
def test_archived_files_read_the_same(folder: Path, jpeg_file: Path, count_streams: bool) -> None:
    path = write_xef(folder / f"archived{count_streams}.xef", SOURCE,
                     XefOptions(archived=True, count_streams=count_streams))  # fmt: skip
    xef = XefFile(path)
    assert all(stream.compressed for stream in xef.streams if stream.index)
    normal = list(XefFile(jpeg_file).frames())
    for frame, other in zip(xef.frames(), normal, strict=True):
        assert frame.timestamp == other.timestamp and np.array_equal(frame.image, other.image)
        assert [body.id for body in frame.bodies] == [body.id for body in other.bodies]
        assert all(a.same_as(b) for a, b in zip(frame.bodies, other.bodies, strict=True))
    assert xef.problems == XefFile(jpeg_file).problems


def test_index_records_are_skipped_even_in_runs_and_with_decoys(folder: Path) -> None:
    path = write_xef(folder / "dense.xef", SOURCE, XefOptions(index_every=1))
    xef = XefFile(path)
    info = xef.describe()
    assert info["xef"]["index_records"] == 16  # 11 events, one after each, and a second after every other
    assert [len(bodies) for bodies in xef.bodies] == [1, 2, 3, 3, 0, 1]
    assert info["xef"]["footer_at"] is not None and info["xef"]["cut_at"] is None


def test_the_projection_can_be_given(jpeg_file: Path) -> None:
    projection = ColorProjection(fx=1000.0, fy=1000.0, cx=960.0, cy=540.0, tx=0.0)
    xef = XefFile(jpeg_file, projection=projection)
    body = xef.bodies[0][0]
    tracked = body.tracking == TRACKED
    expected = 960.0 + 1000.0 * body.joints[tracked, 0] / body.joints[tracked, 2]
    assert xef.color_mapping == MAPPING_GIVEN
    np.testing.assert_allclose(body.color_px[tracked, 0], expected)


# -------------------------------------------------------------------------------------------- pairing


def test_pair_by_time_pairs_mutual_nearest_events_within_the_gap() -> None:
    first = np.array([0, 333, 667, 1000])
    second = np.array([40, 700, 1010, 1300])
    assert pair_by_time(first, second, 166).tolist() == [0, -1, 1, 2]
    assert pair_by_time(first, second, 20).tolist() == [-1, -1, -1, 2]
    assert pair_by_time(first, np.array([], dtype=np.int64), 166).tolist() == [-1] * 4


def test_colour_at_15_fps_pairs_with_the_nearest_body(folder: Path) -> None:
    period = TICKS // 30  # bodies at 30 fps, colour (low light) at 15 fps
    sources = [
        SourceFrame(i * period if i % 2 == 0 else None, i * period + 1000,
                    frame_image(i) if i % 2 == 0 else None, (make_body(0, FIRST_BODY_ID + i, i),))
        for i in range(6)
    ]  # fmt: skip
    xef = XefFile(write_xef(folder / "15fps.xef", sources, XefOptions(quality=50)))
    assert xef.num_frames == 3 and xef.fps == 15.0
    assert [bodies[0].id for bodies in xef.bodies] == [FIRST_BODY_ID + i for i in (0, 2, 4)]
    info = xef.describe()
    assert info["pairs"]["bodies_without_color"] == 3 and not info["aligned"]
    assert info["pairs"]["largest_gap_s"] == pytest.approx(1e-4)


def test_a_file_without_colour_gives_frames_of_bodies(folder: Path) -> None:
    path = write_xef(folder / "bodies.xef", make_frames(4, images=False), XefOptions(encoding=None))
    xef = XefFile(path)
    frames = list(xef.frames())
    assert len(frames) == 4 and all(frame.image is None for frame in frames)
    assert frames[1].timestamp == pytest.approx(1 / 30, abs=1e-7)
    info = xef.describe()
    assert info["video"] is None and info["color_encoding"] is None
    assert any("no colour stream" in problem for problem in info["problems"])


def test_a_file_without_bodies_gives_images_only(folder: Path) -> None:
    path = write_xef(folder / "colour.xef", make_frames(2), XefOptions(body_stream=False))
    frames = list(XefFile(path).frames())
    assert len(frames) == 2 and all(frame.bodies == () and frame.image is not None for frame in frames)


# ----------------------------------------------------------------------------------------------- info


def test_describe_is_json_and_says_what_info_needs(jpeg_file: Path) -> None:
    info = json.loads(json.dumps(describe_xef(jpeg_file)))
    assert {"name", "action", "class_name", "frames", "bodies_per_frame", "video"} <= set(info)
    assert info["name"] == "jpeg.xef" and info["action"] is None and info["class_name"] is None
    assert info["kind"] == "xef" and info["frames"] == 6 and info["skeleton_frames"] == 5
    assert info["bodies_per_frame"] is None  # info decodes no body frame
    assert info["video"] == {"frames": 6, "width": 1920, "height": 1080, "fps": 30.0}
    assert info["duration"] == pytest.approx(1 / 6, abs=1e-6)
    assert info["color_encoding"] == "JPEG" and info["color_mapping"] == MAPPING_FITTED
    assert info["pairs"] == {"paired": 5, "color_without_body": 1, "bodies_without_color": 0,
                             "largest_gap_s": pytest.approx(0.004)}  # fmt: skip
    guids = {stream["name"]: stream["type_guid"] for stream in info["streams"]}
    assert guids["Nui Color"] == "0a3914dc-3b16-11e1-aac3-001e4fd58c0f"
    assert info["calibration"] is None
    text = format_info(info)
    assert "jpeg.xef  (xef)" in text and "1920x1080, 30.00 fps, 6 frames" in text
    assert "bodies:  not counted" in text


def test_describe_probes_the_calibration_stream(yuy2_file: Path) -> None:
    calibration = XefFile(yuy2_file).describe()["calibration"]
    assert calibration["size"] == 1_736_836 and calibration["size_as_hypothesised"]
    assert calibration["parameter_offsets"]["f 1081.37"] == 32 and not calibration["decoded"]


# ------------------------------------------------------------------------------------------- convert


def test_convert_writes_the_apps_own_format(folder: Path, jpeg_file: Path) -> None:
    stem = convert_xef(jpeg_file, folder / "converted" / "clip")
    assert stem == folder / "converted" / "clip"
    recording = open_recording(stem)
    xef = XefFile(jpeg_file)
    assert recording.num_frames == 6 and not recording.recovered
    assert recording.header["source"] == "xef" and recording.header["color_mapping"] == MAPPING_FITTED
    np.testing.assert_allclose(recording.timestamps, xef.timestamps, rtol=0, atol=1e-12)
    for got, want in zip(recording.bodies, xef.bodies, strict=True):
        assert [body.id for body in got] == [body.id for body in want]
        for a, b in zip(got, want, strict=True):
            np.testing.assert_allclose(a.joints, b.joints, rtol=1e-6)  # the NTU text keeps 7 digits
            np.testing.assert_allclose(a.color_px, b.color_px, rtol=1e-6)
            assert np.array_equal(a.tracking, b.tracking)
    assert recording.frame(2).image.shape == (1080, 1920, 3)
    with pytest.raises(RecordingError, match="exists"):
        convert_xef(jpeg_file, stem)


# --------------------------------------------------------------------------------- cut and corrupt files


def test_missing_footer_is_reported_not_fatal(folder: Path) -> None:
    path = write_xef(folder / "nofooter.xef", SOURCE, XefOptions(footer=False))
    xef = XefFile(path)
    assert xef.num_frames == 6 and any("no footer" in problem for problem in xef.problems)


def test_a_footer_with_another_index_is_accepted_at_the_end(folder: Path) -> None:
    builder = XefBuilder()
    body = builder.stream(BODY, "Nui Body Frame")
    builder.event(body, 1000, body_payload((make_body(0, FIRST_BODY_ID, 0),)))
    path = folder / "footer7.xef"
    path.write_bytes(builder.build(footer_index=7))
    xef = XefFile(path)
    assert xef.num_frames == 1 and "the footer has stream index 7, the file header says 2" in xef.problems


def test_a_cut_last_record_is_dropped_or_refused(folder: Path, jpeg_file: Path, jpeg_layout: list) -> None:
    data = jpeg_file.read_bytes()
    last_body = [offset for what, offset, _ in jpeg_layout if what == BODY_EVENT][-1]
    path = corrupted(folder, data[: last_body + 3000], "cut.xef")
    xef = XefFile(path)
    assert xef.truncated and xef.num_frames == 6
    assert xef.bodies[-1] == () and any(f"cut short at byte {last_body}" in p for p in xef.problems)
    with pytest.raises(RecordingError, match=f"byte {last_body}: the last record") as error:
        XefFile(path, allow_truncated=False)
    assert error.value.position == f"byte {last_body}"


def test_cut_at_many_offsets_gives_frames_or_recording_errors(
    folder: Path, jpeg_file: Path, jpeg_layout: list
) -> None:
    data = jpeg_file.read_bytes()
    offsets = {offset + delta for _, offset, _ in jpeg_layout for delta in (0, 1, 23, 24, 30)}
    offsets |= set(range(0, len(data), len(data) // 40))
    path = folder / "cut_many.xef"
    for offset in sorted(offsets):
        path.write_bytes(data[:offset])
        try:
            frames = read_all(path, images=False)
        except RecordingError as error:
            assert error.position is not None and error.position.startswith("byte ")
            continue
        assert len(frames) <= 6


def _first_body(data: bytes) -> int:
    """Byte offset of the first body record: found by its first tracking id, not by the reader."""
    slot0 = data.index(struct.pack("<Q", FIRST_BODY_ID)) - 1008
    return slot0 - 32 - 4 - HEADER.size


def _first_jpeg(data: bytes) -> int:
    return data.index(b"\xff\xd8\xff") - 4 - HEADER.size


_JPEG0 = color_payload(SOURCE[0].image, "jpeg")  # the first colour payload of `jpeg_file`
JPEG_SOF, JPEG_DHT, JPEG_SOS = (_JPEG0.index(marker) for marker in (b"\xff\xc0", b"\xff\xc4", b"\xff\xda"))
SLOT0 = HEADER.size + 4 + 32  # slot 0 of the first body record: after the header, the tag, floor and up
HEAD = SLOT0 + 16 * JOINT["Head"]
HAND_STATE = SLOT0 + 800 + 4 * HAND_LEFT
# name: (record finder, offset in the record, new bytes, expected message, byte of the error in the record)
CORRUPTIONS = {
    "magic": (lambda data: 0, 0, b"EVENTS2", "expected the magic", 0),
    "stream count": (lambda data: 0, 12, struct.pack("<I", 0xFFFFFFFF), "streams plus one", 12),
    "unknown flags": (_first_body, 2, struct.pack("<H", 4), "unknown stream flags 0x0004", 2),
    "huge size": (_first_body, 4, struct.pack("<I", 0xFFFFFFF0), "implausible", 4),
    "body size": (_first_body, 4, struct.pack("<IqII", 6000, 0, 0, 6000), "6,276 to 6,288 bytes", 4),
    "sizes differ": (_first_body, 20, struct.pack("<I", 7000), "6288 bytes stored and 7000 unpacked", 20),
    "negative time": (_first_body, 8, struct.pack("<q", -5), "negative timestamp", 8),
    "tracked flag": (_first_body, SLOT0 + 1016, struct.pack("<I", 7), "must be 0 or 1", SLOT0 + 1016),
    "joint state": (
        _first_body,
        HAND_STATE,
        struct.pack("<i", 9),
        "HandLeft has tracking state 9",
        HAND_STATE,
    ),
    # Head is tracked in this body, so this is an error (an inferred joint is marked instead, see below)
    "far joint": (_first_body, HEAD, struct.pack("<3f", 0, 0.5, 50), "Head is at z = 50 m", HEAD + 8),
    "nan joint": (_first_body, SLOT0, struct.pack("<f", np.nan), "joint SpineBase is not finite", SLOT0),
    "jpeg marker": (_first_jpeg, 28, b"\x00\x00", r"frame 0: .*expected a JPEG \(starting ff d8\)", 28),
    "jpeg header": (_first_jpeg, 30, b"\x00" * 600, r"expected a marker \(ff\) in the header, found 00", 30),
    "jpeg no sof": (
        _first_jpeg,
        28 + JPEG_SOF + 1,
        b"\xe5",
        "no frame header .SOF marker. before the first scan",
        28 + JPEG_SOS,
    ),
    "jpeg size": (
        _first_jpeg,
        28 + JPEG_SOF + 5,
        struct.pack(">HH", 1080, 1921),
        "frame 0: the JPEG header says 1921x1080, expected 1920x1080",
        28,
    ),
    "jpeg data": (_first_jpeg, 28 + JPEG_DHT + 4, bytes(16), "does not decode", 28),
}


@pytest.mark.parametrize("name", list(CORRUPTIONS))
def test_corruptions_name_what_and_where(folder: Path, jpeg_file: Path, name: str) -> None:
    finder, at, value, message, where = CORRUPTIONS[name]
    data = jpeg_file.read_bytes()
    record = finder(data)
    path = corrupted(folder, data, f"corrupt-{name}.xef", (record + at, value))
    with pytest.raises(RecordingError, match=message) as error:
        read_all(path)
    assert error.value.position == f"byte {record + where}"
    assert str(path) in str(error.value)


# --------------------------------------------------------------- implausible joints, huge JPEG headers


def with_joint(body: SourceBody, joint: int, z: float) -> SourceBody:
    """`body` with `joint` inferred and at depth `z`."""
    joints, states = body.joints.copy(), body.states.copy()
    joints[joint, 2], states[joint] = z, INFERRED
    return dataclasses.replace(body, joints=joints, states=states)


def test_an_implausible_inferred_joint_is_marked_not_tracked_and_counted(folder: Path) -> None:
    """Inferred joints are the SDK's guesses: one at 50 m (or behind the sensor) no longer fails the file."""
    sources = make_frames(4)
    hand, foot = JOINT["HandLeft"], JOINT["FootRight"]
    changed = {2: (0, hand, 50.0), 3: (1, foot, -1.0)}  # frame: (index in its bodies, joint, z)
    for index, (which, joint, z) in changed.items():
        bodies = list(sources[index].bodies)
        bodies[which] = with_joint(bodies[which], joint, z)
        sources[index] = dataclasses.replace(sources[index], bodies=tuple(bodies))
    xef = XefFile(write_xef(folder / "inferred.xef", sources))
    frames = list(xef.frames())
    assert len(frames) == 4
    for frame, source in zip(frames, sources, strict=True):
        for position, (body, original) in enumerate(zip(frame.bodies, source.bodies, strict=True)):
            states = original.states.copy()
            if changed.get(frame.index, (None,))[0] == position:
                joint = changed[frame.index][1]
                assert body.tracking[joint] == NOT_TRACKED and original.states[joint] == INFERRED
                assert body.joints[joint, 2] == changed[frame.index][2]  # the position stays as recorded
                states[joint] = NOT_TRACKED
            np.testing.assert_array_equal(body.tracking, states)
            np.testing.assert_array_equal(body.joints, original.joints.astype(np.float64))
    problem = (
        "2 inferred joints in 2 of the frames read so far lie outside 0.3-8.0 m and are marked not "
        "tracked (first: frame 2, body slot 0: inferred joint HandLeft at z = 50 m)"
    )
    assert xef.problems[-1] == problem
    list(xef.frames(images=False))
    assert xef.bodies[3][1].tracking[foot] == NOT_TRACKED  # read again: still counted once
    assert xef.problems.count(problem) == 1 and xef.describe()["problems"][-1] == problem


def test_info_decodes_no_body_frame(yuy2_file: Path, jpeg_file: Path, monkeypatch, capsys) -> None:
    """`info` reads the index of the records (and one Calibration event), never every body frame."""
    from sta_hands.commands.cli import main

    decoded: list[int] = []
    read: list[str] = []
    decode_bodies, payload = xef_module.decode_bodies, XefFile._payload
    monkeypatch.setattr(xef_module, "decode_bodies", lambda *args: decoded.append(1) or decode_bodies(*args))
    monkeypatch.setattr(
        XefFile, "_payload", lambda self, file, stream, event: read.append(stream[0].kind) or payload(
            self, file, stream, event)
    )  # fmt: skip
    info = describe_xef(yuy2_file)
    assert decoded == [] and read == ["calibration"] and info["calibration"]["size_as_hypothesised"]
    assert main(["info", str(jpeg_file)]) == 0 and main(["info", str(jpeg_file), "--json"]) == 0
    assert decoded == [] and read == ["calibration"] and "jpeg.xef" in capsys.readouterr().out
    assert len(list(XefFile(jpeg_file).frames(images=False))) == 6 and len(decoded) == 5  # playing does


def crafted_jpeg(width: int, height: int) -> bytes:
    """A JPEG of 16x16 black pixels (a few hundred bytes) whose frame header claims `width` x `height`."""
    data = bytearray(color_payload(np.zeros((16, 16, 3), np.uint8), "jpeg"))
    struct.pack_into(">HH", data, data.index(b"\xff\xc0") + 5, height, width)
    return bytes(data)


def spy_on_imdecode(monkeypatch: pytest.MonkeyPatch, refused: bytes) -> list[bytes]:
    """What `cv2.imdecode` is given; `refused` fails the test there instead of allocating gigabytes."""
    given, decode = [], cv2.imdecode

    def spy(buffer: np.ndarray, flags: int) -> np.ndarray | None:
        given.append(bytes(buffer))
        assert given[-1] != refused, "cv2.imdecode was called on the crafted JPEG"
        return decode(buffer, flags)

    monkeypatch.setattr(cv2, "imdecode", spy)
    return given


def test_a_jpeg_claiming_a_huge_image_is_refused_before_decoding(folder: Path, monkeypatch) -> None:
    crafted = crafted_jpeg(30000, 30000)
    assert len(crafted) < 1000
    builder = XefBuilder()
    color = builder.stream(COLOR_COMPRESSED, "Nui Color")
    body = builder.stream(BODY, "Nui Body Frame")
    for index, image in enumerate([crafted, color_payload(frame_image(1), "jpeg")]):
        ticks = 1_000_000 + index * TICKS // 30
        builder.event(color, ticks, image)
        builder.event(body, ticks + 1000, body_payload((make_body(0, FIRST_BODY_ID, index),)))
    path = folder / "huge-jpeg.xef"
    path.write_bytes(builder.build())
    payload = next(offset for what, offset, _ in builder.layout if what == JPEG_EVENT) + HEADER.size + 4
    given = spy_on_imdecode(monkeypatch, crafted)
    xef = XefFile(path)
    with pytest.raises(RecordingError, match="frame 0: the JPEG header says 30000x30000, expected 1920x1080"):
        xef.frame(0)
    assert given == []
    assert xef.frame(1).image.shape == (1080, 1920, 3) and len(given) == 1  # a normal frame decodes
    assert [len(frame.bodies) for frame in xef.frames(images=False)] == [1, 1]
    with pytest.raises(RecordingError) as error:
        list(xef.frames())
    assert error.value.position == f"byte {payload}" and str(path) in str(error.value)


def test_declaration_errors_name_the_byte(folder: Path, jpeg_file: Path, jpeg_layout: list) -> None:
    data = jpeg_file.read_bytes()
    body_declaration = [offset for what, offset, _ in jpeg_layout if what == "name"][
        2
    ]  # stream 2's declaration
    path = corrupted(folder, data, "tag.xef", (body_declaration + HEADER.size, struct.pack("<H", 9)))
    with pytest.raises(RecordingError, match=r"names stream 9 \(flags 0x0000\) in its tag") as error:
        XefFile(path)
    assert error.value.position == f"byte {body_declaration + HEADER.size}"
    path = corrupted(folder, data, "size.xef", (body_declaration + 4, struct.pack("<I", 100)))
    with pytest.raises(RecordingError, match="292-byte payload was expected; found 100 bytes"):
        XefFile(path)


def test_an_index_record_with_nothing_valid_after_it_is_an_error(
    folder: Path, jpeg_file: Path, jpeg_layout: list
) -> None:
    data = bytearray(jpeg_file.read_bytes())
    index = next(offset for what, offset, _ in jpeg_layout if what == "index")
    data[index + HEADER.size : index + HEADER.size + 0x48000] = b"\xee" * 0x48000
    path = corrupted(folder, bytes(data), "lost.xef")
    with pytest.raises(RecordingError, match="no valid record follows this index record") as error:
        XefFile(path)
    assert error.value.position == f"byte {index}"


def test_archived_payloads_must_be_zlib_of_the_stated_size(folder: Path) -> None:
    for stored, message in [
        (b"\x10\x20" + bytes(100), "expected a zlib stream"),
        (zlib.compress(bytes(50_000_000), 9), "inflates to more than the 6288 bytes"),  # a zlib bomb
        (zlib.compress(bytes(100)), "ends after 100 bytes, the record says 6288"),
        (zlib.compress(bytes(6288))[:-9], "is cut short after"),
    ]:
        builder = XefBuilder(archived=True)
        body = builder.stream(BODY, "Nui Body Frame")
        builder.event(body, 1000, body_payload(()), stored=stored)
        path = folder / "bomb.xef"
        path.write_bytes(builder.build())
        tracemalloc.start()
        try:
            with pytest.raises(RecordingError, match=message):
                read_all(path)
            assert tracemalloc.get_traced_memory()[1] < 1_000_000
        finally:
            tracemalloc.stop()


def test_huge_claimed_sizes_allocate_nothing(folder: Path) -> None:
    builder = XefBuilder()
    depth = builder.stream(DEPTH, "Nui Depth")
    body = builder.stream(BODY, "Nui Body Frame")
    builder.event(body, 1000, body_payload((make_body(0, FIRST_BODY_ID, 0),)))
    builder.event(depth, 2000, bytes(64))
    data = bytearray(builder.build(footer=False))
    last = builder.layout[-1][1]
    struct.pack_into("<I", data, last + 4, 60_000_000)  # claims 60 MB, the file ends 64 bytes later
    struct.pack_into("<I", data, last + 20, 60_000_000)
    path = corrupted(folder, bytes(data), "huge.xef")
    tracemalloc.start()
    try:
        xef = XefFile(path)
        frames = list(xef.frames())
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert len(frames) == 1 and xef.truncated and peak < 1_000_000


def test_missing_and_wrong_files_are_recording_errors(tmp_path: Path) -> None:
    with pytest.raises(RecordingError, match="file not found"):
        XefFile(tmp_path / "absent.xef")
    with pytest.raises(RecordingError, match="directory"):
        XefFile(tmp_path)
    (tmp_path / "short.xef").write_bytes(b"EVENTS1\0\x05")
    with pytest.raises(RecordingError, match="file header needs 24 bytes"):
        XefFile(tmp_path / "short.xef")


# ----------------------------------------------------------------------------------------------- fuzz

_FUZZ_LAYOUT: list = []
_FUZZ_DATA = build_xef(make_frames(3, missing_body=(1,)), XefOptions(index_every=2, quality=30), _FUZZ_LAYOUT)
_STRUCTURE = sorted(  # headers, declarations, tags and the first bytes of payloads
    {
        offset + delta
        for what, offset, length in _FUZZ_LAYOUT
        if what != "footer"
        for delta in range(min(length, 96 if what.startswith("event") else 400))
    }
)
_BODY_FIELDS = [
    offset + 28 + delta
    for what, offset, _ in _FUZZ_LAYOUT
    if what == BODY_EVENT
    for delta in range(0, 6288, 4)
]


@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    flips=st.lists(
        st.tuples(
            st.one_of(
                st.sampled_from(_STRUCTURE),
                st.sampled_from(_BODY_FIELDS),
                st.integers(0, len(_FUZZ_DATA) - 1),
            ),
            st.integers(1, 255),
        ),
        min_size=1,
        max_size=4,
    )
)
def test_flipped_bytes_give_frames_or_recording_errors(tmp_path: Path, flips: list[tuple[int, int]]) -> None:
    data = bytearray(_FUZZ_DATA)
    for offset, mask in flips:
        data[offset] ^= mask
    path = tmp_path / "fuzz.xef"
    path.write_bytes(bytes(data))
    start = time.perf_counter()
    try:
        frames = read_all(path)
    except RecordingError as error:
        assert error.position is not None and error.position.startswith("byte ")
    else:
        assert len(frames) <= 3
    assert time.perf_counter() - start < 2.0


# ---------------------------------------------------------------------------------------- a real file

SAMPLE = os.environ.get("STA_HANDS_XEF_SAMPLE")


@pytest.mark.skipif(not SAMPLE, reason="no real .xef: set STA_HANDS_XEF_SAMPLE=/path/to/recording.xef "
                    "(none is public, xef-format.md 11)")  # fmt: skip
def test_a_real_file() -> None:
    """The checklist of xef-format.md 13, on the frames a person would look at first."""
    assert SAMPLE is not None
    xef = XefFile(SAMPLE)
    info = json.loads(json.dumps(xef.describe()))
    print(
        json.dumps(
            {key: info[key] for key in ("streams", "pairs", "xef", "calibration", "problems")}, indent=1
        )
    )
    assert info["xef"]["footer_at"] is not None, "the walk should reach the footer"
    assert xef.color_stream is not None and xef.body_stream is not None
    assert xef.fps in (30.0, 15.0)
    heights = []
    for frame in xef.frames():
        if frame.index >= 60:
            break
        assert frame.image is not None and frame.image.shape == (1080, 1920, 3)
        heights += [
            body.joints[JOINT["Head"], 1] - body.joints[JOINT["SpineBase"], 1] for body in frame.bodies
        ]
    if heights:  # a standing person's head is 0.5-0.7 m above the spine base
        assert 0.4 < float(np.median(heights)) < 0.9, (
            f"head above spine base: median {np.median(heights):.2f} m"
        )


def test_xef_through_the_app_info_run_and_convert(tmp_path: Path, capsys) -> None:
    """`sta-hands info|convert FILE.xef` and the app's source open the same file."""
    from sta_hands.commands.cli import main
    from sta_hands.recordings.sources import open_reader

    path = tmp_path / "take.xef"
    path.write_bytes(build_xef(make_frames(4)))
    assert main(["info", str(path), "--json"]) == 0
    info = json.loads(capsys.readouterr().out)
    assert info["kind"] == "xef" and info["frames"] == 4
    source = open_reader(str(path))
    assert [frame.index for frame in source.frames(0)] == [0, 1, 2, 3]
    assert main(["convert", str(path), str(tmp_path / "converted")]) == 0
    assert main(["info", str(tmp_path / "converted.jsonl"), "--json"]) == 0
    assert "recording" in capsys.readouterr().out
