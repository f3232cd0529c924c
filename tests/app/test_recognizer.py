from __future__ import annotations

import threading
import time

import numpy as np

from app.recognizer import GlimpseCache, Prediction, RecognizerThread, StreamRecognizer, classify_window
from app.ring import FrameRing
from app.runtime import OnnxModel
from recordings.inputs import time_window_indices
from tests.app.conftest import moving_frames


def test_stream_predictions_equal_offline_classification_of_the_same_windows(tiny_model_folder) -> None:
    model = OnnxModel(tiny_model_folder)
    frames = moving_frames(60)
    recognizer = StreamRecognizer(model, lossless=True)
    predictions = [p for frame in frames for p in recognizer.feed([frame])]
    assert len(predictions) >= 10
    for prediction in predictions:
        window = [frames[i] for i in prediction.frame_indices]
        offline = classify_window(model, window)  # no cache, every crop recomputed
        assert np.abs(offline.logits - prediction.logits).max() <= 1e-4
        assert np.abs(offline.spatial_attention - prediction.spatial_attention).max() <= 1e-5
        assert np.abs(offline.temporal_attention - prediction.temporal_attention).max() <= 1e-5


def test_windows_span_the_model_seconds_and_reuse_cached_glimpses(tiny_model_folder) -> None:
    model = OnnxModel(tiny_model_folder)
    frames = moving_frames(60)
    recognizer = StreamRecognizer(model, lossless=True)
    predictions = [p for frame in frames for p in recognizer.feed([frame])]
    first, second = predictions[0], predictions[1]
    assert first.timestamps[-1] - first.timestamps[0] <= model.info.window_seconds + 1e-9
    assert list(second.frame_indices[:-1]) == list(first.frame_indices[1:])
    assert list(first.frame_indices) == list(
        time_window_indices([f.timestamp for f in frames[: first.frame_indices[-1] + 1]], 1.0, 20)
    )
    assert first.timings.crops_computed == 2 * 20  # two hands present in every frame
    assert second.timings.crops_computed == 2  # only the new frame's two hands


def test_prediction_contents(tiny_model_folder) -> None:
    model = OnnxModel(tiny_model_folder)
    window = moving_frames(20)
    prediction = classify_window(model, window, GlimpseCache())
    assert isinstance(prediction, Prediction)
    assert np.isclose(prediction.probabilities.sum(), 1.0)
    assert prediction.spatial_attention.shape == (20, 4) and prediction.temporal_attention.shape == (20,)
    assert np.all(prediction.spatial_attention[:, 2:] == 0)  # no second person
    assert len(prediction.top(3)) == 3
    assert set(prediction.to_json()) >= {"top", "spatial_attention", "temporal_attention", "timings_ms"}


def test_a_slow_recognizer_skips_windows_and_counts_them(tiny_model_folder) -> None:
    model = OnnxModel(tiny_model_folder)
    recognizer = StreamRecognizer(model)
    frames = moving_frames(90)
    assert len(recognizer.feed(frames[:40])) == 1  # the first window
    assert recognizer.frames_skipped == 0
    burst = recognizer.feed(frames[40:80])  # a consumer that woke up late: 40 frames at once
    assert len(burst) == 1  # only the newest window, no backlog
    assert recognizer.frames_skipped > 0
    assert burst[0].frame_indices[-1] >= 77


def test_the_worker_thread_delivers_predictions_and_survives_errors(tiny_model_folder) -> None:
    model = OnnxModel(tiny_model_folder)
    ring: FrameRing = FrameRing(200)
    got: list[Prediction] = []
    errors: list[str] = []
    done = threading.Event()
    worker = RecognizerThread(StreamRecognizer(model), ring, got.append, on_error=errors.append).start()
    for frame in moving_frames(45):
        ring.push(frame)
        time.sleep(0.002)
    ring.close()
    worker.join(20)
    done.set()
    assert got and not errors
    broken = RecognizerThread(StreamRecognizer(model), FrameRing(4), got.append, on_error=errors.append)
    broken.ring.push("not a frame")  # type: ignore[arg-type]
    broken.ring.close()
    broken.start().join(5)
    assert errors and errors[0].startswith("recognizer:")
