"""The glimpse-feature cache: every frame's four hand features, computed once per clip (design.md).

`<cache>/<clip name>.npz` holds, for every frame of the clip:
- `features` T x 4 x D float16: the backbone's features of the four hand crops (left-1, right-1,
  left-2, right-2), zeros for an absent hand (absent hands never go through the CNN);
- `pose` T x 150 float32, `hand_mask` T x 4 float32, `timestamps` T float64 (`models.data.clip_inputs`);
- `active_hands` T x 4 uint8 for synthetic clips (the attention ground truth).

`<cache>/cache.json` records the backbone spec (name, input size, normalisation, feature size) and
which weights made the features; a cache made with another backbone is refused with a message.
Each clip file is written to a temporary file and moved into place, so an interrupted run leaves only
whole files, and a rerun computes just the clips that are missing.

`compute_features` drives a run: the per-clip jobs (`models.features.jobs`) run on an engine (this
machine's processes, `models.features.engines.LocalEngine`, or a Ray cluster,
`models.ray_engine.RayEngine`), and only this process writes the cache.
`models.features.store.FeatureStore` reads the clips lazily for training and evaluation.
"""

from __future__ import annotations

import json
import logging
import os
import time
import zipfile
import zlib
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
from tqdm import tqdm

from sta_hands.models.config import BackboneSpec
from sta_hands.models.data import ClipInputs, ClipRef, DataError
from sta_hands.models.features.engines import LocalEngine
from sta_hands.models.features.jobs import BackboneRecipe, ClipTiming, FeatureEngine, estimate_text
from sta_hands.models.features.jobs import (  # its home before the jobs had theirs
    clip_features as clip_features,
)

if TYPE_CHECKING:
    from sta_hands.models.glimpse import GlimpseBackbone

CACHE_FORMAT = 1
INFO_FILE = "cache.json"
CLIP_ARRAYS = ("features", "pose", "hand_mask", "timestamps")  # in every clip's file
UNREADABLE_FILE = "unreadable.json"  # {clip: problem}: the clips `compute_features` could not read
CLIP_SUFFIX = ".npz"
log = logging.getLogger(__name__)
UNREADABLE_CACHED = "unreadable cached clip (delete it; `sta-hands features` computes it again)"
ESTIMATE_AFTER = 5  # clips done before the whole job is estimated


@dataclass(frozen=True)
class CacheInfo:
    """What made a cache's features: the backbone spec and its weights ("imagenet", "random", a path)."""

    backbone: BackboneSpec
    weights: str

    def to_dict(self) -> dict[str, Any]:
        return {"format": CACHE_FORMAT, "backbone": self.backbone.to_dict(), "weights": self.weights}

    def describe(self) -> str:
        return f"{self.backbone.name} at {self.backbone.input_size} px ({self.weights} weights)"


@dataclass(frozen=True, eq=False)
class CachedClip:
    """One clip's arrays, as stored."""

    name: str
    features: np.ndarray  # T x 4 x D float16
    pose: np.ndarray  # T x 150 float32
    hand_mask: np.ndarray  # T x 4 float32
    timestamps: np.ndarray  # T float64
    active_hands: np.ndarray | None  # T x 4 uint8

    @property
    def num_frames(self) -> int:
        return len(self.pose)

    @property
    def nbytes(self) -> int:
        return sum(a.nbytes for a in (self.features, self.pose, self.hand_mask, self.timestamps))


@dataclass(frozen=True)
class FeaturesReport:
    """What a `compute_features` run did, and how fast."""

    computed: tuple[str, ...]
    skipped: tuple[str, ...]  # already in the cache
    failed: tuple[tuple[str, str], ...] = ()  # (clip, problem): a corrupt video, an unreadable skeleton
    frames: int = 0  # frames decoded in this run
    crops: int = 0  # hand crops through the CNN in this run
    seconds: float = 0.0  # wall time of this run
    timing: ClipTiming = field(default_factory=ClipTiming)  # per stage, summed over clips (in parallel)

    def rates(self) -> dict[str, float]:
        """clips/s, frames/s and crops/s of this run (wall time)."""
        seconds = max(self.seconds, 1e-9)
        clips = len(self.computed) + len(self.failed)
        return {
            "clips/s": clips / seconds,
            "frames/s": self.frames / seconds,
            "crops/s": self.crops / seconds,
        }


# -------------------------------------------------------------------------------------------- the cache


def read_cache_info(cache: str | Path) -> CacheInfo:
    """The cache's `cache.json`, or DataError naming it."""
    path = Path(cache) / INFO_FILE
    if not path.is_file():
        raise DataError(path, "not a feature cache (no cache.json); make one with `sta-hands features`")
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        if data.get("format") != CACHE_FORMAT:
            raise DataError(path, f"cache format {data.get('format')!r}, this version reads {CACHE_FORMAT}")
        return CacheInfo(BackboneSpec.from_dict(data["backbone"]), str(data["weights"]))
    except (ValueError, KeyError, TypeError) as error:
        raise DataError(path, f"unreadable cache description: {error}") from None


def open_cache(cache: str | Path, expected: CacheInfo | None = None) -> CacheInfo:
    """Create the cache folder (or check it): a cache holds the features of one backbone only."""
    folder = Path(cache)
    info_path = folder / INFO_FILE
    if not info_path.is_file():
        if expected is None:
            raise DataError(info_path, "not a feature cache (no cache.json)")
        folder.mkdir(parents=True, exist_ok=True)
        _write_atomic(info_path, lambda file: file.write(json.dumps(expected.to_dict(), indent=2).encode()))
        return expected
    found = read_cache_info(folder)
    if expected is not None and found != expected:
        raise DataError(
            info_path,
            f"this cache holds features of {found.describe()}, not {expected.describe()}; "
            "use another cache folder (or delete this one)",
        )
    return found


def clip_path(cache: str | Path, name: str) -> Path:
    return Path(cache) / f"{name}{CLIP_SUFFIX}"


def has_clip(cache: str | Path, name: str) -> bool:
    return clip_path(cache, name).is_file()


def cached_clip_problem(cache: str | Path, name: str) -> str | None:
    """Why the clip's cached file cannot be read (None: it can). Reads the file's zip directory only
    (a small read at its end), so a file cut short or overwritten is found without reading its arrays."""
    try:
        with zipfile.ZipFile(clip_path(cache, name)) as archive:
            stored = set(archive.namelist())
    except (OSError, zipfile.BadZipFile, ValueError) as error:
        return f"{type(error).__name__}: {error}"
    missing = [f"{key}.npy" for key in CLIP_ARRAYS if f"{key}.npy" not in stored]
    return f"no {', '.join(missing)} in it" if missing else None


def write_clip(cache: str | Path, name: str, inputs: ClipInputs, features: np.ndarray) -> Path:
    """Store one clip's arrays atomically (temporary file, then os.replace)."""
    arrays = {
        "features": features.astype(np.float16),
        "pose": inputs.pose.astype(np.float32),
        "hand_mask": inputs.hand_mask.astype(np.float32),
        "timestamps": inputs.timestamps.astype(np.float64),
    }
    if inputs.active_hands is not None:
        arrays["active_hands"] = inputs.active_hands.astype(np.uint8)
    path = clip_path(cache, name)
    _write_atomic(path, lambda file: np.savez(file, **arrays))
    return path


def load_clip(cache: str | Path, name: str) -> CachedClip:
    """One clip's arrays, or DataError naming the file."""
    path = clip_path(cache, name)
    if not path.is_file():
        raise DataError(path, f"clip {name} is not in the feature cache; run `sta-hands features` first")
    try:
        with np.load(path) as data:
            active = data["active_hands"] if "active_hands" in data.files else None
            return CachedClip(
                name, data["features"], data["pose"], data["hand_mask"], data["timestamps"], active
            )
    except (OSError, ValueError, KeyError, EOFError, zipfile.BadZipFile, zlib.error) as error:
        raise DataError(path, f"{UNREADABLE_CACHED}: {type(error).__name__}: {error}") from None


def load_timestamps(cache: str | Path, name: str) -> np.ndarray:
    """One clip's frame times alone (the features stay on disk), or DataError naming the file."""
    path = clip_path(cache, name)
    try:
        with np.load(path) as data:
            return data["timestamps"]
    except (OSError, ValueError, KeyError, EOFError, zipfile.BadZipFile, zlib.error) as error:
        raise DataError(path, f"{UNREADABLE_CACHED}: {type(error).__name__}: {error}") from None


def _write_atomic(path: Path, write: Callable[[Any], None]) -> None:
    temporary = path.with_name(path.name + ".tmp")
    try:
        with open(temporary, "wb") as file:
            write(file)
        os.replace(temporary, path)
    except OSError as error:
        temporary.unlink(missing_ok=True)
        raise DataError(path, f"cannot write: {error.strerror or error}") from None


# ------------------------------------------------------------------------------------ computing features


def compute_features(
    clips: Sequence[ClipRef],
    cache: str | Path,
    backbone: GlimpseBackbone,
    weights: str,
    *,
    batch: int = 64,
    progress: bool = True,
    engine: FeatureEngine | None = None,
) -> FeaturesReport:
    """Write the features of every clip not yet in `cache` (made or checked for this backbone).

    `engine` runs the per-clip jobs (`models.features.jobs`): by default this process with one
    decoding thread (`LocalEngine(backbone, batch)`); `LocalEngine(..., workers=N)` or a
    `models.ray_engine.RayEngine` for more. A clip that cannot be read is skipped and named in the
    report (a rerun tries it again); every other clip is written as soon as it is done, so a run
    stopped at any point and started again finishes with the same cache. With `progress`, a bar
    shows clips/s, crops/s and the time left, and once `ESTIMATE_AFTER` clips are done a line
    estimates the whole job and NTU-60 at the rate measured so far.
    """
    import torch

    torch.set_flush_denormal(True)  # real crops give denormal activations: 10x slower on a CPU without this
    open_cache(cache, CacheInfo(backbone.spec, weights))
    cached = {clip.name for clip in clips if _cached_and_readable(cache, clip.name)}
    todo = [clip for clip in clips if clip.name not in cached]
    skipped = tuple(clip.name for clip in clips if clip.name in cached)
    engine = engine or LocalEngine(backbone, batch)
    computed: list[str] = []
    failed: list[tuple[str, str]] = []
    frames = crops = 0
    timing = ClipTiming()
    started = time.perf_counter()
    bar = tqdm(total=len(todo), desc="glimpse features", unit="clip", disable=not progress, smoothing=0.05)
    with bar:
        for done, result in enumerate(engine.results(todo), start=1):
            if result.problem is not None or result.inputs is None or result.features is None:
                failed.append((result.clip.name, result.problem or "no result"))
                if progress:
                    bar.write(f"{result.clip.name}: skipped: {result.problem}")
            else:
                write_clip(cache, result.clip.name, result.inputs, result.features)
                computed.append(result.clip.name)
            frames, crops, timing = frames + result.frames, crops + result.crops, timing + result.timing
            seconds = time.perf_counter() - started
            bar.set_postfix_str(f"{crops / max(seconds, 1e-9):.1f} crops/s", refresh=False)
            bar.update()
            if done == min(ESTIMATE_AFTER, len(todo)) and progress:
                bar.write(estimate_text(done, frames, seconds, len(todo) - done))
    _record_unreadable(cache, computed, failed)
    return FeaturesReport(
        tuple(computed), skipped, tuple(failed), frames, crops, time.perf_counter() - started, timing
    )


def _cached_and_readable(cache: str | Path, name: str) -> bool:
    """Whether the clip's file is in the cache and readable; an unreadable one is named in the log and
    computed again (`compute_features` replaces it atomically)."""
    if not has_clip(cache, name):
        return False
    problem = cached_clip_problem(cache, name)
    if problem is not None:
        log.warning("%s: unreadable cached clip (%s); computing it again", clip_path(cache, name), problem)
    return problem is None


def read_unreadable(cache: str | Path) -> dict[str, str]:
    """{clip: problem} of the clips that `compute_features` could not read (a corrupt video)."""
    path = Path(cache) / UNREADABLE_FILE
    try:
        return dict(json.loads(path.read_text(encoding="utf-8"))) if path.is_file() else {}
    except (OSError, ValueError, TypeError) as error:
        raise DataError(path, f"unreadable list of unreadable clips: {error}") from None


def _record_unreadable(cache: str | Path, computed: Sequence[str], failed: Sequence[tuple[str, str]]) -> None:
    known = read_unreadable(cache)
    unreadable = {name: problem for name, problem in known.items() if name not in set(computed)}
    unreadable.update(failed)
    if unreadable or known:
        text = json.dumps(dict(sorted(unreadable.items())), indent=2) + "\n"
        _write_atomic(Path(cache) / UNREADABLE_FILE, lambda file: file.write(text.encode()))


def build_cache_backbone(
    name: str,
    input_size: int | None = None,
    weights_path: str | Path | None = None,
    download: bool = False,
    pretrained: bool = True,
) -> tuple[GlimpseBackbone, str]:
    """The backbone on CUDA when available, and the label of its weights for `cache.json`."""
    path = str(weights_path) if weights_path is not None else None
    return BackboneRecipe(name, input_size, path, download, pretrained).build()
