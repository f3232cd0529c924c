"""A replayed Kinect v2 for long runs: the binding's runtime API served from a clip held in memory, on a
clock that runs `speed` times faster than real time, unplugged on a schedule.

`ReplaySensor(clip, speed=..., unplug_every=..., outage=...)` is the sensor's world: frame n of the clip,
looped, is sent at n / fps seconds of its clock, and every `unplug_every` seconds of that clock the
sensor is away for `outage` seconds, alternately silent (IsAvailable False, no frames: a cable pulled)
and raising from every call (what the SDK does when the sensor goes mid-call). `ReplaySensor.source()` is
the app's own `recordings.kinect.source.KinectSource` on that runtime and clock, so each disconnect goes
through its real loss detection and reconnection, and its frames are stamped on the sensor's clock: the
recognizer sees a 30 fps source however fast the replay runs. Latency stays wall time.

Bodies: each recorded body becomes a binding body (camera-space joints, tracking states, id), and the
runtime's coordinate mapper gives back the recorded colour and depth pixels of exactly those joints
(looked up by joint and position: the app maps a body's 25 joints in one call, in joint order), so the
frames KinectSource makes carry the clip's own bodies. A video without bodies serves empty body
frames; `recordings.sources.with_pose(source, "estimate")` then estimates them, as for a camera.

The clip is decoded once and held as the runtime's BGRA buffers (8 MiB a 1080p frame), so that the
replay costs what a sensor costs the app and not a decoder's time: `MAX_FRAMES` bounds it.
"""

from __future__ import annotations

import ctypes
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import cv2
import numpy as np

from sta_hands.contract.errors import UserError
from sta_hands.contract.frame import NUM_JOINTS, Body
from sta_hands.contract.reader import Reader, read
from sta_hands.recordings.kinect.source import POLL_INTERVAL, KinectSource, KinectStatus

log = logging.getLogger(__name__)

MAX_FRAMES = 300  # 10 s at 30 fps: 2.4 GiB of 1080p BGRA at most; the rest of a longer clip is not used
UNPLUG_EVERY = 600.0  # seconds of the sensor's clock between disconnects (an exhibition day's cable)
OUTAGE = 5.0  # seconds of the sensor's clock it stays away


class SensorGone(OSError):
    """What the replayed runtime raises while unplugged in "raise" mode (the SDK's COMError)."""


class FastClock:
    """Seconds since construction, `speed` times faster than real time; `sleep` sleeps the real share
    (KinectSource's waits: a poll interval or a retry, a fraction of a second). Passed to KinectSource as
    its `clock` and `sleep`."""

    def __init__(self, speed: float) -> None:
        if not speed > 0:
            raise UserError(f"a replay needs a positive speed, got {speed}")
        self.speed = speed
        self._began = time.perf_counter()
        self._frozen: float | None = None

    def __call__(self) -> float:
        if self._frozen is not None:
            return self._frozen
        return (time.perf_counter() - self._began) * self.speed

    def restart(self) -> None:
        """Zero from now on."""
        self._began = time.perf_counter()

    def freeze(self) -> None:
        """Stop here (the run is over: what the sensor did is counted up to now)."""
        self._frozen = self()

    def sleep(self, seconds: float) -> None:
        time.sleep(max(seconds, 0.0) / self.speed)


# ------------------------------------------------------------------------- the binding's structures


class _CameraSpacePoint(ctypes.Structure):
    _fields_ = (("x", ctypes.c_float), ("y", ctypes.c_float), ("z", ctypes.c_float))


class _Joint(ctypes.Structure):
    _fields_ = (("JointType", ctypes.c_int), ("Position", _CameraSpacePoint), ("TrackingState", ctypes.c_int))


@dataclass(frozen=True)
class _BindingBody:
    """What `recordings.kinect.convert.body_from_kinect` reads of the binding's KinectBody."""

    tracking_id: int
    joints: Any  # ctypes array of 25 _Joint
    is_tracked: bool = True


@dataclass(frozen=True)
class _BodyFrame:
    bodies: tuple[_BindingBody, ...]
    relative_time: int


@dataclass(frozen=True)
class _ClipFrame:
    """One frame as the sensor sends it: its BGRA buffer, its bodies, and the pixels of their joints."""

    bgra: np.ndarray
    bodies: tuple[_BindingBody, ...]
    pixels: dict[tuple[int, float, float, float], tuple[tuple[float, float], tuple[float, float]]]


def _binding_body(body: Body) -> _BindingBody:
    joints = (_Joint * NUM_JOINTS)()
    for index in range(NUM_JOINTS):
        joints[index] = _Joint(index, _CameraSpacePoint(*body.joints[index]), int(body.tracking[index]))
    return _BindingBody(body.id, joints)


def _clip_frame(image: np.ndarray, bodies: tuple[Body, ...]) -> _ClipFrame:
    binding = tuple(_binding_body(body) for body in bodies)
    pixels = {}
    for body, bound in zip(bodies, binding, strict=True):
        for index in range(NUM_JOINTS):
            point = bound.joints[index].Position
            color, depth = body.color_px[index], body.depth_px[index]
            pixels[(index, point.x, point.y, point.z)] = ((color[0], color[1]), (depth[0], depth[1]))
    bgra = cv2.cvtColor(np.ascontiguousarray(image), cv2.COLOR_BGR2BGRA).reshape(-1)
    return _ClipFrame(bgra, binding, pixels)


# ------------------------------------------------------------------------------------ the runtime


class _Mapper:
    """ICoordinateMapper's two batch calls: the recorded pixels of the joints of the frame last served."""

    def __init__(self) -> None:
        self.pixels: dict[
            tuple[int, float, float, float], tuple[tuple[float, float], tuple[float, float]]
        ] = {}

    def MapCameraPointsToColorSpace(self, count: int, points: Any, out_count: int, out: Any) -> None:
        self._map(count, points, out, 0)

    def MapCameraPointsToDepthSpace(self, count: int, points: Any, out_count: int, out: Any) -> None:
        self._map(count, points, out, 1)

    def _map(self, count: int, points: Any, out: Any, space: int) -> None:
        unmapped = (-np.inf, -np.inf)  # what the SDK gives for a point it cannot map
        for index in range(count):
            point = points[index]
            found = self.pixels.get((index, point.x, point.y, point.z))
            out[index] = type(out[index])(*(unmapped if found is None else found[space]))


@dataclass
class _Description:
    Width: int
    Height: int


class _Availability:
    def __init__(self, runtime: ReplayRuntime) -> None:
        self._runtime = runtime

    @property
    def IsAvailable(self) -> bool:
        runtime = self._runtime
        runtime._check()
        return not runtime.closed and runtime.sensor.plugged(runtime.sensor.clock())


class ReplayRuntime:
    """pykinect2024's `PyKinectRuntime` as far as KinectSource uses it, fed by a `ReplaySensor`."""

    def __init__(self, sensor: ReplaySensor) -> None:
        self.sensor = sensor
        self.closed = False
        self.created_at = sensor.clock()
        self.color_frame_desc = _Description(*sensor.size)
        self._sensor = _Availability(self)
        self._mapper = _Mapper()
        self._color_taken: int | None = None
        self._body_taken: int | None = None

    def _check(self) -> None:
        if not self.closed and self.sensor.outage_mode(self.sensor.clock()) == "raise":
            raise SensorGone("-2147024809: the sensor is gone")

    def _newest(self) -> int | None:
        """The number of the newest frame this runtime can see: sent after its creation, while plugged."""
        sensor = self.sensor
        now = sensor.clock()
        if self.closed or not sensor.plugged(now):
            return None
        number = int(now * sensor.fps)
        return number if number / sensor.fps >= self.created_at else None

    def has_new_color_frame(self) -> bool:
        self._check()
        number = self._newest()
        return number is not None and number != self._color_taken

    def get_last_color_frame(self) -> np.ndarray | None:
        self._check()
        number = self._newest()
        if number is None:
            return None
        self._color_taken = number
        self.sensor.frames_served += 1
        return self.sensor.frame(number).bgra

    def has_new_body_frame(self) -> bool:
        self._check()
        number = self._newest()
        return number is not None and number != self._body_taken

    def get_last_body_frame(self) -> _BodyFrame | None:
        self._check()
        number = self._newest()
        if number is None:
            return None
        self._body_taken = number
        frame = self.sensor.frame(number)
        self._mapper.pixels = frame.pixels
        return _BodyFrame(frame.bodies, round(number / self.sensor.fps * 1e7))

    def close(self) -> None:
        self.closed = True


# -------------------------------------------------------------------------------------- the world


class ReplaySensor:
    """The clip looped on a `FastClock`, unplugged for `outage` s every `unplug_every` s of that clock."""

    def __init__(
        self,
        clip: Reader,
        *,
        speed: float = 1.0,
        unplug_every: float = UNPLUG_EVERY,
        outage: float = OUTAGE,
    ) -> None:
        if not (unplug_every > outage >= 0):
            raise UserError(f"unplugging every {unplug_every} s for {outage} s: expected every > outage >= 0")
        self.description = clip.description
        self.fps = clip.fps
        self.unplug_every, self.outage = unplug_every, outage
        self.size = (0, 0)  # (width, height) of the clip's images, set by `_load`
        self._frames = self._load(clip)
        self.clock = FastClock(speed)
        self.frames_served = 0
        self.runtimes = 0
        self.statuses: list[KinectStatus] = []

    def _load(self, clip: Reader) -> list[_ClipFrame]:
        frames: list[_ClipFrame] = []
        for frame in read(clip):
            if frame.image is None:
                raise UserError(f"{clip.description}: frame {frame.index} has no image; a sensor needs video")
            if len(frames) == MAX_FRAMES:
                log.info("%s: the replayed sensor loops its first %d frames", clip.description, MAX_FRAMES)
                break
            self.size = (frame.image.shape[1], frame.image.shape[0])
            frames.append(_clip_frame(frame.image, frame.bodies))
        if not frames:
            raise UserError(f"{clip.description}: no frame to replay")
        return frames

    @property
    def held_mb(self) -> float:
        """Memory held by the decoded clip (part of the run's resident memory from the start)."""
        return sum(frame.bgra.nbytes for frame in self._frames) / 2**20

    def frame(self, number: int) -> _ClipFrame:
        return self._frames[number % len(self._frames)]

    def outage_mode(self, t: float) -> str | None:
        """ "silent" or "raise" while unplugged (odd and even disconnects), None while plugged."""
        number, into = divmod(t, self.unplug_every)
        if number < 1 or into >= self.outage:
            return None
        return "silent" if int(number) % 2 else "raise"

    def plugged(self, t: float) -> bool:
        return self.outage_mode(t) is None

    def outages_begun(self) -> int:
        return int(self.clock() // self.unplug_every)

    def loops(self) -> int:
        """Times the clip has been sent whole, up to now."""
        return int(self.clock() * self.fps) // len(self._frames)

    def frames_sent(self) -> int:
        """Frames the sensor sent while plugged, up to now."""
        now = self.clock()
        total = int(now * self.fps)
        whole = self.outages_begun()
        into = now - whole * self.unplug_every if whole else 0.0
        return total - round(self.fps * (max(whole - 1, 0) * self.outage + min(into, self.outage)))

    def factory(self) -> ReplayRuntime:
        if self.runtimes == 0:  # the sensor's day begins when the app first opens it (a window takes time)
            self.clock.restart()
        self.runtimes += 1
        return ReplayRuntime(self)

    def source(self, on_status: Callable[[KinectStatus], None] | None = None) -> KinectSource:
        """The app's KinectSource on this sensor: its own reconnect logic, on the sensor's clock. It polls
        at its usual real-time pace (3 ms), at least twice a frame."""

        def status(state: KinectStatus) -> None:
            self.statuses.append(state)
            if on_status is not None:
                on_status(state)

        source = KinectSource(
            runtime_factory=self.factory,
            on_status=status,
            poll_interval=min(POLL_INTERVAL * self.clock.speed, 0.5 / self.fps),
            clock=self.clock,
            sleep=self.clock.sleep,
        )
        source.description = f"Kinect v2 replaying {self.description} at {self.clock.speed:g}x"
        return source

    def report(self) -> dict[str, Any]:
        """What the sensor did: frames sent (while plugged) and taken, disconnects, reconnections."""
        reconnects = max((status.reconnects for status in self.statuses), default=0)
        return {
            "clip": self.description,
            "speed": self.clock.speed,
            "unplug_every_s": self.unplug_every,
            "outage_s": self.outage,
            "frames_sent": self.frames_sent(),
            "frames_taken": self.frames_served,
            "outages": self.outages_begun(),
            "losses_seen": sum(status.state == "lost" for status in self.statuses),
            "reconnects": reconnects,
            "runtimes_created": self.runtimes,
            "held_mb": round(self.held_mb, 1),
        }
