"""The head's figures in `bench --json` measure what they say: the weight bytes of a graph, the head's
time set against those bytes at the measured bandwidth, and the startup figure from the real `sta-hands
demo`. Speed itself is never asserted."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import onnx
import pytest
from onnx import TensorProto, helper, numpy_helper

from sta_hands.app.runtime import OnnxModel, default_model_folder

bench_head = pytest.importorskip(
    "sta_hands.export.bench.head", reason="the benchmark compares against PyTorch"
)


def test_weight_bytes_count_initializers_and_constants(tmp_path: Path) -> None:
    weight = numpy_helper.from_array(np.ones((64, 32), np.float32), "w")
    constant = helper.make_node("Constant", [], ["c"], value=numpy_helper.from_array(np.ones(32, np.float32)))
    graph = helper.make_graph(
        [
            constant,
            helper.make_node("MatMul", ["x", "w"], ["y0"]),
            helper.make_node("Add", ["y0", "c"], ["y"]),
        ],
        "g",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 64])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, [1, 32])],
        [weight],
    )
    path = tmp_path / "g.onnx"
    onnx.save(helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)]), str(path))
    assert bench_head.weight_bytes(path) == 64 * 32 * 4 + 32 * 4


def _fixed_timer(seconds: float):
    """A timer that runs the call once (it must work) and says it took `seconds`."""

    def timer(call, min_seconds: float) -> float:
        call()
        return seconds

    return timer


def test_head_figures_set_the_head_against_its_weights_memory_time(tmp_path: Path) -> None:
    torch = pytest.importorskip("torch")
    from sta_hands.export.onnx import ExportMetadata, export_model
    from sta_hands.models.config import ModelConfig, PoseStreamConfig, RgbStreamConfig
    from sta_hands.models.glimpse import build_backbone
    from sta_hands.models.two_stream import TwoStreamModel

    torch.manual_seed(0)
    backbone = build_backbone("efficientnet_lite0", input_size=32, pretrained=False)
    config = ModelConfig(
        num_classes=3, feature_dim=backbone.spec.feature_dim, backbone=backbone.spec.name,
        rgb=RgbStreamConfig(hidden_size=16, spatial_hidden=8, temporal_hidden=4),
        pose=PoseStreamConfig(hidden_size=8),
    )  # fmt: skip
    head = TwoStreamModel(config).eval()
    export_model(head, backbone, ExportMetadata(("a", "b", "c"), 1.0, "tests", "test"), tmp_path / "m")
    model = OnnxModel(tmp_path / "m", threads=1)
    unsplit = bench_head.unsplit_head_file(head, tmp_path)
    entry = bench_head.bench_head(
        model, head, _fixed_timer(0.002), 0.0, memory_gbs=10.0, unsplit_head=unsplit
    )
    weights = bench_head.weight_bytes(tmp_path / "m" / "head.onnx")
    assert entry["split"] and entry["weights_mb"] == pytest.approx(weights / 1e6)
    assert entry["memory_ms"] == pytest.approx(weights / 10e9 * 1e3)
    assert entry["onnxruntime"] == pytest.approx(2.0) and entry["vs_memory"] == pytest.approx(
        2.0 / entry["memory_ms"]
    )
    assert entry["onnxruntime_unsplit"] == pytest.approx(2.0) and entry["split_speedup"] == pytest.approx(1.0)
    # the split head holds no W_ih: fewer weight bytes than the unsplit one
    assert weights < bench_head.weight_bytes(unsplit)
    report = {"backbones": {"tiny@32": {"head_ms": entry, "head_ms_int8": entry}}, "memory_read_gbs": 10.0}
    text = bench_head.format_head(report)
    assert "| tiny@32 int8 | 2.00 |" in text and "10.0 GB/s" in text


def test_startup_is_measured_from_the_real_demo_command() -> None:
    from sta_hands.export.bench.gui_timing import measure_startup

    default_model_folder()  # skips nothing: the demo model ships with the repository
    startup = measure_startup()
    assert startup["torch_imported"] is False  # the app's own start, not the benchmark's
    assert startup["window_seconds"] > 0
    assert 0 < startup["model_loaded_s"] < startup["startup_s"]  # no prediction without the model
    # startup_s counts a full window: the clip, played in real time, has run one window's span by then;
    # the first guess on screen (a partial window) comes no later.
    assert startup["startup_status"] == "ok" and startup["startup_s"] >= startup["window_seconds"]
    assert 0 < startup["first_guess_s"] <= startup["startup_s"]
