"""One clip's glimpse-feature job, the unit of work of every feature engine (design.md, "At NTU scale").

A job has two halves, so that an engine can run them where they fit best:
- `prepare_clip` (CPU): decode the clip's frames, crop the hands (`models.data.clip_inputs`); the time
  spent inside the decoder and the time spent cropping are measured apart;
- `embed_clip` (the glimpse CNN, GPU when there is one): `clip_features` on the present hands' crops,
  `batch` crops a call; the time is measured with the resizing and normalisation
  (`contract.inputs.glimpse_batch`) inside it.
The result (`ClipResult`) carries the clip's arrays without its crops, ready for
`models.features.cache.write_clip`, or the one-line problem that stopped it (a corrupt video, an unreadable
skeleton): an engine never stops for one bad clip.

Every frame of a clip is computed: the paper's segment draw takes one random frame from each of 20
equal segments (any frame can be drawn over the epochs), and the live-window draw (`models.windows`)
takes a random end time with its 20 grid points before it (again any frame); only evaluation's 5 fixed
sub-sequences per clip would need fewer, and training needs them all.

Torch is imported only where the CNN runs, so a decode-only worker never loads it.
"""

from __future__ import annotations

import dataclasses
import time
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import Executor, Future
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol, TypeVar

import cv2
import numpy as np

from sta_hands.contract.errors import UserError
from sta_hands.contract.frame import Frame
from sta_hands.contract.inputs import glimpse_batch
from sta_hands.models.data import ClipInputs, ClipRef, clip_inputs, read_frames

if TYPE_CHECKING:
    from sta_hands.models.glimpse import GlimpseBackbone

T = TypeVar("T")
R = TypeVar("R")
_END: Any = object()  # the end of an iterator
NTU60_CLIPS = 56_880
NTU60_FRAMES = 4_800_000  # about: 56,880 clips of 84 frames on average (1920x1080, 30 fps)


@dataclass(frozen=True)
class ClipTiming:
    """Seconds one clip spent in each stage of its job."""

    decode: float = 0.0  # inside the video decoder (and the skeleton parser)
    crop: float = 0.0  # choosing the bodies, cropping the hands, the pose arrays
    cnn: float = 0.0  # resizing the crops and the glimpse CNN

    def __add__(self, other: ClipTiming) -> ClipTiming:
        return ClipTiming(self.decode + other.decode, self.crop + other.crop, self.cnn + other.cnn)

    @property
    def total(self) -> float:
        return self.decode + self.crop + self.cnn

    def shares(self) -> dict[str, float]:
        """Each stage's share of the total time (0 to 1)."""
        total = self.total or 1.0
        return {"decode": self.decode / total, "crop": self.crop / total, "cnn": self.cnn / total}


@dataclass(frozen=True, eq=False)
class PreparedClip:
    """The CPU half of a clip's job: its inputs with the crops, or the problem that stopped it."""

    clip: ClipRef
    inputs: ClipInputs | None
    timing: ClipTiming
    problem: str | None = None


@dataclass(frozen=True, eq=False)
class ClipResult:
    """A finished job: the clip's arrays (inputs without the crops, T x 4 x D float16 features), or its
    problem in one line."""

    clip: ClipRef
    inputs: ClipInputs | None
    features: np.ndarray | None
    timing: ClipTiming
    problem: str | None = None
    crops: int = 0  # hand crops that went through the CNN (none for a clip without a video)

    @property
    def frames(self) -> int:
        return 0 if self.inputs is None else self.inputs.num_frames


class FeatureEngine(Protocol):
    """Runs the jobs of `clips` and yields their results as they finish (in any order)."""

    def results(self, clips: list[ClipRef]) -> Iterator[ClipResult]: ...


def in_order(pool: Executor, function: Callable[[T], R], items: Iterable[T], ahead: int) -> Iterator[R]:
    """`function` of each item, in order, run in `pool` with at most `ahead` items submitted at once."""
    pending: deque[Future[R]] = deque()
    upcoming = iter(items)
    for item in upcoming:
        pending.append(pool.submit(function, item))
        if len(pending) >= ahead:
            break
    while pending:
        ready = pending.popleft().result()
        following = next(upcoming, _END)
        if following is not _END:
            pending.append(pool.submit(function, following))
        yield ready


def estimate_text(clips: int, frames: int, seconds: float, remaining: int) -> str:
    """The whole job's time at the rate of the first `clips` clips, and NTU-60's at the same rate."""
    per_clip, per_frame = seconds / max(clips, 1), seconds / max(frames, 1)
    return (
        f"measured on the first {clips} clips: {clips / max(seconds, 1e-9):.2f} clips/s, "
        f"{frames / max(seconds, 1e-9):.1f} frames/s; the {remaining} clips left: about "
        f"{_duration(remaining * per_clip)}; NTU-60 ({NTU60_CLIPS:,} clips, about {NTU60_FRAMES / 1e6:.1f} "
        f"million frames) at this rate: {_duration(NTU60_FRAMES * per_frame)} on this machine"
    )


def _duration(seconds: float) -> str:
    if seconds < 90:
        return f"{seconds:.0f} s"
    if seconds < 5400:
        return f"{seconds / 60:.0f} min"
    return f"{seconds / 3600:.1f} hours" if seconds < 3 * 86400 else f"{seconds / 86400:.1f} days"


# ------------------------------------------------------------------------------------ the CPU half


def _timed(frames: Iterable[Frame], spent: list[float]) -> Iterator[Frame]:
    """The frames, the seconds spent waiting for each one added to `spent[0]`."""
    iterator = iter(frames)
    while True:
        started = time.perf_counter()
        try:
            frame = next(iterator)
        except StopIteration:
            spent[0] += time.perf_counter() - started
            return
        spent[0] += time.perf_counter() - started
        yield frame


def prepare_clip(clip: ClipRef) -> PreparedClip:
    """Decode the clip and crop its hands; a file that cannot be read gives its problem, not an error."""
    started = time.perf_counter()
    decoding = [0.0]
    try:
        inputs = clip_inputs(clip, _timed(read_frames(clip), decoding))
    except (UserError, OSError, ValueError, cv2.error) as error:  # a corrupt or cut file: named, skipped
        elapsed = time.perf_counter() - started
        return PreparedClip(clip, None, ClipTiming(decoding[0], elapsed - decoding[0]), _one_line(error))
    elapsed = time.perf_counter() - started
    return PreparedClip(clip, inputs, ClipTiming(decode=decoding[0], crop=elapsed - decoding[0]))


def _one_line(error: BaseException) -> str:
    text = str(error).strip().splitlines()
    return text[0] if text else type(error).__name__


# ------------------------------------------------------------------------------------ the CNN half


def clip_features(inputs: ClipInputs, backbone: GlimpseBackbone, batch: int = 64) -> np.ndarray:
    """T x 4 x D float16 glimpse features of the present hands (zeros elsewhere), `batch` crops a call."""
    import torch

    spec = backbone.spec
    out = np.zeros((inputs.num_frames, inputs.hand_mask.shape[1], spec.feature_dim), dtype=np.float16)
    if inputs.crops is None:
        return out
    present = np.argwhere(inputs.hand_mask > 0)  # N x 2 (t, h)
    device = next(backbone.parameters()).device
    for start in range(0, len(present), batch):
        chunk = present[start : start + batch]
        crops = glimpse_batch(inputs.crops[chunk[:, 0], chunk[:, 1]], spec.input_size, spec.mean, spec.std)
        with torch.inference_mode():
            values = backbone(torch.from_numpy(crops).to(device)).float().cpu().numpy()
        out[chunk[:, 0], chunk[:, 1]] = values.astype(np.float16)
    return out


def embed_clip(prepared: PreparedClip, backbone: GlimpseBackbone, batch: int = 64) -> ClipResult:
    """The CNN half: the prepared clip's features; its inputs are kept without the crops."""
    if prepared.inputs is None:
        return ClipResult(prepared.clip, None, None, prepared.timing, prepared.problem)
    started = time.perf_counter()
    features = clip_features(prepared.inputs, backbone, batch)
    timing = prepared.timing + ClipTiming(cnn=time.perf_counter() - started)
    crops = 0 if prepared.inputs.crops is None else int((prepared.inputs.hand_mask > 0).sum())
    inputs = dataclasses.replace(prepared.inputs, crops=None)
    return ClipResult(prepared.clip, inputs, features, timing, crops=crops)


# --------------------------------------------------------------------------------- the backbone


@dataclass(frozen=True)
class BackboneRecipe:
    """How to build the glimpse CNN where a job runs (another process, another machine): the
    arguments of `models.features.cache.build_cache_backbone`. Pretrained weights must be readable there
    (the same path on every node, or torchvision's cache filled on each)."""

    name: str
    input_size: int | None = None
    weights_path: str | None = None
    download: bool = False
    pretrained: bool = True
    device: str | None = None  # default: CUDA when there is one, else the CPU

    def build(self) -> tuple[GlimpseBackbone, str]:
        """The backbone (frozen, eval mode, on its device) and the label of its weights."""
        import torch

        from sta_hands.models.glimpse import build_backbone

        torch.set_flush_denormal(True)  # real crops give denormal activations: 10x slower without this
        with torch.random.fork_rng(devices=[]):
            torch.manual_seed(0)  # random weights (tests) are the same in every process that builds them
            backbone = build_backbone(
                self.name, self.input_size, self.pretrained, self.weights_path, self.download
            )
        device = self.device or ("cuda" if torch.cuda.is_available() else "cpu")
        backbone = backbone.to(device)
        if not self.pretrained:
            label = "random"
        else:
            label = str(Path(self.weights_path).resolve()) if self.weights_path else "imagenet"
        return backbone, label
