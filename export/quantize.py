"""Smaller, faster variants of an exported model: int8 glimpses for CPUs, float16 for GPUs.

- `--int8`: ONNX Runtime static quantisation of glimpse.onnx, calibrated on real hand crops, after
  ONNX Runtime's pre-processing (shape inference, graph optimisation), in the QOperator format
  (QLinearConv) with u8 activations and per-channel s8 weights (`Int8Form`). On a CPU without VNNI
  (`default_int8_form`, from the exporting CPU's flags) the weights are 7-bit (`reduce_range`):
  AVX2's u8 x s8 multiply-add (`vpmaddubsw`) saturates a pair of 8-bit products at int16. Measured on
  an AVX2 EPYC, one run (`scripts/glimpse_int8_forms.py`; docs/speed.md "int8 forms on this CPU"):
  7-bit weights ran as fast as 8-bit ones (Inception v3@299: 24.0 vs 23.7 crops/s, float32 13.2),
  cut the feature change against float32 on real NTU crops (median 13% -> 6% for Inception v3, 21% ->
  2% for EfficientNet-Lite0@224) and, on a trained model, brought the RGB stream's accuracy from
  0.727 to 0.768 (float32 0.788). u8 x u8 weights (no saturation) were as close but slower than float32
  here; QDQ graphs become the same QLinearConv kernels once ONNX Runtime fuses them.
  A split model's two big matrices go to int8 too, dynamic (the activation's scale taken per call,
  no calibration): the RGB GRU's input projection
  (projection.onnx, per new crop) and its recurrent matrix W_hh in head.onnx, read 20 times per
  prediction; a quarter of the bytes, so the recurrence runs near the cache's speed instead of
  streaming 12 MB (1024 units) per step. Every other head weight stays float32: STA-Hands' attention
  reads the pose only, so its spatial and temporal attention stay exact; only the logits move.
  Weights per output column in 7 bits (`reduce_range`): without VNNI, the CPU's u8 x s8 multiply-add
  (AVX2 `vpmaddubsw`) saturates a pair of products at int16, and 8-bit weights moved a tiny test
  model's RGB logits by 37% of their largest value, 7-bit ones by 2%.
- `--fp16`: glimpse.onnx in float16 with float32 inputs and outputs, so the app feeds it as before;
  the head stays float32 (ONNX Runtime 1.32's CPU provider crashes loading its GRU in float16, and
  the head is a small share of the time).

Each variant keeps the source's metadata (the app reads nothing else) and is a folder of its own; its
accuracy change against float32 is measured by `sta-hands evaluate` on the same data.
"""

from __future__ import annotations

import logging
import shutil
from collections.abc import Iterator, Set
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np
import onnx
from onnxruntime.quantization import (
    CalibrationDataReader,
    CalibrationMethod,
    QuantFormat,
    QuantType,
    quantize_dynamic,
    quantize_static,
)
from onnxruntime.quantization.shape_inference import quant_pre_process
from onnxruntime.transformers.float16 import convert_float_to_float16

from sta_hands.app.glimpse_engine import cpu_flags
from sta_hands.contract.onnx_contract import GLIMPSE_FILE, HEAD_FILE, PROJECTION_FILE
from sta_hands.export.onnx_metadata import read_metadata, write_metadata


@dataclass(frozen=True)
class Int8Form:
    """How the glimpse CNN is quantised: graph format, activation and weight types, scale granularity.
    Each field is the `quantize_static` keyword argument of the same name, passed on as it is."""

    quant_format: QuantFormat = QuantFormat.QOperator
    activation_type: QuantType = QuantType.QUInt8
    weight_type: QuantType = QuantType.QInt8
    per_channel: bool = True
    reduce_range: bool = False  # 7-bit weights

    @property
    def name(self) -> str:
        weights = "u8" if self.weight_type == QuantType.QUInt8 else "s8"
        activations = "u8" if self.activation_type == QuantType.QUInt8 else "s8"
        fmt = "qdq" if self.quant_format == QuantFormat.QDQ else "qop"
        return f"{fmt}-{activations}{weights}-{'pc' if self.per_channel else 'pt'}" + (
            "-rr" if self.reduce_range else ""
        )


VNNI_FLAGS = ("avx512_vnni", "avx_vnni", "amx_int8")  # u8 x s8 dot products summed in int32


def default_int8_form(flags: Set[str]) -> Int8Form:
    """The glimpse's int8 form for a CPU with these /proc/cpuinfo `flags` (see the module docstring)."""
    if any(flag in flags for flag in VNNI_FLAGS):
        return Int8Form()
    return Int8Form(reduce_range=True)


class _CropReader(CalibrationDataReader):
    """Feeds calibration crops N x 3 x S x S to the quantiser in batches."""

    def __init__(self, crops: np.ndarray, batch: int = 16) -> None:
        self._batches: Iterator[np.ndarray] = iter(np.array_split(crops, max(1, len(crops) // batch)))

    def get_next(self) -> dict[str, np.ndarray] | None:
        batch = next(self._batches, None)
        return None if batch is None else {"crops": np.ascontiguousarray(batch, dtype=np.float32)}


def _copy_metadata(source: Path, target: Path, variant: str) -> None:
    """`source`'s metadata onto `target`, its model_version marked "+variant" (none: unchanged)."""
    props = read_metadata(source)
    if variant:
        props["model_version"] = f"{props.get('model_version', '?')}+{variant}"
    write_metadata(target, props)


def _copy_head(source: Path, out: Path, variant: str) -> None:
    """head.onnx, and a split model's projection.onnx, unchanged but for the variant's metadata."""
    for name in (PROJECTION_FILE, HEAD_FILE):
        if (source / name).is_file():
            shutil.copyfile(source / name, out / name)
            _copy_metadata(source / name, out / name, variant)
        else:
            (out / name).unlink(missing_ok=True)


def _gru_matrix_nodes(graph: onnx.GraphProto, gates: int) -> list[str]:
    """The MatMul nodes whose weight is a (rows x `gates`) initializer: the RGB GRU's input or
    recurrent matrix (3H = `gates` columns), and not the attention MLPs or the classifiers."""
    shapes = {init.name: tuple(init.dims) for init in graph.initializer}
    return [
        node.name
        for node in graph.node
        if node.op_type == "MatMul" and len(shapes.get(node.input[1], ())) == 2
        and shapes[node.input[1]][1] == gates
    ]  # fmt: skip


def quantize_gru_matrices(folder: Path) -> None:
    """A split model's projection.onnx and head.onnx with the RGB GRU's matrices in int8 (dynamic,
    per channel, signed 7-bit weights: `quantize_dynamic(per_channel=True, reduce_range=True)`), in
    place; the metadata is kept. No-op for an unsplit folder."""
    if not (folder / PROJECTION_FILE).is_file():
        return
    gates = onnx.load(str(folder / PROJECTION_FILE)).graph.output[0].type.tensor_type.shape.dim[-1].dim_value
    for name in (PROJECTION_FILE, HEAD_FILE):
        path, quantized = folder / name, folder / f"{name}.int8"
        nodes = _gru_matrix_nodes(onnx.load(str(path)).graph, gates)
        logging.disable(logging.WARNING)  # its advice to pre-process: no convolutions here to fold
        try:
            quantize_dynamic(
                str(path),
                str(quantized),
                weight_type=QuantType.QInt8,
                per_channel=True,
                reduce_range=True,  # 7-bit weights: see the module's docstring
                nodes_to_quantize=nodes,
                extra_options={"DefaultTensorType": onnx.TensorProto.FLOAT},
            )
        finally:
            logging.disable(logging.NOTSET)
        _copy_metadata(path, quantized, "")
        quantized.replace(path)


def calibration_crops(data: str | Path, spec, count: int = 256, clips: int = 16) -> np.ndarray:
    """Up to `count` real hand crops (N x 3 x S x S, normalised for `spec`) from the clips in `data`.

    `data` is a folder of clips, listed as `features` and `train` list them (`models.data.find_dataset`:
    NTU's download layout, the app's own labelled recordings, each clip once), or one clip; each gives 20
    frames spread over it, as a window would.
    """
    from sta_hands.contract.inputs import glimpse_batch, segment_indices, window_inputs
    from sta_hands.models.data import find_dataset, read_frames
    from sta_hands.recordings.sources import open_reader

    root = Path(data)
    crops = []
    for clip in [root] if root.is_file() else find_dataset(root).clips[:clips]:
        if isinstance(clip, Path):
            with open_reader(str(clip)) as source:
                frames = list(source.frames(0))
        else:
            frames = list(read_frames(clip))
        inputs = window_inputs([frames[i] for i in segment_indices(len(frames), 20)])
        if inputs.crops is not None:
            crops.append(inputs.crops[inputs.hand_mask > 0])
    if not crops:
        raise ValueError(f"{data}: no clip with images and hands to calibrate on")
    picked = np.concatenate(crops)[:count]
    return glimpse_batch(picked, spec.input_size, spec.mean, spec.std)


def quantize_glimpse(source: Path, target: Path, calibration_crops: np.ndarray, form: Int8Form) -> None:
    """glimpse.onnx `source` quantised statically to `target` in `form`, calibrated on real crops."""
    if len(calibration_crops) == 0:
        raise ValueError("int8 calibration needs at least one real hand crop")
    prepared = target.with_name(f"{target.stem}.prepared.onnx")
    quant_pre_process(str(source), str(prepared))
    try:
        quantize_static(
            str(prepared),
            str(target),
            _CropReader(calibration_crops),
            **asdict(form),
            calibrate_method=CalibrationMethod.MinMax,
        )
    finally:
        prepared.unlink(missing_ok=True)


def quantize_int8(
    source: str | Path, out: str | Path, calibration_crops: np.ndarray, form: Int8Form | None = None
) -> Path:
    """`out`/glimpse.onnx quantised to int8 on `calibration_crops` (real crops, N x 3 x S x S), in
    `form` (default: the one for this CPU's flags)."""
    source, out = Path(source), Path(out)
    out.mkdir(parents=True, exist_ok=True)
    form = form or default_int8_form(cpu_flags())
    quantize_glimpse(source / GLIMPSE_FILE, out / GLIMPSE_FILE, calibration_crops, form)
    _copy_metadata(source / GLIMPSE_FILE, out / GLIMPSE_FILE, "int8")
    _copy_head(source, out, "int8")
    quantize_gru_matrices(out)
    return out


def convert_fp16(source: str | Path, out: str | Path) -> Path:
    """glimpse.onnx in float16 with float32 inputs and outputs (for GPUs; CPUs run float16 slowly)."""
    source, out = Path(source), Path(out)
    out.mkdir(parents=True, exist_ok=True)
    half = convert_float_to_float16(onnx.load(str(source / GLIMPSE_FILE)), keep_io_types=True)
    onnx.save(half, str(out / GLIMPSE_FILE))
    _copy_metadata(source / GLIMPSE_FILE, out / GLIMPSE_FILE, "fp16")
    _copy_head(source, out, "fp16")
    return out
