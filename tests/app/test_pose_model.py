"""A pose-only model through the app's one model interface: windows of joints -> `Prediction`, its class
relevance, its prediction rate, on a tiny stand-in exported here (`tests.tiny_pose_model`)."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from sta_hands.app.model_choice import open_model
from sta_hands.app.pose_model import PoseModel
from sta_hands.app.recognizer import StreamRecognizer
from sta_hands.app.relevance import LEFT_HAND, RIGHT_HAND, relevance_sentence, window_relevance
from sta_hands.contract.body_slots import bodies_by_slot
from sta_hands.contract.frame import Frame
from sta_hands.contract.onnx_contract import ModelError
from sta_hands.contract.pose_model_contract import POSE_MODEL_KIND
from tests.app.conftest import gui_frame
from tests.tiny_pose_model import export_tiny_pose_model, tiny_pose_info


@pytest.fixture(scope="module")
def tiny_pose_folder(tmp_path_factory) -> Path:
    return export_tiny_pose_model(tmp_path_factory.mktemp("tiny-pose"))


def _joints_by_hand(frames: list[Frame], body_ids) -> np.ndarray:
    """1 x 3 x T x 25 x 2 written out joint by joint from the bodies, slot k = `body_ids[k]`."""
    joints = np.zeros((1, 3, len(frames), 25, 2), np.float32)
    for t, slots in enumerate(bodies_by_slot([f.bodies for f in frames], body_ids)):
        for m, body in enumerate(slots):
            if body is not None:
                for v in range(25):
                    joints[0, :, t, v, m] = body.joints[v]
    return joints


def test_a_stream_of_windows_is_the_model_on_each_window_s_joints(tiny_pose_folder) -> None:
    model = PoseModel(tiny_pose_folder)
    frames = [gui_frame(i, 90, size=(320, 180)) for i in range(90)]
    recognizer = StreamRecognizer(model, lossless=True)
    predictions = [p for frame in frames for p in recognizer.feed([frame])]
    assert len(predictions) >= 8
    swapped = 0
    for prediction in predictions:
        window = [frames[i] for i in prediction.frame_indices]
        assert len(window) == model.info.window_length
        direct = model.run(_joints_by_hand(window, prediction.body_ids))
        assert np.abs(direct["logits"][0] - prediction.logits).max() <= 1e-5
        predicted = int(np.argmax(direct["logits"][0]))  # the relevance is the predicted class's
        expected = window_relevance(direct["class_activation"][0, predicted], np.ones((len(window), 2), bool))
        np.testing.assert_allclose(prediction.joint_relevance, expected.joint_relevance, atol=1e-6)
        other = model.run(_joints_by_hand(window, prediction.body_ids[::-1]))["logits"][0]
        swapped += np.abs(other - prediction.logits).max() > 1e-3  # the slots' order reaches the model
        assert prediction.streams == prediction.model_streams == ("pose",)
        assert prediction.explanation == "relevance"
        assert prediction.crops is not None  # video: the hand crops are still cut, to be shown
    assert swapped == len(predictions)


def test_it_predicts_at_a_fixed_rate_of_the_source_s_time(tiny_pose_folder) -> None:
    model = PoseModel(tiny_pose_folder)  # 32 frames over 1 s: a grid step of 1/32 s, stride 6
    assert model.prediction_stride == 6
    frames = [gui_frame(i, 150, size=(160, 90)) for i in range(150)]  # 5 s at 30 fps
    recognizer = StreamRecognizer(model, lossless=True)
    ends = [p.timestamps[-1] for frame in frames for p in recognizer.feed([frame])]
    gaps = np.diff(ends)
    assert 18 <= len(ends) <= 22  # 4 s after the first full window, 5 a second
    assert 0.18 < gaps.mean() < 0.21 and np.all(
        np.abs(gaps - 6 / 32) < 2 / 30
    )  # 6 grid steps, frames at 30 fps


def test_a_skeleton_without_video_is_classified_from_the_joints_alone(tiny_pose_folder) -> None:
    model = PoseModel(tiny_pose_folder)
    frames = [gui_frame(i, 40, size=(160, 90)) for i in range(40)]
    skeleton_only = [Frame(f.index, f.timestamp, None, f.bodies) for f in frames]
    recognizer = StreamRecognizer(model, lossless=True)
    with_video = [p for frame in frames for p in recognizer.feed([frame])]
    recognizer = StreamRecognizer(model, lossless=True)
    without = [p for frame in skeleton_only for p in recognizer.feed([frame])]
    assert len(without) == len(with_video) >= 1
    for a, b in zip(with_video, without, strict=True):
        assert b.crops is None and b.remark == ""
        np.testing.assert_allclose(a.logits, b.logits, atol=1e-6)


def test_a_window_with_no_one_is_not_classified(tiny_pose_folder) -> None:
    model = PoseModel(tiny_pose_folder)
    frames = [Frame(i, i / 30, None, ()) for i in range(40)]
    recognizer = StreamRecognizer(model, lossless=True)
    predictions = [p for frame in frames for p in recognizer.feed([frame])]
    assert predictions and all(p.status == "no person" and p.top() == [] for p in predictions)


def test_relevance_is_the_predicted_class_s_positive_activation_spread_on_the_frames() -> None:
    steps, frames = 4, 16
    activation = np.full((steps, 25, 2), -1.0, np.float32)  # negative everywhere: no relevance
    activation[2, RIGHT_HAND[1], 0] = 3.0  # person 1's right hand, at the third step
    activation[2, 9, 0] = 2.0  # and her right elbow
    activation[1, LEFT_HAND[0], 1] = 2.0  # person 2's left wrist, but person 2 is not there
    present = np.zeros((frames, 2), bool)
    present[:, 0] = True
    relevance = window_relevance(activation, present)
    assert relevance.joint_relevance.sum() == pytest.approx(1.0)
    assert relevance.joint_relevance[:, 1].sum() == 0.0  # an absent person holds none
    np.testing.assert_allclose(relevance.over_time[8:12], 0.25)  # frames 8-11 are the third step
    assert relevance.over_time[:8].sum() == 0.0 and relevance.over_time[12:].sum() == 0.0
    np.testing.assert_allclose(relevance.hands[8:12, 1], 0.6)  # right hand of person 1: 3 of 5
    assert relevance.hands[:, [0, 2, 3]].sum() == 0.0
    timestamps = np.arange(frames) / 10.0
    sentence = relevance_sentence(relevance.joint_relevance, relevance.over_time, timestamps)
    assert sentence == "mostly the right hand and arm of person 1, around 0.8 s"


def test_the_sentence_names_one_part_when_it_holds_most() -> None:
    joints = np.zeros((10, 2, 25), np.float32)
    joints[6, 1, 3] = 0.9  # head of person 2
    joints[2, 1, 11] = 0.1
    over_time = joints.sum(axis=(1, 2))
    sentence = relevance_sentence(joints, over_time, np.arange(10) * 0.5)
    assert sentence == "mostly the head of person 2, around 3.0 s"


def test_open_model_opens_a_folder_as_the_kind_its_files_say(tiny_pose_folder, tmp_path) -> None:
    model = open_model(tiny_pose_folder)
    assert model.kind == POSE_MODEL_KIND and isinstance(model, PoseModel)
    assert model.describe() == "tiny pose test model (6 actions, pose only, relevance)"
    with pytest.raises(ModelError, match="neither pose_model"):
        open_model(tmp_path)


def test_a_pose_file_whose_metadata_disagrees_with_its_contract_is_refused(tmp_path) -> None:
    from sta_hands.export.onnx_metadata import write_metadata

    folder = export_tiny_pose_model(tmp_path / "bad")
    write_metadata(folder / "pose_model.onnx", {**tiny_pose_info().to_metadata(), "window_length": "0"})
    with pytest.raises(ModelError, match="window_length"):
        PoseModel(folder)


def test_a_pose_file_naming_fewer_classes_than_its_logits_is_refused(tmp_path) -> None:
    from sta_hands.export.onnx_metadata import write_metadata

    folder = export_tiny_pose_model(tmp_path / "bad")
    names = list(tiny_pose_info().class_names)[:-1]
    metadata = {**tiny_pose_info().to_metadata(), "class_names": json.dumps(names)}
    write_metadata(folder / "pose_model.onnx", metadata)
    expected = f"metadata entry 'class_names' says {len(names)}, the graph's logits"
    with pytest.raises(ModelError, match=expected):
        PoseModel(folder)


def test_a_partial_window_reads_the_source_repeated_and_shows_its_relevance_on_the_frames_it_read(
    tiny_pose_folder,
) -> None:
    model = PoseModel(tiny_pose_folder)  # a 1 s window; the source lasts 0.5 s
    frames = [gui_frame(i, 15, size=(160, 90)) for i in range(15)]
    recognizer = StreamRecognizer(model, lossless=True)
    assert [p for frame in frames for p in recognizer.feed([frame])] == []
    (prediction,) = recognizer.flush()
    assert prediction.status == "partial"
    indices = list(prediction.frame_indices)
    first = max(i for i, index in enumerate(indices) if index == indices[0])
    assert first > 0  # the grid points before the source's first frame hold it
    window = [frames[i] for i in indices]
    read = [window[first + k % (len(window) - first)] for k in range(len(window))]  # the source, repeated
    direct = model.run(_joints_by_hand(read, prediction.body_ids))
    assert np.abs(direct["logits"][0] - prediction.logits).max() <= 1e-5
    holding = model.run(_joints_by_hand(window, prediction.body_ids))["logits"][0]
    assert np.abs(holding - prediction.logits).max() > 1e-3  # not the window that holds its first frame
    assert prediction.temporal_attention[:first].sum() == 0.0  # no relevance on a held copy
    assert prediction.temporal_attention.sum() == pytest.approx(1.0, abs=1e-5)
    assert prediction.joint_relevance.shape == (len(window), 2, 25)
