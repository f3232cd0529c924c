"""Training one stream on cached glimpse features, and putting two trained streams together.

Each stream is trained on its own (paper, implementation details): cross-entropy, Adam at lr 1e-4,
batches of 32, up to 100 epochs, 5% of the training clips held out for validation and early stopping;
every epoch sees one random 20-frame window of every clip: by default a live one (`models.windows`:
a random end time, the time grid over `window_seconds` before it), so training matches what the app
sees; `sampling="segments"` is the paper's draw. The model variant (ablations too) is the `ModelConfig`.

A run writes into its folder:
- `best.safetensors` (best validation accuracy, ties broken by the lower loss) and `last.safetensors`
  (`models.checkpoint`: weights, config, metadata), `resume.safetensors` (optimiser and RNG states),
- `log.csv` (loss and accuracy per epoch, training and validation) and `tensorboard/` (the same).
`resume=True` continues from `last` with the same optimiser state and random streams.
"""

from __future__ import annotations

import csv
import dataclasses
import json
import logging
import math
import os
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import numpy as np
import torch
from safetensors.torch import load_file, save_file
from torch import Tensor, nn
from tqdm import tqdm

from models import checkpoint
from models.config import ModelConfig
from models.data import ClipRef, DataError, Dataset
from models.features import FeatureStore
from models.pose_stream import DeepGRU
from models.rgb_stream import STAHands
from models.two_stream import TwoStreamModel
from models.windows import Sampling, draw_window, window_seconds_of

log = logging.getLogger(__name__)

Stream = Literal["pose", "rgb"]
BEST, LAST, RESUME, LOG = "best.safetensors", "last.safetensors", "resume.safetensors", "log.csv"
TWO_STREAM = "two_stream.safetensors"
LOG_COLUMNS = ("epoch", "train_loss", "train_accuracy", "val_loss", "val_accuracy", "seconds")


@dataclass(frozen=True)
class TrainSettings:
    """How a stream is trained; the numbers are the paper's (experiments, implementation details)."""

    learning_rate: float = 1e-4  # Adam, learning rate 1e-4
    batch_size: int = 32  # batches of 32 sequences
    epochs: int = 100  # at most 100 epochs
    validation_fraction: float = 0.05  # 5% of the training set held out for early stopping
    patience: int = 20  # not in the paper: epochs without a better validation score before stopping
    sampling: Sampling = "time"  # not in the paper: live windows; or the paper's "segments", or "chunk"
    # not in the paper: what "best on validation" means; the loss is smoother on small validation sets
    select_on: Literal["accuracy", "loss"] = "accuracy"
    seed: int = 0
    device: str | None = None  # default: CUDA when available, else the CPU

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> TrainSettings:
        names = {f.name for f in dataclasses.fields(cls)}
        unknown = sorted(set(data) - names)
        if unknown:
            raise ValueError(f"unknown training settings: {', '.join(unknown)}")
        return cls(**data)


@dataclass(frozen=True)
class TrainResult:
    folder: Path
    best: Path
    last: Path
    epochs: int  # epochs done in total
    best_epoch: int
    best_val_accuracy: float | None
    stopped_early: bool
    history: tuple[dict[str, float], ...]


# ----------------------------------------------------------------------------------------- configs


def load_config_file(path: str | Path) -> tuple[ModelConfig, dict[str, Any]]:
    """A JSON file holding a `ModelConfig` dict, or {"model": {...}, "train": {...}} (TrainSettings)."""
    path = Path(path)
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        if not isinstance(data, dict):
            raise ValueError("expected a JSON object")
        if "model" in data or "train" in data:
            unknown = sorted(set(data) - {"model", "train"})
            if unknown:
                raise ValueError(f"unknown keys {', '.join(unknown)} beside model/train")
            return ModelConfig.from_dict(data.get("model", {})), dict(data.get("train", {}))
        return ModelConfig.from_dict(data), {}
    except FileNotFoundError:
        raise DataError(path, "config file not found") from None
    except (ValueError, TypeError) as error:
        raise DataError(path, f"not a model config: {error}") from None


def fit_config(config: ModelConfig, class_names: Sequence[str], store: FeatureStore) -> ModelConfig:
    """The config with the data's number of classes and the cache's backbone and feature size."""
    spec = store.info.backbone
    return dataclasses.replace(
        config, num_classes=len(class_names), feature_dim=spec.feature_dim, backbone=spec.name
    )


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


# ------------------------------------------------------------------------------------------ splitting


def validation_split(count: int, fraction: float, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """(training positions, validation positions): `fraction` of `count` (at least one of two or more)."""
    held = 0 if count < 2 or fraction <= 0 else max(1, round(count * fraction))
    order = np.random.default_rng([seed, 0x5A11D]).permutation(count)
    return np.sort(order[held:]), np.sort(order[:held])


def training_clips(dataset: Dataset, split: str | None) -> list[ClipRef]:
    clips = dataset.split(split, "train")
    if not clips:
        raise DataError(dataset.root, f"no training clips on the {split} split")
    return clips


# ------------------------------------------------------------------------------------------ one epoch


def _train_epoch(
    model: nn.Module,
    optimizer: torch.optim.Optimizer,
    store: FeatureStore,
    positions: np.ndarray,
    settings: TrainSettings,
    rng: np.random.Generator,
    device: torch.device,
    seconds: float,
) -> tuple[float, float]:
    """(mean loss, accuracy) over one pass of one random window (of `seconds`, live) per clip."""
    model.train()
    window = model.config.window
    order = positions[rng.permutation(len(positions))]
    total_loss, correct = 0.0, 0
    for start in range(0, len(order), settings.batch_size):
        chunk = order[start : start + settings.batch_size]
        items = [(int(p), _draw(store, p, window, seconds, rng, settings.sampling)) for p in chunk]
        inputs = to_tensors(store.batch(items), device)
        labels = torch.from_numpy(store.labels(chunk)).to(device)
        logits = logits_of(model, inputs)
        loss = nn.functional.cross_entropy(logits, labels)
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        optimizer.step()
        total_loss += float(loss.detach()) * len(chunk)
        correct += int((logits.argmax(dim=1) == labels).sum())
    return total_loss / max(len(order), 1), correct / max(len(order), 1)


def _draw(store: FeatureStore, p: int, window: int, seconds: float, rng, sampling: Sampling) -> np.ndarray:
    return draw_window(store.clip(int(p)).timestamps, window, seconds, rng, sampling)


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
    "rgb_logits", "spatial_attention", "temporal_attention", plus the inputs "hand_mask" and
    "active_hands" of the windows.
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
        outputs.update(hand_mask=arrays["hand_mask"], active_hands=arrays["active_hands"])
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


def _validate(
    model: nn.Module, store: FeatureStore, positions: np.ndarray, sampling: Sampling, seconds: float, device
) -> tuple[float, float]:
    """(loss, accuracy) on the held-out clips, each on its deterministic middle window."""
    if len(positions) == 0:
        return math.nan, math.nan
    window = model.config.window
    windows = [[_draw(store, p, window, seconds, None, sampling)] for p in positions]
    outputs = predict(model, store, positions, windows, device)
    logits = torch.from_numpy(np.concatenate([o["logits"] for o in outputs]))
    labels = torch.from_numpy(store.labels(positions))
    loss = float(nn.functional.cross_entropy(logits, labels))
    return loss, float((logits.argmax(dim=1) == labels).float().mean())


# ------------------------------------------------------------------------------------------ the run


@dataclass
class _RunState:
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


def train_stream(
    stream: Stream,
    dataset: Dataset,
    cache: str | Path,
    out: str | Path,
    *,
    split: str | None = "cs",
    config: ModelConfig | None = None,
    settings: TrainSettings | None = None,
    resume: bool = False,
    progress: bool = True,
    trained_on: str | None = None,
) -> TrainResult:
    """Train one stream on the training side of `split` (every clip when None); see the module docstring."""
    settings = settings or TrainSettings()
    folder = Path(out)
    clips = training_clips(dataset, split)
    store = FeatureStore(cache, clips)
    if resume and config is None and (folder / LAST).is_file():
        config = checkpoint.read_header(folder / LAST)[1]  # continue the run's own variant
    config = fit_config(config or ModelConfig(), dataset.class_names, store)
    train_positions, val_positions = validation_split(len(clips), settings.validation_fraction, settings.seed)
    device = choose_device(settings.device)
    torch.set_flush_denormal(True)
    torch.manual_seed(settings.seed)
    model = build_stream(stream, config).to(device)
    optimizer = torch.optim.Adam(model.parameters(), lr=settings.learning_rate)
    rng = np.random.default_rng([settings.seed, 0xE90C4])
    state = _RunState()
    if resume:
        state = _restore(folder, model, config, optimizer, rng, device)
    else:
        _check_fresh(folder)
    folder.mkdir(parents=True, exist_ok=True)
    seconds = window_seconds_of(store.clip(int(p)).timestamps for p in train_positions)  # live and drawn
    metadata = {
        "stream": stream,
        "class_names": list(dataset.class_names),
        "backbone": store.info.backbone.to_dict(),
        "backbone_weights": store.info.weights,
        "window_seconds": seconds,
        "trained_on": trained_on or _describe_training(dataset, split, len(train_positions)),
        "split": split,
        "train_settings": dataclasses.asdict(settings),
    }
    writer = _tensorboard(folder)
    bar = tqdm(
        total=settings.epochs,
        initial=min(state.epoch, settings.epochs),
        desc=f"train {stream}",
        unit="epoch",
        disable=not progress,
    )
    try:
        while state.epoch < settings.epochs and not state.stopped_early:
            started = time.perf_counter()
            train_loss, train_acc = _train_epoch(
                model, optimizer, store, train_positions, settings, rng, device, seconds
            )
            val_loss, val_acc = _validate(model, store, val_positions, settings.sampling, seconds, device)
            state.epoch += 1
            values = (state.epoch, train_loss, train_acc, val_loss, val_acc, time.perf_counter() - started)
            row = dict(zip(LOG_COLUMNS, values, strict=True))
            _log_epoch(folder, writer, row)
            epoch_metadata = {
                **metadata,
                "epoch": state.epoch,
                "val_accuracy": _finite(val_acc),
                "val_loss": _finite(val_loss),
            }
            if state.improved(val_acc, val_loss, settings.select_on):
                state.best_epoch, state.since_best = state.epoch, 0
                state.best_accuracy = val_acc if not math.isnan(val_acc) else state.best_accuracy
                state.best_loss = val_loss if not math.isnan(val_loss) else state.best_loss
                checkpoint.save(model, config, folder / BEST, epoch_metadata)
            else:
                state.since_best += 1
                state.stopped_early = state.since_best >= settings.patience
            checkpoint.save(model, config, folder / LAST, epoch_metadata)
            _save_resume(folder / RESUME, optimizer, rng, state)
            bar.update()
            bar.set_postfix(loss=f"{train_loss:.3f}", val_acc=f"{val_acc:.3f}")
    finally:
        bar.close()
        if writer is not None:
            writer.close()
    return TrainResult(
        folder,
        folder / BEST,
        folder / LAST,
        state.epoch,
        state.best_epoch,
        _finite(state.best_accuracy),
        state.stopped_early,
        tuple(read_log(folder / LOG)),
    )


def _finite(value: float) -> float | None:
    return None if not math.isfinite(value) else float(value)


def _describe_training(dataset: Dataset, split: str | None, clips: int) -> str:
    side = f"the {split} training side" if split else "all clips"
    return f"{dataset.root.name}: {clips} clips of {side} ({len(dataset.class_names)} classes)"


def _check_fresh(folder: Path) -> None:
    if (folder / LAST).exists():
        raise DataError(
            folder / LAST, "this folder holds a training run already: pass --resume, or choose another --out"
        )


# ---------------------------------------------------------------------------------- logs and resuming


def _tensorboard(folder: Path) -> Any:
    try:
        from torch.utils.tensorboard import SummaryWriter
    except ImportError:  # tensorboard is in the [train] extra; the CSV log is always written
        log.warning("tensorboard is not installed: only %s is written", folder / LOG)
        return None
    return SummaryWriter(log_dir=str(folder / "tensorboard"))


def _log_epoch(folder: Path, writer: Any, row: Mapping[str, float]) -> None:
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


def _save_resume(
    path: Path, optimizer: torch.optim.Optimizer, rng: np.random.Generator, state: _RunState
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


def _restore(
    folder: Path,
    model: nn.Module,
    config: ModelConfig,
    optimizer: torch.optim.Optimizer,
    rng: np.random.Generator,
    device: torch.device,
) -> _RunState:
    """Load `last` and `resume` into the model, optimiser and RNGs; the run's counters."""
    last, resume_path = folder / LAST, folder / RESUME
    for path in (last, resume_path):
        if not path.is_file():
            raise DataError(path, "nothing to resume: this file of a previous run is missing")
    saved, saved_config, _ = checkpoint.load(last)
    if type(saved) is not type(model) or saved_config != config:
        raise DataError(last, "the run in this folder trained another model or config than the one asked for")
    model.load_state_dict(saved.state_dict())
    from safetensors import safe_open

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
    return _RunState(**json.loads(header["run"]))


# ---------------------------------------------------------------------------------- two streams


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


def train_both(
    dataset: Dataset,
    cache: str | Path,
    out: str | Path,
    *,
    split: str | None = "cs",
    config: ModelConfig | None = None,
    settings: TrainSettings | None = None,
    resume: bool = False,
    progress: bool = True,
    trained_on: str | None = None,
) -> tuple[Path, TrainResult, TrainResult]:
    """Train the pose stream, then the RGB stream, into `out`/pose and `out`/rgb; combine their best."""
    folder = Path(out)
    results = {}
    for stream in ("pose", "rgb"):
        sub = folder / stream
        again = resume and (sub / LAST).exists()
        results[stream] = train_stream(
            stream,
            dataset,
            cache,
            sub,
            split=split,
            config=config,
            settings=settings,
            resume=again,
            progress=progress,
            trained_on=trained_on,
        )
    combined = combine_streams(results["pose"].best, results["rgb"].best, folder / TWO_STREAM)
    return combined, results["pose"], results["rgb"]
