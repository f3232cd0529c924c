"""Long runs: replay clips in a loop through the whole pipeline and watch memory and latency over time.

`run_soak(minutes, model_folder, clips, gui)` chains the clips into one endless live source that paces
itself by the recorded timestamps (as a Kinect does), `speed` times faster than real time if asked (the
timestamps still advance as recorded: the recognizer sees a 30 fps source), and runs it through the
app's own pipeline: capture thread -> frame ring -> recognizer thread (`app.headless.run_headless`,
live), or with ``gui=True`` the real `MainWindow` (offscreen unless a Qt platform is set), whose session
runs the same threads and draws every frame, the hand tiles, the curve and the status bar. A sampler
thread reads the resident memory every few seconds.

With `sensor` (a `SensorPlan`), the clip is sent by a replayed Kinect v2 (`app.soak.sensor`) that is
unplugged every 10 minutes of its clock and plugged back in, read through the app's own `KinectSource`
and its reconnection; `pose="estimate"` (or "auto" on a video without a skeleton) estimates the bodies
from its images, as for a camera.

The report (a JSON-able dict, see `run_soak`; the statistics are `app.soak.report`'s) gives memory over
time with its growth per hour of the source (a linear fit after the warm-up, with its noise), predictions
made, frames dropped and windows skipped, the latency percentiles in the first and last 10 minutes of
the source, the sensor's disconnects and reconnections, and every warning and error logged. The targets:
growth under 10 MiB over an 8-hour day, and the end's p95 latency within 10% of the start's. From the
command line: `python -m sta_hands.commands.soak` (its usage there; docs/soak.md).
"""

from __future__ import annotations

import contextlib
import logging
import os
import sys
import tempfile
import threading
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from sta_hands.app.runtime import OnnxModel
from sta_hands.app.soak.report import (
    MAX_SAMPLE_SECONDS,
    LogCollector,
    MemorySampler,
    Predictions,
    format_report,
    latency_report,
    memory_report,
)
from sta_hands.app.soak.sensor import OUTAGE, UNPLUG_EVERY, ReplaySensor
from sta_hands.contract.errors import RecordingError, UserError
from sta_hands.contract.frame import Frame
from sta_hands.contract.reader import ESTIMATED, FunctionReader, Reader, read
from sta_hands.recordings.sources import POSE_MODES, bodies_from, open_reader, recorded_bodies, with_pose

__all__ = ["SensorPlan", "format_report", "latency_report", "looping_source", "memory_report", "run_soak"]

log = logging.getLogger(__name__)

LATENCY_SEGMENT = 600.0  # latency "start" and "end": the first and last 10 minutes of the source


@dataclass(frozen=True)
class SensorPlan:
    """Send the clip through a replayed Kinect v2, unplugged for `outage` s every `unplug_every` s."""

    unplug_every: float = UNPLUG_EVERY
    outage: float = OUTAGE


# ----------------------------------------------------------------------------------------------- source


@dataclass
class _Counter:
    frames: int = 0
    loops: int = 0
    timeline: float = 0.0  # seconds of recorded time replayed
    ended: threading.Event = field(default_factory=threading.Event)  # the source has given its last frame


def looping_source(
    sources: Sequence[Reader], seconds: float, stop: threading.Event, counter: _Counter, speed: float = 1.0
) -> Reader:
    """One live source: `sources` one after another, again and again, for `seconds` of recorded time.

    Frames are re-indexed and re-stamped on one continuous timeline and paced by it, `speed` times faster
    than real time (a replay that falls behind is not waited for), so that the recognizer sees what a
    Kinect would give it.
    """
    if not sources:
        raise UserError("a soak run needs at least one clip")

    def frames(start: int = 0, images: object = None) -> Iterator[Frame]:
        try:
            yield from paced()
        finally:
            counter.ended.set()

    def paced() -> Iterator[Frame]:
        began = time.perf_counter()
        offset = 0.0
        while True:
            before = counter.frames
            for source in sources:
                first: float | None = None
                last = offset
                for frame in read(source):
                    first = frame.timestamp if first is None else first
                    stamp = offset + (frame.timestamp - first)
                    if stop.is_set() or stamp >= seconds:
                        return
                    stop.wait(max(0.0, began + stamp / speed - time.perf_counter()))
                    yield replace(frame, index=counter.frames, timestamp=stamp)
                    counter.frames += 1
                    counter.timeline = last = stamp
                offset = last + 1.0 / source.fps
            if counter.frames == before:
                raise RecordingError(None, "the soak clips gave no frame")
            counter.loops += 1

    names = ", ".join(source.description for source in sources)
    return FunctionReader(f"soak loop of {names}", None, sources[0].fps, frames, stop=stop.set)


def sensor_source(sensor: ReplaySensor, seconds: float, counter: _Counter) -> Reader:
    """The app's KinectSource on `sensor`, for `seconds` of the sensor's clock, its frames counted."""
    kinect = sensor.source()

    def frames(start: int = 0, images: object = None) -> Iterator[Frame]:
        with contextlib.closing(kinect.frames()) as live:  # the runtime is closed in this thread
            try:
                for frame in live:
                    if sensor.clock() >= seconds:
                        return
                    yield frame
                    counter.frames += 1
                    counter.timeline = frame.timestamp
                    counter.loops = sensor.loops()
            finally:
                sensor.clock.freeze()
                counter.ended.set()

    return FunctionReader(
        kinect.description, None, kinect.fps, frames, stop=kinect.stop, problem=kinect.problem,
        nature=kinect.nature,
    )  # fmt: skip


# ---------------------------------------------------------------------------------------------- the run


def run_soak(
    minutes: float,
    model_folder: str | Path,
    clips: Sequence[str | Path | Reader],
    gui: bool = False,
    *,
    provider: str | None = None,
    sample_seconds: float | None = None,
    speed: float = 1.0,
    sensor: SensorPlan | None = None,
    pose: str = "auto",
) -> dict[str, Any]:
    """Replay `clips` (paths or specs as `sta-hands run` takes them, or `Reader`s) in a loop for `minutes`
    of their recorded time, `speed` times faster than real time, through the full pipeline, with the
    window when `gui`, through a replayed sensor that comes and goes with `sensor` (one clip then); the
    report as a JSON-able dict:

    ``minutes`` (of the source), ``speed``, ``seconds`` (wall time), ``gui``, ``model``, ``provider``,
    ``clips``, ``bodies``, ``frames_read``, ``loops``, ``timeline_seconds``, ``predictions``,
    ``frames_dropped``, ``windows_skipped``, ``errors`` (list of one-line messages), ``log`` (warnings
    and errors logged: level, logger, message, count), ``sensor`` (None, or `ReplaySensor.report`:
    disconnects, losses seen, reconnects, frames sent and taken), ``memory`` (`memory_report`: samples
    [[s, MiB], ...], after the warm-up, growth per source hour with its error and noise...),
    ``latency_ms`` (`latency_report`: all/start/end percentiles, p95_change), ``targets``.
    """
    seconds = float(minutes) * 60.0
    if not seconds > 0:
        raise UserError(f"a soak run needs a positive duration, got {minutes} minutes")
    if not speed > 0:
        raise UserError(f"a soak run needs a positive speed, got {speed}")
    if pose not in POSE_MODES:
        raise UserError(f"pose {pose!r}: expected one of {', '.join(POSE_MODES)}")
    model = OnnxModel(model_folder, provider=provider)
    stop, counter = threading.Event(), _Counter()
    replayed: ReplaySensor | None = None
    if sensor is None:
        sources = [_opened(clip, pose) for clip in clips]
        source = looping_source(sources, seconds, stop, counter, speed)
    else:
        if len(clips) != 1:
            raise UserError(f"a replayed sensor sends one clip, got {len(clips)}")
        clip = _opened(clips[0], "kinect")
        sources = [clip]
        replayed = ReplaySensor(clip, speed=speed, unplug_every=sensor.unplug_every, outage=sensor.outage)
        source = sensor_source(replayed, seconds, counter)
        if pose == "estimate" or (pose == "auto" and not recorded_bodies(clip)):
            source = with_pose(source, "estimate")
    wall_seconds = seconds / speed
    interval = sample_seconds or min(MAX_SAMPLE_SECONDS, max(0.5, wall_seconds / 20.0))
    predictions = Predictions()
    sampler = MemorySampler(interval, lambda: counter.frames).start()
    predictions.started = time.perf_counter()
    with LogCollector() as logged:
        try:
            errors = (
                _run_gui(source, model, predictions, wall_seconds, stop, counter.ended)
                if gui
                else _run_plain(source, model, predictions)
            )
        finally:
            stop.set()
            sampler.stop()
    wall = time.perf_counter() - predictions.started
    memory = memory_report(sampler.samples, wall, sampler.source, speed, sampler.frames)
    latency = latency_report(predictions.times, predictions.latencies, LATENCY_SEGMENT / speed)
    return {
        "minutes": float(minutes),
        "speed": float(speed),
        "seconds": round(wall, 2),
        "gui": gui,
        "model": str(model_folder),
        "provider": model.provider,
        "clips": [s.description for s in sources],
        "bodies": _bodies(source, sources, replayed is not None),
        "frames_read": counter.frames,
        "loops": counter.loops,
        "timeline_seconds": round(counter.timeline, 2),
        "predictions": len(predictions.times),
        "frames_dropped": predictions.frames_dropped,
        "windows_skipped": predictions.windows_skipped,
        "errors": errors,
        "log": logged.report(),
        "sensor": None if replayed is None else replayed.report(),
        "memory": memory,
        "latency_ms": latency,
        "targets": {
            "memory_growth_beyond_noise": memory["growth_beyond_noise"],
            "memory_day_under_10_mib": memory["day_under_limit"],
            "latency_p95_within_10_percent": latency["within_tolerance"],
        },
    }


def _opened(clip: str | Path | Reader, pose: str) -> Reader:
    """A clip given as a path or spec opened with `pose`; a reader as it is."""
    return open_reader(str(clip), pose=pose) if isinstance(clip, (str, Path)) else clip


def _bodies(source: Reader, sources: Sequence[Reader], sensor: bool) -> list[str]:
    """Where the bodies come from, per clip (`recordings.sources.bodies_from`'s words)."""
    if sensor:
        estimated = source.nature.bodies == ESTIMATED
        return [bodies_from(source) if estimated else "recorded, sent by the sensor"]
    return [bodies_from(clip) for clip in sources]


def _run_plain(source: Reader, model: OnnxModel, predictions: Predictions) -> list[str]:
    """Capture thread -> ring -> recognizer thread, as `sta-hands run --headless` on a live source."""
    from sta_hands.app.headless import run_headless

    summary = run_headless(source, model, predictions.add, realtime=True)
    return [summary.error] if summary.error else []


def _run_gui(
    source: Reader,
    model: OnnxModel,
    predictions: Predictions,
    seconds: float,
    stop: threading.Event,
    ended: threading.Event,
) -> list[str]:
    """The real window (its session runs the capture and recognizer threads) until the source has given
    its last frame (`ended`), which should be about `seconds` from now; at most twice that and a minute."""
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    from PyQt5.QtCore import QEventLoop, QSettings, QTimer
    from PyQt5.QtWidgets import QApplication

    from sta_hands.app.gui.main_window import MainWindow

    app = QApplication.instance() or QApplication(sys.argv[:1])
    errors: list[str] = []
    with tempfile.TemporaryDirectory(prefix="sta-hands-soak-") as folder:
        window = MainWindow(QSettings(str(Path(folder) / "settings.ini"), QSettings.IniFormat))
        try:
            window.resize(1280, 720)
            window.show()
            window.session.prediction_ready.connect(predictions.add)
            window.session.error.connect(errors.append)
            window.set_model(model)
            window.set_source(source)
            loop, check, limit = QEventLoop(), QTimer(), 2.0 * seconds + 60.0
            deadline = time.perf_counter() + limit
            check.timeout.connect(lambda: (ended.is_set() or time.perf_counter() > deadline) and loop.quit())
            check.start(100)
            loop.exec_()
            check.stop()
            if not ended.is_set():
                errors.append(
                    f"the source had not ended {limit:.0f} s into a run meant to last {seconds:.0f} s"
                )
        finally:
            stop.set()
            window.close()
            window.session.shutdown(workers_timeout=3.0)
            app.processEvents()  # deliver what the workers posted before they stopped
            window.deleteLater()
    return errors
