"""`sta-hands ablate --engine ray`: the ablation's training runs as parallel Ray tasks.

Each trial (Deep GRU, each RGB variant of table 2) is one plain Ray task that trains and evaluates its
run (`models.trials.run_trial`) with `cpus_per_trial` CPUs (torch uses as many threads) and
`gpus_per_trial` GPUs; the driver gathers the reports, adds the two-stream rows (cheap: evaluation
only) and writes the same `table.md` as a local ablation. The trials read the feature cache and write
their run folders at the paths the driver gives, so on a cluster of several machines the cache and
`--out` must be on a file system every node mounts at the same path (a single-machine Ray needs
nothing). A rerun resumes or reuses the runs that exist, as a local ablation does.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from sta_hands.models.ray_engine import connect
from sta_hands.models.trials import Trial, run_trial


def _trial_task(trial: Trial, threads: int) -> dict[str, Any]:
    import torch

    torch.set_num_threads(max(1, threads))
    return run_trial(trial)


def ray_trials(
    address: str | None = None, *, cpus_per_trial: int = 1, gpus_per_trial: float = 0.0
) -> Callable[[Sequence[Trial]], list[dict[str, Any]]]:
    """A `run_trials` for `models.ablate.run_ablation` that runs every trial at once on Ray."""

    def run(trials: Sequence[Trial]) -> list[dict[str, Any]]:
        ray = connect(address)
        task = ray.remote(num_cpus=cpus_per_trial, num_gpus=gpus_per_trial)(_trial_task)
        return list(ray.get([task.remote(trial, cpus_per_trial) for trial in trials]))

    return run
