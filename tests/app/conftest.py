"""Small frames and sources built on the fly for the runtime tests."""

from __future__ import annotations

import contextlib
import functools
import time
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pytest

from sta_hands.contract.frame import HAND_LEFT, HAND_RIGHT, NUM_JOINTS, TRACKED, Body, Frame
from sta_hands.contract.reader import FunctionReader, Reader

if TYPE_CHECKING:
    from PyQt5.QtCore import QSettings

    from sta_hands.app.gui.main_window import MainWindow


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


@contextlib.contextmanager
def shown_window(
    qtbot: Any, settings: QSettings | Path, size: tuple[int, int] = (1280, 720)
) -> Iterator[MainWindow]:
    """The real main window (Qt imported only here) on `settings` (a QSettings, or the path of an .ini
    file to make one from), shown at `size` and exposed; closed and its workers joined afterwards."""
    from PyQt5.QtCore import QSettings

    from sta_hands.app.gui.main_window import MainWindow

    if isinstance(settings, Path):
        settings = QSettings(str(settings), QSettings.IniFormat)
    window = MainWindow(settings)
    qtbot.addWidget(window)
    window.resize(*size)
    window.show()
    qtbot.waitExposed(window)
    try:
        yield window
    finally:
        window.close()
        window.session.shutdown(workers_timeout=2.0)


def list_source(frames: list[Frame], fps: float = 30.0) -> Reader:
    return FunctionReader("test frames", len(frames), fps, lambda start, images=None: iter(frames[start:]))


@pytest.fixture
def short_source() -> Reader:
    return list_source(moving_frames(45))


# ----------------------------------------------------------------------------------------------------
# GUI tests (tests/app/test_gui*.py): a duck-typed numpy stand-in for the exported model, and a clip of
# two people built on the fly. The real ONNX model replaces the fake in the lead's integration tests.

GUI_CLASSES = ("drink from cup", "answer phone", "wave left hand", "wave right hand", "handshake")
_STICK = {  # person-relative (x, y) in metres of a standing stick figure, Kinect v2 joint order
    0: (0.0, 0.0), 1: (0.0, 0.3), 2: (0.0, 0.58), 3: (0.0, 0.72), 4: (-0.2, 0.5), 5: (-0.3, 0.25),
    6: (-0.35, 0.05), 7: (-0.37, 0.0), 8: (0.2, 0.5), 9: (0.3, 0.25), 10: (0.35, 0.05), 11: (0.37, 0.0),
    12: (-0.1, 0.0), 13: (-0.12, -0.45), 14: (-0.12, -0.85), 15: (-0.12, -0.9), 16: (0.1, 0.0),
    17: (0.12, -0.45), 18: (0.12, -0.85), 19: (0.12, -0.9), 20: (0.0, 0.5), 21: (-0.38, -0.06),
    22: (-0.33, -0.02), 23: (0.38, -0.06), 24: (0.33, -0.02),
}  # fmt: skip
_HAND_COLOURS = {(0, HAND_LEFT): (40, 40, 230), (0, HAND_RIGHT): (40, 200, 40),
                 (1, HAND_LEFT): (230, 80, 40), (1, HAND_RIGHT): (30, 220, 230)}  # fmt: skip


class FakeModel:
    """Quacks like `app.runtime.OnnxModel`: `.info`, `.provider`, `.name`, `glimpse_features`, `run_head`
    (and an unsplit head's `head_features`, `run_head_projected`).

    Spatial attention favours the highest hand (a pose-driven softmax over present hands), temporal
    attention the frames with the most motion; the logits depend on the crops and the pose. `delay`
    seconds of sleep in the head stand in for a slow model; `fail` makes the head raise.
    """

    def __init__(self, delay: float = 0.0, fail: bool = False, window_seconds: float = 0.5) -> None:
        from sta_hands.contract.onnx_contract import ModelInfo

        self.info = ModelInfo(
            class_names=GUI_CLASSES, window_length=20, window_seconds=window_seconds, glimpse_input_size=32,
            backbone="fake", mean=(0.5, 0.5, 0.5), std=(0.25, 0.25, 0.25), feature_dim=8,
            model_version="test", trained_on="nothing",
        )  # fmt: skip
        self.provider = "CPUExecutionProvider"
        self.name = "fake (numpy test model)"
        self.delay = delay
        self.fail = fail
        rng = np.random.default_rng(7)
        self._w_rgb = rng.normal(size=(8, len(GUI_CLASSES))).astype(np.float32) * 3
        self._w_pose = rng.normal(size=(150, len(GUI_CLASSES))).astype(np.float32) * 0.5

    def glimpse_features(self, crops: np.ndarray) -> np.ndarray:
        means = crops.mean(axis=(2, 3))  # N x 3
        return np.tile(means, 3)[:, :8].astype(np.float32)  # N x 8

    head_feature_dim = 8  # an unsplit head: it reads the glimpse features themselves
    head_features = glimpse_features

    # `app.model.Model`, as `OnnxModel` gives it
    folder = Path("fake")
    kind = "two-stream"
    streams = ("pose", "rgb")
    explanation = "attention"
    prediction_stride = 1

    def describe(self) -> str:
        return self.name

    def window_classifier(self, still_threshold: float = 0.0):
        from sta_hands.app.two_stream_window import TwoStreamWindows

        return TwoStreamWindows(self, still_threshold)

    def run_head_projected(self, features: np.ndarray, hand_mask: np.ndarray, pose: np.ndarray) -> dict:
        return self.run_head(features, hand_mask, pose)

    def run_head(self, features: np.ndarray, hand_mask: np.ndarray, pose: np.ndarray) -> dict:
        if self.fail:
            raise RuntimeError("the fake head failed on purpose")
        b, t = pose.shape[:2]
        joints = pose.reshape(b, t, 2, NUM_JOINTS, 3)
        slots = ((0, HAND_LEFT), (0, HAND_RIGHT), (1, HAND_LEFT), (1, HAND_RIGHT))
        hand_y = np.stack([joints[:, :, p, j, 1] for p, j in slots], -1)  # B x T x 4
        score = np.where(hand_mask > 0, 6.0 * (hand_y - joints[:, :, :1, 1, 1]), -1e9)  # B x T x 4
        spatial = np.exp(score - score.max(-1, keepdims=True)) * (hand_mask > 0)
        spatial = spatial / np.maximum(spatial.sum(-1, keepdims=True), 1e-9)
        motion = np.abs(np.diff(pose, axis=1, prepend=pose[:, :1])).sum(-1)  # B x T
        temporal = np.exp(20 * motion - (20 * motion).max(-1, keepdims=True))
        temporal = temporal / temporal.sum(-1, keepdims=True)
        seen = (temporal[:, :, None] * (spatial[..., None] * features).sum(2)).sum(1)  # B x D
        rgb_logits = seen @ self._w_rgb
        pose_logits = pose.mean(1) @ self._w_pose
        if self.delay:
            time.sleep(self.delay)
        out = {
            "logits": rgb_logits + pose_logits, "spatial_attention": spatial, "temporal_attention": temporal,
            "pose_logits": pose_logits, "rgb_logits": rgb_logits,
        }  # fmt: skip
        return {name: value.astype(np.float32) for name, value in out.items()}


def _person(i: int, count: int, person: int, size: tuple[int, int]) -> Body:
    """Person 0 raises the right hand over the clip; person 1 waves the left hand."""
    phase = i / max(count - 1, 1)
    xy = np.array([_STICK[j] for j in range(NUM_JOINTS)], dtype=np.float64)
    if person == 0:
        lift = 0.85 * np.sin(np.pi * phase)
        xy[[10, 11, 23, 24], 1] += lift
        xy[9, 1] += lift / 2
    else:
        wave = 0.25 + 0.2 * np.sin(4 * np.pi * phase)
        xy[[6, 7, 21, 22], 1] += wave + 0.3
        xy[5, 1] += 0.25
    joints = np.zeros((NUM_JOINTS, 3))
    joints[:, 0] = xy[:, 0] + (-0.5 if person == 0 else 0.5)
    joints[:, 1] = xy[:, 1] - 0.3
    joints[:, 2] = 3.0
    width, height = size
    focal = 1060.0 * width / 1920.0
    color = np.stack([width / 2 + focal * joints[:, 0] / joints[:, 2],
                      height / 2 - focal * joints[:, 1] / joints[:, 2]], axis=1)  # fmt: skip
    tracking = np.full(NUM_JOINTS, TRACKED)
    tracking[[15, 19]] = 1  # feet inferred
    return Body(72057594037931101 + person, joints, color, tracking)


@functools.lru_cache(maxsize=4)
def _background(size: tuple[int, int]) -> np.ndarray:
    width, height = size
    image = np.empty((height, width, 3), dtype=np.uint8)
    image[:] = (70, 60, 50)
    image[:, :, 1] = np.linspace(40, 120, width, dtype=np.uint8)[None, :]
    image[:, :, 2] = np.linspace(30, 90, height, dtype=np.uint8)[:, None]
    return image


def gui_frame(i: int, count: int = 40, size: tuple[int, int] = (640, 360), people: int = 2,
              fps: float = 30.0) -> Frame:  # fmt: skip
    """Frame `i` of a clip of `count`: a textured background, `people` bodies, coloured hands."""
    import cv2

    width = size[0]
    image = _background(size).copy()
    bodies = tuple(_person(i, count, p, size) for p in range(people))
    radius = max(3, width // 80)
    for p, body in enumerate(bodies):
        for joint in (HAND_LEFT, HAND_RIGHT):
            x, y = body.color_px[joint]
            cv2.circle(image, (round(x), round(y)), radius, _HAND_COLOURS[(p, joint)], -1)
    return Frame(i, i / fps, image, bodies)


def gui_source(count: int = 40, size: tuple[int, int] = (640, 360), people: int = 2, fps: float = 30.0,
               fail_at: int | None = None, alternate: bool = False) -> Reader:  # fmt: skip
    """A replayable `Reader` whose frames are drawn as they are read (1080p frames stay cheap in memory).

    `alternate`: every odd frame lists its bodies in reverse order (as an NTU file may)."""

    def frames(start: int, images: object = None):
        for i in range(start, count):
            if fail_at is not None and i == fail_at:
                raise OSError(f"test clip: frame {i} is damaged")
            frame = gui_frame(i, count, size, people, fps)
            yield Frame(i, frame.timestamp, frame.image, frame.bodies[::-1]) if alternate and i % 2 else frame

    return FunctionReader(f"test clip ({people} people, {count} frames)", count, fps, frames)


@pytest.fixture
def fake_model() -> FakeModel:
    return FakeModel()
