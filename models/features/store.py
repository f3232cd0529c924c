"""Training and evaluation read the glimpse-feature cache (`models.features.cache`) through a `FeatureStore`:
clips loaded lazily, kept within a memory budget, and assembled into model-input batches by threads
that read ahead while the model trains on the current batch.
"""

from __future__ import annotations

import logging
import threading
from collections import OrderedDict
from collections.abc import Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np

from sta_hands.models.data import ClipRef, DataError
from sta_hands.models.features.cache import (
    UNREADABLE_FILE,
    CachedClip,
    clip_path,
    has_clip,
    load_clip,
    load_timestamps,
    read_cache_info,
    read_unreadable,
)
from sta_hands.models.features.jobs import in_order

log = logging.getLogger(__name__)


class FeatureStore:
    """The cached clips of a list of `ClipRef`s, read lazily: NTU's 56,880 clips need not fit in memory.
    `clips` leaves out (and `unreadable` names) those whose files `compute_features` could not read.

    A clip's file is read on first use and kept in a least-recently-used cache up to `memory_bytes`;
    `timestamps` and `num_frames` read only the small timestamps array of a clip (and keep it), so
    window draws and `window_seconds_of` never load the features. `batch(items)` assembles model
    inputs from (clip position, frame indices) pairs: features B x T x 4 x D float32, hand_mask
    B x T x 4, pose B x T x 150, and active_hands B x T x 4 (zeros for clips without ground truth);
    `batches(item_lists)` does the same for a sequence of batches, `workers` threads reading the next
    ones while the caller trains on this one. Thread-safe.
    """

    def __init__(
        self, cache: str | Path, clips: Sequence[ClipRef], memory_bytes: int = 8 << 30, workers: int = 2
    ) -> None:
        self.cache = Path(cache)
        self.info = read_cache_info(self.cache)
        unreadable = read_unreadable(self.cache)
        self.unreadable = tuple(c.name for c in clips if c.name in unreadable and not has_clip(cache, c.name))
        self.clips = [clip for clip in clips if clip.name not in self.unreadable]
        if self.unreadable:
            log.warning(
                "%s: %d of %d clips left out: their files could not be read when the features were made "
                "(%s names them)", self.cache, len(self.unreadable), len(clips), UNREADABLE_FILE,
            )  # fmt: skip
        self.memory_bytes = memory_bytes
        self.workers = workers
        self._kept: OrderedDict[int, CachedClip] = OrderedDict()
        self._times: dict[int, np.ndarray] = {}
        self._bytes = 0
        self._lock = threading.Lock()
        missing = [clip.name for clip in self.clips if not has_clip(self.cache, clip.name)]
        if missing:
            raise DataError(
                clip_path(self.cache, missing[0]),
                f"{len(missing)} of {len(self.clips)} clips are not in the feature cache; "
                "run `sta-hands features` on this data first",
            )

    def __len__(self) -> int:
        return len(self.clips)

    def clip(self, position: int) -> CachedClip:
        with self._lock:
            kept = self._kept.get(position)
            if kept is not None:
                self._kept.move_to_end(position)
                return kept
        loaded = load_clip(self.cache, self.clips[position].name)  # outside the lock: threads read at once
        size = loaded.nbytes
        with self._lock:
            self._times.setdefault(position, loaded.timestamps)
            if size <= self.memory_bytes and position not in self._kept:
                self._kept[position] = loaded
                self._bytes += size
                while self._bytes > self.memory_bytes:
                    _, dropped = self._kept.popitem(last=False)
                    self._bytes -= dropped.nbytes
        return loaded

    def timestamps(self, position: int) -> np.ndarray:
        """The clip's frame times (seconds), read alone from its file the first time."""
        times = self._times.get(position)
        if times is None:
            times = load_timestamps(self.cache, self.clips[position].name)
            self._times[position] = times
        return times

    def num_frames(self, position: int) -> int:
        return len(self.timestamps(position))

    def batches(
        self, item_lists: Sequence[Sequence[tuple[int, np.ndarray]]]
    ) -> Iterator[dict[str, np.ndarray]]:
        """`batch(items)` of each list in order, `workers` threads reading ahead (0: none)."""
        if self.workers <= 0:
            yield from (self.batch(items) for items in item_lists)
            return
        with ThreadPoolExecutor(max_workers=self.workers) as pool:
            yield from in_order(pool, self.batch, item_lists, ahead=self.workers + 1)

    def labels(self, positions: Sequence[int]) -> np.ndarray:
        return np.array([self.clips[p].label for p in positions], dtype=np.int64)

    def batch(self, items: Sequence[tuple[int, np.ndarray]]) -> dict[str, np.ndarray]:
        clips = [(self.clip(position), frames) for position, frames in items]
        features = np.stack([clip.features[frames] for clip, frames in clips]).astype(np.float32)
        active = [
            clip.active_hands[frames]
            if clip.active_hands is not None
            else np.zeros((len(frames), 4), np.uint8)
            for clip, frames in clips
        ]
        return {
            "features": features,  # B x T x 4 x D
            "hand_mask": np.stack([clip.hand_mask[frames] for clip, frames in clips]),  # B x T x 4
            "pose": np.stack([clip.pose[frames] for clip, frames in clips]),  # B x T x 150
            "active_hands": np.stack(active),  # B x T x 4
        }
