"""A clip's colours: a background image (wall, floor, furniture) and each person's clothes and skin."""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

from sta_hands.contract.frame import COLOR_SIZE
from sta_hands.recordings.synthetic.camera import COLOR_C, COLOR_F


@dataclass(frozen=True)
class Look:
    """The clip's colours: a background image and each person's clothes and skin (BGR)."""

    background: np.ndarray
    shirts: tuple[tuple[int, int, int], ...]
    trousers: tuple[tuple[int, int, int], ...]
    skins: tuple[tuple[int, int, int], ...]
    hair: tuple[tuple[int, int, int], ...]


SKIN_TONES = ((160, 190, 235), (130, 165, 215), (100, 135, 190), (70, 100, 150), (50, 70, 110))


def _muted(
    rng: np.random.Generator, saturation: tuple[float, float], value: tuple[float, float]
) -> tuple[int, int, int]:
    hsv = np.uint8([[[rng.integers(180), 255 * rng.uniform(*saturation), 255 * rng.uniform(*value)]]])
    b, g, r = cv2.cvtColor(hsv, cv2.COLOR_HSV2BGR)[0, 0]
    return int(b), int(g), int(r)


def make_look(people: int, camera_height: float, rng: np.random.Generator) -> Look:
    return Look(
        background=make_background(rng, camera_height),
        shirts=tuple(_muted(rng, (0.1, 0.4), (0.25, 0.7)) for _ in range(people)),
        trousers=tuple(_muted(rng, (0.05, 0.4), (0.15, 0.5)) for _ in range(people)),
        skins=tuple(SKIN_TONES[int(rng.integers(len(SKIN_TONES)))] for _ in range(people)),
        hair=tuple(_muted(rng, (0.2, 0.6), (0.05, 0.35)) for _ in range(people)),
    )


def make_background(rng: np.random.Generator, camera_height: float) -> np.ndarray:
    """A wall over a floor, each a vertical gradient, with a few rectangles of furniture."""
    width, height = COLOR_SIZE
    horizon = int(COLOR_C[1] + COLOR_F * camera_height / 5.5)
    wall, floor = (
        np.array(_muted(rng, (0.05, 0.3), (0.55, 0.9))),
        np.array(_muted(rng, (0.1, 0.4), (0.3, 0.6))),
    )
    rows = np.arange(height)[:, None]
    shade = np.where(
        rows < horizon, 0.85 + 0.15 * rows / horizon, 0.8 + 0.3 * (rows - horizon) / (height - horizon)
    )
    column = np.where(rows < horizon, wall, floor) * shade
    image = np.ascontiguousarray(
        np.broadcast_to(np.clip(column, 0, 255).astype(np.uint8)[:, None], (height, width, 3))
    )
    cv2.line(image, (0, horizon), (width, horizon), tuple(int(c) for c in wall * 0.5), 6)
    for _ in range(int(rng.integers(2, 6))):
        w, h = int(rng.integers(120, 500)), int(rng.integers(100, 450))
        x, y = int(rng.integers(-w // 2, width - w // 2)), int(rng.integers(horizon - h - 250, horizon + 60))
        colour = _muted(rng, (0.05, 0.35), (0.2, 0.75))
        cv2.rectangle(image, (x, y), (x + w, y + h), colour, -1)
        cv2.rectangle(image, (x, y), (x + w, y + h), tuple(int(c * 0.6) for c in colour), 4)
    return image
