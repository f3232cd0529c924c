"""A plugin model end to end (issue 21 part 6): a tiny STA-Hands RGB stream on NTU class names, its Deep GRU
zeroed (`models.plugin_checkpoint`), exported and plugged with the bundled Shift-GCN (`export.plugin`),
opened by the app as its own kind; its logits are the RGB stream's plus the GCN's, each computed here
apart."""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pytest

from sta_hands.app.model_choice import bundled_folder, open_model
from sta_hands.app.plugin_model import PluginModel, outer_window
from sta_hands.app.pose_model import PoseModel, joints_input
from sta_hands.app.prediction import softmax
from sta_hands.app.recognizer import StreamRecognizer
from sta_hands.app.runtime import OnnxModel
from sta_hands.app.two_stream_window import classify_window
from sta_hands.contract.errors import UserError
from sta_hands.contract.inputs import time_window_indices, window_inputs
from sta_hands.contract.onnx_contract import ModelError
from sta_hands.contract.pose_model_contract import PLUGIN_KIND, TWO_STREAM_KIND, folder_kind
from sta_hands.recordings.ntu.names import NTU60_CLASSES, NTU120_CLASSES
from tests.app.conftest import gui_frame

NTU60 = bundled_folder("shiftgcn-ntu60-xsub")
NTU120 = bundled_folder("shiftgcn-ntu120-xsub")
pytestmark = pytest.mark.skipif(
    not (NTU60 / "pose_model.onnx").is_file(), reason="the bundled Shift-GCN folders are missing"
)
CLASSES = ("drink water", "hand waving", "clapping", "pointing to something with finger")


def export_rgb_stream(folder: Path, classes: tuple[str, ...]) -> Path:
    """A random STA-Hands stream on `classes`, through `plugin_checkpoint` and `export_model` (its Deep GRU
    zeroed), into `folder`."""
    import torch

    from sta_hands.export.onnx import ExportMetadata, export_model
    from sta_hands.models import checkpoint
    from sta_hands.models.config import ModelConfig, PoseStreamConfig, RgbStreamConfig
    from sta_hands.models.glimpse import build_backbone
    from sta_hands.models.plugin_checkpoint import POSE_STREAM_KEY, plugin_checkpoint
    from sta_hands.models.rgb_stream import STAHands

    torch.manual_seed(0)
    backbone = build_backbone("efficientnet_lite0", input_size=32, pretrained=False)
    config = ModelConfig(
        num_classes=len(classes),
        feature_dim=backbone.spec.feature_dim,
        backbone=backbone.spec.name,
        rgb=RgbStreamConfig(hidden_size=24, spatial_hidden=16, temporal_hidden=8),
        pose=PoseStreamConfig(hidden_size=16),
    )
    rgb = STAHands(config)
    with torch.no_grad():
        for parameter in rgb.parameters():
            parameter.normal_(0.0, 0.2)
    metadata = {"class_names": list(classes), "window_seconds": 1.8}
    rgb_file = checkpoint.save(rgb.eval(), config, folder / "rgb.safetensors", metadata)
    combined = plugin_checkpoint(rgb_file, folder / "two_stream.safetensors", "shift-gcn")
    model, _config, stored = checkpoint.load(combined)
    assert stored[POSE_STREAM_KEY] == "shift-gcn"
    assert all(not p.any() for p in model.pose_stream.parameters())
    out = folder / "model"
    export_model(model, backbone, ExportMetadata(classes, 1.8, "random weights (tests)", "test"), out)
    return out


@pytest.fixture(scope="module")
def plugin_folder(tmp_path_factory) -> Path:
    from sta_hands.export.plugin import plug_pose_stream, pose_stream_folder

    root = tmp_path_factory.mktemp("plugin")
    folder = export_rgb_stream(root, CLASSES)
    shutil.copytree(folder, root / "rgb-only")  # the same head, without a pose model
    assert pose_stream_folder("shift-gcn", CLASSES) == NTU60  # NTU-60 actions: the NTU-60 model
    return plug_pose_stream(folder, NTU60)


def test_the_folder_opens_as_a_plugin_with_the_gcn_s_window(plugin_folder) -> None:
    assert folder_kind(plugin_folder) == PLUGIN_KIND
    assert folder_kind(plugin_folder.parent / "rgb-only") == TWO_STREAM_KIND
    assert {"LICENSE", "NOTICE"} <= {p.name for p in plugin_folder.iterdir()}  # CC BY-NC travels along
    model = open_model(plugin_folder)
    assert isinstance(model, PluginModel) and model.kind == PLUGIN_KIND
    assert model.info.class_names == CLASSES
    assert (model.info.window_length, model.info.window_seconds) == (60, 2.0)  # the GCN's: 30 steps a second
    assert model.prediction_stride == 6  # 5 predictions a second
    assert "shift-gcn" in model.describe() and "hand crops" in model.describe()


def test_fused_logits_are_the_rgb_stream_s_plus_the_gcn_s_on_its_classes(plugin_folder) -> None:
    model = open_model(plugin_folder)
    rgb_only = OnnxModel(plugin_folder.parent / "rgb-only")  # Deep GRU zeroed: logits are the RGB stream's
    gcn = PoseModel(NTU60)
    columns = [NTU60_CLASSES.index(name) for name in CLASSES]
    frames = [gui_frame(i, 120, size=(320, 180)) for i in range(120)]
    recognizer = StreamRecognizer(model, lossless=True)
    due = [(i, p) for i, frame in enumerate(frames) for p in recognizer.feed([frame])]  # (newest frame, p)
    assert len(due) >= 9
    for newest, prediction in due:
        history = frames[: newest + 1]
        outer = [history[i] for i in time_window_indices([f.timestamp for f in history], 2.0, 60)]
        head_window = [outer[i] for i in time_window_indices([f.timestamp for f in outer], 1.8, 20)]
        assert [f.index for f in head_window] == prediction.frame_indices.tolist()
        body_ids = prediction.body_ids
        gcn_window = [outer[i] for i in time_window_indices([f.timestamp for f in outer], 2.0, 60)]
        gcn_logits = gcn.run(joints_input(window_inputs(gcn_window, body_ids).pose))["logits"][0, columns]
        rgb_logits = classify_window(rgb_only, head_window, body_ids=body_ids).logits
        assert np.abs(prediction.logits - (rgb_logits + gcn_logits)).max() <= 1e-4
        assert np.abs(prediction.pose_probabilities - softmax(gcn_logits)).max() <= 1e-5
        assert np.abs(prediction.rgb_probabilities - softmax(rgb_logits)).max() <= 1e-5
        assert prediction.streams == prediction.model_streams == ("pose", "rgb")
        assert prediction.explanation == "attention" and prediction.crops is not None


def test_a_skeleton_without_video_runs_the_gcn_alone(plugin_folder, ntu_samples) -> None:
    from sta_hands.app.replay import replay
    from sta_hands.recordings.sources import open_reader

    recognizer = StreamRecognizer(open_model(plugin_folder))
    clapping = ntu_samples.parent / "ntu-more" / "S001C001P001R001A010.skeleton"  # no video beside it
    if not clapping.is_file():
        pytest.skip(f"{clapping} is missing")
    with open_reader(clapping) as reader:
        predictions = [p for _frame, found in replay(reader, recognizer) for p in found]
    assert predictions
    for prediction in predictions:
        assert prediction.streams == ("pose",)  # no hand image: the pose stream alone
        assert prediction.remark == "pose only (no video)"
        assert np.abs(prediction.probabilities - prediction.pose_probabilities).max() <= 1e-6
    names = [prediction.top(1)[0][0] for prediction in predictions]
    assert names.count("clapping") > len(names) / 2  # the GCN's opinion, on the head's classes


def test_classes_the_pose_model_does_not_know_are_refused(tmp_path) -> None:
    from sta_hands.export.plugin import plug_pose_stream, pose_stream_folder

    assert pose_stream_folder("shift-gcn", (*CLASSES, NTU120_CLASSES[100])) == NTU120  # beyond NTU-60
    assert pose_stream_folder("deep-gru", CLASSES) is None
    with pytest.raises(UserError, match="no bundled Shift-GCN knows every class"):
        pose_stream_folder("shift-gcn", ("drink water", "juggling"))
    folder = export_rgb_stream(tmp_path, ("drink water", "juggling"))
    with pytest.raises(ModelError, match="knows no class 'juggling'"):
        plug_pose_stream(folder, NTU60)
    assert folder_kind(folder) == TWO_STREAM_KIND  # nothing copied


def test_the_outer_window_spans_both_streams_on_the_finer_grid() -> None:
    assert outer_window([(20, 1.8), (60, 2.0)]) == (60, 2.0)
    length, seconds = outer_window([(20, 3.8), (60, 2.0)])  # 3.8 s, at least 29.5 steps a second
    assert (length, seconds) == (114, 3.8) and 3.8 / (length - 1) <= 2.0 / 59 < 3.8 / (length - 2)


def test_evaluate_scores_both_streams_and_the_rgb_stream_s_attention_on_its_window(plugin_folder, tmp_path):
    """`evaluate --model` on a plugin folder: each stream scored, the fused logits their sum, and the
    attention score and faithfulness drops of the RGB stream over its own window (a synthetic clip)."""
    from sta_hands.export.evaluate_onnx import evaluate_clip
    from sta_hands.models.data import ClipRef
    from sta_hands.recordings.synthetic import ClipSpec, generate_dataset

    spec = ClipSpec(index=0, seed=1, class_index=0, performer=1, frames=90)
    generate_dataset(tmp_path, [spec], workers=1, progress=False)
    stem = next(tmp_path.glob("*.jsonl")).with_suffix("")
    clip = ClipRef(name=stem.name, stem=stem, kind="recording", label=0, sample=None, synthetic=True)
    outcome = evaluate_clip(open_model(plugin_folder), clip, views=2)
    assert set(outcome.logits) == {"fused", "pose", "rgb"}
    assert outcome.attention is not None and outcome.faithfulness is not None
