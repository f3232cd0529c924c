"""The glimpse engine is picked from what the CPU offers; OpenVINO, where installed, gives ONNX Runtime's
features, and a graph it cannot convert falls back to ONNX Runtime saying why."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from sta_hands.app.glimpse_engine import choose_engine, cpu_flags
from sta_hands.app.runtime import OnnxModel, default_model_folder
from sta_hands.contract.errors import UserError

AMX = {"avx2", "avx512f", "amx_bf16", "amx_int8"}
AVX2 = {"avx2", "fma"}


def _pick(*args, **kwargs) -> tuple[str, str]:
    choice = choose_engine(*args, **kwargs)
    return choice.engine, choice.precision


def test_auto_picks_openvino_bf16_only_where_the_cpu_has_bf16_units_and_openvino_is_there() -> None:
    assert _pick(None, AMX, openvino_available=True) == ("openvino", "bf16")
    assert choose_engine("auto", AMX, openvino_available=False).engine == "onnxruntime"
    assert "not installed" in choose_engine("auto", AMX, openvino_available=False).reason
    assert choose_engine(None, AVX2, openvino_available=True).engine == "onnxruntime"
    assert "no bf16" in choose_engine(None, AVX2, openvino_available=True).reason
    assert _pick("openvino", AVX2, openvino_available=True) == ("openvino", "f32")
    assert choose_engine("onnxruntime", AMX, openvino_available=True).engine == "onnxruntime"
    with pytest.raises(UserError, match=r"\[openvino\]"):
        choose_engine("openvino", AMX, openvino_available=False)
    with pytest.raises(UserError, match="unknown glimpse engine"):
        choose_engine("tensorflow", AMX, openvino_available=True)


def test_cpu_flags_read_from_cpuinfo() -> None:
    assert cpu_flags("processor\t: 0\nflags\t\t: fpu avx2 amx_bf16\n") == {"fpu", "avx2", "amx_bf16"}
    assert cpu_flags("processor\t: 0\n") == frozenset()


def test_openvino_gives_onnxruntimes_features(tiny_model_folder: Path) -> None:
    pytest.importorskip("openvino", reason="the [openvino] extra is not installed")
    ours = OnnxModel(tiny_model_folder, engine="onnxruntime", threads=1)
    theirs = OnnxModel(tiny_model_folder, engine="openvino", threads=1)
    assert theirs.glimpse_engine.engine == "openvino"
    crops = np.random.default_rng(0).uniform(-1, 1, (3, 3, 32, 32)).astype(np.float32)
    expected, got = ours.glimpse_features(crops), theirs.glimpse_features(crops)
    scale = max(1.0, float(np.abs(expected).max()))  # random-weight CNNs give large features
    assert got.shape == expected.shape and np.abs(got - expected).max() / scale < 1e-3


def test_an_int8_graph_openvino_cannot_read_falls_back_saying_why() -> None:
    pytest.importorskip("openvino", reason="the [openvino] extra is not installed")
    model = OnnxModel(default_model_folder(), engine="openvino", threads=1)
    if model.glimpse_engine.engine == "openvino":
        pytest.skip("this OpenVINO reads the demo's int8 graph")
    assert model.glimpse_engine.reason.startswith("OpenVINO failed: ")
    size = model.info.glimpse_input_size
    assert model.glimpse_features(np.zeros((2, 3, size, size), np.float32)).shape == (
        2,
        model.info.feature_dim,
    )
