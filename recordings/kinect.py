"""`KinectSource`: live frames from a Kinect v2 through the `pykinect2024` (or `pykinect2`) binding.

Colour comes as the SDK's 1920x1080 BGRA buffer and becomes a BGR image, unflipped. Bodies (up to
6) keep their 25 camera-space joints, tracking states and tracking IDs; each tracked body's joints
are mapped to colour pixels (and depth pixels) with ONE call of the SDK's coordinate mapper, which
is how NTU RGB+D's colorX/colorY were made (docs/ntu-format.md 2.2, 2.4). Points the SDK cannot
map (-inf) become NaN.

Threads: the binding is imported, and its runtime created, polled and closed, only in the thread
that iterates `frames()` (COM objects belong to the thread that made them). `stop()` may be called
from any thread: it ends the iteration at its next poll, and the runtime is closed there.

Time: the binding exposes no SDK timestamp for colour frames (only body frames carry
`relative_time`), and its own arrival stamps are `time.time()`, which moves in 15.6 ms steps on
Windows before Python 3.13. So frames are stamped with `time.perf_counter()` when a poll finds them,
colour and bodies alike, and paired on that clock: a colour frame takes the bodies of the nearest
body frame within `pair_tolerance`, or none. Timestamps are seconds from the first frame and
strictly increasing, across reconnections too (an outage shows as a gap).

Unplugging: no colour frame for `lost_after` seconds, the SDK reporting the sensor unavailable, or
the runtime raising, reports "lost" through `on_status` / `status`, closes the runtime and re-creates
it every `retry_every` seconds until frames flow again; indices and timestamps go on from where
they were.

Failures to start raise `KinectUnavailable` with one line saying what to do; `kinect_status()`
answers the same question cheaply (no sensor check) for a menu entry.
"""

from __future__ import annotations

import contextlib
import ctypes
import importlib
import importlib.metadata
import importlib.util
import logging
import math
import sys
import threading
import time
import warnings
from collections import deque
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import Any, Literal

import cv2
import numpy as np

from recordings.frame import COLOR_SIZE, NUM_JOINTS, Body, Frame

log = logging.getLogger(__name__)

# One-line reasons, shown as they are by the command line and the GUI.
NOT_WINDOWS = "Kinect v2 capture needs Windows and the Kinect for Windows SDK 2.0"
NO_BINDING = "the Kinect v2 binding is not installed: pip install 'sta-hands[kinect]' (Windows only)"
NO_SDK = "Kinect20.dll did not load: install the Kinect for Windows SDK 2.0 from Microsoft"
NO_SENSOR = "no Kinect v2 sensor found: check the USB 3 connection and power"
OLD_PYKINECT2 = (
    "pykinect2 0.1.0 from PyPI does not work on 64-bit Python: "
    "pip uninstall pykinect2, then pip install 'sta-hands[kinect]'"
)

FPS = 30.0
PAIR_TOLERANCE = 1.5 / FPS  # the streams are not synchronised: the latest body frame is up to 1/30 s old
LOST_AFTER = 2.0  # seconds without a colour frame before the sensor counts as lost
CONNECT_TIMEOUT = 10.0  # seconds a new runtime may take to deliver its first colour frame
RETRY_EVERY = 1.0  # seconds between reconnection attempts
POLL_INTERVAL = 0.003  # seconds between polls when nothing new arrived
AVAILABILITY_EVERY = 0.5  # seconds between reads of the SDK's IsAvailable while idle

# The bindings we accept, best first: (package, module of the generated COM types).
_BINDINGS = (("pykinect2024", "PyKinect2024"), ("pykinect2", "PyKinectV2"))

State = Literal["idle", "starting", "streaming", "lost", "stopped", "failed"]


class KinectUnavailable(Exception):
    """The Kinect v2 cannot be used; `str(error)` is one line saying what to do."""


@dataclass(frozen=True)
class KinectStatus:
    """Where the live source stands; `message` is a sentence for a status bar."""

    state: State
    message: str
    reconnects: int = 0


# ------------------------------------------------------------------------------------------ the binding


@dataclass(frozen=True)
class KinectBinding:
    """An imported binding: its runtime class and the frame-source flags we open it with."""

    package: str
    runtime_class: Callable[[int], Any]
    source_types: int  # FrameSourceTypes_Color | FrameSourceTypes_Body


def _find_spec(name: str) -> Any:
    """`importlib.util.find_spec` that answers None instead of raising (nothing is imported)."""
    try:
        return importlib.util.find_spec(name)
    except (ImportError, ValueError):
        return None


def _installed_binding() -> str | None:
    return next((package for package, _ in _BINDINGS if _find_spec(package) is not None), None)


def _old_pykinect2() -> bool:
    """PyPI's pykinect2 0.1.0 asserts a 32-bit struct size at import on 64-bit Python."""
    try:
        version = importlib.metadata.version("pykinect2")
    except importlib.metadata.PackageNotFoundError:
        return False
    return version == "0.1.0" and sys.maxsize > 2**32


def _load_sdk_dll() -> None:
    """Load Kinect20.dll as the binding does; OSError when the SDK (or its runtime) is missing."""
    ctypes.WinDLL("Kinect20")  # type: ignore[attr-defined]


def _sdk_missing(error: BaseException) -> bool:
    return isinstance(error, OSError) and "kinect20" in str(error).lower()


def apply_shims(package: str) -> list[str]:
    """Patch what the binding needs and current Python/NumPy/comtypes removed; the names patched.

    - `numpy.object` (gone in NumPy 1.24): both bindings build body frames with it, and a failure
      there is swallowed by a bare `except`, so without it bodies silently never arrive.
    - `ctypes.pythonapi.PyObject_AsWriteBuffer` (gone in Python 3.13): looked up by the runtime's
      constructor for a pygame helper we never call.
    - pykinect2 (GitHub master) only: `time.clock` (gone in Python 3.8) and comtypes'
      `_check_version` ("Wrong version" at import with current comtypes).
    """
    applied = []
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        has_object = hasattr(np, "object")
    if not has_object:
        np.object = object  # type: ignore[attr-defined]
        applied.append("numpy.object")
    if not hasattr(ctypes.pythonapi, "PyObject_AsWriteBuffer"):
        ctypes.pythonapi.PyObject_AsWriteBuffer = ctypes.pythonapi["PyObject_GetBuffer"]
        applied.append("ctypes.pythonapi.PyObject_AsWriteBuffer")
    if package == "pykinect2":
        applied += _shim_pykinect2_master()
    return applied


def _shim_pykinect2_master() -> list[str]:
    applied = []
    if not hasattr(time, "clock"):
        time.clock = time.perf_counter  # type: ignore[attr-defined]
        applied.append("time.clock")
    with contextlib.suppress(ImportError):
        import comtypes

        comtypes._check_version = lambda *args, **kwargs: None
        applied.append("comtypes._check_version")
    return applied


def load_binding() -> KinectBinding:
    """Import the binding (call it in the capture thread); KinectUnavailable says what is missing."""
    if sys.platform != "win32":
        raise KinectUnavailable(NOT_WINDOWS)
    package = _installed_binding()
    if package is None:
        raise KinectUnavailable(NO_BINDING)
    types_module = dict(_BINDINGS)[package]
    applied = apply_shims(package)
    if applied:
        log.debug("Kinect binding shims applied: %s", ", ".join(applied))
    try:
        runtime_module = importlib.import_module(f"{package}.PyKinectRuntime")
        types = importlib.import_module(f"{package}.{types_module}")
        source_types = types.FrameSourceTypes_Color | types.FrameSourceTypes_Body
        return KinectBinding(package, runtime_module.PyKinectRuntime, source_types)
    except Exception as error:
        raise _import_failure(package, error) from error


def _import_failure(package: str, error: Exception) -> KinectUnavailable:
    if _sdk_missing(error):
        return KinectUnavailable(NO_SDK)
    if isinstance(error, ModuleNotFoundError):  # comtypes, its dependency
        return KinectUnavailable(f"{NO_BINDING} (missing: {error.name})")
    if isinstance(error, AssertionError) and package == "pykinect2":
        return KinectUnavailable(OLD_PYKINECT2)
    return KinectUnavailable(
        f"the Kinect v2 binding {package} failed to import ({_describe(error)}): "
        "pip install --force-reinstall 'sta-hands[kinect]'"
    )


_com = threading.local()


def _com_initialize() -> None:
    """Initialise COM in the calling thread once (comtypes does it only in the thread importing it)."""
    if getattr(_com, "initialised", False):
        return
    try:
        import comtypes

        comtypes.CoInitializeEx()
    except (ImportError, OSError) as error:  # OSError: already initialised in another mode
        log.debug("CoInitializeEx: %s", error)
        return
    _com.initialised = True


def _com_release() -> None:
    if getattr(_com, "initialised", False):
        _com.initialised = False
        with contextlib.suppress(ImportError, OSError):
            import comtypes

            comtypes.CoUninitialize()


def create_runtime() -> Any:
    """The default runtime factory: the binding's PyKinectRuntime for colour and bodies."""
    binding = load_binding()
    _com_initialize()
    try:
        return binding.runtime_class(binding.source_types)
    except OSError as error:
        if _sdk_missing(error):
            raise KinectUnavailable(NO_SDK) from error
        raise


def kinect_status() -> tuple[bool, str]:
    """(usable?, reason) without importing the binding or opening the sensor: for a menu entry."""
    if sys.platform != "win32":
        return False, NOT_WINDOWS
    package = _installed_binding()
    if package is None or _find_spec("comtypes") is None:
        return False, NO_BINDING
    if package == "pykinect2" and _old_pykinect2():
        return False, OLD_PYKINECT2
    try:
        _load_sdk_dll()
    except OSError:
        return False, NO_SDK
    return True, f"Kinect v2 software found ({package}); the sensor is checked when capture starts"


def _describe(error: BaseException) -> str:
    text = " ".join(str(error).split())
    return f"{type(error).__name__}: {text}" if text else type(error).__name__


# ------------------------------------------------------------------------------------------ conversion


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


# ---------------------------------------------------------------------------------------------- timing


class BodyPairer:
    """Recent body frames by arrival time; `match(t)` gives the bodies of the nearest within tolerance."""

    def __init__(self, tolerance: float = PAIR_TOLERANCE, keep: int = 8) -> None:
        self.tolerance = tolerance
        self._frames: deque[tuple[float, tuple[Body, ...]]] = deque(maxlen=keep)

    def add(self, arrival: float, bodies: Sequence[Body]) -> None:
        self._frames.append((arrival, tuple(bodies)))

    def match(self, at: float) -> tuple[Body, ...]:
        if not self._frames:
            return ()
        arrival, bodies = min(self._frames, key=lambda entry: abs(entry[0] - at))
        return bodies if abs(arrival - at) <= self.tolerance else ()

    def clear(self) -> None:
        self._frames.clear()


class _Timeline:
    """Seconds from the first frame, strictly increasing."""

    def __init__(self) -> None:
        self._first: float | None = None
        self._last = -math.inf

    def stamp(self, arrival: float) -> float:
        if self._first is None:
            self._first = arrival
        value = max(arrival - self._first, self._last + 1e-6)
        self._last = value
        return value


class _SensorLost(Exception):
    pass


def _sensor_available(runtime: Any) -> bool | None:
    """The SDK's IKinectSensor.IsAvailable through the binding's `_sensor`; None when unknown."""
    sensor = getattr(runtime, "_sensor", None)
    try:
        return None if sensor is None else bool(sensor.IsAvailable)
    except Exception:
        return None


def _color_size(runtime: Any) -> tuple[int, int]:
    description = getattr(runtime, "color_frame_desc", None)
    if description is None:
        return COLOR_SIZE
    return int(description.Width), int(description.Height)


# ---------------------------------------------------------------------------------------------- source


class KinectSource:
    """Live Kinect v2 frames. Iterate it (or `frames()`) in the capture thread; `stop()` from anywhere.

    `runtime_factory` makes the binding's runtime (default: `create_runtime`; tests pass a fake).
    `on_status(KinectStatus)` is called in the capture thread when the state changes; `status`
    holds the latest for polling. `clock` and `sleep` are for tests (virtual time).
    """

    description = "Kinect v2 (live)"
    fps = FPS

    def __init__(
        self,
        *,
        runtime_factory: Callable[[], Any] | None = None,
        on_status: Callable[[KinectStatus], None] | None = None,
        pair_tolerance: float = PAIR_TOLERANCE,
        lost_after: float = LOST_AFTER,
        connect_timeout: float = CONNECT_TIMEOUT,
        retry_every: float = RETRY_EVERY,
        poll_interval: float = POLL_INTERVAL,
        map_depth: bool = True,
        clock: Callable[[], float] = time.perf_counter,
        sleep: Callable[[float], None] | None = None,
    ) -> None:
        self.runtime_factory = runtime_factory or create_runtime
        self.on_status = on_status
        self.pair_tolerance = pair_tolerance
        self.lost_after = lost_after
        self.connect_timeout = connect_timeout
        self.retry_every = retry_every
        self.poll_interval = poll_interval
        self.map_depth = map_depth
        self.clock = clock
        self._sleep = sleep
        self._stop = threading.Event()
        self._busy = threading.Lock()
        self.status = KinectStatus("idle", "Kinect v2 not started")

    def __iter__(self) -> Iterator[Frame]:
        return self.frames()

    def frames(self) -> Iterator[Frame]:
        """Frames until `stop()` or `close()`; raises KinectUnavailable when capture cannot start."""
        if not self._busy.acquire(blocking=False):
            raise RuntimeError("this KinectSource is already being read")
        run = _Run(self)
        try:
            self._set_status("starting", "starting the Kinect v2…")
            yield from run.frames()
        except KinectUnavailable as error:
            self._set_status("failed", str(error))
            raise
        finally:
            run.close()
            _com_release()
            self._stop.clear()
            self._busy.release()
            if self.status.state != "failed":
                self._set_status("stopped", "Kinect v2 capture stopped", run.reconnects)

    def stop(self) -> None:
        """End the current (or the next) iteration at its next poll; safe from any thread."""
        self._stop.set()

    @property
    def stopping(self) -> bool:
        return self._stop.is_set()

    def _wait(self, seconds: float) -> None:
        if self._sleep is not None:
            self._sleep(seconds)
        else:
            self._stop.wait(seconds)

    def _set_status(self, state: State, message: str, reconnects: int = 0) -> None:
        if self.status.state == state and self.status.message == message:
            return
        self.status = KinectStatus(state, message, reconnects)
        log.log(logging.WARNING if state == "lost" else logging.INFO, "%s", message)
        if self.on_status is not None:
            try:
                self.on_status(self.status)
            except Exception:
                log.exception("Kinect status callback failed")


class _Run:
    """One iteration of a KinectSource: the runtime of the moment, the pairing and the numbering."""

    def __init__(self, source: KinectSource) -> None:
        self.source = source
        self.runtime: Any = None
        self.owner: int | None = None
        self.size = COLOR_SIZE
        self.pairer = BodyPairer(source.pair_tolerance)
        self.timeline = _Timeline()
        self.index = 0
        self.reconnects = 0
        self.streamed = False  # any frame yet, in this run
        self.lost = False
        self.connected_at = 0.0
        self.last_frame_at: float | None = None
        self.next_availability_check = 0.0

    def frames(self) -> Iterator[Frame]:
        source = self.source
        while not source.stopping:
            if self.runtime is None and not self._connect():
                source._wait(source.retry_every)
                continue
            try:
                frame = self._poll()
            except _SensorLost as lost:
                self._lose(str(lost))
                continue
            if frame is None:
                source._wait(source.poll_interval)
            else:
                yield frame

    # -- connection

    def _connect(self) -> bool:
        """Create a runtime; False (retry later) when that fails after frames have flowed once."""
        try:
            runtime = self.source.runtime_factory()
            self.runtime, self.owner = runtime, threading.get_ident()
            self.size = _color_size(runtime)
        except KinectUnavailable:
            raise
        except Exception as error:
            self.close()
            if not self.streamed:
                raise KinectUnavailable(f"{NO_SENSOR} ({_describe(error)})") from error
            log.debug("Kinect v2 reconnection failed: %s", _describe(error))
            return False
        self.connected_at = self.source.clock()
        self.last_frame_at = None
        self.next_availability_check = self.connected_at
        return True

    def _lose(self, reason: str) -> None:
        if not self.lost:
            self.lost = True
            message = f"Kinect v2 sensor lost ({reason}); waiting for it to come back…"
            self.source._set_status("lost", message, self.reconnects)
        else:
            log.debug("Kinect v2 still away: %s", reason)
        self.close()
        self.pairer.clear()
        self.source._wait(self.source.retry_every)

    def close(self) -> None:
        """Close the runtime, in the thread that made it (elsewhere it is left to the binding)."""
        runtime, self.runtime = self.runtime, None
        if runtime is None:
            return
        if threading.get_ident() != self.owner:
            log.warning("Kinect v2 runtime not closed: its thread (%s) is not this one", self.owner)
            return
        try:
            runtime.close()
        except Exception as error:
            log.debug("closing the Kinect v2 runtime: %s", _describe(error))

    # -- polling

    def _poll(self) -> Frame | None:
        """One look at the runtime: stores a new body frame, returns a new colour frame or None."""
        runtime, clock = self.runtime, self.source.clock
        try:
            body_time = clock()
            if runtime.has_new_body_frame():
                self._read_bodies(runtime, body_time)
            color_time = clock()
            image = self._read_color(runtime) if runtime.has_new_color_frame() else None
        except Exception as error:
            raise _SensorLost(f"the runtime failed: {_describe(error)}") from error
        if image is None:
            self._check_alive(clock())
            return None
        return self._frame(color_time, image)

    def _read_bodies(self, runtime: Any, arrival: float) -> None:
        body_frame = runtime.get_last_body_frame()
        if body_frame is not None:
            bodies = bodies_from_frame(body_frame, runtime._mapper, map_depth=self.source.map_depth)
            self.pairer.add(arrival, bodies)

    def _read_color(self, runtime: Any) -> np.ndarray | None:
        data = runtime.get_last_color_frame()
        return None if data is None else bgr_from_bgra(data, *self.size)

    def _check_alive(self, now: float) -> None:
        """Raise when the sensor seems gone (or, before any frame at all, absent)."""
        source = self.source
        if self.last_frame_at is None:
            if now - self.connected_at > source.connect_timeout:
                if not self.streamed:
                    raise KinectUnavailable(NO_SENSOR)
                raise _SensorLost(f"no frames within {source.connect_timeout:g} s of reconnecting")
            return
        if now - self.last_frame_at > source.lost_after:
            raise _SensorLost(f"no frames for {source.lost_after:g} s")
        if now >= self.next_availability_check:
            self.next_availability_check = now + AVAILABILITY_EVERY
            if _sensor_available(self.runtime) is False:
                raise _SensorLost("the SDK reports it unavailable")

    def _frame(self, arrival: float, image: np.ndarray) -> Frame:
        self.last_frame_at = arrival
        if not self.streamed or self.lost:
            self._announce_streaming()
        frame = Frame(self.index, self.timeline.stamp(arrival), image, self.pairer.match(arrival))
        self.index += 1
        return frame

    def _announce_streaming(self) -> None:
        if self.lost:
            self.reconnects += 1
            message = f"Kinect v2 sensor back (reconnection {self.reconnects}), streaming"
        else:
            message = "Kinect v2 streaming"
        self.streamed, self.lost = True, False
        self.source._set_status("streaming", message, self.reconnects)
