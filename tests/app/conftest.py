"""Small frames and sources built on the fly for the runtime tests."""

from __future__ import annotations

import numpy as np
import pytest

from app.sources import Source
from recordings.frame import HAND_LEFT, HAND_RIGHT, NUM_JOINTS, TRACKED, Body, Frame


def moving_frames(count: int, fps: float = 30.0, size: tuple[int, int] = (320, 240)) -> list[Frame]:
    """`count` frames of one person whose right hand rises, on a textured image."""
    width, height = size
    rng = np.random.default_rng(0)
    background = rng.integers(0, 255, (height, width, 3), dtype=np.uint8)
    frames = []
    for i in range(count):
        joints = np.zeros((NUM_JOINTS, 3))
        joints[:, 1] = np.linspace(-0.8, 0.8, NUM_JOINTS)
        joints[:, 2] = 3.0
        joints[HAND_RIGHT, 1] = -0.3 + 0.02 * i
        color = np.full((NUM_JOINTS, 2), width / 2)
        color[HAND_LEFT] = (width * 0.3, height * 0.6)
        color[HAND_RIGHT] = (width * 0.7, height * 0.7 - i)
        body = Body(72057594037931101, joints, color, np.full(NUM_JOINTS, TRACKED))
        frames.append(Frame(i, i / fps, background.copy(), (body,)))
    return frames


def list_source(frames: list[Frame], fps: float = 30.0) -> Source:
    return Source("test frames", len(frames), fps, lambda start: iter(frames[start:]))


@pytest.fixture
def short_source() -> Source:
    return list_source(moving_frames(45))
