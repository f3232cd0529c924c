"""The local feature engine: this machine's processes decode and crop, this process runs the CNN.

`LocalEngine(backbone, batch, workers)` runs `models.features.jobs.prepare_clip` (decoding and cropping,
the CPU half of a clip's job) in `workers` processes, at most `2 x workers` clips ahead, and the glimpse
CNN (`embed_clip`, GPU when the backbone is on one) here on each clip as it arrives, so the decoders
keep the CNN fed. `workers=0` decodes in one thread beside the CNN (a small job, or a test).
The cluster engine is `models.ray_engine.RayEngine`; both yield the same `ClipResult`s.
"""

from __future__ import annotations

import multiprocessing
import os
from collections.abc import Iterator
from concurrent.futures import Executor, ProcessPoolExecutor, ThreadPoolExecutor
from typing import TYPE_CHECKING

from sta_hands.models.data import ClipRef
from sta_hands.models.features.jobs import (
    BackboneRecipe,
    ClipResult,
    FeatureEngine,
    embed_clip,
    in_order,
    prepare_clip,
)

if TYPE_CHECKING:
    from sta_hands.models.glimpse import GlimpseBackbone


def default_workers() -> int:
    """Decoding processes by default: one per core but the one the CNN runs on."""
    return max(1, (os.cpu_count() or 2) - 1)


class LocalEngine:
    """Decoding and cropping in `workers` processes (0: one thread), the CNN in this process."""

    def __init__(self, backbone: GlimpseBackbone, batch: int = 64, workers: int = 0) -> None:
        if workers < 0:
            raise ValueError(f"workers={workers}, expected 0 (one thread) or more processes")
        self.backbone = backbone
        self.batch = batch
        self.workers = workers

    def _executor(self) -> Executor:
        if self.workers == 0:
            return ThreadPoolExecutor(max_workers=1)
        # spawn: the workers import only the decoding code, never this process's torch threads
        return ProcessPoolExecutor(self.workers, mp_context=multiprocessing.get_context("spawn"))

    def results(self, clips: list[ClipRef]) -> Iterator[ClipResult]:
        """Each clip's result in the clips' order, the next ones decoded while the CNN runs."""
        with self._executor() as pool:
            for prepared in in_order(pool, prepare_clip, clips, ahead=max(2, 2 * self.workers)):
                yield embed_clip(prepared, self.backbone, self.batch)


def build_engine(
    kind: str,
    backbone: GlimpseBackbone,
    recipe: BackboneRecipe,
    *,
    batch: int = 64,
    workers: int | None = None,
    address: str | None = None,
    gpus_per_worker: float = 0.0,
) -> FeatureEngine:
    """The engine `sta-hands features --engine` names. local: `workers` decoding processes (default
    one per core but one); ray: `workers` CNN actors (default: one per GPU, else 3/4 of the CPUs) on
    the cluster at `address` (default: a new local Ray instance)."""
    if kind == "local":
        return LocalEngine(backbone, batch, default_workers() if workers is None else workers)
    if kind == "ray":
        from sta_hands.models.ray_engine import RayEngine

        return RayEngine(recipe, batch, address=address, actors=workers, gpus_per_actor=gpus_per_worker)
    raise ValueError(f"engine={kind!r}, expected 'local' or 'ray'")
