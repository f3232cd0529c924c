from __future__ import annotations

import dataclasses
import json
import threading
import time

import numpy as np

from sta_hands.app.hand_glimpses import STILL_CROP_THRESHOLD
from sta_hands.app.recognizer import (
    GlimpseCache,
    Prediction,
    RecognizerThread,
    StreamRecognizer,
    classify_window,
)
from sta_hands.app.ring import FrameRing
from sta_hands.app.runtime import OnnxModel
from sta_hands.contract.frame import Frame
from sta_hands.contract.inputs import glimpse_batch, time_window_indices, window_inputs
from tests.app.conftest import FakeModel, gui_frame, moving_frames


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
    assert first.timings.crops_reused == 0 and not second.crops_reused.any()  # a file: every crop computed


def test_a_still_hand_reuses_its_first_crop_and_the_tiles_show_that_crop(tiny_model_folder) -> None:
    model = OnnxModel(tiny_model_folder)
    recognizer = StreamRecognizer(model, lossless=True, still_threshold=STILL_CROP_THRESHOLD)
    first, second = [p for frame in moving_frames(40) for p in recognizer.feed([frame])][:2]
    # the right hand rises a pixel a frame over texture: every crop new; the left hand is still
    assert (first.timings.crops_computed, first.timings.crops_reused) == (20 + 1, 19)
    assert (second.timings.crops_computed, second.timings.crops_reused) == (1, 1)  # the new frame's
    assert list(second.crop_frames[:, 0]) == [0] * 20
    assert list(second.crop_frames[:, 1]) == list(second.frame_indices)
    assert second.crops_reused[:, 0].all() and not second.crops_reused[:, 1:].any()  # frame 0 left the window
    assert np.array_equal(second.crops[:, 0], np.repeat(first.crops[:1, 0], 20, axis=0))
    assert second.to_json()["crops_reused"] == 1 and second.to_json()["crop_frames"][5][0] == 0


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
    assert recognizer.windows_skipped == 0
    burst = recognizer.feed(frames[40:80])  # a consumer that woke up late: 40 frames at once
    assert len(burst) == 1  # only the newest window, no backlog
    assert recognizer.windows_skipped > 0 and burst[0].windows_skipped == recognizer.windows_skipped
    assert burst[0].frames_dropped == 0  # no ring in front: no frame was lost, only windows
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


# ---------------------------------------------------------------- what the prediction says it used


def _listed(frames: list[Frame], order: str) -> list[Frame]:
    """The same frames with their bodies listed in another order from the second frame on ("alternate":
    reversed in every other frame), or with a spurious third body ("spurious": a flat, wide 'body' such
    as a sofa, listed first). Who appears first (frame 0, as listed there) stays person 1."""
    from tests.recordings.figures import figure

    out = []
    for frame in frames:
        bodies = list(frame.bodies)
        if order == "alternate" and frame.index % 2:
            bodies.reverse()
        if order == "spurious":
            bodies.insert(0, figure(99, (0.0, 0.2, 2.5), width=2.0, height=0.4))
        out.append(dataclasses.replace(frame, bodies=tuple(bodies)))
    return out


def _stream(model, frames: list[Frame]) -> list[Prediction]:
    recognizer = StreamRecognizer(model, lossless=True)
    return [p for frame in frames for p in recognizer.feed([frame])]


def test_the_slots_and_the_attention_follow_the_people_not_the_listing_order() -> None:
    model = FakeModel(window_seconds=0.5)
    frames = [gui_frame(i, 40) for i in range(40)]
    person_1, person_2 = (body.id for body in frames[0].bodies)
    reference = _stream(model, frames)
    for order in ("alternate", "spurious"):
        listed = _listed(frames, order)
        for expected, got in zip(reference, _stream(model, listed), strict=True):
            assert got.body_ids == expected.body_ids == (person_1, person_2)
            np.testing.assert_allclose(got.spatial_attention, expected.spatial_attention, atol=1e-6)
            np.testing.assert_allclose(got.logits, expected.logits, atol=1e-5)
            for t, index in enumerate(got.frame_indices):  # slot k is hand k % 2 of body_ids[k // 2]
                bodies = {body.id: body for body in listed[index].bodies}
                for slot, joint in enumerate((7, 11, 7, 11)):
                    body = bodies[got.body_ids[slot // 2]]
                    np.testing.assert_allclose(got.hand_px[t, slot], body.color_px[joint], atol=1e-3)


def test_the_crops_are_the_ones_the_model_read(tiny_model_folder) -> None:
    from sta_hands.contract.inputs import crop_at

    model = OnnxModel(tiny_model_folder)
    window = moving_frames(20)
    prediction = classify_window(model, window)
    assert prediction.crops is not None and prediction.crops.shape == (20, 4, 50, 50, 3)
    right = window[5].bodies[0].color_px[11]
    np.testing.assert_array_equal(prediction.crops[5, 1], crop_at(window[5].image, right))
    assert not prediction.crops.flags.writeable and not prediction.spatial_attention.flags.writeable


def test_each_slot_reads_its_own_hands_crop_and_the_test_model_can_tell(tiny_model_folder) -> None:
    """The logits are the head's on the glimpses of the crops the prediction shows (checked against the
    image above), slot by slot; and the test model's glimpses depend on the image enough that a wrong
    hand, a wrong person or a crop a frame old moves its logits far beyond the tests' tolerances."""
    model = OnnxModel(tiny_model_folder)
    info = model.info
    frames = [gui_frame(i, 40) for i in range(40)]  # two people: four hands, each its own colour
    prediction = _stream(model, frames)[-1]  # most glimpses from the cache
    assert prediction.crops is not None and prediction.hand_mask.all()
    mask = prediction.hand_mask
    pose = window_inputs([frames[i] for i in prediction.frame_indices], prediction.body_ids).pose

    def logits(crops: np.ndarray) -> np.ndarray:
        flat = crops.reshape(-1, *crops.shape[2:])
        batch = glimpse_batch(flat, info.glimpse_input_size, info.mean, info.std)
        values = model.head_features(batch).reshape(*crops.shape[:2], -1) * mask[..., None]
        return model.run_head_projected(values[None], mask[None], pose[None])["logits"][0]

    np.testing.assert_allclose(prediction.logits, logits(prediction.crops), atol=1e-4)
    wrong = {
        "hands swapped": prediction.crops[:, [1, 0, 2, 3]],
        "people swapped": prediction.crops[:, [2, 3, 0, 1]],
        "a frame old": np.concatenate([prediction.crops[:1], prediction.crops[:-1]]),
    }
    for name, crops in wrong.items():
        assert np.abs(logits(crops) - prediction.logits).max() > 1e-2, name


def test_no_body_in_the_window_gives_no_class(tiny_model_folder) -> None:
    model = OnnxModel(tiny_model_folder)
    empty = [dataclasses.replace(frame, bodies=()) for frame in moving_frames(40)]
    predictions = _stream(model, empty)
    assert predictions and all(p.status == "no person" and p.top() == [] for p in predictions)
    line = json.loads(json.dumps(predictions[-1].to_json()))
    assert line["top"] == [] and line["status"] == "no person" and line["body_ids"] == [None, None]
    from sta_hands.app.headless import prediction_line

    assert "no one in view" in prediction_line(predictions[-1], as_json=False)


def test_a_skeleton_without_video_is_the_pose_stream_alone(tiny_model_folder) -> None:
    model = OnnxModel(tiny_model_folder)
    frames = [dataclasses.replace(frame, image=None) for frame in moving_frames(40)]
    prediction = _stream(model, frames)[-1]
    assert prediction.streams == ("pose",) and prediction.crops is None
    np.testing.assert_allclose(prediction.probabilities, prediction.pose_probabilities, atol=1e-6)
    assert prediction.to_json()["streams"] == ["pose"]
    assert all(hand is None for step in prediction.to_json()["hand_px"] for hand in step)
    with_video = _stream(model, moving_frames(40))[-1]
    assert with_video.streams == ("pose", "rgb") and with_video.to_json()["streams"] == ["pose", "rgb"]


def test_a_window_shorter_than_the_model_is_marked_partial(tiny_model_folder) -> None:
    model = OnnxModel(tiny_model_folder)
    recognizer = StreamRecognizer(model, lossless=True)
    assert [p for frame in moving_frames(10) for p in recognizer.feed([frame])] == []  # warming up
    (partial,) = recognizer.flush()
    assert partial.status == "partial" and partial.to_json()["status"] == "partial"
    full = _stream(model, moving_frames(40))
    assert full and all(p.status == "ok" for p in full)


def test_the_json_line_names_the_bodies_and_where_their_hands_were(tiny_model_folder) -> None:
    model = OnnxModel(tiny_model_folder)
    frames = moving_frames(40)
    line = _stream(model, frames)[-1].to_json()
    assert line["body_ids"] == [frames[0].bodies[0].id, None]
    assert len(line["hand_px"]) == 20 and all(len(step) == 4 for step in line["hand_px"])
    last = frames[line["frame_indices"][-1]]
    assert line["hand_px"][-1][1] == [round(float(v), 2) for v in last.bodies[0].color_px[11]]
    assert line["hand_px"][-1][2] is None and line["hand_px"][-1][3] is None  # no second person


def test_latency_starts_when_the_frame_left_its_source(tiny_model_folder) -> None:
    model = OnnxModel(tiny_model_folder)
    recognizer = StreamRecognizer(model)
    captured = time.perf_counter() - 0.5  # captured half a second before the recognizer got it
    frames = [dataclasses.replace(frame, captured_at=captured) for frame in moving_frames(40)]
    (prediction,) = recognizer.feed(frames)
    assert prediction.timings.age_ms >= 500 and prediction.captured_at == captured
