"""Teaching on the frozen bundled Shift-GCN (issue 21 part 7): the taught head written into the GCN's graph
(`export.teach_gcn.write_pose_model`), `sta-hands teach` on real NTU-120 skeletons making a plugin model
by default (and a two-stream one with --pose-stream deep-gru), and NTU-120 clips accepted as examples."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

pytest.importorskip("torch", reason="teach trains with PyTorch (the train extra)")

from app.cli import main
from app.model_choice import open_model
from app.pose_model import PoseModel
from app.recognizer import StreamRecognizer
from app.replay import replay
from export.teach_examples import find_examples
from export.teach_gcn import LinearHead, bundled_gcn, write_pose_model
from recordings.onnx_contract import HEAD_FILE
from recordings.pose_model_contract import PLUGIN_KIND, POSE_MODEL_FILE, TWO_STREAM_KIND, folder_kind
from recordings.sources import open_reader

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
