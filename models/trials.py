"""The training runs of the paper's experiments: one stream trained (or resumed, or reused) and
evaluated in its run folder, and two trained streams combined into the two-stream model and evaluated.

Both the ablation (`models.ablate`) and the synthetic claims check (`models.claims`) are made of these
runs; a `Trial` is one of them as data, so that an ablation can hand its runs to another process or a
Ray cluster (`models.ray_ablate`).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sta_hands.models.config import ModelConfig
from sta_hands.models.data import Dataset

# The paper's tables are measured with its windows: one frame per equal segment (not the app's live
# windows, `TrainSettings`' default), in `run_ablation` and `check_claims` unless a config says otherwise.
PAPER_SAMPLING = {"sampling": "segments"}


def train_and_evaluate(
    stream: str, dataset: Dataset, cache: Path, folder: Path, split: str, config: ModelConfig, settings: Any
) -> dict[str, Any]:
    """Train (or resume, or reuse) one stream in `folder`; evaluate its best checkpoint on the test side."""
    from sta_hands.models.evaluate import evaluate_checkpoint, write_report
    from sta_hands.models.train import LAST, train_stream

    result = train_stream(
        stream,
        dataset,
        cache,
        folder,
        split=split,
        config=config,
        settings=settings,
        resume=(folder / LAST).exists(),
        progress=False,
    )
    report = evaluate_checkpoint(result.best, dataset, cache, split=split)
    report["epochs"], report["best_epoch"] = result.epochs, result.best_epoch
    write_report(report, folder / "evaluation")
    return report


@dataclass(frozen=True)
class Trial:
    """One training run of an ablation: a stream, its variant's config, its run folder."""

    stream: str
    config: ModelConfig
    folder: Path
    dataset: Dataset
    cache: Path
    split: str
    settings: Any  # models.train.TrainSettings


def run_trial(trial: Trial) -> dict[str, Any]:
    """Train (or resume, or reuse) the trial's run and evaluate it (`train_and_evaluate`)."""
    return train_and_evaluate(
        trial.stream, trial.dataset, trial.cache, trial.folder, trial.split, trial.config, trial.settings
    )


def run_trials_here(trials: Sequence[Trial]) -> list[dict[str, Any]]:
    """The trials one after another in this process (`models.ray_ablate` runs them over a cluster)."""
    return [run_trial(trial) for trial in trials]


def two_stream_run(
    dataset: Dataset, cache: Path, pose: Path, rgb: Path, out: Path, split: str
) -> dict[str, Any]:
    """The pose and RGB runs' best checkpoints combined in `out`, and its evaluation."""
    from sta_hands.models.evaluate import evaluate_checkpoint, write_report
    from sta_hands.models.train_state import BEST, combine_streams

    out.mkdir(parents=True, exist_ok=True)
    combined = combine_streams(pose / BEST, rgb / BEST, out / "two_stream.safetensors")
    report = evaluate_checkpoint(combined, dataset, cache, split=split)
    write_report(report, out / "two_stream_evaluation")
    return report
