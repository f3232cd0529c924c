"""A training run's files: the per-epoch log (`log.csv`, TensorBoard), the resume state (optimiser moments,
random streams, counters) and the checkpoint of two trained streams put together (`combine_streams`)."""

from __future__ import annotations

import csv
import dataclasses
import json
import logging
import math
import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch
from safetensors import safe_open
from safetensors.torch import load_file, save_file
from torch import Tensor, nn

from sta_hands.models import checkpoint
from sta_hands.models.config import ModelConfig
from sta_hands.models.data import DataError
from sta_hands.models.pose_stream import DeepGRU
from sta_hands.models.rgb_stream import STAHands
from sta_hands.models.two_stream import TwoStreamModel

log = logging.getLogger(__name__)

BEST, LAST, RESUME, LOG = "best.safetensors", "last.safetensors", "resume.safetensors", "log.csv"
TWO_STREAM = "two_stream.safetensors"
LOG_COLUMNS = ("epoch", "train_loss", "train_accuracy", "val_loss", "val_accuracy", "seconds")


@dataclass
class RunState:
    """What `resume.safetensors` carries besides the optimiser."""

    epoch: int = 0  # epochs completed
    best_epoch: int = 0
    best_accuracy: float = -math.inf
    best_loss: float = math.inf
    since_best: int = 0
    stopped_early: bool = False

    def improved(self, accuracy: float, loss: float, select_on: str) -> bool:
        if math.isnan(accuracy):
            return True  # no validation set: the last epoch is the best
        if select_on == "loss":
            return loss < self.best_loss
        return accuracy > self.best_accuracy or (accuracy == self.best_accuracy and loss < self.best_loss)


def tensorboard(folder: Path) -> Any:
    try:
        from torch.utils.tensorboard import SummaryWriter
    except ImportError:  # tensorboard is in the [train] extra; the CSV log is always written
        log.warning("tensorboard is not installed: only %s is written", folder / LOG)
        return None
    return SummaryWriter(log_dir=str(folder / "tensorboard"))


def log_epoch(folder: Path, writer: Any, row: Mapping[str, float]) -> None:
    path = folder / LOG
    new = not path.exists()
    with open(path, "a", newline="", encoding="utf-8") as file:
        out = csv.DictWriter(file, fieldnames=LOG_COLUMNS)
        if new:
            out.writeheader()
        out.writerow(
            {key: f"{value:.6g}" if isinstance(value, float) else value for key, value in row.items()}
        )
    if writer is not None:
        epoch = int(row["epoch"])
        for name in ("loss", "accuracy"):
            writer.add_scalar(f"{name}/train", row[f"train_{name}"], epoch)
            if not math.isnan(row[f"val_{name}"]):
                writer.add_scalar(f"{name}/val", row[f"val_{name}"], epoch)
        writer.flush()


def read_log(path: str | Path) -> list[dict[str, float]]:
    """The rows of a run's `log.csv` as numbers."""
    path = Path(path)
    if not path.is_file():
        return []
    with open(path, newline="", encoding="utf-8") as file:
        return [{key: float(value) for key, value in row.items()} for row in csv.DictReader(file)]


def save_resume(
    path: Path, optimizer: torch.optim.Optimizer, rng: np.random.Generator, state: RunState
) -> None:
    """Optimiser moments, the torch and numpy random states and the run's counters, as safetensors."""
    optimizer_state = optimizer.state_dict()
    tensors = {"torch_rng": torch.get_rng_state()}
    for index, values in optimizer_state["state"].items():
        for key, value in values.items():
            tensors[f"optimizer.{index}.{key}"] = torch.as_tensor(value).detach().cpu().contiguous()
    header = {
        "param_groups": json.dumps(optimizer_state["param_groups"]),
        "numpy_rng": json.dumps(rng.bit_generator.state),
        "run": json.dumps(dataclasses.asdict(state)),
    }
    partial = path.with_name(path.name + ".partial")
    save_file(tensors, partial, metadata=header)
    os.replace(partial, path)


def restore(
    folder: Path,
    model: nn.Module,
    config: ModelConfig,
    optimizer: torch.optim.Optimizer,
    rng: np.random.Generator,
    device: torch.device,
) -> RunState:
    """Load `last` and `resume` into the model, optimiser and RNGs; the run's counters."""
    last, resume_path = folder / LAST, folder / RESUME
    for path in (last, resume_path):
        if not path.is_file():
            raise DataError(path, "nothing to resume: this file of a previous run is missing")
    saved, saved_config, _ = checkpoint.load(last)
    if type(saved) is not type(model) or saved_config != config:
        raise DataError(last, "the run in this folder trained another model or config than the one asked for")
    model.load_state_dict(saved.state_dict())
    with safe_open(resume_path, framework="pt") as handle:
        header = handle.metadata()
    tensors = load_file(resume_path)
    torch.set_rng_state(tensors.pop("torch_rng"))
    state: dict[int, dict[str, Tensor]] = {}
    for key, value in tensors.items():
        _, index, name = key.split(".", 2)
        state.setdefault(int(index), {})[name] = value.to(device) if name != "step" else value
    optimizer.load_state_dict({"state": state, "param_groups": json.loads(header["param_groups"])})
    rng.bit_generator.state = json.loads(header["numpy_rng"])
    return RunState(**json.loads(header["run"]))


def combine_streams(
    pose_checkpoint: str | Path,
    rgb_checkpoint: str | Path,
    out: str | Path,
    metadata: Mapping[str, Any] | None = None,
) -> Path:
    """A `TwoStreamModel` checkpoint from a trained pose stream and a trained RGB stream.

    The metadata keeps the RGB run's class names, backbone, window seconds and training description,
    plus both streams' validation scores; `metadata` adds to or overrides it.
    """
    pose, pose_config, pose_meta = checkpoint.load(pose_checkpoint)
    rgb, rgb_config, rgb_meta = checkpoint.load(rgb_checkpoint)
    if not isinstance(pose, DeepGRU) or not isinstance(rgb, STAHands):
        raise DataError(
            pose_checkpoint, "expected a pose-stream (DeepGRU) and an RGB-stream (STAHands) checkpoint"
        )
    if pose_meta.get("class_names") != rgb_meta.get("class_names"):
        raise DataError(rgb_checkpoint, f"its classes differ from those of {pose_checkpoint}")
    for name in ("num_classes", "window", "num_joints", "num_bodies", "centre_joint"):
        if getattr(pose_config, name) != getattr(rgb_config, name):
            raise DataError(rgb_checkpoint, f"{name} differs from that of {pose_checkpoint}")
    config = dataclasses.replace(rgb_config, pose=pose_config.pose)
    model = TwoStreamModel.from_streams(config, pose, rgb)
    combined = {
        key: rgb_meta[key]
        for key in ("class_names", "backbone", "backbone_weights", "window_seconds", "trained_on", "split")
        if key in rgb_meta
    }
    combined.update(
        stream="both",
        pose_val_accuracy=pose_meta.get("val_accuracy"),
        rgb_val_accuracy=rgb_meta.get("val_accuracy"),
        **dict(metadata or {}),
    )
    return checkpoint.save(model, config, out, combined)
