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

Finding the binding, its shims and opening the runtime are in `recordings.kinect.binding`; failures
to start raise its `KinectUnavailable` with one line saying what to do, and `kinect_status()`
answers the same question cheaply (no sensor check) for a menu entry. Turning the binding's colour
buffers and bodies into ours is in `recordings.kinect.convert`. Both are re-exported here.
"""

from __future__ import annotations

import logging
import math
import threading
import time
from collections import deque
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np

from sta_hands.contract.frame import COLOR_SIZE, Body, Frame
from sta_hands.contract.reader import KINECT_SKELETON, RECORDED, ImageFlags, Reader, SourceNature
from sta_hands.recordings.kinect.binding import (
    NO_SENSOR,
    KinectUnavailable,
    _com_release,
    _describe,
    create_runtime,
)
from sta_hands.recordings.kinect.convert import bgr_from_bgra, bodies_from_frame

log = logging.getLogger(__name__)

FPS = 30.0
PAIR_TOLERANCE = 1.5 / FPS  # the streams are not synchronised: the latest body frame is up to 1/30 s old
LOST_AFTER = 2.0  # seconds without a colour frame before the sensor counts as lost
CONNECT_TIMEOUT = 10.0  # seconds a new runtime may take to deliver its first colour frame
RETRY_EVERY = 1.0  # seconds between reconnection attempts
POLL_INTERVAL = 0.003  # seconds between polls when nothing new arrived
AVAILABILITY_EVERY = 0.5  # seconds between reads of the SDK's IsAvailable while idle

State = Literal["idle", "starting", "streaming", "lost", "stopped", "failed"]


@dataclass(frozen=True)
class KinectStatus:
    """Where the live source stands; `message` is a sentence for a status bar."""

    state: State
    message: str
    reconnects: int = 0


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


class KinectSource(Reader):
    """Live Kinect v2 frames. Iterate it (or `frames()`) in the capture thread; `stop()` from anywhere.

    `runtime_factory` makes the binding's runtime (default: `create_runtime`; tests pass a fake).
    `on_status(KinectStatus)` is called in the capture thread when the state changes; `status`
    holds the latest for polling. `clock` and `sleep` are for tests (virtual time).
    """

    description = "Kinect v2 (live)"
    fps = FPS
    num_frames = None  # live
    nature = SourceNature(
        live=True, has_images=True, bodies=RECORDED, bodies_label=KINECT_SKELETON, mirrored_by_nature=True
    )

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

    def frames(self, start: int = 0, images: ImageFlags = None) -> Iterator[Frame]:
        """Frames until `stop()` or `close()`; raises KinectUnavailable when capture cannot start. Live:
        there is no `start` to seek to and every image is decoded."""
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

    def problem(self) -> str | None:
        """The sensor's trouble now (lost, failed to start), shown in the GUI's banner and status bar."""
        return self.status.message if self.status.state in ("lost", "failed") else None

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
