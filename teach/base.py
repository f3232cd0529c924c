"""What a taught model keeps of its base model: the architecture, and the weights that do not depend on
the classes (the pose stream's GRUs, the spatial and temporal attention MLPs), read back from the
base's exported `head.onnx`.

An exported head keeps its weights as ONNX initializers, in whatever form the export left them
(`float_weights`): a linear layer's under its PyTorch name (with or without the wrapper's `model.`), or
transposed for a MatMul, under its name with `_Transposed` (ONNX Runtime's graph optimisation, as in
the int8 demo) or under a generated `onnx::MatMul_*` name; an int8 one with its scale and zero point
(`X_quantized`, `X_scale`, `X_zero_point` of dynamic quantisation, or a DequantizeLinear node's inputs),
read back dequantised; a GRU's as the ONNX GRU operator's W, R, B (gates z, r, h; PyTorch's order is
r, z, n). The weights found are checked before
they are used: a PyTorch model of the base's architecture holding them (and the base's pose classifier)
must give the base head's pose logits and both attentions on the same window, within `PARITY`, or
`PARITY_INT8` where some were int8 (the head then quantises its activations too), else nothing is
transferred (`BaseWeightsError`).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from pathlib import Path

import numpy as np
import onnx
import torch
from onnx import numpy_helper
from torch import nn

from sta_hands.app.runtime import OnnxModel
from sta_hands.contract.errors import UserError
from sta_hands.contract.onnx_contract import HEAD_FILE
from sta_hands.export.onnx import example_head_inputs
from sta_hands.models.config import ModelConfig, RgbStreamConfig
from sta_hands.models.two_stream import TwoStreamModel

TRANSFERRED = ("rgb_stream.spatial_attention", "rgb_stream.temporal_attention", "pose_stream.gru")
PARITY = 1e-4
# int8 attention and pose classifier weights (7-bit, per column; the demo's float MatMuls quantised
# dynamically): read back right 0.008 off (attention, values in [0, 1]) and 0.001 (pose logits, up to
# 4.7); read back wrong (ONNX's GRU gate order taken as PyTorch's) the pose logits are 3.0 off
PARITY_INT8 = 0.05
RGB_HIDDEN_WITHOUT_CONFIG = 128  # a base that does not record its config: the demo's RGB GRU


class BaseWeightsError(UserError):
    """The base head's weights cannot be read back (another exporter, another architecture)."""


def base_config(base: OnnxModel) -> ModelConfig:
    """The base model's architecture, from the `model_config` its export records."""
    recorded = base.head.get_modelmeta().custom_metadata_map.get("model_config")
    if recorded is not None:
        return ModelConfig.from_dict(json.loads(recorded))
    info = base.info
    return ModelConfig(
        num_classes=len(info.class_names), window=info.window_length, feature_dim=info.feature_dim,
        backbone=info.backbone, rgb=RgbStreamConfig(hidden_size=RGB_HIDDEN_WITHOUT_CONFIG),
    )  # fmt: skip


def read_base_weights(base: OnnxModel, config: ModelConfig) -> dict[str, torch.Tensor]:
    """{parameter name: tensor} of the transferable weights and the base's pose classifier, checked
    against the base head (module docstring)."""
    graph = onnx.load(str(base.folder / HEAD_FILE)).graph
    arrays, dequantized = float_weights(graph)
    reference = TwoStreamModel(config)
    weights: dict[str, torch.Tensor] = {}
    used: set[str] = set()  # the initializers read
    for prefix in ("rgb_stream.spatial_attention", "rgb_stream.temporal_attention", "pose_stream.classifier"):
        for name, parameter in reference.get_submodule(prefix).named_parameters():
            weights[f"{prefix}.{name}"] = _linear_weight(
                arrays, f"{prefix}.{name}", tuple(parameter.shape), used
            )
    weights.update(_pose_gru(graph, arrays, config, used))
    missing = reference.load_state_dict(weights, strict=False).unexpected_keys
    if missing:
        raise BaseWeightsError(f"{base.folder / HEAD_FILE}: unexpected weights {missing}")
    _check_against_base(base, reference, PARITY_INT8 if used & dequantized else PARITY)
    return weights


def transfer(model: TwoStreamModel, weights: Mapping[str, torch.Tensor]) -> list[str]:
    """Copy the transferable weights into `model` (the classifiers stay fresh); the names copied."""
    kept = {name: value for name, value in weights.items() if name.startswith(TRANSFERRED)}
    model.load_state_dict(kept, strict=False)
    return sorted(kept)


QUANTIZED, SCALE, ZERO_POINT, TRANSPOSED = "_quantized", "_scale", "_zero_point", "_Transposed"


def float_weights(graph: onnx.GraphProto) -> tuple[dict[str, np.ndarray], set[str]]:
    """The graph's float initializers, and its int8 ones dequantised: under the quantised weight's own
    name less `_quantized` (dynamic quantisation), and under a DequantizeLinear node's output and its
    input's name less `_quantized` (static, QDQ); and the names of the dequantised ones."""
    stored = {init.name: numpy_helper.to_array(init) for init in graph.initializer}
    weights = {name: value for name, value in stored.items() if value.dtype.kind == "f"}
    for name, value in stored.items():
        base_name = name.removesuffix(QUANTIZED)
        if name.endswith(QUANTIZED) and base_name + SCALE in stored:
            zero = stored.get(base_name + ZERO_POINT)
            weights.setdefault(base_name, _dequantize(value, stored[base_name + SCALE], zero, value.ndim - 1))
    for node in graph.node:
        if node.op_type != "DequantizeLinear" or not all(k in stored for k in node.input if k):
            continue
        value, scale = stored[node.input[0]], stored[node.input[1]]
        zero = stored[node.input[2]] if len(node.input) > 2 and node.input[2] else None
        axis = next((a.i for a in node.attribute if a.name == "axis"), 1)
        weights[node.output[0]] = _dequantize(value, scale, zero, axis)
        weights.setdefault(node.input[0].removesuffix(QUANTIZED), weights[node.output[0]])
    return weights, {name for name in weights if name not in stored}


def _dequantize(value: np.ndarray, scale: np.ndarray, zero: np.ndarray | None, axis: int) -> np.ndarray:
    """(q - zero point) x scale, the scale and zero point per tensor or per slice along `axis`."""
    shape = [1] * value.ndim
    if scale.ndim == 1 and value.ndim > 0:
        shape[axis % value.ndim] = scale.size
    offset = np.zeros(1, np.float32) if zero is None else zero.astype(np.float32).reshape(shape)
    return ((value.astype(np.float32) - offset) * scale.astype(np.float32).reshape(shape)).astype(np.float32)


def _linear_weight(
    arrays: Mapping[str, np.ndarray], name: str, shape: tuple[int, ...], used: set[str]
) -> torch.Tensor:
    """A linear layer's weight or bias: by its name (as stored or transposed), else the one generated
    initializer (a name that is no parameter's) holding its transpose, as a MatMul reads it; its key
    is added to `used`."""
    for key in (f"model.{name}", name):
        for stored, flip in ((key, False), (key + TRANSPOSED, True)):
            value = arrays.get(stored)
            if value is not None and value.ndim == len(shape) and (value.T if flip else value).shape == shape:
                used.add(stored)
                return torch.from_numpy((value.T if flip else value).copy())
    if len(shape) == 2:
        generated = [
            key for key, value in arrays.items()
            if value.shape == shape[::-1] and not key.startswith(("model.", "rgb_stream.", "pose_stream."))
        ]  # fmt: skip
        if len(generated) == 1:
            used.add(generated[0])
            return torch.from_numpy(arrays[generated[0]].T.copy())
    raise BaseWeightsError(f"the base head has no single weight for {name} ({' x '.join(map(str, shape))})")


def _gate_order(onnx_gates: np.ndarray, hidden: int) -> np.ndarray:
    """ONNX's z, r, h blocks along the first axis -> PyTorch's r, z, n."""
    z, r, h = onnx_gates[:hidden], onnx_gates[hidden : 2 * hidden], onnx_gates[2 * hidden :]
    return np.concatenate([r, z, h])


def _pose_gru(
    graph: onnx.GraphProto, arrays: Mapping[str, np.ndarray], config: ModelConfig, used: set[str]
) -> dict[str, torch.Tensor]:
    """The pose stream's GRU layers: the ONNX GRU nodes of its size, in graph (layer) order."""
    hidden, layers = config.pose.hidden_size, config.pose.num_layers
    inputs = {config.pose_dim, hidden}
    nodes = [
        node for node in graph.node
        if node.op_type == "GRU" and node.input[1] in arrays
        and arrays[node.input[1]].shape[1:] in {(3 * hidden, size) for size in inputs}
        and arrays[node.input[1]].shape[2] != config.feature_dim
    ]  # fmt: skip
    if len(nodes) != layers:
        raise BaseWeightsError(
            f"the base head has {len(nodes)} GRU layers of the pose stream's size, not {layers}"
        )
    weights = {}
    for layer, node in enumerate(nodes):
        used.update(node.input[1:4])
        w, r, b = (arrays[node.input[k]][0] for k in (1, 2, 3))
        weights[f"pose_stream.gru.weight_ih_l{layer}"] = _gate_order(w, hidden)
        weights[f"pose_stream.gru.weight_hh_l{layer}"] = _gate_order(r, hidden)
        weights[f"pose_stream.gru.bias_ih_l{layer}"] = _gate_order(b[: 3 * hidden], hidden)
        weights[f"pose_stream.gru.bias_hh_l{layer}"] = _gate_order(b[3 * hidden :], hidden)
    return {name: torch.from_numpy(np.array(value)) for name, value in weights.items()}  # copies


def _check_against_base(base: OnnxModel, reference: TwoStreamModel, parity: float) -> None:
    """The reference's pose logits and attentions equal the base head's on the same windows, within
    `parity`."""
    reference.eval()
    example = example_head_inputs(reference)
    with torch.no_grad():
        expected = reference(*(example[name] for name in ("features", "hand_mask", "pose")))
    feeds = {}
    for item in base.head.get_inputs():
        if item.name in ("hand_mask", "pose"):
            feeds[item.name] = example[item.name].numpy()
        else:  # glimpse features or their projection: the compared outputs do not read them
            shape = [2] + [int(d) if isinstance(d, int) else 1 for d in item.shape[1:]]
            feeds[item.name] = np.zeros(shape, dtype=np.float32)
    names = [o.name for o in base.head.get_outputs()]
    got = dict(zip(names, base.head.run(names, feeds), strict=True))
    for name in ("pose_logits", "spatial_attention", "temporal_attention"):
        difference = float(np.abs(getattr(expected, name).numpy() - got[name]).max())
        if difference > parity:
            raise BaseWeightsError(
                f"{base.folder / HEAD_FILE}: its weights, read back, give another {name} "
                f"(off by {difference:.2g})"
            )


def describe(names: list[str], folder: Path) -> str:
    return f"started from the pose stream GRUs and attention MLPs of {folder} ({len(names)} tensors)"


def base_weights_for(base: OnnxModel, config: ModelConfig) -> Callable[[nn.Module], str]:
    """A callable for `teach_model(base=...)`: loads the checked base weights into a new model, or
    says why it trains from scratch."""

    def load(model: nn.Module) -> str:
        try:
            weights = read_base_weights(base, config)
        except BaseWeightsError as error:
            return f"base weights not used: {error}"
        return describe(transfer(model, weights), base.folder)

    return load
