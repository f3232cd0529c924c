"""NTU names, classes, splits, the missing list and the clip reader."""

from __future__ import annotations

import logging
from pathlib import Path

import cv2
import numpy as np
import pytest

from sta_hands.contract.errors import RecordingError
from sta_hands.contract.frame import COLOR_SIZE, HAND_LEFT, HAND_RIGHT
from sta_hands.recordings.ntu.clip import (
    CROSS_SUBJECT_TRAIN_PERFORMERS,
    CROSS_VIEW_TRAIN_CAMERAS,
    NTU60_CLASSES,
    SAMPLE_NAME,
    NtuClip,
    SampleName,
    parse_sample_name,
    read_missing_list,
    split_of,
)
from sta_hands.recordings.ntu.skeleton_writer import write_skeleton
from tests.recordings.figures import figure

A001 = "S001C001P001R001A001"

# ---------------------------------------------------------------- names, classes, splits


@pytest.mark.parametrize(
    "text",
    [A001, f"{A001}.skeleton", f"/data/nturgb+d_skeletons/{A001}.skeleton", f"videos/{A001}_rgb.avi"],
)
def test_sample_name_parses_from_names_and_paths(text: str) -> None:
    name = parse_sample_name(text)
    assert name == SampleName(setup=1, camera=1, performer=1, replication=1, action=1)
    assert str(name) == A001


def test_sample_name_fields() -> None:
    name = parse_sample_name(Path("S017C003P020R002A055_rgb.avi"))
    assert (name.setup, name.camera, name.performer, name.replication, name.action) == (17, 3, 20, 2, 55)
    assert name.action_index == 54 and name.class_name == "hugging other person" and name.is_mutual
    assert str(name) == "S017C003P020R002A055" and len(str(name)) == 20
    assert not parse_sample_name("S001C002P003R002A013").is_mutual
    assert parse_sample_name("S020C001P050R001A061").class_name == "put on headphone"  # NTU-120's first
    assert parse_sample_name("S020C001P050R001A120").class_name == (
        "finger-guessing game (playing rock-paper-scissors)"
    )
    assert parse_sample_name("S020C001P050R001A121").class_name is None


@pytest.mark.parametrize(
    "text",
    [
        "",
        "ntu_sample.avi",
        "S01C001P001R001A001",
        "S001C001P001R001A001x",
        "s001c001p001r001a001",
        f"{A001}.txt",
    ],
)
def test_bad_sample_names_are_recording_errors(text: str) -> None:
    with pytest.raises(RecordingError, match="expected an NTU sample name"):
        parse_sample_name(text)


def test_class_names() -> None:
    assert len(NTU60_CLASSES) == 60
    assert NTU60_CLASSES[0] == "drink water"
    assert NTU60_CLASSES[2] == "brushing teeth" and NTU60_CLASSES[3] == "brushing hair"
    assert NTU60_CLASSES[48] == "use a fan (with hand or paper)/feeling warm"
    assert NTU60_CLASSES[49] == "punching/slapping other person"
    assert NTU60_CLASSES[59] == "walking apart from each other"
    assert len(set(NTU60_CLASSES)) == 60


def test_split_lists() -> None:
    assert len(CROSS_SUBJECT_TRAIN_PERFORMERS) == 20
    assert sorted(CROSS_VIEW_TRAIN_CAMERAS) == [2, 3]


@pytest.mark.parametrize(
    ("name", "cs", "cv"),
    [
        ("S001C001P001R001A001", "train", "test"),
        ("S001C002P003R002A013", "test", "train"),
        ("S017C003P020R002A055", "test", "train"),
        ("S004C002P038R001A055", "train", "train"),
        ("S010C001P040R001A001", "test", "test"),
        ("S002C003P025R001A003", "train", "train"),
    ],
)
def test_split_of_known_samples(name: str, cs: str, cv: str) -> None:
    assert split_of(name, "cs") == cs
    assert split_of(parse_sample_name(name), "cv") == cv


def test_split_of_rejects_an_unknown_benchmark() -> None:
    with pytest.raises(ValueError, match="benchmark"):
        split_of(A001, "cross-setup")  # type: ignore[arg-type]


def test_missing_list_has_302_names(ntu_samples: Path) -> None:
    missing = read_missing_list(ntu_samples / "NTU_RGBD_samples_with_missing_skeletons.txt")
    assert len(missing) == 302
    assert all(SAMPLE_NAME.match(name) for name in missing)
    assert "S001C002P005R002A008" in missing
    assert not {path.stem for path in ntu_samples.glob("*.skeleton")} & missing


def test_missing_list_skips_headers(tmp_path: Path) -> None:
    path = tmp_path / "missing.txt"
    path.write_text(
        "302 of the samples have missing skeletons.\r\nPlease ignore them.\r\n\r\nS001C002P005R002A008\r\n"
    )
    assert read_missing_list(path) == {"S001C002P005R002A008"}
    with pytest.raises(RecordingError, match="file not found"):
        read_missing_list(tmp_path / "nope.txt")


# ---------------------------------------------------------------- clips from real files


def test_a001_video_and_skeleton_align(ntu_samples: Path) -> None:
    with NtuClip(A001, ntu_samples) as clip:
        assert clip.name == parse_sample_name(A001)
        assert clip.skeleton_path == ntu_samples / f"{A001}.skeleton"
        assert clip.video_path == ntu_samples / f"{A001}_rgb.avi"
        assert clip.num_frames == clip.video_frames == len(clip.skeleton.frames) == 103
        assert clip.fps == 30.0 and clip.video_size == COLOR_SIZE
        count = 0
        for index, frame in enumerate(clip.frames()):
            assert frame.index == index and frame.timestamp == pytest.approx(index / 30)
            assert frame.image.shape == (1080, 1920, 3) and frame.image.dtype == np.uint8
            hands = frame.bodies[0].color_px[[HAND_LEFT, HAND_RIGHT]]
            assert ((hands >= 0) & (hands < COLOR_SIZE)).all()
            count += 1
        assert count == 103


def test_random_access_matches_sequential_decoding(ntu_samples: Path) -> None:
    with NtuClip(ntu_samples / f"{A001}_rgb.avi") as clip:
        sequential = {frame.index: frame.image for frame in clip.frames() if frame.index in (0, 1, 50, 102)}
        for index in (50, 0, 1, 102, 50):
            frame = clip.frame(index)
            assert np.array_equal(frame.image, sequential[index])
            assert frame.bodies[0].same_as(clip.skeleton.frames[index][0])
        with pytest.raises(IndexError):
            clip.frame(103)
    assert clip._capture is None


def test_divx_video_decodes(ntu_samples: Path) -> None:
    with NtuClip(ntu_samples / "S004C002P003R001A055_rgb.avi") as clip:
        assert clip.skeleton_path is None and clip.name.action == 55
        assert clip.num_frames == clip.video_frames == 76
        frames = list(clip.frames())
    assert len(frames) == 76
    assert all(f.image.shape == (1080, 1920, 3) and f.bodies == () for f in frames)
    assert frames[-1].image.std() > 0


def test_skeleton_only_clip(ntu_samples: Path) -> None:
    with NtuClip(ntu_samples / "S017C003P020R002A054.skeleton") as clip:
        assert clip.video_path is None and clip.video_size is None and clip.video_frames is None
        assert clip.fps == 30.0 and clip.num_frames == 42
        frames = list(clip.frames())
        assert clip.frame(41).image is None
    assert len(frames) == 42 and all(f.image is None and len(f.bodies) == 2 for f in frames)


def test_unnamed_video_opens(ntu_samples: Path) -> None:
    with NtuClip(ntu_samples / "ntu_sample.avi") as clip:
        assert clip.name is None and clip.skeleton_path is None
        assert clip.num_frames == 72
        assert next(iter(clip.frames(start=70))).index == 70


# ---------------------------------------------------------------- clips from synthetic files


def _write_video(path: Path, frames: int, size: tuple[int, int] = (64, 48)) -> None:
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*"MJPG"), 15.0, size)
    assert writer.isOpened()
    for t in range(frames):
        writer.write(np.full((size[1], size[0], 3), 10 * t, dtype=np.uint8))
    writer.release()


def _write_skeleton(path: Path, frames: int) -> None:
    write_skeleton(path, [[figure(7, (0.01 * t, 0.0, 3.0))] for t in range(frames)])


def test_clip_finds_its_partner_and_clamps_to_the_shorter_stream(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    name = "S003C002P010R002A012"
    _write_video(tmp_path / f"{name}_rgb.avi", 5)
    _write_skeleton(tmp_path / f"{name}.skeleton", 3)
    for source, folder in (
        (name, tmp_path),
        (tmp_path / f"{name}.skeleton", None),
        (f"{name}_rgb.avi", tmp_path),
    ):
        with (
            caplog.at_level(logging.WARNING, logger="sta_hands.recordings.ntu.clip"),
            NtuClip(source, folder) as clip,
        ):
            assert clip.skeleton_path == tmp_path / f"{name}.skeleton"
            assert clip.video_path == tmp_path / f"{name}_rgb.avi"
            assert (clip.num_frames, clip.video_frames, clip.fps, clip.video_size) == (3, 5, 15.0, (64, 48))
            frames = list(clip.frames())
            assert [f.timestamp for f in frames] == pytest.approx([0, 1 / 15, 2 / 15])
            assert all(f.image.shape == (48, 64, 3) and f.bodies[0].id == 7 for f in frames)
    assert "the skeleton has 3 frames and the video 5" in caplog.text


def test_frames_generator_is_lazy_and_releases_on_close(tmp_path: Path) -> None:
    _write_video(tmp_path / "clip_rgb.avi", 4)
    clip = NtuClip(tmp_path / "clip_rgb.avi")
    frames = clip.frames()
    first = next(frames)
    assert first.index == 0 and clip.name is None
    frames.close()
    clip.close()
    clip.close()


def _bad_clip(tmp_path: Path, case: str) -> tuple[Path | str, Path | None, Path, str]:
    """(source, folder, the path the error must name, message fragment) for one bad clip."""
    name = "S001C001P001R001A002"
    if case == "missing clip":
        return name, tmp_path, tmp_path / name, "no clip found: neither S001C001P001R001A002.skeleton nor"
    if case == "random bytes video":
        video = tmp_path / f"{name}_rgb.avi"
        video.write_bytes(np.random.default_rng(0).bytes(5000))
        return video, None, video, "cannot open the video"
    if case == "directory as skeleton":
        (tmp_path / f"{name}.skeleton").mkdir()
        return name, tmp_path, tmp_path / f"{name}.skeleton", "found a directory"
    if case == "directory as video":
        (tmp_path / f"{name}_rgb.avi").mkdir()
        return name, tmp_path, tmp_path / f"{name}_rgb.avi", "found a directory"
    if case == "video without frames":
        _write_video(tmp_path / f"{name}_rgb.avi", 0)
        return name, tmp_path, tmp_path / f"{name}_rgb.avi", "cannot decode the first frame"
    if case == "empty video":
        (tmp_path / f"{name}_rgb.avi").write_bytes(b"")
        return name, tmp_path, tmp_path / f"{name}_rgb.avi", "cannot open the video"
    raise AssertionError(case)


@pytest.mark.parametrize(
    "case",
    [
        "missing clip",
        "random bytes video",
        "directory as skeleton",
        "directory as video",
        "empty video",
        "video without frames",
    ],
)
def test_bad_clips_name_the_file(tmp_path: Path, case: str) -> None:
    source, folder, named, fragment = _bad_clip(tmp_path, case)
    with pytest.raises(RecordingError) as caught:
        NtuClip(source, folder)
    assert caught.value.path == named
    assert fragment in str(caught.value)
    assert str(caught.value).startswith(f"{named}: ")


def test_bad_skeleton_in_a_clip_names_its_line(tmp_path: Path) -> None:
    path = tmp_path / f"{A001}.skeleton"
    path.write_text("1\n1\n")
    with pytest.raises(RecordingError, match=r"\.skeleton:line 2: frame 1 declares 1 body ") as caught:
        NtuClip(path)
    assert caught.value.position == "line 2"


@pytest.mark.parametrize(
    ("name", "joints"),
    [("S018C001P008R002A116", 9), ("S018C001P045R001A116", 14), ("S018C001P045R001A119", 4)],
)
def test_real_ntu120_files_with_nan_image_coordinates_play(ntu_samples: Path, name: str, joints: int) -> None:
    """Three official NTU-120 files write NaN pixels for untracked joints; they were refused whole."""
    path = ntu_samples.parent / "ntu-more" / f"{name}.skeleton"
    if not path.exists():
        pytest.skip(f"{path} not found")
    with NtuClip(path) as clip:
        frames = list(clip.frames())
        info = clip.describe()
    assert len(frames) == info["frames"] > 0
    assert f"{joints} joints have NaN image coordinates: read as not tracked" in info["problems"]
    assert info["class_name"] == parse_sample_name(name).class_name is not None
    untracked = sum(
        int(np.isnan(body.color_px).any(axis=1).sum()) for frame in frames for body in frame.bodies
    )
    assert untracked == joints
    assert all(
        (body.tracking[np.isnan(body.color_px).any(axis=1)] == 0).all()
        for frame in frames
        for body in frame.bodies
    )
