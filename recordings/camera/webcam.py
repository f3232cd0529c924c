"""`Webcam`: live frames from any camera OpenCV can open (`cv2.VideoCapture`), without bodies.

The specs `webcam` (the first camera) and `webcam:N` (the N-th) name it; `size` asks the camera for a
resolution (it may give another: the frames say what it gave). Bodies come from the pose estimator
(`recordings.estimate.bodies`), which `open_reader` wraps around it.

Opening checks at once that the camera opens and gives a first frame, so that a missing or busy
camera is one clear line before anything starts. While streaming, a camera that stops delivering
frames (unplugged, taken by another program, a driver that hangs) is reported through `problem()`
(the GUI's banner, as for the Kinect) after `lost_after` seconds; the camera is then reopened every
`retry_every` seconds until frames flow again, and indices and timestamps go on from where they were.
The capture is made by `capture_factory` (default `cv2.VideoCapture`; tests pass a fake with the same
methods: `isOpened`, `read`, `set`, `get`, `release`).
"""

from __future__ import annotations

import logging
import re
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any, Protocol

import cv2
import numpy as np

from sta_hands.contract.errors import UserError
from sta_hands.contract.frame import Frame
from sta_hands.contract.reader import NO_BODIES, NONE_LABEL, ImageFlags, Reader, SourceNature
from sta_hands.recordings.description import clip_description

log = logging.getLogger(__name__)

SPEC = re.compile(r"^webcam(?::(\d+))?$")
DEFAULT_FPS = 30.0
LOST_AFTER = 2.0  # seconds without a frame before the camera counts as lost
RETRY_EVERY = 1.0  # seconds between attempts to reopen a lost camera
FAILED_READ_PAUSE = 0.01  # seconds between reads that gave nothing


class Capture(Protocol):
    """What this module uses of `cv2.VideoCapture`."""

    def isOpened(self) -> bool: ...  # OpenCV's names
    def read(self) -> tuple[bool, np.ndarray | None]: ...
    def set(self, prop: int, value: float) -> bool: ...
    def get(self, prop: int) -> float: ...
    def release(self) -> None: ...


CaptureFactory = Callable[[int], Capture]


def parse_size(text: str) -> tuple[int, int]:
    """`"640x480"` -> (640, 480); anything else is a UserError saying what is expected."""
    match = re.fullmatch(r"\s*(\d+)\s*[xX]\s*(\d+)\s*", text)
    if match is None or int(match[1]) <= 0 or int(match[2]) <= 0:
        raise UserError(f"--size {text!r}: expected WIDTHxHEIGHT in pixels, e.g. 640x480")
    return int(match[1]), int(match[2])


def camera_index(spec: str) -> int | None:
    """The camera index that `spec` names (`webcam` -> 0, `webcam:2` -> 2), or None for another spec."""
    match = SPEC.match(spec)
    return None if match is None else int(match[1] or 0)


class Webcam(Reader):
    """Frames from camera `index` until `stop()`; a failure to open is a UserError at construction."""

    num_frames = None  # live
    nature = SourceNature(  # the scene as it is, not a mirror image; bodies only where estimated
        live=True, has_images=True, bodies=NO_BODIES, bodies_label=NONE_LABEL, mirrored_by_nature=False
    )

    def __init__(
        self,
        index: int = 0,
        size: tuple[int, int] | None = None,
        *,
        capture_factory: CaptureFactory | None = None,
        lost_after: float = LOST_AFTER,
        retry_every: float = RETRY_EVERY,
        clock: Callable[[], float] = time.perf_counter,
    ) -> None:
        self.index = index
        self.requested_size = size
        self.description = f"webcam {index}"
        self._factory: CaptureFactory = capture_factory or cv2.VideoCapture
        self.lost_after = lost_after
        self.retry_every = retry_every
        self._clock = clock
        self._stop = threading.Event()
        self._busy = threading.Lock()
        self._problem: str | None = None
        self._capture: Capture | None = self._open()
        ok, image = self._capture.read()
        if not ok or image is None:
            self._release()
            raise UserError(
                f"{self.description}: the camera opened but gave no frame (is another program using it?)"
            )
        self.size = (image.shape[1], image.shape[0])
        self._first_image: np.ndarray | None = image
        fps = self._capture.get(cv2.CAP_PROP_FPS)
        self.fps = float(fps) if np.isfinite(fps) and 1.0 <= fps <= 240.0 else DEFAULT_FPS

    # -- opening

    def _open(self) -> Capture:
        try:
            capture = self._factory(self.index)
        except Exception as error:  # a backend that raises instead of answering isOpened() False
            raise UserError(f"{self.description}: cannot open the camera ({error})") from None
        if not capture.isOpened():
            capture.release()
            raise UserError(
                f"{self.description}: cannot open the camera (no camera at index {self.index}, or it is in "
                f"use by another program; try webcam:{self.index + 1} for the next one)"
            )
        if self.requested_size is not None:
            capture.set(cv2.CAP_PROP_FRAME_WIDTH, self.requested_size[0])
            capture.set(cv2.CAP_PROP_FRAME_HEIGHT, self.requested_size[1])
        return capture

    def _release(self) -> None:
        capture, self._capture = self._capture, None
        if capture is not None:
            capture.release()

    # -- reading

    def frames(self, start: int = 0, images: ImageFlags = None) -> Iterator[Frame]:
        """Frames until `stop()`: live, so there is no `start` to seek to and every image is read. A camera
        that stops delivering is reported by `problem()` and reopened until it is back."""
        if not self._busy.acquire(blocking=False):
            raise RuntimeError(f"{self.description} is already being read")
        try:
            if self._capture is None:  # read before and released: open it again, or say why not
                self._capture = self._open()
            yield from self._stream()
        finally:
            self._release()
            self._stop.clear()
            self._busy.release()

    def _stream(self) -> Iterator[Frame]:
        index, first_at, last_t = 0, None, -1.0
        last_frame_at = self._clock()
        while not self._stop.is_set():
            image = self._next_image()
            now = self._clock()
            if image is None:
                if now - last_frame_at > self.lost_after:
                    self._lose(f"no frame for {self.lost_after:g} s")
                    last_frame_at = self._clock()  # the next verdict after another lost_after
                else:
                    self._stop.wait(FAILED_READ_PAUSE)
                continue
            if self._problem is not None:
                log.info("%s is back", self.description)
                self._problem = None
            first_at = now if first_at is None else first_at
            last_t = max(now - first_at, last_t + 1e-6)  # seconds from the first frame, increasing
            last_frame_at = now
            yield Frame(index, last_t, image)
            index += 1

    def _next_image(self) -> np.ndarray | None:
        if self._first_image is not None:
            image, self._first_image = self._first_image, None
            return image
        if self._capture is None:
            return None
        try:
            ok, image = self._capture.read()
        except Exception as error:  # a driver that raises: as a camera that gives nothing
            log.debug("%s: read failed: %s", self.description, error)
            return None
        return image if ok and image is not None else None

    def _lose(self, reason: str) -> None:
        """Say so (once), release the camera and try to open it again after `retry_every`."""
        if self._problem is None:
            self._problem = (
                f"{self.description} stopped delivering frames ({reason}); waiting for it to come back…"
            )
            log.warning("%s", self._problem)
        self._release()
        if self._stop.wait(self.retry_every):
            return
        try:
            self._capture = self._open()
        except UserError as error:
            log.debug("%s: reopening failed: %s", self.description, error)

    # -- the Reader's rest

    def stop(self) -> None:
        """End the current (or the next) iteration at its next read; safe from any thread."""
        self._stop.set()

    def problem(self) -> str | None:
        return self._problem

    def describe(self) -> dict[str, Any]:
        """What `sta-hands info webcam` prints: the camera's size and rate (it has no frame count)."""
        width, height = self.size
        video = {"frames": None, "width": width, "height": height, "fps": self.fps}
        info = clip_description(Path(self.description), None, None, (), video, 0)
        info.update(kind="webcam", frames=None, aligned=True)
        if self._problem is not None:
            info["problems"].append(self._problem)
        return info

    def close(self) -> None:
        if not self._busy.locked():  # a running iteration releases the camera in its own thread
            self._release()
