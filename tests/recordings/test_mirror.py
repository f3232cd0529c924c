"""Sides on unmirrored sources (recordings/mirror.py): a real Kinect frame, un-mirrored as a webcam or a
phone would film the scene, read as a plain video and as a (fake) webcam, gives a HandLeft where the
Kinect's HandLeft is; which sources are flipped under --mirror auto / yes / no."""

from __future__ import annotations

import functools
import itertools
from dataclasses import replace
from pathlib import Path

import cv2
import numpy as np
import pytest

import sta_hands.recordings.sources
from sta_hands.contract.errors import UserError
from sta_hands.contract.frame import JOINT, Frame
from sta_hands.contract.reader import read
from sta_hands.recordings.camera.webcam import Webcam
from sta_hands.recordings.info import describe, format_info
from sta_hands.recordings.mirror import is_mirrored
from sta_hands.recordings.ntu.clip import NtuClip
from sta_hands.recordings.sources import open_reader
from tests.recordings.fake_camera import FakeCamera, FakeEstimator, write_video

ONE_PERSON = "S001C001P001R001A001"
FIRST, COUNT = 80, 6  # she drinks with her right hand (the Kinect's HandRight, high) while the left hangs
WIDTH = 1920


@pytest.fixture(scope="module")
def estimator_ready() -> None:
    from sta_hands.recordings.estimate import estimator_available

    available, reason = estimator_available()
    if not available:
        pytest.skip(f"the pose estimator cannot run here: {reason}")


@pytest.fixture(scope="module")
def kinect_frames(ntu_samples: Path) -> list[Frame]:
    with NtuClip(ntu_samples / f"{ONE_PERSON}_rgb.avi") as clip:
        return list(itertools.islice(clip.frames(FIRST), COUNT))


@pytest.fixture(scope="module")
def unmirrored_video(kinect_frames: list[Frame], tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The Kinect's frames flipped back to the scene as it is, as a plain .avi (not the NTU layout's name)."""
    unmirrored = [replace(f, image=cv2.flip(f.image, 1), bodies=()) for f in kinect_frames]
    return write_video(tmp_path_factory.mktemp("phone") / "phone clip.avi", unmirrored)


def _estimated_frames(reader) -> list[Frame]:
    return list(itertools.islice(read(reader), COUNT))


def _check_sides_are_the_kinects(estimated: list[Frame], kinect: list[Frame]) -> None:
    for frame, truth in zip(estimated, kinect, strict=True):
        assert len(frame.bodies) == 1, f"frame {FIRST + frame.index}: {len(frame.bodies)} bodies"
        body, expected = frame.bodies[0], truth.bodies[0]
        # the app shows (and estimates on) the Kinect's own picture again, up to the video's compression
        assert frame.image is not None and truth.image is not None
        assert np.mean(cv2.absdiff(frame.image, truth.image)) < 4.0
        for left in ("HandLeft", "ElbowLeft", "ShoulderLeft"):
            right = left.replace("Left", "Right")
            same = np.linalg.norm(body.color_px[JOINT[left]] - expected.color_px[JOINT[left]])
            crossed = np.linalg.norm(body.color_px[JOINT[left]] - expected.color_px[JOINT[right]])
            assert same < crossed, f"frame {FIRST + frame.index}: {left} lies on the Kinect's {right}"
        drinking = np.linalg.norm(body.color_px[JOINT["HandRight"]] - expected.color_px[JOINT["HandRight"]])
        assert drinking < 30.0, f"frame {FIRST + frame.index}: HandRight {drinking:.0f} px from the Kinect's"


def test_an_unmirrored_video_gets_the_kinects_sides(
    unmirrored_video: Path, kinect_frames: list[Frame], estimator_ready: None
) -> None:
    with open_reader(unmirrored_video) as reader:  # --mirror auto: a plain video is flipped as it is read
        assert reader.description.startswith("video phone clip.avi, mirrored, bodies estimated")
        _check_sides_are_the_kinects(_estimated_frames(reader), kinect_frames)
    with open_reader(unmirrored_video, mirror="no") as reader:  # as before: the person's mirror image
        (body,) = _estimated_frames(reader)[0].bodies
        hand_left = body.color_px[JOINT["HandLeft"]] * (-1, 1) + (WIDTH - 1, 0)  # onto the Kinect's image
        kinect_right = kinect_frames[0].bodies[0].color_px[JOINT["HandRight"]]
        assert np.linalg.norm(hand_left - kinect_right) < 30.0  # the user's left hand named HandRight


def test_a_webcam_gets_the_kinects_sides(
    unmirrored_video: Path, kinect_frames: list[Frame], estimator_ready: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    camera = functools.partial(Webcam, capture_factory=lambda index: FakeCamera(unmirrored_video))
    monkeypatch.setattr(sta_hands.recordings.sources, "open_webcam", camera)
    with open_reader("webcam") as reader:
        assert reader.description.startswith("webcam 0, mirrored, bodies estimated")
        _check_sides_are_the_kinects(_estimated_frames(reader), kinect_frames)


@pytest.fixture
def fake_estimator(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(sta_hands.recordings.sources, "bundled_estimator", lambda: FakeEstimator([()]))


def test_which_sources_are_flipped(
    unmirrored_video: Path, ntu_samples: Path, fake_estimator: None, tmp_path: Path
) -> None:
    ntu_alone = ntu_samples / "S004C002P003R001A055_rgb.avi"
    mp4 = write_video(tmp_path / "holiday.mp4", [Frame(0, 0.0, np.zeros((8, 8, 3), np.uint8))], fourcc="mp4v")
    cases = {  # (spec, mirror, pose): flipped
        (unmirrored_video, "auto", "auto"): True,
        (mp4, "auto", "kinect"): True,  # shown as a Kinect shows it, even without bodies
        (unmirrored_video, "no", "auto"): False,
        (ntu_alone, "auto", "auto"): False,  # NTU's videos are Kinect frames: already mirror images
        (ntu_alone, "yes", "auto"): True,
        (ntu_samples / f"{ONE_PERSON}_rgb.avi", "auto", "auto"): False,
        (ntu_samples / f"{ONE_PERSON}_rgb.avi", "yes", "estimate"): True,
        ("synthetic", "auto", "auto"): False,
    }
    for (spec, mirror, pose), flipped in cases.items():
        with open_reader(spec, mirror=mirror, pose=pose) as reader:
            assert is_mirrored(reader) is flipped, f"{spec} --mirror {mirror} --pose {pose}"


def test_flipping_away_from_a_recorded_skeleton_is_one_line(ntu_samples: Path) -> None:
    with pytest.raises(UserError, match=r"--mirror yes would flip .* add --pose estimate") as error:
        open_reader(ntu_samples / f"{ONE_PERSON}_rgb.avi", mirror="yes")
    assert "\n" not in str(error.value)
    with pytest.raises(UserError, match=r"--mirror 'sideways': expected one of auto, yes, no"):
        open_reader(ntu_samples / f"{ONE_PERSON}_rgb.avi", mirror="sideways")


def test_info_says_the_image_is_mirrored(unmirrored_video: Path, fake_estimator: None) -> None:
    assert "  image:   mirrored (flipped left-right" in format_info(describe(unmirrored_video))
    assert "image:" not in format_info(describe(unmirrored_video, mirror="no"))
