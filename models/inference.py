"""Running a trained stream or two-stream model on cached glimpse features: building a stream from its
config, moving batches to the device, and the outputs per clip and window (`predict`), used by
training (validation), evaluation and the ablations alike."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Literal

import numpy as np
import torch
from torch import Tensor, nn

from sta_hands.models.config import ModelConfig
from sta_hands.models.features.store import FeatureStore
from sta_hands.models.pose_stream import DeepGRU
from sta_hands.models.rgb_stream import STAHands
from sta_hands.models.two_stream import TwoStreamModel

Stream = Literal["pose", "rgb"]


def build_stream(stream: Stream, config: ModelConfig) -> nn.Module:
    if stream == "pose":
        return DeepGRU(config)
    if stream == "rgb":
        return STAHands(config)
    raise ValueError(f"stream must be 'pose' or 'rgb', got {stream!r}")


def stream_of(model: nn.Module) -> str:
    return {DeepGRU: "pose", STAHands: "rgb", TwoStreamModel: "both"}[type(model)]


def choose_device(name: str | None) -> torch.device:
    return torch.device(name or ("cuda" if torch.cuda.is_available() else "cpu"))


def to_tensors(batch: Mapping[str, np.ndarray], device: torch.device) -> dict[str, Tensor]:
    return {key: torch.from_numpy(np.ascontiguousarray(value)).to(device) for key, value in batch.items()}


def logits_of(model: nn.Module, inputs: Mapping[str, Tensor]) -> Tensor:
    """B x C logits of any of the three models on a batch from `FeatureStore.batch`."""
    if isinstance(model, DeepGRU):
        return model(inputs["pose"])
    return model(inputs["features"], inputs["hand_mask"].float(), inputs["pose"]).logits


def training_logits(model: nn.Module, inputs: Mapping[str, Tensor]) -> Tensor:
    """What a stream learns from: B x T x C, a prediction per step, where the stream classifies every
    step (Deep GRU; STA-Hands without temporal attention), else its B x C logits."""
    if isinstance(model, DeepGRU):
        return model.step_logits(inputs["pose"])
    if isinstance(model, STAHands) and model.classifies_every_step:
        return model.step_logits(inputs["features"], inputs["hand_mask"].float(), inputs["pose"])
    return logits_of(model, inputs)


def training_outputs(
    model: nn.Module, inputs: Mapping[str, Tensor], step_loss: bool
) -> tuple[Tensor, Tensor | None]:
    """(`training_logits`, or `logits_of` without `step_loss`; STA-Hands' B x T x 4 spatial attention,
    None for the pose stream) of one pass, for a loss on the attention beside the class's."""
    if isinstance(model, STAHands):
        features, mask, pose = inputs["features"], inputs["hand_mask"].float(), inputs["pose"]
        if step_loss:
            return model.training_outputs(features, mask, pose)
        output = model(features, mask, pose)
        return output.logits, output.spatial_attention
    return (training_logits(model, inputs) if step_loss else logits_of(model, inputs)), None


@torch.no_grad()
def predict(
    model: nn.Module,
    store: FeatureStore,
    positions: Sequence[int],
    windows: Sequence[Sequence[np.ndarray]],
    device: torch.device,
    batch_size: int = 64,
) -> list[dict[str, np.ndarray]]:
    """Per clip, the model's outputs on each of its windows (numpy, first axis = window).

    Keys: "logits" (fused for a two-stream model), and where the model has them "pose_logits",
    "rgb_logits", "spatial_attention", "temporal_attention", plus the inputs "hand_mask",
    "active_hands" and "pose" (raw) of the windows.
    """
    model.eval()
    items = [
        (int(p), frames)
        for p, clip_windows in zip(positions, windows, strict=True)
        for frames in clip_windows
    ]
    collected: dict[str, list[np.ndarray]] = {}
    for start in range(0, len(items), batch_size):
        arrays = store.batch(items[start : start + batch_size])
        outputs = _outputs(model, to_tensors(arrays, device))
        outputs.update(
            hand_mask=arrays["hand_mask"], active_hands=arrays["active_hands"], pose=arrays["pose"]
        )
        for key, value in outputs.items():
            collected.setdefault(key, []).append(value)
    joined = {key: np.concatenate(values) for key, values in collected.items()}
    results, offset = [], 0
    for clip_windows in windows:
        results.append({key: value[offset : offset + len(clip_windows)] for key, value in joined.items()})
        offset += len(clip_windows)
    return results


def _outputs(model: nn.Module, inputs: Mapping[str, Tensor]) -> dict[str, np.ndarray]:
    if isinstance(model, DeepGRU):
        logits = model(inputs["pose"])
        return {"logits": logits.cpu().numpy(), "pose_logits": logits.cpu().numpy()}
    out = model(inputs["features"], inputs["hand_mask"].float(), inputs["pose"])
    values = {key: value.cpu().numpy() for key, value in out._asdict().items()}
    if isinstance(model, STAHands):
        values["rgb_logits"] = values["logits"]
    return values


def rgb_probabilities_of(
    model: nn.Module, device: torch.device
) -> Callable[[np.ndarray, np.ndarray, np.ndarray], np.ndarray] | None:
    """The RGB stream's B x C probabilities on numpy features, hand mask and pose (`models.faithfulness`),
    or None for a model without a spatial attention over hands (Deep GRU; the "sum" and "concat"
    variants weigh every hand alike)."""
    rgb = model.rgb_stream if isinstance(model, TwoStreamModel) else model
    if not isinstance(rgb, STAHands) or rgb.spatial_attention is None:
        return None

    @torch.no_grad()
    def probabilities(features: np.ndarray, hand_mask: np.ndarray, pose: np.ndarray) -> np.ndarray:
        rgb.eval()
        inputs = to_tensors({"features": features, "hand_mask": hand_mask, "pose": pose}, device)
        logits = rgb(inputs["features"], inputs["hand_mask"].float(), inputs["pose"]).logits
        return torch.softmax(logits, dim=-1).cpu().numpy()

    return probabilities
