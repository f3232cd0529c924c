from __future__ import annotations

import shutil

import numpy as np
import pytest

from sta_hands.app.runtime import ModelError, OnnxModel, choose_providers
from sta_hands.contract.errors import UserError

ALL = ["TensorrtExecutionProvider", "CUDAExecutionProvider", "CPUExecutionProvider"]


def test_providers_in_order_of_preference_and_forced_one() -> None:
    assert choose_providers(["CPUExecutionProvider", "CUDAExecutionProvider"]) == [
        "CUDAExecutionProvider",
        "CPUExecutionProvider",
    ]
    assert choose_providers(ALL, "cpu") == ["CPUExecutionProvider"]
    with pytest.raises(UserError, match=r"\[gpu\]"):
        choose_providers(["CPUExecutionProvider"], "cuda")


def test_model_reads_its_metadata_and_runs_on_the_cpu(tiny_model_folder) -> None:
    model = OnnxModel(tiny_model_folder)
    assert model.provider == "CPUExecutionProvider"  # read back from the session
    assert model.info.class_names == tuple(f"class {i}" for i in range(5))
    assert (model.info.window_length, model.info.window_seconds) == (20, 1.0)
    assert (model.info.backbone, model.info.glimpse_input_size) == ("efficientnet_lite0", 32)
    features = model.glimpse_features(np.zeros((3, 3, 32, 32), np.float32))
    assert features.shape == (3, model.info.feature_dim)
    out = model.run_head(
        np.zeros((2, 20, 4, model.info.feature_dim), np.float32),
        np.ones((2, 20, 4), np.float32),
        np.zeros((2, 20, 150), np.float32),
    )
    assert out["logits"].shape == (2, 5) and out["spatial_attention"].shape == (2, 20, 4)
    assert np.allclose(out["spatial_attention"].sum(-1), 1.0, atol=1e-5)


def test_missing_truncated_and_foreign_files_name_the_file(tiny_model_folder, tmp_path) -> None:
    with pytest.raises(ModelError, match="model folder not found"):
        OnnxModel(tmp_path / "nowhere")
    broken = tmp_path / "broken"
    shutil.copytree(tiny_model_folder, broken)
    data = (broken / "head.onnx").read_bytes()
    (broken / "head.onnx").write_bytes(data[: len(data) // 3])
    with pytest.raises(ModelError, match=r"head\.onnx: not a readable ONNX model"):
        OnnxModel(broken)
    (broken / "head.onnx").write_bytes(b"not onnx at all")
    with pytest.raises(ModelError, match=r"head\.onnx"):
        OnnxModel(broken)
    (broken / "head.onnx").unlink()
    with pytest.raises(ModelError, match=r"head\.onnx: model file not found"):
        OnnxModel(broken)


def test_a_model_without_our_metadata_is_refused(tiny_model_folder, tmp_path) -> None:
    onnx = pytest.importorskip("onnx")
    foreign = tmp_path / "foreign"
    shutil.copytree(tiny_model_folder, foreign)
    proto = onnx.load(str(foreign / "head.onnx"))
    del proto.metadata_props[:]
    onnx.save(proto, str(foreign / "head.onnx"))
    with pytest.raises(ModelError, match="no sta-hands metadata"):
        OnnxModel(foreign)


def test_wrong_input_shapes_are_a_clear_error(tiny_model_folder) -> None:
    model = OnnxModel(tiny_model_folder)
    with pytest.raises(ModelError, match="crops of shape"):
        model.glimpse_features(np.zeros((1, 3, 64, 64), np.float32))
    with pytest.raises(ModelError, match="input pose of shape"):
        model.run_head(
            np.zeros((1, 20, 4, model.info.feature_dim), np.float32),
            np.ones((1, 20, 4), np.float32),
            np.zeros((1, 20, 75), np.float32),
        )


def test_the_metadata_contract_round_trips_and_refuses_another_crop_size(tmp_path) -> None:
    from pathlib import Path

    from sta_hands.contract.onnx_contract import ModelInfo

    info = ModelInfo(("a", "b"), 20, 2.5, 224, "efficientnet_lite0", (0.5, 0.5, 0.5), (0.2, 0.2, 0.2), 1280,
                     "1", "synthetic")  # fmt: skip
    metadata = info.to_metadata()
    assert all(isinstance(value, str) for value in metadata.values())
    assert ModelInfo.from_metadata(metadata, Path("head.onnx")) == info
    with pytest.raises(ModelError, match="made for 64 px hand crops"):
        ModelInfo.from_metadata({**metadata, "crop_size": "64"}, Path("head.onnx"))
