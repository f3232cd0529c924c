"""The live path from a camera end to end, with a fake `cv2.VideoCapture` fed from a video file and a
fake pose estimator: Webcam -> EstimatedBodies -> CaptureThread -> RecognizerThread -> Prediction; a
camera that stops delivering is one line and the app stays up; recording it gives a trainable clip."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from sta_hands.app.capture import CaptureThread
from sta_hands.app.gui.recorder import RecorderThread
from sta_hands.app.recognizer import Prediction, RecognizerThread, StreamRecognizer
from sta_hands.app.ring import FrameRing
from sta_hands.contract.frame import Frame
from sta_hands.contract.hand_crop import BODY_SCALED_CROP
from sta_hands.contract.inputs import window_inputs
from sta_hands.contract.reader import read
from sta_hands.recordings.camera.webcam import Webcam
from sta_hands.recordings.estimate.bodies import EstimatedBodies
from sta_hands.recordings.own.recording import open_recording
from sta_hands.recordings.sources import bodies_from
from tests.app.conftest import FakeModel, gui_frame
from tests.polling import until
from tests.recordings.fake_camera import FakeCamera, FakeEstimator, write_video

COUNT = 45
SIZE = (320, 180)


@pytest.fixture(scope="module")
def camera_video(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, list[Frame]]:
    frames = [gui_frame(i, COUNT, SIZE) for i in range(COUNT)]
    return write_video(tmp_path_factory.mktemp("live") / "camera.avi", frames), frames


def test_a_camera_drives_the_live_path_to_predictions_for_both_people(
    camera_video: tuple[Path, list[Frame]], tmp_path: Path
) -> None:
    video, drawn = camera_video
    webcam = Webcam(
        0, SIZE, capture_factory=lambda index: FakeCamera(video, fps=60.0), lost_after=0.3, retry_every=0.1
    )
    source = EstimatedBodies(webcam, lambda: FakeEstimator([frame.bodies for frame in drawn]))
    predictions: list[Prediction] = []
    errors: list[str] = []
    recorder = RecorderThread(
        tmp_path / "S001C001P001R001A023", source.fps, device=source.description
    ).start()

    def frames():  # as the GUI's session does: every frame also goes to the recorder
        for frame in read(source):
            recorder.push(frame)
            yield frame

    ring: FrameRing[Frame] = FrameRing(8)
    recognizer = RecognizerThread(
        StreamRecognizer(FakeModel(window_seconds=0.4)), ring, predictions.append, errors.append
    ).start()
    capture = CaptureThread(frames(), ring, realtime=True, on_stop=source.stop).start()
    assert until(lambda: source.problem() is not None, seconds=10.0), "the camera's end was never reported"
    problem = source.problem()
    assert (
        problem is not None
        and problem.startswith("webcam 0 stopped delivering frames")
        and "\n" not in problem
    )
    assert capture.running and recognizer.running and not errors  # the app stays up, waiting for the camera
    assert capture.events.empty()
    recorder.stop(5)
    capture.stop(5)
    recognizer.stop(5)
    assert capture.events.get(timeout=1).kind == "end"
    assert capture.frames_read == COUNT and not errors

    assert predictions, "no window was classified"
    last = predictions[-1]
    assert last.status == "ok" and last.classified and last.streams == ("pose", "rgb")
    assert set(last.body_ids) == {1, 2}  # both estimated people, in the slots
    assert last.hand_mask.all() and last.crops is not None
    assert np.allclose(last.spatial_attention.sum(axis=1), 1.0, atol=1e-5)
    assert np.isclose(last.temporal_attention.sum(), 1.0, atol=1e-5)
    step = int(last.frame_indices[-1])
    expected = drawn[step].bodies[0].color_px[[7, 11]]  # the hands where the clip drew them
    assert np.allclose(last.hand_px[-1, :2], expected, atol=0.01)

    recording = open_recording(tmp_path / "S001C001P001R001A023")
    assert recording.num_frames == COUNT and recording.hand_crop == BODY_SCALED_CROP
    assert all(len(bodies) == 2 for bodies in recording.bodies)
    assert "bodies estimated" in recording.header["device"]
    assert (
        bodies_from(recording) == "recorded skeleton, estimated when recorded"
    )  # replayed, not re-estimated
    inputs = window_inputs(list(recording.frames())[::2])  # as training reads it: pose, hands, crops
    assert inputs.hand_mask.all() and inputs.crops is not None and np.abs(inputs.pose).sum() > 0


def test_a_camera_that_cannot_be_opened_is_one_line_from_the_command(
    camera_video: tuple[Path, list[Frame]], monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture
) -> None:
    import functools

    import sta_hands.recordings.sources
    from sta_hands.commands.cli import EXIT_USER_ERROR, main

    video, _drawn = camera_video
    absent = functools.partial(Webcam, capture_factory=lambda index: FakeCamera(video, opens=False))
    monkeypatch.setattr(sta_hands.recordings.sources, "open_webcam", absent)
    assert main(["run", "webcam:2", "--headless"]) == EXIT_USER_ERROR
    err = capsys.readouterr().err.strip()
    assert err.startswith("sta-hands run: webcam 2: cannot open the camera") and "\n" not in err


def test_info_on_a_webcam_says_its_size_and_that_bodies_are_estimated(
    camera_video: tuple[Path, list[Frame]], monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture
) -> None:
    import functools

    import sta_hands.recordings.sources
    from sta_hands.commands.cli import main

    video, drawn = camera_video
    camera = functools.partial(Webcam, capture_factory=lambda index: FakeCamera(video))
    monkeypatch.setattr(sta_hands.recordings.sources, "open_webcam", camera)
    monkeypatch.setattr(
        sta_hands.recordings.sources, "bundled_estimator", lambda: FakeEstimator([f.bodies for f in drawn])
    )
    assert main(["info", "webcam", "--pose", "auto"]) == 0
    out = capsys.readouterr().out
    assert "webcam 0  (webcam)" in out and "video:   320x180, 30.00 fps, live" in out
    assert "bodies from: estimated (fake estimator (tests))" in out
    assert main(["info", "webcam", "--pose", "kinect"]) == 0
    assert "bodies from: none" in capsys.readouterr().out
