"""The binding's frames as ours: its BGRA colour buffer as a BGR image, its tracked bodies as `Body`.

Each tracked body's 25 camera-space joints are mapped to colour pixels (and depth pixels) with ONE
call of the SDK's coordinate mapper per target space, which is how NTU RGB+D's colorX/colorY were
made (docs/ntu-format.md 2.2, 2.4). Points the SDK cannot map (-inf) become NaN.
"""

from __future__ import annotations

import ctypes
import sys
from collections.abc import Callable
from functools import lru_cache
from typing import Any

import cv2
import numpy as np

from sta_hands.contract.frame import NUM_JOINTS, Body
from sta_hands.recordings.kinect.binding import _BINDINGS


def bgr_from_bgra(data: np.ndarray, width: int, height: int) -> np.ndarray:
    """The binding's flat BGRA colour buffer as a height x width x 3 BGR uint8 image (a copy)."""
    flat = np.asarray(data, dtype=np.uint8)
    if flat.size != width * height * 4:
        raise ValueError(f"colour buffer of {flat.size} bytes, expected {width}x{height}x4")
    return cv2.cvtColor(flat.reshape(height, width, 4), cv2.COLOR_BGRA2BGR)


class _ColorSpacePoint(ctypes.Structure):
    _fields_ = (("x", ctypes.c_float), ("y", ctypes.c_float))


class _DepthSpacePoint(ctypes.Structure):
    _fields_ = (("x", ctypes.c_float), ("y", ctypes.c_float))


@lru_cache(maxsize=8)
def _point_types(joint_type: type) -> tuple[type, type]:
    """The binding's _ColorSpacePoint and _DepthSpacePoint, found beside its _Joint.

    comtypes checks pointer argument types exactly, so the mapper's output arrays must be of the
    binding's own structures (ours, with the same layout, are the last resort).
    """
    names = [joint_type.__module__, *(f"{package}.{module}" for package, module in _BINDINGS)]
    for module in filter(None, map(sys.modules.get, names)):
        color, depth = getattr(module, "_ColorSpacePoint", None), getattr(module, "_DepthSpacePoint", None)
        if color is not None and depth is not None:
            return color, depth
    return _ColorSpacePoint, _DepthSpacePoint


def _map_points(method: Callable[..., Any], camera: ctypes.Array, point_type: type) -> np.ndarray:
    """One coordinate-mapper call for all points: n x 2 float64 pixels, NaN where it cannot map."""
    count = len(camera)
    out = (point_type * count)()
    method(count, camera, count, out)
    xy = np.array([(point.x, point.y) for point in out], dtype=np.float64)
    xy[~np.isfinite(xy).all(axis=1)] = np.nan
    return xy


def _orientations(kinect_body: Any) -> np.ndarray:
    """25 x 4 quaternions, w first (NTU's order; the SDK's _Vector4 is x, y, z, w)."""
    orientations = getattr(kinect_body, "joint_orientations", None)
    if orientations is None:
        return np.zeros((NUM_JOINTS, 4))
    quaternions = (orientations[j].Orientation for j in range(NUM_JOINTS))
    return np.array([(q.w, q.x, q.y, q.z) for q in quaternions], dtype=np.float64)


def body_from_kinect(kinect_body: Any, mapper: Any, *, map_depth: bool = True) -> Body:
    """A tracked body of the binding (`KinectBody`) as a `Body`; one mapper call per target space."""
    joints = [kinect_body.joints[j] for j in range(NUM_JOINTS)]
    camera = (type(joints[0].Position) * NUM_JOINTS)(*(joint.Position for joint in joints))
    color_type, depth_type = _point_types(type(joints[0]))
    color_px = _map_points(mapper.MapCameraPointsToColorSpace, camera, color_type)
    depth_px = (
        _map_points(mapper.MapCameraPointsToDepthSpace, camera, depth_type)
        if map_depth
        else np.zeros((NUM_JOINTS, 2))
    )
    lean = getattr(kinect_body, "lean", None)
    return Body(
        id=int(kinect_body.tracking_id),
        joints=np.array([(p.x, p.y, p.z) for p in camera], dtype=np.float64),
        color_px=color_px,
        tracking=np.array([joint.TrackingState for joint in joints], dtype=np.uint8),
        depth_px=depth_px,
        orientation=_orientations(kinect_body),
        clipped_edges=int(getattr(kinect_body, "clipped_edges", 0)),
        hand_left_confidence=int(getattr(kinect_body, "hand_left_confidence", 0)),
        hand_left_state=int(getattr(kinect_body, "hand_left_state", 0)),
        hand_right_confidence=int(getattr(kinect_body, "hand_right_confidence", 0)),
        hand_right_state=int(getattr(kinect_body, "hand_right_state", 0)),
        is_restricted=int(bool(getattr(kinect_body, "is_restricted", False))),
        lean=(0.0, 0.0) if lean is None else (lean.x, lean.y),
        lean_tracking=int(getattr(kinect_body, "lean_tracking_state", 0)),
    )


def bodies_from_frame(body_frame: Any, mapper: Any, *, map_depth: bool = True) -> tuple[Body, ...]:
    """The tracked bodies of a body frame (`get_last_body_frame()`), in the SDK's slot order."""
    slots = getattr(body_frame, "bodies", None)
    if slots is None:
        return ()
    return tuple(
        body_from_kinect(body, mapper, map_depth=map_depth)
        for body in slots
        if body is not None and body.is_tracked
    )
