"""Where bodies come from: `open_reader(pose=auto|kinect|estimate)` on plain videos, NTU clips with and
without their skeleton, and a skeleton alone; `EstimatedBodies` with a fake estimator (the real one is
tested in tests/recordings/test_estimate*.py and end to end in tests/app/test_estimated_run.py)."""

from __future__ import annotations

import logging
from pathlib import Path

import numpy as np
import pytest

from sta_hands.contract.errors import UserError
from sta_hands.contract.hand_crop import BODY_SCALED_CROP, PAPER_CROP
from sta_hands.contract.reader import read
from sta_hands.recordings.estimate.bodies import EstimatedBodies
from sta_hands.recordings.info import describe, format_info
from sta_hands.recordings.ntu.clip import NtuClip
from sta_hands.recordings.ntu.skeleton import read_skeleton
from sta_hands.recordings.sources import bodies_from, open_reader
from tests.app.conftest import gui_frame
from tests.recordings.fake_camera import FakeEstimator, write_video

A001 = "S001C001P001R001A001"
COUNT = 24


@pytest.fixture(scope="module")
def two_people() -> list:
    return [gui_frame(i, COUNT, (320, 180)) for i in range(COUNT)]


@pytest.fixture(scope="module")
def plain_mp4(tmp_path_factory: pytest.TempPathFactory, two_people: list) -> Path:
    """A phone-style video: any name, .mp4, no skeleton anywhere."""
    return write_video(tmp_path_factory.mktemp("video") / "my holiday.mp4", two_people, fourcc="mp4v")


def _factory(bodies: list) -> tuple[list[FakeEstimator], object]:
    """An estimator factory whose estimators find `bodies[k]` in the k-th image, and the ones it made."""
    made: list[FakeEstimator] = []

    def factory() -> FakeEstimator:
        made.append(FakeEstimator(bodies))
        return made[-1]

    return made, factory


def test_a_plain_mp4_opens_and_gets_estimated_bodies(plain_mp4: Path, two_people: list) -> None:
    made, factory = _factory([frame.bodies for frame in two_people])
    with open_reader(plain_mp4, pose="kinect", mirror="no") as plain:
        assert isinstance(plain, NtuClip) and plain.description == "video my holiday.mp4"
        assert plain.num_frames == COUNT and all(not f.bodies and f.image is not None for f in plain.frames())
        assert bodies_from(plain).startswith("none")
    with open_reader(
        plain_mp4, estimator_factory=factory
    ) as reader:  # pose="auto": no skeleton, so estimated
        assert isinstance(reader, EstimatedBodies)
        expected = "video my holiday.mp4, mirrored, bodies estimated (fake estimator (tests))"
        assert reader.description == expected
        frames = list(reader.frames())
    assert len(frames) == COUNT and all(len(f.bodies) == 2 for f in frames)
    assert all(f.hand_crop == BODY_SCALED_CROP for f in frames)
    assert made[0].images[0] == (320, 180) and made[0].calls == COUNT  # every frame, at the video's size
    expected = two_people[7].bodies[1].color_px
    assert np.array_equal(frames[7].bodies[1].color_px, expected) and frames[7].bodies[1].id == 2


def test_info_says_where_the_bodies_come_from(plain_mp4: Path, two_people: list, ntu_samples: Path) -> None:
    _made, factory = _factory([frame.bodies for frame in two_people])
    with open_reader(plain_mp4, estimator_factory=factory) as reader:
        info = reader.describe()
        info.setdefault("bodies_from", bodies_from(reader))
    assert info["bodies_from"] == "estimated (fake estimator (tests))" and not info["problems"]
    assert "bodies from: estimated (fake estimator (tests))" in format_info(info)
    assert "hand crop: 50 px per 140 px of torso" in format_info(info)
    kinect = describe(ntu_samples / f"{A001}_rgb.avi")
    assert kinect["bodies_from"] == "Kinect skeleton"


def test_auto_keeps_a_recorded_skeleton_and_estimate_replaces_it(ntu_samples: Path) -> None:
    skeleton_bodies = read_skeleton(ntu_samples / f"{A001}.skeleton").frames
    made, factory = _factory([()] * 5)
    with open_reader(ntu_samples / f"{A001}_rgb.avi", estimator_factory=factory) as auto:
        assert isinstance(auto, NtuClip) and not made  # auto: the Kinect's bodies, no estimator even made
    with open_reader(A001, ntu_samples, pose="estimate", estimator_factory=factory) as estimated:
        assert isinstance(estimated, EstimatedBodies) and estimated.num_frames == 103
        wanted = np.zeros(103, dtype=bool)
        wanted[[10, 20]] = True
        frames = list(estimated.frames(images=wanted))
    assert len(frames) == 103 and skeleton_bodies[10]
    assert [bool(f.bodies) for f in frames] == [
        False
    ] * 103  # the fake finds no one: none of the Kinect's kept
    assert made[0].calls == 2  # only the decoded images are estimated, each at its own time
    assert made[0].timestamps == [pytest.approx(10 / 30), pytest.approx(20 / 30)]
    assert frames[10].hand_crop == BODY_SCALED_CROP


def test_a_video_alone_is_estimated_in_auto_and_left_bare_with_kinect(ntu_samples: Path) -> None:
    made, factory = _factory([()])
    video = ntu_samples / "S004C002P003R001A055_rgb.avi"
    with open_reader(video, pose="kinect", estimator_factory=factory) as bare:
        assert isinstance(bare, NtuClip) and not made
        assert "no skeleton file beside the video: no bodies, no hand crops" in bare.describe()["problems"]
    with open_reader(video, estimator_factory=factory) as auto:
        assert isinstance(auto, EstimatedBodies) and auto.describe()["problems"] == []


def test_estimate_needs_images(ntu_samples: Path) -> None:
    skeleton = ntu_samples / "S017C003P020R002A054.skeleton"
    with pytest.raises(UserError, match="--pose estimate needs images, and it has no video"):
        open_reader(skeleton, pose="estimate", estimator_factory=lambda: FakeEstimator([()]))
    with open_reader(skeleton, estimator_factory=lambda: FakeEstimator([()])) as auto:
        assert isinstance(auto, NtuClip)  # auto: a skeleton alone is what it is
    with pytest.raises(UserError, match="--pose 'guess': expected one of auto, kinect, estimate"):
        open_reader(skeleton, pose="guess")
    with pytest.raises(UserError, match=r"--size asks a camera for a resolution; .* is not a camera"):
        open_reader(skeleton, camera_size=(640, 480))


def test_an_estimator_that_cannot_run_is_a_warning_in_auto_and_an_error_in_estimate(
    plain_mp4: Path, caplog: pytest.LogCaptureFixture
) -> None:
    def missing() -> FakeEstimator:
        raise UserError("cannot estimate bodies from the image: the model files are missing")

    with caplog.at_level(logging.WARNING), open_reader(plain_mp4, estimator_factory=missing) as reader:
        assert not isinstance(reader, EstimatedBodies) and reader.description.endswith(", mirrored")
    assert "the model files are missing" in caplog.text
    with pytest.raises(UserError, match="the model files are missing"):
        open_reader(plain_mp4, pose="estimate", estimator_factory=missing)


def test_each_pass_has_its_own_estimator_reset(plain_mp4: Path, two_people: list) -> None:
    """A replay, a seek's recompute and an export may read one source at once: each tracks on its own."""
    made, factory = _factory([frame.bodies for frame in two_people])
    with open_reader(plain_mp4, estimator_factory=factory) as reader:
        first, second = read(reader), read(reader)
        a = [next(first) for _ in range(3)]
        b = [next(second) for _ in range(3)]
        first.close()
        second.close()
        assert len(made) == 2 and all(e.resets == 1 for e in made)
        assert [f.index for f in a] == [f.index for f in b] == [0, 1, 2]
        again = read(reader)
        next(again)
        again.close()
        assert len(made) == 2 and sum(e.resets for e in made) == 3  # an idle estimator is reused, reset


def test_a_kinect_frame_keeps_the_papers_crop(ntu_samples: Path) -> None:
    with open_reader(A001, ntu_samples) as clip:
        frame = next(iter(clip.frames(images=[False] * 103)))
    assert frame.hand_crop == PAPER_CROP
