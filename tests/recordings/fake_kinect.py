"""A fake of pykinect2024's `PyKinectRuntime`, driven by a script on a (usually virtual) clock.

Names and layouts follow pykinect2024 0.1.2024 (`pykinect2024/PyKinectRuntime.py` and the generated
`PyKinect2024.py`): `has_new_color_frame()`, `get_last_color_frame()` (flat uint8 BGRA of
Width*Height*4), `has_new_body_frame()`, `get_last_body_frame()` (an object with `.bodies`, a NumPy
object array of `max_body_count` = 6 bodies, `.floor_clip_plane`, `.relative_time` in 100 ns ticks),
`body_joint_to_color_space(joint)`, `body_joints_to_color_space(joints)`, `close()`,
`color_frame_desc.Width/Height`, `max_body_count`, `_sensor` (with `IsAvailable`) and `_mapper`
(the SDK's ICoordinateMapper: `MapCameraPointToColorSpace(point)`,
`MapCameraPointsToColorSpace(n, points, n, out)`, and the depth variants). A body is like the
binding's `KinectBody`: every one has `is_tracked`, `tracking_id` (-1 when untracked) and
`is_restricted`; only tracked ones have `joints` (a ctypes pointer to 25 `_Joint`: `JointType`,
`Position.x/y/z`, `TrackingState`), `joint_orientations`, `lean`, the hand states and so on.

`FakeKinect` is the sensor's world: colour and body frames arrive at scripted times, people come
and go (`people(t)` says who is tracked in which slot), and outages unplug the sensor ("silent":
no frames and IsAvailable False; "raise": the runtime's methods raise). Every runtime it makes
(`FakeKinect.factory`) records the threads that touched it.
"""

from __future__ import annotations

import ctypes
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Literal

import numpy as np

FrameSourceTypes_Color = 1
FrameSourceTypes_Body = 32
JointType_Count = 25
KINECT_MAX_BODY_COUNT = 6


# -------------------------------------------------------------------------- the binding's structures


class _CameraSpacePoint(ctypes.Structure):
    _fields_ = (("x", ctypes.c_float), ("y", ctypes.c_float), ("z", ctypes.c_float))


class _ColorSpacePoint(ctypes.Structure):
    _fields_ = (("x", ctypes.c_float), ("y", ctypes.c_float))


class _DepthSpacePoint(ctypes.Structure):
    _fields_ = (("x", ctypes.c_float), ("y", ctypes.c_float))


class _Vector4(ctypes.Structure):
    _fields_ = (("x", ctypes.c_float), ("y", ctypes.c_float), ("z", ctypes.c_float), ("w", ctypes.c_float))


class _PointF(ctypes.Structure):
    _fields_ = (("x", ctypes.c_float), ("y", ctypes.c_float))


class _Joint(ctypes.Structure):
    _fields_ = (("JointType", ctypes.c_int), ("Position", _CameraSpacePoint), ("TrackingState", ctypes.c_int))


class _JointOrientation(ctypes.Structure):
    _fields_ = (("JointType", ctypes.c_int), ("Orientation", _Vector4))


class COMError(Exception):
    """Stands for `_ctypes.COMError`, what the real runtime raises when the sensor is gone."""


# ------------------------------------------------------------------------------------------- clocks


class FakeClock:
    """Virtual seconds: `clock()` reads them, `sleep(dt)` advances them (pass both to KinectSource)."""

    def __init__(self, start: float = 0.0, limit: float = 60.0) -> None:
        self.now = start
        self.limit = limit  # a test that waits for frames the script never sends fails, not hangs

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.now += max(seconds, 1e-6)
        if self.now > self.limit:
            raise AssertionError(f"virtual time ran past {self.limit} s: the script has no more frames")


class RealClock:
    """Real seconds since construction, for tests that run real threads."""

    def __init__(self) -> None:
        self._start = time.perf_counter()

    def __call__(self) -> float:
        return time.perf_counter() - self._start


# ------------------------------------------------------------------------------------------- people


@dataclass(frozen=True)
class FakePerson:
    """Someone the fake sensor tracks, in body slot `slot` (0..5), standing at `offset` (metres)."""

    tracking_id: int
    slot: int = 0
    offset: tuple[float, float, float] = (0.0, 0.0, 2.5)
    tracking_state: int = 2
    hand_left_state: int = 2
    hand_right_state: int = 3


def person_joints(person: FakePerson, t: float) -> np.ndarray:
    """25 x 3 float32 camera-space joints of `person` at time `t` (a stick figure, swaying)."""
    j = np.arange(JointType_Count)
    x = 0.03 * (j % 5) - 0.06 + 0.01 * np.sin(t)
    y = 0.7 - 0.06 * j
    z = np.zeros(JointType_Count) + 0.001 * j
    return (np.stack([x, y, z], axis=1) + np.array(person.offset)).astype(np.float32)


def joint_tracking(person: FakePerson) -> np.ndarray:
    """Tracking states: `tracking_state` for all but every fifth joint, which is inferred (1)."""
    states = np.full(JointType_Count, person.tracking_state, dtype=np.uint8)
    states[::5] = 1
    return states


def color_pixels(points: np.ndarray) -> np.ndarray:
    """The fake mapper's camera→colour projection (mirrored like the SDK: colorX grows with x)."""
    with np.errstate(divide="ignore", invalid="ignore"):
        u = 960.0 + 1060.0 * points[:, 0] / points[:, 2]
        v = 540.0 - 1060.0 * points[:, 1] / points[:, 2]
    xy = np.stack([u, v], axis=1)
    xy[points[:, 2] <= 0] = -np.inf
    return xy.astype(np.float32)


def depth_pixels(points: np.ndarray) -> np.ndarray:
    with np.errstate(divide="ignore", invalid="ignore"):
        u = 256.0 + 365.0 * points[:, 0] / points[:, 2]
        v = 212.0 - 365.0 * points[:, 1] / points[:, 2]
    xy = np.stack([u, v], axis=1)
    xy[points[:, 2] <= 0] = -np.inf
    return xy.astype(np.float32)


# ----------------------------------------------------------------------------- bodies and body frames


class FakeKinectBody:
    """The binding's `KinectBody`: untracked ones have no joints."""

    def __init__(self, person: FakePerson | None = None, t: float = 0.0) -> None:
        self.is_restricted = False
        self.tracking_id = -1
        self.is_tracked = person is not None
        if person is not None:
            self._fill(person, t)

    def _fill(self, person: FakePerson, t: float) -> None:
        self.tracking_id = person.tracking_id
        self.engaged = 0
        self.lean = _PointF(0.25, -0.125)
        self.lean_tracking_state = 2
        self.hand_left_state = person.hand_left_state
        self.hand_left_confidence = 1
        self.hand_right_state = person.hand_right_state
        self.hand_right_confidence = 0
        self.clipped_edges = 0
        joints = (_Joint * JointType_Count)()
        for index, (position, state) in enumerate(
            zip(person_joints(person, t), joint_tracking(person), strict=True)
        ):
            joints[index] = _Joint(index, _CameraSpacePoint(*position), int(state))
        self.joints = ctypes.cast(joints, ctypes.POINTER(_Joint))
        orientations = (_JointOrientation * JointType_Count)()
        for index in range(JointType_Count):
            orientations[index] = _JointOrientation(index, _Vector4(0.0, 0.6, 0.0, 0.8))  # x y z w
        self.joint_orientations = ctypes.cast(orientations, ctypes.POINTER(_JointOrientation))


class FakeBodyFrameData:
    """The binding's `KinectBodyFrameData`."""

    def __init__(self, people: Sequence[FakePerson], t: float) -> None:
        slots: dict[int, FakePerson] = {person.slot: person for person in people}
        self.bodies = np.empty(KINECT_MAX_BODY_COUNT, dtype=object)
        for slot in range(KINECT_MAX_BODY_COUNT):
            self.bodies[slot] = FakeKinectBody(slots.get(slot), t)
        self.floor_clip_plane = _Vector4(0.0, 1.0, 0.0, 0.9)
        self.relative_time = round(t * 1e7)


# -------------------------------------------------------------------------------------- SDK objects


class FakeFrameDescription:
    def __init__(self, width: int, height: int, bytes_per_pixel: int) -> None:
        self.Width, self.Height, self.BytesPerPixel = width, height, bytes_per_pixel
        self.LengthInPixels = width * height


class FakeCoordinateMapper:
    """ICoordinateMapper: counts its calls; checks argument types as comtypes would."""

    def __init__(self, runtime: FakeKinectRuntime) -> None:
        self._runtime = runtime
        self.calls: dict[str, int] = {}

    def _count(self, name: str) -> None:
        self._runtime._touch(name)
        self.calls[name] = self.calls.get(name, 0) + 1

    def MapCameraPointToColorSpace(self, point: _CameraSpacePoint) -> _ColorSpacePoint:
        self._count("MapCameraPointToColorSpace")
        return _ColorSpacePoint(*color_pixels(np.array([[point.x, point.y, point.z]]))[0])

    def MapCameraPointToDepthSpace(self, point: _CameraSpacePoint) -> _DepthSpacePoint:
        self._count("MapCameraPointToDepthSpace")
        return _DepthSpacePoint(*depth_pixels(np.array([[point.x, point.y, point.z]]))[0])

    def MapCameraPointsToColorSpace(
        self, count: int, points: ctypes.Array, out_count: int, out: ctypes.Array
    ) -> None:
        self._count("MapCameraPointsToColorSpace")
        self._map(count, points, out_count, out, _ColorSpacePoint, color_pixels)

    def MapCameraPointsToDepthSpace(
        self, count: int, points: ctypes.Array, out_count: int, out: ctypes.Array
    ) -> None:
        self._count("MapCameraPointsToDepthSpace")
        self._map(count, points, out_count, out, _DepthSpacePoint, depth_pixels)

    @staticmethod
    def _map(
        count: int,
        points: ctypes.Array,
        out_count: int,
        out: ctypes.Array,
        out_type: type,
        project: Callable[[np.ndarray], np.ndarray],
    ) -> None:
        if getattr(points, "_type_", None) is not _CameraSpacePoint or len(points) < count:
            raise TypeError(f"expected {count} _CameraSpacePoint, got {points!r}")
        if getattr(out, "_type_", None) is not out_type or len(out) < out_count or out_count < count:
            raise TypeError(f"expected room for {count} {out_type.__name__}, got {out!r}")
        xy = project(np.array([(p.x, p.y, p.z) for p in points[:count]], dtype=np.float64))
        for index in range(count):
            out[index] = out_type(*xy[index])


class FakeSensor:
    """IKinectSensor, as far as the source uses it."""

    def __init__(self, runtime: FakeKinectRuntime) -> None:
        self._runtime = runtime

    @property
    def IsAvailable(self) -> bool:
        runtime = self._runtime
        runtime._touch("IsAvailable")
        return not runtime.closed and runtime.world.plugged(runtime.world.clock())


# ---------------------------------------------------------------------------------------- the world


@dataclass(frozen=True)
class Outage:
    start: float
    end: float
    mode: Literal["silent", "raise"] = "silent"


@dataclass
class FakeKinect:
    """The sensor's script; `factory` is a `runtime_factory` for KinectSource.

    Colour frames arrive every 1/fps from `start` until `end`; body frames likewise, `body_lag`
    seconds later, except those in `body_gaps` ((t0, t1) intervals). `people(t)` lists who is
    tracked; `outages` unplug the sensor. With `fail_creation_when_unplugged`, creating a runtime
    while unplugged raises (the real SDK usually succeeds and just delivers nothing).
    """

    clock: Callable[[], float] = field(default_factory=FakeClock)
    width: int = 64
    height: int = 36
    fps: float = 30.0
    start: float = 0.1
    end: float = 1e9
    body_lag: float = 0.008
    body_gaps: Sequence[tuple[float, float]] = ()
    people: Callable[[float], Sequence[FakePerson]] = lambda t: ()
    outages: Sequence[Outage] = ()
    fail_creation_when_unplugged: bool = False
    runtimes: list[FakeKinectRuntime] = field(default_factory=list)

    def factory(self) -> FakeKinectRuntime:
        now = self.clock()
        if self.fail_creation_when_unplugged and not self.plugged(now):
            raise COMError("-2147023728: Element not found")
        runtime = FakeKinectRuntime(self, FrameSourceTypes_Color | FrameSourceTypes_Body)
        self.runtimes.append(runtime)
        return runtime

    def outage_at(self, t: float) -> Outage | None:
        return next((outage for outage in self.outages if outage.start <= t < outage.end), None)

    def plugged(self, t: float) -> bool:
        return self.outage_at(t) is None

    def color_number(self, t: float) -> int | None:
        """The number of the last colour frame sent at or before `t` (None before the first)."""
        if t < self.start:
            return None
        return int((min(t, self.end) - self.start) * self.fps + 1e-9)

    def color_time(self, number: int) -> float:
        return self.start + number / self.fps

    def body_number(self, t: float) -> int | None:
        number = self.color_number(t - self.body_lag)
        while number is not None and self._in_gap(self.body_time(number)):
            number = number - 1 if number > 0 else None
        return number

    def body_time(self, number: int) -> float:
        return self.color_time(number) + self.body_lag

    def _in_gap(self, t: float) -> bool:
        return any(t0 <= t < t1 for t0, t1 in self.body_gaps)

    def color_data(self, number: int) -> np.ndarray:
        """Flat BGRA: B = number % 256, G = column % 256, R = row % 256, A = 255."""
        bgra = np.empty((self.height, self.width, 4), dtype=np.uint8)
        bgra[:, :, 0] = number % 256
        bgra[:, :, 1] = (np.arange(self.width) % 256)[None, :]
        bgra[:, :, 2] = (np.arange(self.height) % 256)[:, None]
        bgra[:, :, 3] = 255
        return bgra.reshape(-1)

    def bodies_sent(self) -> int:
        """Tracked bodies in every body frame any runtime handed out."""
        return sum(runtime.tracked_bodies_served for runtime in self.runtimes)


class FakeKinectRuntime:
    """pykinect2024's `PyKinectRuntime`, fed by a `FakeKinect`."""

    def __init__(self, world: FakeKinect, frame_source_types: int) -> None:
        self.world = world
        self.frame_source_types = frame_source_types
        self.created_in = threading.get_ident()
        self.closed_in: int | None = None
        self.threads: set[int] = {self.created_in}
        self.closed = False
        self.created_at = world.clock()
        self.max_body_count = KINECT_MAX_BODY_COUNT
        self.color_frame_desc = FakeFrameDescription(world.width, world.height, 4)
        self.depth_frame_desc = FakeFrameDescription(512, 424, 2)
        self.infrared_frame_desc = FakeFrameDescription(512, 424, 2)
        self.body_index_frame_desc = FakeFrameDescription(512, 424, 1)
        self._sensor: FakeSensor | None = FakeSensor(self)
        self._mapper = FakeCoordinateMapper(self)
        self._last_color_frame_access = self._last_color_frame_time = time.time()
        self._last_body_frame_access = self._last_body_frame_time = time.time()
        self._color_taken: int | None = None
        self._body_taken: int | None = None
        self.color_frames_served = 0
        self.body_frames_served = 0
        self.tracked_bodies_served = 0

    # -- helpers

    def _touch(self, name: str) -> None:
        self.threads.add(threading.get_ident())
        now = self.world.clock()
        outage = self.world.outage_at(now)
        if outage is not None and outage.mode == "raise" and not self.closed:
            raise COMError(f"-2147024809: the sensor is gone ({name})")

    def _visible(self, number: int | None, sent_at: Callable[[int], float]) -> int | None:
        """The newest frame this runtime can have seen: after its creation, while plugged."""
        world = self.world
        while number is not None and number >= 0:
            t = sent_at(number)
            if t < self.created_at:
                return None
            if world.plugged(t):
                return number
            number -= 1
        return None

    def _color(self) -> int | None:
        return (
            None
            if self.closed
            else self._visible(self.world.color_number(self.world.clock()), self.world.color_time)
        )

    def _body(self) -> int | None:
        return (
            None
            if self.closed
            else self._visible(self.world.body_number(self.world.clock()), self.world.body_time)
        )

    # -- the binding's API

    def has_new_color_frame(self) -> bool:
        self._touch("has_new_color_frame")
        number = self._color()
        return number is not None and number != self._color_taken

    def get_last_color_frame(self) -> np.ndarray | None:
        self._touch("get_last_color_frame")
        number = self._color()
        self._last_color_frame_access = time.time()
        if number is None:
            return np.zeros(self.world.width * self.world.height * 4, dtype=np.uint8)
        self._color_taken = number
        self.color_frames_served += 1
        return self.world.color_data(number)

    def has_new_body_frame(self) -> bool:
        self._touch("has_new_body_frame")
        number = self._body()
        return number is not None and number != self._body_taken

    def get_last_body_frame(self) -> FakeBodyFrameData | None:
        self._touch("get_last_body_frame")
        number = self._body()
        if number is None:
            return None
        self._last_body_frame_access = time.time()
        self._body_taken = number
        t = self.world.body_time(number)
        frame = FakeBodyFrameData(self.world.people(t), t)
        self.body_frames_served += 1
        self.tracked_bodies_served += sum(body.is_tracked for body in frame.bodies)
        return frame

    def body_joint_to_color_space(self, joint: _Joint) -> _ColorSpacePoint:
        return self._mapper.MapCameraPointToColorSpace(joint.Position)

    def body_joints_to_color_space(self, joints: ctypes.Array) -> np.ndarray:
        points = np.empty(JointType_Count, dtype=object)
        for index in range(JointType_Count):
            points[index] = self.body_joint_to_color_space(joints[index])
        return points

    def close(self) -> None:
        self.threads.add(threading.get_ident())
        if not self.closed:
            self.closed = True
            self.closed_in = threading.get_ident()
            self._sensor = None

    def __enter__(self) -> FakeKinectRuntime:
        return self

    def __exit__(self, *args: object) -> None:
        self.close()
