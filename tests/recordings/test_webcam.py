"""The webcam reader over a fake `cv2.VideoCapture` fed from a video file: frames, the size asked for,
a camera that is not there and one that stops delivering (one clear line, and it comes back)."""

from __future__ import annotations

import functools
import itertools
import threading
from pathlib import Path

import cv2
import numpy as np
import pytest

from sta_hands.contract.errors import UserError
from sta_hands.contract.frame import Frame
from sta_hands.contract.reader import read
from sta_hands.recordings.camera.webcam import Webcam, camera_index, parse_size
from tests.polling import until
from tests.recordings.fake_camera import FakeCamera, write_video


@pytest.fixture(scope="module")
def camera_video(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """40 frames of 320x240, each with its index drawn as a grey level (so frames can be told apart)."""
    frames = [Frame(i, i / 30.0, np.full((240, 320, 3), 5 * i, np.uint8)) for i in range(40)]
    return write_video(tmp_path_factory.mktemp("camera") / "camera.avi", frames)


def test_specs_and_sizes() -> None:
    assert (
        camera_index("webcam"),
        camera_index("webcam:2"),
        camera_index("webcams"),
        camera_index("demo"),
    ) == (
        0,
        2,
        None,
        None,
    )
    assert parse_size("640x480") == (640, 480) and parse_size("1280X720") == (1280, 720)
    for bad in ("640", "0x480", "axb", "640x480x3"):
        with pytest.raises(UserError, match=r"--size .*expected WIDTHxHEIGHT"):
            parse_size(bad)


def test_frames_come_at_the_size_asked_with_increasing_times(camera_video: Path) -> None:
    cameras: list[FakeCamera] = []

    def factory(index: int) -> FakeCamera:
        cameras.append(FakeCamera(camera_video))
        return cameras[-1]

    webcam = Webcam(1, (160, 120), capture_factory=factory)
    assert webcam.description == "webcam 1" and webcam.num_frames is None and webcam.fps == 30.0
    assert webcam.size == (160, 120)
    frames = []
    for frame in read(webcam):
        frames.append(frame)
        if len(frames) == 12:
            break
    assert [f.index for f in frames] == list(range(12))
    assert all(f.image is not None and f.image.shape == (120, 160, 3) for f in frames)
    levels = [int(np.median(f.image)) for f in frames if f.image is not None]
    assert levels == sorted(levels) and levels[-1] - levels[0] > 40  # the file's frames, in order
    times = [f.timestamp for f in frames]
    assert times[0] == 0.0 and all(b > a for a, b in itertools.pairwise(times))
    assert cameras[0].released  # the camera is let go when the reading ends
    assert cameras[0].settings[cv2.CAP_PROP_FRAME_WIDTH] == 160
    info = webcam.describe()
    assert info["kind"] == "webcam" and info["video"]["width"] == 160 and info["frames"] is None


def test_a_camera_that_is_not_there_is_one_clear_line(camera_video: Path) -> None:
    with pytest.raises(UserError) as caught:
        Webcam(3, capture_factory=lambda index: FakeCamera(camera_video, opens=False))
    message = str(caught.value)
    assert message.startswith("webcam 3: cannot open the camera") and "\n" not in message
    with pytest.raises(UserError, match="opened but gave no frame"):
        Webcam(0, capture_factory=lambda index: FakeCamera(camera_video, deliver=0))


def test_a_camera_that_stops_delivering_is_reported_and_comes_back(camera_video: Path) -> None:
    made: list[FakeCamera] = []
    replugged = threading.Event()

    def factory(index: int) -> FakeCamera:  # the first camera stops after 5 frames; the next one works
        if made:
            replugged.wait(5)  # reopening waits until the test has seen the trouble reported
        made.append(FakeCamera(camera_video, deliver=5 if not made else None))
        return made[-1]

    webcam = Webcam(0, capture_factory=factory, lost_after=0.1, retry_every=0.05)
    got: list[Frame] = []
    reader = threading.Thread(target=lambda: got.extend(read(webcam)), daemon=True)
    reader.start()
    assert until(lambda: webcam.problem() is not None)
    assert (
        webcam.problem()
        == "webcam 0 stopped delivering frames (no frame for 0.1 s); waiting for it to come back…"
    )
    assert len(got) == 5 and made[0].released
    replugged.set()
    assert until(lambda: len(got) > 10), "frames did not come back after the camera was reopened"
    assert webcam.problem() is None  # back: no trouble shown
    webcam.stop()
    reader.join(5)
    assert not reader.is_alive()
    assert [f.index for f in got] == list(range(len(got)))  # the numbering went on across the outage
    assert got[5].timestamp - got[4].timestamp >= 0.1  # the outage shows as a gap in time


def test_a_camera_gone_for_good_stays_reported_until_stopped(camera_video: Path) -> None:
    made: list[FakeCamera] = []

    def factory(index: int) -> FakeCamera:  # after the first, the camera is gone (unplugged)
        made.append(FakeCamera(camera_video, deliver=3, opens=not made))
        return made[-1]

    webcam = Webcam(0, capture_factory=factory, lost_after=0.05, retry_every=0.02)
    got: list[Frame] = []
    reader = threading.Thread(target=lambda: got.extend(read(webcam)), daemon=True)
    reader.start()
    assert until(lambda: webcam.problem() is not None)
    problem = webcam.problem()
    assert problem == "webcam 0 stopped delivering frames (no frame for 0.05 s); waiting for it to come back…"
    assert until(lambda: len(made) >= 3)  # it keeps trying to reopen
    assert reader.is_alive() and webcam.problem() == problem
    webcam.stop()
    reader.join(5)
    assert not reader.is_alive() and len(got) == 3
    assert webcam.describe()["problems"] == [problem]


def test_a_second_pass_reopens_the_camera(camera_video: Path) -> None:
    factory = functools.partial(lambda path, index: FakeCamera(path), camera_video)
    webcam = Webcam(0, capture_factory=factory)
    for _ in range(2):
        frames = read(webcam)
        assert [next(frames).index for _ in range(3)] == [0, 1, 2]
        frames.close()
    webcam.close()
