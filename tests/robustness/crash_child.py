"""A recording process to kill: `python -m tests.robustness.crash_child STEM [PAUSE]` writes until killed.

Frames are deterministic (`make_frame(index)`), so the parent can check every frame read back. The
disk is made slow: every write reaches the file in three pieces PAUSE seconds apart (default 0.001), so
that a kill lands inside a write or between the three files of a frame as often as between frames.
"""

from __future__ import annotations

import itertools
import sys
import time
from typing import BinaryIO

import numpy as np

from sta_hands.contract.frame import NUM_JOINTS, Body, Frame
from sta_hands.recordings.own import append_file
from sta_hands.recordings.own.recording import RecordingWriter

WIDTH, HEIGHT = 320, 240
JPEG_QUALITY = 95


def make_image(index: int) -> np.ndarray:
    y, x = np.mgrid[0:HEIGHT, 0:WIDTH]
    base = np.stack([(x + 3 * index) % 256, (y * 2 + index) % 256, ((x ^ y) + 7 * index) % 256], axis=-1)
    return base.astype(np.uint8)


def make_frame(index: int) -> Frame:
    rng = np.random.default_rng(index)
    bodies = tuple(
        Body(
            id=72057594037931101 + k,
            joints=rng.integers(-20000, 40000, (NUM_JOINTS, 3)) / 1e4,
            color_px=rng.integers(0, WIDTH * 100, (NUM_JOINTS, 2)) / 100,
            tracking=rng.integers(0, 3, NUM_JOINTS),
        )
        for k in range(index % 4)
    )
    return Frame(index, index / 30, make_image(index), bodies)


def make_extra(index: int) -> dict:
    return {"source_index": index, "note": "x" * (index % 50)}


def slow_disk(pause: float):
    """`append_file._write_all` on a slow disk: the data in three pieces with a pause after each."""
    write_all = append_file._write_all

    def slow_write_all(file: BinaryIO, data: bytes) -> None:
        third = max(1, len(data) // 3)
        for start in range(0, len(data), third):
            write_all(file, data[start : start + third])
            time.sleep(pause)

    return slow_write_all


def main(stem: str, pause: float = 0.001) -> None:
    append_file._write_all = slow_disk(pause)
    with RecordingWriter(stem, fsync_every=0, fsync_seconds=None, jpeg_quality=JPEG_QUALITY) as writer:
        for index in itertools.count():
            writer.write(make_frame(index), make_extra(index))


if __name__ == "__main__":
    main(sys.argv[1], *(float(arg) for arg in sys.argv[2:3]))
