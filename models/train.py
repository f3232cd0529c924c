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

import dataclasses
import json
import logging
import math
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import numpy as np
import torch
from torch import nn
from tqdm import tqdm

from sta_hands.models import checkpoint
from sta_hands.models.attention_supervision import attention_supervision_loss
from sta_hands.models.config import ModelConfig
from sta_hands.models.data import ClipRef, DataError, Dataset
from sta_hands.models.features.store import FeatureStore
from sta_hands.models.inference import (
    Stream,
    build_stream,
    choose_device,
    predict,
    to_tensors,
    training_outputs,
)
from sta_hands.models.train_state import (
    BEST,
    LAST,
    LOG,
    LOG_COLUMNS,
    RESUME,
    TWO_STREAM,
    RunState,
    combine_streams,
    log_epoch,
    read_log,
    restore,
    save_resume,
    tensorboard,
)
from sta_hands.models.windows import Sampling, draw_window, window_seconds_of

__all__ = ["BEST", "LAST", "LOG", "TrainResult", "TrainSettings", "combine_streams", "load_config_file",
           "predict", "train_both", "train_stream"]  # fmt: skip

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class TrainSettings:
    """How a stream is trained; the numbers are the paper's (experiments, implementation details)."""

    learning_rate: float = 1e-4  # Adam, learning rate 1e-4
    batch_size: int = 32  # batches of 32 sequences
    epochs: int = 100  # at most 100 epochs
    validation_fraction: float = 0.05  # 5% of the training set held out for early stopping
    patience: int = 20  # not in the paper: epochs without a better validation score before stopping
    # not in the paper: live windows; or the paper's "segments", "chunk", or "time+segments" (both at random)
    sampling: Sampling = "time"
    # not in the paper: what "best on validation" means; the loss is smoother on small validation sets
    select_on: Literal["accuracy", "loss"] = "accuracy"
    # Deep GRU "learns from all hidden states", and so does the RGB stream without temporal attention
    # (paper: "the same settings as the pose stream"): the loss is the mean of every step's loss.
    # False: one loss on the averaged logits (what this code did before).
    step_loss: bool = True
    # not in the paper, whose spatial attention is unsupervised: the weight of a loss that puts STA-Hands'
    # spatial attention on the hands the clips' sidecars say act (`models.attention_supervision`;
    # synthetic clips only). 0: none, the paper's.
    attention_supervision: float = 0.0
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
    size = settings.batch_size
    chunks = [order[start : start + size] for start in range(0, len(order), size)]
    draws = [[(int(p), _draw(store, p, window, seconds, rng, settings.sampling)) for p in c] for c in chunks]
    total_loss, correct = 0.0, 0
    for chunk, arrays in zip(chunks, store.batches(draws), strict=True):  # the next batches read meanwhile
        inputs = to_tensors(arrays, device)
        labels = torch.from_numpy(store.labels(chunk)).to(device)
        outputs, spatial = training_outputs(model, inputs, settings.step_loss)
        loss, logits = _loss_and_logits(outputs, labels)
        if settings.attention_supervision > 0 and spatial is not None:
            supervision = attention_supervision_loss(spatial, inputs["active_hands"], inputs["hand_mask"])
            loss = loss + settings.attention_supervision * supervision
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        optimizer.step()
        total_loss += float(loss.detach()) * len(chunk)
        correct += int((logits.argmax(dim=1) == labels).sum())
    return total_loss / max(len(order), 1), correct / max(len(order), 1)


def _loss_and_logits(outputs: torch.Tensor, labels: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """Cross-entropy of B x C logits, or the mean over steps of B x T x C step logits' (the label is
    every step's); and the B x C logits the prediction is (the steps averaged)."""
    if outputs.ndim == 2:
        return nn.functional.cross_entropy(outputs, labels), outputs
    steps = outputs.shape[1]
    loss = nn.functional.cross_entropy(outputs.flatten(0, 1), labels.repeat_interleave(steps))
    return loss, outputs.mean(dim=1)


def _draw(store: FeatureStore, p: int, window: int, seconds: float, rng, sampling: Sampling) -> np.ndarray:
    return draw_window(store.timestamps(int(p)), window, seconds, rng, sampling)


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
    clips = store.clips  # less those whose files could not be read when the features were made
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
    state = RunState()
    if resume:
        state = restore(folder, model, config, optimizer, rng, device)
    else:
        _check_fresh(folder)
    folder.mkdir(parents=True, exist_ok=True)
    seconds = window_seconds_of(store.timestamps(int(p)) for p in train_positions)  # live and drawn
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
    writer = tensorboard(folder)
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
            log_epoch(folder, writer, row)
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
            save_resume(folder / RESUME, optimizer, rng, state)
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


# ---------------------------------------------------------------------------------- two streams


def train_both(
    dataset: Dataset, cache: str | Path, out: str | Path, *, resume: bool = False, **options: Any
) -> tuple[Path, TrainResult, TrainResult]:
    """Train the pose stream, then the RGB stream, into `out`/pose and `out`/rgb; combine their best.
    `options`: `train_stream`'s (split, config, settings, progress, trained_on)."""
    folder = Path(out)
    results = {}
    for stream in ("pose", "rgb"):
        sub = folder / stream
        again = resume and (sub / LAST).exists()
        results[stream] = train_stream(stream, dataset, cache, sub, resume=again, **options)
    combined = combine_streams(results["pose"].best, results["rgb"].best, folder / TWO_STREAM)
    return combined, results["pose"], results["rgb"]
