"""Estimating less live (recordings.estimate.bodies.live_view): only the frames the recognizer's windows
sample, and every third frame for the screen, get a fresh estimate, and the recognizer reads exactly what it
reads when every frame is estimated."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from sta_hands.app.recognizer import StreamRecognizer
from sta_hands.app.replay import replay
from sta_hands.contract.frame import Body
from sta_hands.contract.inputs import window_grid_frames
from sta_hands.recordings.estimate.bodies import EstimatedBodies, live_view
from sta_hands.recordings.ntu.clip import NtuClip
from tests.app.conftest import FakeModel, gui_frame
from tests.recordings.fake_camera import FakeEstimator, write_video

COUNT, FPS = 90, 30.0
WINDOW_SECONDS = 1.7  # the demo model's: a sample every 89 ms, one frame in about 2.7


class TimedEstimator(FakeEstimator):
    """Finds in each image the bodies drawn at its time (whatever frames were skipped before it)."""

    def estimate(self, image_bgr: np.ndarray, timestamp: float | None = None) -> tuple[Body, ...]:
        assert timestamp is not None
        self.calls = round(timestamp * FPS)
        return super().estimate(image_bgr, timestamp)


@pytest.fixture(scope="module")
def video(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, list]:
    drawn = [gui_frame(i, COUNT, (320, 180)) for i in range(COUNT)]
    return write_video(tmp_path_factory.mktemp("live") / "phone.avi", drawn), drawn


def _source(video: tuple[Path, list]) -> tuple[EstimatedBodies, list[TimedEstimator]]:
    path, drawn = video
    made: list[TimedEstimator] = []

    def factory() -> TimedEstimator:
        made.append(TimedEstimator([frame.bodies for frame in drawn]))
        return made[-1]

    return EstimatedBodies(NtuClip(path), factory), made


def test_the_sampled_frames_and_every_third_are_estimated(video) -> None:
    model = FakeModel(window_seconds=WINDOW_SECONDS)
    info = model.info
    source, made = _source(video)
    assert source.timestamps is not None
    view = live_view(source, info.window_seconds, info.window_length)
    frames = list(view.frames())
    estimated = {round(t * FPS) for t in made[0].timestamps}
    sampled = set(
        np.flatnonzero(window_grid_frames(source.timestamps, info.window_seconds, info.window_length))
    )
    assert sampled <= estimated  # every frame a window reads got its own estimate
    assert len(estimated) < 0.75 * COUNT  # and not every frame
    gaps = np.diff(sorted(estimated))
    assert gaps.max() <= 3  # the skeleton on screen moves at least every third frame
    carried = [f for f in frames if f.index not in estimated]
    assert carried and all(f.bodies for f in carried)  # the frames between keep the last estimate's bodies


def test_the_recognizer_reads_the_same_with_and_without_the_schedule(video) -> None:
    model = FakeModel(window_seconds=WINDOW_SECONDS)
    info = model.info
    predictions = []
    for scheduled in (False, True):
        source, _ = _source(video)
        reader = live_view(source, info.window_seconds, info.window_length) if scheduled else source
        recognizer = StreamRecognizer(model, lossless=True)
        predictions.append([p for _, batch in replay(reader, recognizer) for p in batch])
    full, less = predictions
    assert len(full) == len(less) > 5
    for a, b in zip(full, less, strict=True):
        assert np.array_equal(a.frame_indices, b.frame_indices)
        assert np.array_equal(a.hand_px, b.hand_px) and np.array_equal(a.crops, b.crops)
        assert np.allclose(a.probabilities, b.probabilities)


def test_while_recording_every_frame_is_estimated(video) -> None:
    source, made = _source(video)
    view = live_view(source, 0.5, 20, every_frame=lambda: True)
    assert len(list(view.frames())) == COUNT and len(made[0].timestamps) == COUNT


def test_other_readers_are_read_as_they_are(video) -> None:
    clip = NtuClip(video[0])
    assert live_view(clip, 0.5, 20) is clip
