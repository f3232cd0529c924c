"""Training both streams of a small two-stream model on a few examples' cached glimpse features.

Both streams learn at once from the same augmented windows, each from its own loss (the sum of the pose
stream's and the RGB stream's cross-entropy: their parameters are disjoint, so this is the paper's
"each stream trained on its own", in one loop). Per epoch every training example gives
`windows_per_example` random live windows (`models.windows.time_window`: a random grid origin and
end time), each with its pose rotated, scaled and jittered and, for an action that is not
hand-specific, mirrored half of the time (`teach.augment`).

Early stopping: when every action has at least `hold_out_from` examples, one example of each is held
out, and each stream keeps its weights of the epoch with its lowest loss on the held-out examples' live
windows, stopping `patience` epochs after neither improved; with fewer, nothing is held out (said in
`TeachOutcome.notes`) and both streams train `fixed_epochs` epochs.

The model starts from the base model's pose stream and attention MLPs when `use_base_weights`
(`teach.base`); the classifiers and the RGB GRU start fresh.
"""

from __future__ import annotations

import copy
import dataclasses
import math
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import numpy as np
import torch
from torch import nn

from sta_hands.models.config import ModelConfig
from sta_hands.models.two_stream import ModelOutput, TwoStreamModel
from sta_hands.models.windows import live_windows, time_window, window_seconds_of
from sta_hands.teach.augment import PoseAugmentation, mirror, rotate_scale_jitter
from sta_hands.teach.features import FRAME_STRIDE, ExampleFeatures


@dataclass(frozen=True)
class TeachSettings:
    """How `sta-hands teach` trains (`TINY` for tests)."""

    max_epochs: int = 25  # with a held-out share: at most this many, early stopping decides
    fixed_epochs: int = 20  # without one
    patience: int = 6  # epochs without a better held-out loss in either stream
    min_delta: float = 0.01  # a held-out loss this much lower is better (the RGB stream's creeps down)
    windows_per_example: int = 8  # training windows drawn from each example per epoch
    batch_size: int = 32
    learning_rate: float = 1e-3  # the paper's 1e-4 is for 40,000 clips; a few dozen need larger steps
    hold_out_from: int = 4  # an action needs this many examples before one is held out
    window_share: float = 0.67  # the live window: this share of the examples' median duration
    frame_stride: int = FRAME_STRIDE
    use_base_weights: bool = True
    mirror_share: float = 0.5  # of the windows of a not-hand-specific action
    # PyTorch threads: a 150-unit GRU on 16 windows gains nothing from more, and on a busy machine
    # (measured: load 15 on 2 cores) two spinning threads made each step 20x slower than one
    threads: int = 1
    pose: PoseAugmentation = field(default_factory=PoseAugmentation)
    seed: int = 0


TINY = TeachSettings(max_epochs=6, fixed_epochs=6, patience=3, windows_per_example=4, batch_size=8)


@dataclass
class TeachOutcome:
    model: TwoStreamModel
    window_seconds: float
    epochs: int
    validation_accuracy: float | None  # fused, over the held-out examples' live windows
    held_out: tuple[str, ...]
    notes: list[str]


EpochCallback = Callable[[int, int, str], None]  # (epochs done, epochs at most, message)


def hold_out(
    data: Sequence[ExampleFeatures], settings: TeachSettings
) -> tuple[list[int], list[int], str | None]:
    """(training positions, held-out positions, a note when nothing could be held out)."""
    actions = sorted({item.example.action for item in data})
    counts = {a: sum(item.example.action == a for item in data) for a in actions}
    if min(counts.values()) < settings.hold_out_from:
        fewest = min(counts, key=counts.__getitem__)
        note = (
            f"too few examples to hold any out ('{fewest}' has {counts[fewest]}; holding one out of each "
            f"action needs {settings.hold_out_from}): trained {settings.fixed_epochs} epochs, no validation"
        )
        return list(range(len(data))), [], note
    rng = np.random.default_rng([settings.seed, 0x401D])
    held = sorted(
        int(rng.choice([i for i, item in enumerate(data) if item.example.action == a])) for a in actions
    )
    return [i for i in range(len(data)) if i not in held], held, None


def window_of(
    item: ExampleFeatures, frames: np.ndarray, mirrored: bool
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(features T x 4 x D float32, hand_mask T x 4, pose T x 150) of one window of an example."""
    clip = item.clip
    features, mask, pose = clip.features[frames].astype(np.float32), clip.hand_mask[frames], clip.pose[frames]
    if mirrored:
        assert item.flipped is not None
        pose, mask, features, _ = mirror(pose, mask, item.flipped.features[frames].astype(np.float32))
    return features, mask, pose


def _batch(windows: list[tuple[np.ndarray, np.ndarray, np.ndarray]]) -> tuple[torch.Tensor, ...]:
    return tuple(
        torch.from_numpy(np.ascontiguousarray(np.stack(parts))) for parts in zip(*windows, strict=True)
    )


Data = Sequence[ExampleFeatures]
Windows = Sequence[tuple[int, np.ndarray]]  # (position in the data, frame indices)


def _training_windows(
    data: Data, positions: Sequence[int], seconds: float, length: int, settings: TeachSettings,
    rng: np.random.Generator,
) -> list[tuple[int, np.ndarray, bool]]:  # fmt: skip
    drawn = []
    for p in positions:
        item = data[p]
        for _ in range(settings.windows_per_example):
            frames = time_window(item.clip.timestamps, seconds, length, rng)
            flip = item.flipped is not None and rng.random() < settings.mirror_share
            drawn.append((p, frames, flip))
    return [drawn[i] for i in rng.permutation(len(drawn))]


def validation_windows(item: ExampleFeatures, seconds: float, length: int, most: int = 6) -> list[np.ndarray]:
    """Up to `most` of the live windows the app classifies on the example, evenly spread."""
    windows = live_windows(item.clip.timestamps, seconds, length) or [
        time_window(item.clip.timestamps, seconds, length)
    ]
    picks = np.unique(np.linspace(0, len(windows) - 1, min(most, len(windows))).round().astype(int))
    return [windows[i] for i in picks]


def teach_model(
    data: Sequence[ExampleFeatures],
    config: ModelConfig,
    settings: TeachSettings,
    *,
    base: Callable[[TwoStreamModel], str] | None = None,
    deadline: float | None = None,
    on_epoch: EpochCallback | None = None,
) -> TeachOutcome:
    """Train a `TwoStreamModel` of `config` on `data` (labels: `example.clip.label`); see the module doc.
    `base(model)` loads the base model's transferable weights and describes them; `deadline`
    (time.monotonic) ends training early."""
    threads = torch.get_num_threads()
    torch.set_num_threads(settings.threads)
    try:
        return _teach(data, config, settings, base, deadline, on_epoch)
    finally:
        torch.set_num_threads(threads)


def _teach(
    data: Data, config: ModelConfig, settings: TeachSettings, base: Callable[[TwoStreamModel], str] | None,
    deadline: float | None, on_epoch: EpochCallback | None,
) -> TeachOutcome:  # fmt: skip
    torch.manual_seed(settings.seed)
    torch.set_flush_denormal(True)
    rng = np.random.default_rng([settings.seed, 0x7EAC])
    train, held, note = hold_out(data, settings)
    notes = [note] if note else []
    seconds = settings.window_share * window_seconds_of(data[p].clip.timestamps for p in train)
    length = config.window
    model = TwoStreamModel(config)
    if base is not None and settings.use_base_weights:
        notes.append(base(model))
    optimizer = torch.optim.Adam(model.parameters(), lr=settings.learning_rate)
    validation = [(p, w) for p in held for w in validation_windows(data[p], seconds, length)]
    epochs_at_most = settings.max_epochs if held else settings.fixed_epochs
    best = {"pose": (math.inf, copy.deepcopy(model.pose_stream.state_dict())),
            "rgb": (math.inf, copy.deepcopy(model.rgb_stream.state_dict()))}  # fmt: skip
    since_best, epoch = 0, 0
    if on_epoch is not None:
        held_text = f", {len(held)} held out" if held else ""
        on_epoch(0, epochs_at_most, f"training on {len(train)} examples{held_text}")
    while epoch < epochs_at_most:
        loss = _train_epoch(model, optimizer, data, train, seconds, length, settings, rng)
        epoch += 1
        message = f"epoch {epoch}: training loss {loss:.3f}"
        if validation:
            losses = _validation_losses(model, data, validation)
            improved = False
            for stream, value in losses.items():
                if value < best[stream][0] - settings.min_delta:
                    best[stream] = (value, copy.deepcopy(getattr(model, f"{stream}_stream").state_dict()))
                    improved = True
            since_best = 0 if improved else since_best + 1
            message += f", held-out loss pose {losses['pose']:.3f} rgb {losses['rgb']:.3f}"
        if on_epoch is not None:
            on_epoch(epoch, epochs_at_most, message)
        stop = None
        if validation and since_best >= settings.patience:
            stop = f"stopped early after {_epochs(epoch)} (no better held-out loss for {_epochs(since_best)})"
        elif deadline is not None and time.monotonic() > deadline and epoch < epochs_at_most:
            stop = f"stopped after {_epochs(epoch)}: the time budget was spent"
        if stop is not None:
            notes.append(stop)
            if on_epoch is not None:
                on_epoch(epoch, epoch, stop)  # the progress bar ends full
            break
    if validation:
        model.pose_stream.load_state_dict(best["pose"][1])
        model.rgb_stream.load_state_dict(best["rgb"][1])
    model.eval()
    accuracy = _accuracy(model, data, validation) if validation else None
    held_names = tuple(data[p].example.name for p in held)
    return TeachOutcome(model, seconds, epoch, accuracy, held_names, notes)


def _train_epoch(
    model: TwoStreamModel, optimizer: torch.optim.Optimizer, data: Data, positions: Sequence[int],
    seconds: float, length: int, settings: TeachSettings, rng: np.random.Generator,
) -> float:  # fmt: skip
    model.train()
    windows = _training_windows(data, positions, seconds, length, settings, rng)
    total = 0.0
    for start in range(0, len(windows), settings.batch_size):
        chunk = windows[start : start + settings.batch_size]
        arrays = [window_of(data[p], frames, flip) for p, frames, flip in chunk]
        features, mask, pose = _batch(arrays)
        pose = torch.from_numpy(rotate_scale_jitter(pose.numpy(), rng, settings.pose))
        labels = torch.tensor([data[p].example.clip.label for p, _, _ in chunk])
        out = model(features, mask, pose)
        loss = nn.functional.cross_entropy(out.pose_logits, labels) + nn.functional.cross_entropy(
            out.rgb_logits, labels
        )
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        optimizer.step()
        total += float(loss.detach()) * len(chunk)
    return total / max(len(windows), 1)


@torch.no_grad()
def _outputs(model: TwoStreamModel, data: Data, windows: Windows) -> tuple[ModelOutput, torch.Tensor]:
    model.eval()
    features, mask, pose = _batch([window_of(data[p], frames, False) for p, frames in windows])
    labels = torch.tensor([data[p].example.clip.label for p, _ in windows])
    return model(features, mask, pose), labels


def _validation_losses(model: TwoStreamModel, data: Data, windows: Windows) -> dict[str, float]:
    out, labels = _outputs(model, data, windows)
    return {
        "pose": float(nn.functional.cross_entropy(out.pose_logits, labels)),
        "rgb": float(nn.functional.cross_entropy(out.rgb_logits, labels)),
    }


def _accuracy(model: TwoStreamModel, data: Data, windows: Windows) -> float:
    out, labels = _outputs(model, data, windows)
    return float((out.logits.argmax(dim=1) == labels).float().mean())


def config_for(base_config: ModelConfig, classes: int) -> ModelConfig:
    """The base model's architecture with `classes` outputs."""
    return dataclasses.replace(base_config, num_classes=classes)


def _epochs(count: int) -> str:
    return f"{count} epoch{'s' * (count != 1)}"
