"""A recording of a flipped (unmirrored) source stores the frames as the app showed them, says so in its
sidecar, and replays as stored: not flipped a second time, so training and replay see what live saw."""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np

import sta_hands.recordings.sources
from sta_hands.recordings.info import describe, format_info
from sta_hands.recordings.mirror import is_mirrored
from sta_hands.recordings.own.recording import open_recording
from sta_hands.recordings.sources import open_reader
from sta_hands.teach.examples_folder import save_span
from tests.app.conftest import gui_frame
from tests.recordings.fake_camera import FakeEstimator, write_video

COUNT = 8


def test_a_recording_of_a_flipped_video_keeps_it_flipped_and_says_so(tmp_path: Path, monkeypatch) -> None:
    drawn = [gui_frame(i, COUNT, (320, 180)) for i in range(COUNT)]
    video = write_video(tmp_path / "phone.mp4", drawn, fourcc="mp4v")
    bodies = [f.bodies for f in drawn]
    monkeypatch.setattr(sta_hands.recordings.sources, "bundled_estimator", lambda: FakeEstimator(bodies))
    with open_reader(video) as source:
        assert is_mirrored(source)
        save_span(source, 0, COUNT - 1, tmp_path / "wave 01", "wave")
    recording = open_recording(tmp_path / "wave 01")
    assert recording.header["mirrored"] is True
    assert "image:   flipped left-right when recorded" in format_info(describe(recording.paths.sidecar))
    with open_reader(recording.paths.sidecar) as replayed:  # --mirror auto: a recording is Kinect-like
        assert not is_mirrored(replayed)
        frame = next(iter(replayed.frames()))
    assert frame.image is not None and drawn[0].image is not None
    as_shown = cv2.flip(drawn[0].image, 1)
    assert np.mean(cv2.absdiff(frame.image, as_shown)) < 3.0  # the flipped picture, up to two codecs
    assert np.mean(cv2.absdiff(frame.image, drawn[0].image)) > 10.0  # not the camera's raw one
