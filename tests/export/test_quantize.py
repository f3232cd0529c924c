"""The int8 glimpse: the form chosen for the CPU, and an exported int8 folder that runs through the app's
runtime and stays close to float32 on real NTU hand crops it was not calibrated on."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

torch = pytest.importorskip("torch", reason="the export needs the train extra")

from onnxruntime.quantization import QuantFormat, QuantType  # noqa: E402

from sta_hands.app.glimpse_engine import cpu_flags  # noqa: E402
from sta_hands.app.runtime import OnnxModel  # noqa: E402
from sta_hands.export.quantize import (  # noqa: E402
    Int8Form,
    calibration_crops,
    default_int8_form,
    quantize_int8,
)
from tests.conftest import export_random_model  # noqa: E402

NTU_CLIP = "S001C001P001R001A001.skeleton"  # with its _rgb.avi: real hand crops


@pytest.fixture(scope="module")
def float32_folder(tmp_path_factory: pytest.TempPathFactory):
    """A small float32 export: EfficientNet-Lite0 at 64 px with its own initialisation, a tiny head.
    Its batch norms stay as initialised: set to unit scale on image-like crops, a random network of 16
    blocks amplifies int8's rounding to 38% (median) of its features, which says nothing of the form."""
    folder = tmp_path_factory.mktemp("float32")
    spec = export_random_model(
        folder, input_size=64, classes=3, rgb=(16, 8, 8), pose_hidden=8, spread=None, image_glimpse=False
    )
    return folder, spec


def relative_change(reference: np.ndarray, other: np.ndarray) -> np.ndarray:
    return np.linalg.norm(other - reference, axis=1) / np.linalg.norm(reference, axis=1)


def test_int8_folder_runs_and_stays_close_to_float32_on_real_hand_crops(
    float32_folder, ntu_samples: Path, tmp_path: Path
) -> None:
    folder, spec = float32_folder
    crops = calibration_crops(ntu_samples / NTU_CLIP, spec, count=48)
    assert len(crops) >= 24
    calibration, held_out = crops[::2], crops[1::2]  # judged on crops the calibration never saw
    int8 = OnnxModel(quantize_int8(folder, tmp_path / "int8", calibration), threads=1)
    assert int8.info.model_version == "test+int8"
    change = relative_change(
        OnnxModel(folder, threads=1).glimpse_features(held_out), int8.glimpse_features(held_out)
    )
    # The form for this CPU: 8-bit u8 x s8 weights without VNNI moved these features by 24% (median)
    # and 33% (max) through AVX2's saturating vpmaddubsw; the chosen form by under 5% and 6%.
    assert np.median(change) < 0.12 and change.max() < 0.25, change


def test_without_vnni_the_weights_are_7_bit_and_with_it_8_bit() -> None:
    """AVX2's u8 x s8 multiply-add saturates pairs of 8-bit products at int16; VNNI adds in int32."""
    without = default_int8_form(cpu_flags("flags\t: fpu sse4_2 avx avx2 fma"))
    assert without.reduce_range and without.weight_type == QuantType.QInt8
    for flag in ("avx512_vnni", "avx_vnni", "amx_int8"):
        assert default_int8_form(frozenset({"avx2", flag})) == Int8Form()
    assert Int8Form().quant_format == QuantFormat.QOperator and Int8Form().name == "qop-u8s8-pc"
