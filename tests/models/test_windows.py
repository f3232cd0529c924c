"""Windows in time on whole clips: the live recognizer's windows computed from timestamps, and the
training draws (live windows by default, the paper's segments or both as options)."""

from __future__ import annotations

import numpy as np
import pytest

from sta_hands.app.recognizer import StreamRecognizer
from sta_hands.app.runtime import OnnxModel
from sta_hands.contract.frame import NUM_JOINTS, TRACKED, Body, Frame
from sta_hands.models.data import window_indices
from sta_hands.models.train import TrainSettings
from sta_hands.models.windows import draw_window, live_windows, partial_window, time_window, window_seconds_of

STEP = 1.0 / 19.0  # grid step of a 1 s window of 20 samples


def _clip_times(frames: int, start: float = 0.0, fps: float = 30.0) -> np.ndarray:
    return start + np.arange(frames) / fps


def _body_frames(times: np.ndarray) -> list[Frame]:
    """Frames of one standing person, no image (the recognizer runs its pose stream alone)."""
    joints = np.zeros((NUM_JOINTS, 3))
    joints[:, 1], joints[:, 2] = np.linspace(-0.8, 0.8, NUM_JOINTS), 3.0
    body = Body(7, joints, np.full((NUM_JOINTS, 2), 100.0), np.full(NUM_JOINTS, TRACKED))
    return [Frame(i, float(t), None, (body,)) for i, t in enumerate(times)]


def test_training_draws_time_grid_windows_inside_the_clip_by_default() -> None:
    assert TrainSettings().sampling == "time"
    times = _clip_times(75, start=3.21)  # 2.5 s, a stream's clock that does not start at 0
    rng = np.random.default_rng(0)
    draws = [draw_window(times, 20, 1.0, rng) for _ in range(200)]
    for indices in draws:
        sampled = times[indices]
        assert len(indices) == 20 and np.all(np.diff(indices) > 0)  # inside: no frame repeated
        assert sampled[-1] - sampled[0] == pytest.approx(1.0, abs=1 / 30)  # spans window_seconds
        assert np.all(np.abs(np.diff(sampled) - STEP) <= 1 / 30 + 1e-9)  # on the time grid
    ends = {int(indices[-1]) for indices in draws}
    assert min(ends) <= 31 and max(ends) >= 72  # end times all over the clip
    assert len({tuple(indices) for indices in draws}) > 60  # grid origins vary too
    # The paper's draw stays available: one frame per equal segment of the whole clip.
    segments = draw_window(times, 20, 1.0, np.random.default_rng(1), "segments")
    np.testing.assert_array_equal(segments, window_indices(75, 20, np.random.default_rng(1)))


def test_time_and_segments_draws_both_and_validates_on_the_live_window() -> None:
    """The demo's "time+segments": each training draw a live window or the paper's segments, about half
    each; validation (no rng) the middle live window, as with "time"."""
    times = _clip_times(75)  # 2.5 s: a live window of 1 s spans 30 frames, the segments all 75
    rng = np.random.default_rng(0)
    spans = [int(np.ptp(draw_window(times, 20, 1.0, rng, "time+segments"))) for _ in range(400)]
    live = sum(span <= 31 for span in spans)
    assert 150 <= live <= 250 and all(span <= 31 or span >= 60 for span in spans)
    validation = draw_window(times, 20, 1.0, None, "time+segments")
    np.testing.assert_array_equal(validation, draw_window(times, 20, 1.0))


def test_a_clip_shorter_than_the_window_gives_the_recognizers_partial_window() -> None:
    times = _clip_times(20)  # 0.63 s < 1 s
    assert live_windows(times, 1.0, 20) == []
    drawn = time_window(times, 1.0, 20, np.random.default_rng(0))
    assert drawn[0] == 0 and drawn[-1] >= 18 and np.all(np.diff(drawn) >= 0)
    np.testing.assert_array_equal(time_window(times, 1.0, 20), partial_window(times, 1.0, 20))


def test_window_seconds_is_the_median_span_so_the_median_clip_holds_one_full_window() -> None:
    clips = [_clip_times(n) for n in (31, 40, 61)]
    assert window_seconds_of(clips) == pytest.approx(39 / 30)
    assert [len(live_windows(c, window_seconds_of(clips), 20)) for c in clips][1] == 1


def test_live_windows_are_the_windows_the_recognizer_classifies(tiny_model_folder) -> None:
    model = OnnxModel(tiny_model_folder)  # window_seconds 1.0
    times = np.concatenate([_clip_times(40, start=5.02), _clip_times(30, start=6.41, fps=24.0)])
    times = np.delete(times, [12, 13, 50])  # dropped frames
    recognizer = StreamRecognizer(model, lossless=True)
    predictions = [p for frame in _body_frames(times) for p in recognizer.feed([frame])]
    predictions += recognizer.flush()
    live = [p.frame_indices for p in predictions if p.status == "ok"]
    expected = live_windows(times, model.info.window_seconds, model.info.window_length)
    assert len(expected) >= 15
    assert [list(w) for w in live] == [list(w) for w in expected]
    middle = time_window(times, model.info.window_seconds, model.info.window_length)
    np.testing.assert_array_equal(middle, expected[len(expected) // 2])
