"""The cluster feature engine: the same per-clip jobs as Ray tasks and actors (`pip install
'sta-hands[cluster]'`; Ray is imported only here, and only when a Ray engine runs).

- Decoding and cropping (`models.features.jobs.prepare_clip`) are Ray tasks of one CPU each, placed by
  Ray on any node;
- the glimpse CNN runs in `actors` long-lived Ray actors (`GlimpseActor`), each holding one backbone
  (`BackboneRecipe.build`), with `gpus_per_actor` GPUs (the GPU nodes) or `cpus_per_actor` CPUs; a
  prepared clip goes from its task to an actor through Ray's object store, never through the driver;
- each actor returns the clip's arrays without its crops (1.4 MB for a 84-frame NTU clip at 2048
  features) and the driver writes them into the cache. So the cache is one folder on the driver's
  machine, written by one process, atomically per clip, exactly as the local engine writes it: no
  shared file system is needed, and there is nothing to gather afterwards.

Every node needs sta-hands installed (the same version) and, for pretrained weights, the same weights
file path or torchvision's cache filled. The clips' files must be readable at the same path on every
node that runs a decoding task (a shared read-only mount of the NTU download).
"""

from __future__ import annotations

import logging
import os
from collections.abc import Iterator
from dataclasses import KW_ONLY, dataclass
from typing import Any

from sta_hands.models.data import ClipRef, DataError
from sta_hands.models.features.jobs import BackboneRecipe, ClipResult, PreparedClip, embed_clip, prepare_clip

INSTALL = "pip install 'sta-hands[cluster]'  (or: pip install 'ray>=2.9')"
RAY_CLUSTER_MODE = "RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER"  # Ray's switch between one machine and a cluster
LOOPBACK = ("127.0.0.1", "::1", "localhost")

log = logging.getLogger(__name__)


def import_ray() -> Any:
    """The `ray` module, or a one-line error naming the install command."""
    try:
        import ray
    except ImportError:
        raise DataError(None, f"--engine ray needs Ray: {INSTALL}") from None
    return ray


def connect(address: str | None) -> Any:
    """Ray, connected: to `address` ("auto", "ray://host:10001", "host:6379"), else to the instance
    this process runs already, else to a new local instance on this machine, which listens on the
    loopback address alone (anyone who reaches a Ray instance's ports can run code: docs/ntu.md)."""
    if address is None:
        # Ray reads this once, when imported: "0" is its single-machine mode (its default on Windows and
        # macOS), every server of the instance on 127.0.0.1 rather than on all interfaces (Ray 2.60 on
        # Linux: the GCS, the raylet and the workers listen on *:PORT without it)
        os.environ.setdefault(RAY_CLUSTER_MODE, "0")
    ray = import_ray()
    if ray.is_initialized():
        return ray
    if address is None:
        ray.init(include_dashboard=False, log_to_driver=False)
        node = ray.util.get_node_ip_address()
        if node not in LOOPBACK:
            log.warning(
                "the local Ray instance listens on %s, not on the loopback address alone (Ray was imported "
                "before this engine, or %s is set): anyone who reaches its ports can run code here",
                node,
                RAY_CLUSTER_MODE,
            )
    else:
        ray.init(address=address)  # a cluster's own settings; a ray:// client passes nothing more
    return ray


class GlimpseActor:
    """A Ray actor's state: one backbone, built once where the actor runs."""

    def __init__(self, recipe: BackboneRecipe, batch: int, threads: int) -> None:
        import torch

        torch.set_num_threads(max(1, threads))
        self.backbone, self.weights = recipe.build()
        self.batch = batch

    def embed(self, prepared: PreparedClip) -> ClipResult:
        return embed_clip(prepared, self.backbone, self.batch)


@dataclass
class RayEngine:
    """The per-clip jobs over a Ray cluster (module docstring); results in completion order. `address`:
    the cluster's (None: the one this process runs, else a new one on this machine); `actors`: how many
    GlimpseActors (None: as many as the cluster's GPUs, or three quarters of its CPUs, allow)."""

    recipe: BackboneRecipe
    batch: int = 64
    _: KW_ONLY
    address: str | None = None
    actors: int | None = None
    cpus_per_actor: int = 1
    gpus_per_actor: float = 0.0

    def _actor_count(self, ray: Any) -> int:
        if self.actors is not None:
            return max(1, self.actors)
        resources = ray.cluster_resources()
        if self.gpus_per_actor > 0:
            return max(1, int(resources.get("GPU", 0) / self.gpus_per_actor))
        # CPU only: the CNN is the slow half (about 10x the decoding), so most CPUs run it
        return max(1, int(resources.get("CPU", 1) * 3 // 4) // max(1, self.cpus_per_actor))

    def results(self, clips: list[ClipRef]) -> Iterator[ClipResult]:
        ray = connect(self.address)
        prepare = ray.remote(num_cpus=1)(prepare_clip)
        actor_class = ray.remote(num_cpus=self.cpus_per_actor, num_gpus=self.gpus_per_actor)(GlimpseActor)
        count = self._actor_count(ray)
        threads = self.cpus_per_actor if self.gpus_per_actor == 0 else min(4, os.cpu_count() or 1)
        actors = [actor_class.remote(self.recipe, self.batch, threads) for _ in range(count)]
        ahead = 4 * count + 2  # clips in flight: enough to keep every actor busy, few in memory
        upcoming = iter(enumerate(clips))
        pending: list[Any] = []
        try:
            while True:
                while len(pending) < ahead:
                    item = next(upcoming, None)
                    if item is None:
                        break
                    index, clip = item
                    pending.append(actors[index % count].embed.remote(prepare.remote(clip)))
                if not pending:
                    return
                done, pending = ray.wait(pending, num_returns=1)
                yield ray.get(done[0])
        finally:
            for ref in pending:
                ray.cancel(ref)
            for actor in actors:
                ray.kill(actor)
