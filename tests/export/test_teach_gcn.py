"""Teaching on the frozen bundled Shift-GCN (issue 21 part 7): the taught head written into the GCN's graph
(`teach.gcn.write_pose_model`), `sta-hands teach` on real NTU-120 skeletons making a plugin model
by default (and a two-stream one with --pose-stream deep-gru), and NTU-120 clips accepted as examples."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

pytest.importorskip("torch", reason="teach trains with PyTorch (the train extra)")

from sta_hands.app.model_choice import open_model
from sta_hands.app.pose_model import PoseModel
from sta_hands.app.recognizer import StreamRecognizer
from sta_hands.app.replay import replay
from sta_hands.commands.cli import main
from sta_hands.contract.onnx_contract import HEAD_FILE
from sta_hands.contract.pose_model_contract import PLUGIN_KIND, POSE_MODEL_FILE, TWO_STREAM_KIND, folder_kind
from sta_hands.recordings.sources import open_reader
from sta_hands.teach.example_set import find_examples
from sta_hands.teach.gcn import LinearHead, bundled_gcn, write_pose_model

GCN = bundled_gcn()
pytestmark = pytest.mark.skipif(GCN is None, reason="the bundled Shift-GCN is missing")
CLIPS = ("S018C001P008R002A061", "S018C001P045R001A061", "S018C001P008R002A062", "S018C001P045R001A062")


def test_the_taught_head_is_the_gcn_s_classifier_and_its_relevance(tmp_path: Path) -> None:
    rng = np.random.default_rng(0)
    head = LinearHead(
        rng.normal(0, 0.1, (3, 256)).astype(np.float32), rng.normal(0, 0.1, 3).astype(np.float32)
    )
    write_pose_model(GCN, head, ("a", "b", "c"), "three tests", tmp_path)
    assert {"LICENSE", "NOTICE"} <= {p.name for p in tmp_path.iterdir()}
    taught, bundled = PoseModel(tmp_path), PoseModel(GCN)
    assert taught.info.class_names == ("a", "b", "c") and taught.info.trained_on == "three tests"
    assert taught.info.licence == bundled.info.licence  # the weights' licence is kept
    joints = rng.normal(0, 0.3, (2, 3, 60, 25, 2)).astype(np.float32)
    out, frozen = taught.run(joints), bundled.run(joints)
    assert np.array_equal(out["pooled_features"], frozen["pooled_features"])  # the GCN itself is untouched
    assert np.abs(out["logits"] - head.logits(out["pooled_features"])).max() <= 1e-4
    assert out["class_activation"].shape[1] == 3
    assert np.abs(out["class_activation"].mean(axis=(2, 3, 4)) + head.bias - out["logits"]).max() <= 1e-4


@pytest.fixture(scope="module")
def ntu120_examples(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from tests.conftest import NTU_SAMPLES

    more = NTU_SAMPLES.parent / "ntu-more"
    if not all((more / f"{name}.skeleton").is_file() for name in CLIPS):
        pytest.skip(f"the NTU-120 skeletons of {more} are missing")
    folder = tmp_path_factory.mktemp("examples")
    for name in CLIPS:
        (folder / f"{name}.skeleton").symlink_to(more / f"{name}.skeleton")
    return folder


def test_ntu_120_clips_are_examples_named_as_info_names_them(ntu120_examples: Path) -> None:
    found = find_examples(ntu120_examples)  # was: "action A061 is outside NTU RGB+D 60"
    assert found.class_names == ("put on headphone", "take off headphone")
    assert found.counts() == {"put on headphone": 2, "take off headphone": 2}


def _taught_logits(folder: Path, clip: Path) -> list:
    recognizer = StreamRecognizer(open_model(folder))
    with open_reader(clip) as reader:
        return [p for _frame, found in replay(reader, recognizer) for p in found]


def test_teach_makes_a_plugin_on_the_frozen_gcn_by_default(ntu120_examples: Path, tmp_path: Path) -> None:
    out = tmp_path / "model"
    args = ["teach", str(ntu120_examples), "--out", str(out), "--tiny", "--cache", str(tmp_path / "cache")]
    assert main([*args, "--json", str(tmp_path / "teach.json")]) == 0
    assert folder_kind(out) == PLUGIN_KIND
    assert {p.name for p in out.iterdir()} >= {HEAD_FILE, POSE_MODEL_FILE, "LICENSE", "NOTICE"}
    taught = PoseModel(out)
    assert taught.info.class_names == ("put on headphone", "take off headphone")
    model = open_model(out)
    assert model.kind == PLUGIN_KIND and model.info.class_names == taught.info.class_names
    record = json.loads(model.two_stream.head.get_modelmeta().custom_metadata_map["teach"])
    assert any("Shift-GCN" in note or "shift-gcn" in note for note in record["notes"])
    clip = ntu120_examples / f"{CLIPS[0]}.skeleton"
    predictions = _taught_logits(out, clip)
    assert predictions
    for prediction in predictions:  # no video: the GCN's taught head alone makes the prediction
        assert prediction.streams == ("pose",)
        assert np.abs(prediction.probabilities - prediction.pose_probabilities).max() <= 1e-6
    # --pose-stream deep-gru: today's two-stream model
    again = tmp_path / "deep-gru"
    args = ["teach", str(ntu120_examples), "--out", str(again), "--tiny", "--cache", str(tmp_path / "cache")]
    assert main([*args, "--pose-stream", "deep-gru"]) == 0
    assert folder_kind(again) == TWO_STREAM_KIND and not (again / POSE_MODEL_FILE).exists()


def _alike_pair(rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Windows of 3 actions x 4 examples x 5 windows: actions 0 and 1 drawn alike (one motion, as drink
    from cup and answer phone), action 2 apart."""
    features, labels, groups = [], [], []
    for action in range(3):
        for example in range(4):
            centre = 0.3 * rng.normal(0, 1, 256) + (3.0 * np.eye(256)[0] if action == 2 else 0.0)
            for _ in range(5):
                features.append(centre + rng.normal(0, 1, 256))
                labels.append(action)
                groups.append(10 * action + example)
    return np.array(features, np.float32), np.array(labels), np.array(groups)


def test_the_weight_decay_left_out_examples_choose_keeps_alike_actions_unsure() -> None:
    from sta_hands.teach.gcn import DEFAULT_WEIGHT_DECAY, WEIGHT_DECAYS, chosen_weight_decay, fit_head

    rng = np.random.default_rng(0)
    features, labels, groups = _alike_pair(rng)
    decay = chosen_weight_decay(features, labels, groups, 3)
    assert decay > min(WEIGHT_DECAYS)
    fresh = np.array([1.04 * rng.normal(0, 1, 256) for _ in range(50)], np.float32)  # like actions 0 and 1

    def sureness(weight_decay: float) -> float:
        logits = fit_head(features, labels, 3, weight_decay=weight_decay).logits(fresh)
        p = np.exp(logits - logits.max(axis=1, keepdims=True))
        return float((p / p.sum(axis=1, keepdims=True)).max(axis=1).mean())

    assert sureness(decay) < sureness(min(WEIGHT_DECAYS)) - 0.1
    assert (
        fit_head(features, labels, 3, weight_decay=decay).logits(features).argmax(axis=1)[labels == 2] == 2
    ).all()
    one_each = np.isin(groups, [0, 10, 20])  # one example per action: none can be left out
    assert (
        chosen_weight_decay(features[one_each], labels[one_each], groups[one_each], 3) == DEFAULT_WEIGHT_DECAY
    )
