"""`Frame` and `Body`: what every source yields, and the Kinect v2 skeleton they follow.

Joint order and indices are Kinect v2's `JointType` (see docs/ntu-format.md 2.3).
Geometry is kept in float64 so that NTU files round-trip exactly; model inputs are
converted to float32 by `contract.inputs`.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field, replace

import numpy as np

from sta_hands.contract.hand_crop import PAPER_CROP, HandCrop

NUM_JOINTS = 25
JOINT_NAMES: tuple[str, ...] = (
    "SpineBase", "SpineMid", "Neck", "Head",
    "ShoulderLeft", "ElbowLeft", "WristLeft", "HandLeft",
    "ShoulderRight", "ElbowRight", "WristRight", "HandRight",
    "HipLeft", "KneeLeft", "AnkleLeft", "FootLeft",
    "HipRight", "KneeRight", "AnkleRight", "FootRight",
    "SpineShoulder", "HandTipLeft", "ThumbLeft", "HandTipRight", "ThumbRight",
)  # fmt: skip
JOINT = {name: index for index, name in enumerate(JOINT_NAMES)}
HAND_LEFT = JOINT["HandLeft"]
HAND_RIGHT = JOINT["HandRight"]

# (child, parent) pairs of the official NTU visualiser, rooted at SpineBase.
BONES: tuple[tuple[int, int], ...] = (
    (1, 0), (20, 1), (2, 20), (3, 2), (4, 20), (5, 4), (6, 5), (7, 6), (8, 20), (9, 8),
    (10, 9), (11, 10), (12, 0), (13, 12), (14, 13), (15, 14), (16, 0), (17, 16), (18, 17),
    (19, 18), (21, 7), (22, 7), (23, 11), (24, 11),
)  # fmt: skip

NOT_TRACKED, INFERRED, TRACKED = 0, 1, 2

COLOR_SIZE = (1920, 1080)  # Kinect v2 colour frame, width x height
DEPTH_SIZE = (512, 424)  # Kinect v2 depth frame, width x height


def _fixed(array: np.ndarray | list, shape: tuple[int, ...], dtype: type, name: str) -> np.ndarray:
    """A read-only copy of `array` with exactly `shape` and `dtype`, or ValueError."""
    out = np.array(array, dtype=dtype)
    if out.shape != shape:
        raise ValueError(f"Body.{name} must have shape {shape}, got {out.shape}")
    out.setflags(write=False)
    return out


@dataclass(frozen=True, eq=False)
class Body:
    """One tracked person in one frame, with the fields of an NTU body record."""

    id: int  # Kinect tracking id; exceeds 2**53, so always a Python int
    joints: np.ndarray  # 25 x 3 float64, camera space, metres
    color_px: np.ndarray  # 25 x 2 float64, pixels in the 1920x1080 colour image
    tracking: np.ndarray  # 25 uint8: 0 not tracked, 1 inferred, 2 tracked
    depth_px: np.ndarray = field(default_factory=lambda: np.zeros((NUM_JOINTS, 2)))  # 512x424 px
    orientation: np.ndarray = field(default_factory=lambda: np.zeros((NUM_JOINTS, 4)))  # w x y z
    clipped_edges: int = 0
    hand_left_confidence: int = 0
    hand_left_state: int = 0
    hand_right_confidence: int = 0
    hand_right_state: int = 0
    is_restricted: int = 0
    lean: tuple[float, float] = (0.0, 0.0)
    lean_tracking: int = 0

    def __post_init__(self) -> None:
        object.__setattr__(self, "id", int(self.id))
        object.__setattr__(self, "joints", _fixed(self.joints, (NUM_JOINTS, 3), np.float64, "joints"))
        object.__setattr__(self, "color_px", _fixed(self.color_px, (NUM_JOINTS, 2), np.float64, "color_px"))
        object.__setattr__(self, "tracking", _fixed(self.tracking, (NUM_JOINTS,), np.uint8, "tracking"))
        object.__setattr__(self, "depth_px", _fixed(self.depth_px, (NUM_JOINTS, 2), np.float64, "depth_px"))
        object.__setattr__(
            self, "orientation", _fixed(self.orientation, (NUM_JOINTS, 4), np.float64, "orientation")
        )
        object.__setattr__(self, "lean", (float(self.lean[0]), float(self.lean[1])))

    def same_as(self, other: Body) -> bool:
        """True when every field, arrays included, is identical."""
        return (
            self.id == other.id
            and self.info == other.info
            and all(
                np.array_equal(getattr(self, name), getattr(other, name))
                for name in ("joints", "color_px", "tracking", "depth_px", "orientation")
            )
        )

    @property
    def info(self) -> tuple:
        """The scalar fields of the NTU body-info line after the id."""
        return (
            self.clipped_edges, self.hand_left_confidence, self.hand_left_state,
            self.hand_right_confidence, self.hand_right_state, self.is_restricted,
            self.lean, self.lean_tracking,
        )  # fmt: skip


@dataclass(frozen=True, eq=False)
class Frame:
    """One moment of a recording: its colour image (or None when the clip has none) and bodies."""

    index: int
    timestamp: float  # seconds from the start of the recording
    image: np.ndarray | None  # H x W x 3 uint8 BGR (1080 x 1920 for Kinect v2)
    bodies: tuple[Body, ...] = ()
    captured_at: float = 0.0  # time.perf_counter() when the frame left its source (0: not stamped)
    hand_crop: HandCrop = PAPER_CROP  # how large its hands are cropped (contract.hand_crop)

    def __post_init__(self) -> None:
        object.__setattr__(self, "bodies", tuple(self.bodies))
        image = self.image
        if image is not None and (image.dtype != np.uint8 or image.ndim != 3 or image.shape[2] != 3):
            raise ValueError(f"Frame.image must be H x W x 3 uint8, got {image.shape} {image.dtype}")
        if image is not None:
            image.setflags(write=False)  # frames cross threads (capture, recognizer, GUI): none may write

    def stamped(self) -> Frame:
        """This frame stamped with the present moment as the one it left its source (latency starts)."""
        return self if self.captured_at else replace(self, captured_at=time.perf_counter())
