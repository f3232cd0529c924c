"""The glimpse features of the examples, through the base model's own `glimpse.onnx` (ONNX Runtime, as the
app computes them live), cached per example in `models.features.cache`' format.

- Every `frame_stride`-th frame of an example is read (its last frame too): the examples become clips
  at 30 / stride fps, whose frames the training windows sample (`models.windows`); a live window's
  samples are 1/11 s apart, so stride 2 costs the windows at most one more frame interval of
  precision, and halves the decoding of 1080p frames, the largest cost of teaching.
- The cache lives in `<cache root>/<glimpse.onnx's digest>/` (default root: `$XDG_CACHE_HOME/sta-hands/teach`
  or `~/.cache/sta-hands/teach`), never in the examples folder; one file per example and stride, named
  by the example's name and a digest of its files' paths, sizes and modification times, so a re-recorded
  example is computed again and an unchanged one is not.
- For an action that may be mirrored, the features of the horizontally flipped crops are cached too
  (`<key>-flipped`), in the crops' own slots; `teach.augment.mirror` swaps the slots.
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from sta_hands.app.runtime import OnnxModel
from sta_hands.contract.inputs import glimpse_batch
from sta_hands.contract.onnx_contract import GLIMPSE_FILE
from sta_hands.models.config import BackboneSpec
from sta_hands.models.data import ClipInputs, clip_inputs, num_frames, read_frames
from sta_hands.models.features.cache import CachedClip, CacheInfo, has_clip, load_clip, open_cache, write_clip
from sta_hands.recordings.own.recording import RecordingPaths
from sta_hands.teach.example_set import Example

FRAME_STRIDE = 2
FLIPPED = "-flipped"


@dataclass(frozen=True, eq=False)
class ExampleFeatures:
    """One example's cached arrays, and those of its flipped crops when its action may be mirrored."""

    example: Example
    clip: CachedClip
    flipped: CachedClip | None


def default_cache_root() -> Path:
    base = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(base) / "sta-hands" / "teach"


def glimpse_digest(model_folder: Path) -> str:
    """The first 16 hex digits of glimpse.onnx's SHA-256: which CNN made a cache's features."""
    digest = hashlib.sha256()
    with open(model_folder / GLIMPSE_FILE, "rb") as file:
        for block in iter(lambda: file.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()[:16]


def example_key(example: Example, stride: int) -> str:
    """The example's cache name: its name, the stride and a digest of its files as they are now."""
    files = sorted(path for path in RecordingPaths(example.clip.stem).all() if path.is_file())
    stamp = [(str(path.resolve()), path.stat().st_size, path.stat().st_mtime_ns) for path in files]
    return f"{example.name}-s{stride}-{hashlib.sha256(repr(stamp).encode()).hexdigest()[:12]}"


def example_inputs(example: Example, stride: int) -> ClipInputs:
    """Every `stride`-th frame's pose, hand mask and crops (and the last frame's), the two main bodies
    chosen over those frames as `models.data.clip_inputs` does over all of them."""
    clip = example.clip
    wanted = np.zeros(num_frames(clip), dtype=bool)
    wanted[::stride] = True
    wanted[-1] = True
    return clip_inputs(clip, read_frames(clip, wanted))


def glimpse_features(model: OnnxModel, inputs: ClipInputs, flipped: bool = False) -> np.ndarray:
    """T x 4 x D float16: the glimpse CNN on the present hands' crops (flipped left-right if asked)."""
    info = model.info
    out = np.zeros((inputs.num_frames, inputs.hand_mask.shape[1], info.feature_dim), dtype=np.float16)
    if inputs.crops is None:
        return out
    present = np.argwhere(inputs.hand_mask > 0)  # N x 2 (t, h)
    crops = inputs.crops[present[:, 0], present[:, 1]]  # N x 50 x 50 x 3
    if flipped:
        crops = crops[:, :, ::-1]
    batch = glimpse_batch(np.ascontiguousarray(crops), info.glimpse_input_size, info.mean, info.std)
    out[present[:, 0], present[:, 1]] = model.glimpse_features(batch).astype(np.float16)
    return out


def cache_info(model: OnnxModel, digest: str) -> CacheInfo:
    info = model.info
    spec = BackboneSpec(info.backbone, info.glimpse_input_size, tuple(info.mean), tuple(info.std),
                        info.feature_dim, info.glimpse_input_size)  # fmt: skip
    return CacheInfo(spec, f"{GLIMPSE_FILE} sha256 {digest}")


def example_features(
    examples: Sequence[Example],
    model: OnnxModel,
    cache_root: Path,
    mirrored: frozenset[str],
    stride: int = FRAME_STRIDE,
    on_example: Callable[[int, int], None] | None = None,
) -> list[ExampleFeatures]:
    """Each example's cached features, computing those not cached yet (the next example is decoded in
    a thread while the CNN runs on this one); `on_example(done, total)` after each."""
    digest = glimpse_digest(model.folder)
    cache = cache_root / digest
    open_cache(cache, cache_info(model, digest))
    keys = [example_key(example, stride) for example in examples]
    todo = [
        (example, key)
        for example, key in zip(examples, keys, strict=True)
        if not has_clip(cache, key) or (example.action in mirrored and not has_clip(cache, key + FLIPPED))
    ]
    done = len(examples) - len(todo)
    if on_example is not None:
        on_example(done, len(examples))
    for (example, key), inputs in _prefetched(todo, stride):
        write_clip(cache, key, inputs, glimpse_features(model, inputs))
        if example.action in mirrored:
            write_clip(cache, key + FLIPPED, inputs, glimpse_features(model, inputs, flipped=True))
        done += 1
        if on_example is not None:
            on_example(done, len(examples))
    return [
        ExampleFeatures(
            example,
            load_clip(cache, key),
            load_clip(cache, key + FLIPPED) if example.action in mirrored else None,
        )
        for example, key in zip(examples, keys, strict=True)
    ]


def _prefetched(
    todo: Sequence[tuple[Example, str]], stride: int
) -> Iterator[tuple[tuple[Example, str], ClipInputs]]:
    with ThreadPoolExecutor(max_workers=1) as pool:
        pending: Future[ClipInputs] | None = pool.submit(example_inputs, todo[0][0], stride) if todo else None
        for index, item in enumerate(todo):
            assert pending is not None
            inputs = pending.result()
            following = index + 1 < len(todo)
            pending = pool.submit(example_inputs, todo[index + 1][0], stride) if following else None
            yield item, inputs
