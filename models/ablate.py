"""The paper's ablations (tables 2 and 3) as one command, and its claims checked on synthetic data.

`run_ablation` trains and evaluates the RGB-stream variants of table 2 (by default every one of its
nine configurations, `models.paper_tables.TABLE2_VARIANTS`: spatial integration x temporal pooling,
`RgbStreamConfig.spatial` / `.temporal`), the pose stream (Deep GRU), and each RGB variant with the
pose stream (table 3; Concat has no row there), and writes `table.md`: tables 2, 3 and 1 laid out
like the paper's with its NTU RGB+D figures (CS / CV / Avg) beside ours and both rankings
(`models.paper_tables`: the figures, which of our configurations stands for which row, and where
they differ). Runs that exist already are resumed or reused, so an interrupted ablation continues
where it stopped.

The claims check on synthetic data (`sta-hands ablate --quick`) is `models.claims.check_claims`.
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from sta_hands.models.claims import check_claims
from sta_hands.models.config import ModelConfig
from sta_hands.models.data import find_dataset
from sta_hands.models.paper_tables import TABLE2_VARIANTS, ablation_markdown, two_stream_name, variant_name
from sta_hands.models.trials import PAPER_SAMPLING, Trial, run_trials_here, two_stream_run

__all__ = ["check_claims", "run_ablation"]  # check_claims: the command's `--quick`, imported from here


def _base_config(config: str | Path | ModelConfig | None) -> tuple[ModelConfig, dict[str, Any]]:
    if isinstance(config, ModelConfig):
        return config, {}
    if config is None:
        return ModelConfig(), {}
    from sta_hands.models.train import load_config_file

    return load_config_file(config)


def run_ablation(
    data: str | Path,
    features: str | Path,
    out: str | Path,
    *,
    split: str = "cs",
    epochs: int | None = None,
    config: str | Path | ModelConfig | None = None,
    train: dict[str, Any] | None = None,
    variants: Sequence[tuple[str, str]] = TABLE2_VARIANTS,
    run_trials: Callable[[Sequence[Trial]], list[dict[str, Any]]] = run_trials_here,
    seeds: Sequence[int] = (),
) -> str:
    """Train and evaluate the RGB `variants` (spatial, temporal), Deep GRU, and each variant with Deep
    GRU (but Concat, which table 3 lacks); write and return `out`/table.md (and ablation.json).
    `run_trials` runs the training runs (one per stream, variant and seed, independent of each other):
    here one by one, or in parallel (`models.ray_ablate.ray_trials`); the two-stream ones follow here.
    With several `seeds`, each seed's runs are in `out`/seed-N and the table gives the mean over seeds
    (ablation.json has each seed's figures too); else the one seed is the training settings'."""
    from sta_hands.models.train import TrainSettings

    dataset = find_dataset(data)
    base, overrides = _base_config(config)
    overrides = {
        **PAPER_SAMPLING,
        **overrides,
        **(train or {}),
        **({"epochs": epochs} if epochs is not None else {}),
    }
    settings = TrainSettings.from_dict(overrides)
    folder, cache = Path(out), Path(features)
    if len(seeds) == 1:
        settings = dataclasses.replace(settings, seed=seeds[0])
    runs = {seed: folder / f"seed-{seed}" for seed in seeds} if len(seeds) > 1 else {settings.seed: folder}
    configs = {"pose": base}
    for spatial, temporal in variants:
        rgb = dataclasses.replace(base.rgb, spatial=spatial, temporal=temporal)
        configs[variant_name(spatial, temporal)] = dataclasses.replace(base, rgb=rgb)
    trials = {
        (name, seed): Trial(
            "pose" if name == "pose" else "rgb", config, runs[seed] / name, dataset, cache, split,
            dataclasses.replace(settings, seed=seed),
        )
        for seed in runs for name, config in configs.items()
    }  # fmt: skip
    trained = dict(zip(trials, run_trials(list(trials.values())), strict=True))
    by_seed: dict[int, dict[str, dict[str, Any]]] = {}
    for seed, run in runs.items():
        reports = by_seed.setdefault(seed, {"pose": trained["pose", seed]})
        for spatial, temporal in variants:
            name = variant_name(spatial, temporal)
            reports[name] = trained[name, seed]
            if spatial != "concat":
                two = two_stream_name(spatial, temporal)
                reports[two] = two_stream_run(dataset, cache, run / "pose", run / name, run / two, split)
    summaries = {
        seed: {
            name: {"accuracy": r["accuracy"], "attention_score": r["attention_score"]}
            for name, r in rs.items()
        }
        for seed, rs in by_seed.items()
    }
    summary = _mean_summary(list(summaries.values()))
    table = ablation_markdown(summary, split, dataset.root.name)
    if len(runs) > 1:
        table += f"\nMean over seeds {', '.join(str(seed) for seed in runs)}.\n"
        summary = {**summary, "seeds": {str(seed): figures for seed, figures in summaries.items()}}
    (folder / "table.md").write_text(table, encoding="utf-8")
    (folder / "ablation.json").write_text(json.dumps(summary, indent=2) + "\n", encoding="utf-8")
    return table


def _mean_summary(summaries: Sequence[dict[str, dict[str, Any]]]) -> dict[str, dict[str, Any]]:
    """Each run's accuracies and attention score, the mean over seeds (None where a seed has none)."""

    def mean(values: list[Any]) -> float | None:
        return None if any(v is None for v in values) else float(np.mean(values))

    first = summaries[0]
    return {
        name: {
            "accuracy": {key: mean([s[name]["accuracy"][key] for s in summaries]) for key in run["accuracy"]},
            "attention_score": mean([s[name]["attention_score"] for s in summaries]),
        }
        for name, run in first.items()
    }
