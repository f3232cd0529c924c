"""Long runs: replay clips in a loop through the whole pipeline and watch memory and latency over time.

`run_soak(minutes, model_folder, clips, gui)` chains the clips into one endless live source that paces
itself by the recorded timestamps (as a Kinect does), and runs it through the app's own pipeline:
capture thread -> frame ring -> recognizer thread (`app.headless.run_headless`, live), or with
``gui=True`` the real `MainWindow` (offscreen unless a Qt platform is set), whose session runs the same
threads and draws every frame. A sampler thread reads the resident memory every few seconds.

The report (a JSON-able dict, see `run_soak`) gives memory over time with its growth per hour (a linear
fit after the warm-up), predictions made, frames skipped, and the latency percentiles at the start and
at the end of the run (the first and last 20% of the time predictions were made). The targets: no
memory growth beyond noise over 30 minutes, and the end's p95 latency within 10% of the start's.

    python -m app.soak --minutes 30 --model models/demo CLIP [CLIP ...] [--gui] [--json report.json]
"""

from __future__ import annotations

import argparse
import json
import logging
import math
import os
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, Self

import numpy as np

from app.recognizer import Prediction
from app.runtime import OnnxModel
from app.worker import Worker
from recordings.errors import RecordingError, UserError
from recordings.frame import Frame
from recordings.reader import FunctionReader, Reader, read
from recordings.sources import open_reader

log = logging.getLogger(__name__)

WARM_UP_SHARE = 0.2  # the memory fit skips the first 20% of the run (caches and arenas filling)
SEGMENT_SHARE = 0.2  # latency "start" and "end": the first and last 20% of the predicting time
MAX_SAMPLE_SECONDS = 5.0  # memory is sampled every few seconds (more often in short runs)
LATENCY_TOLERANCE = 0.10  # target: the end's p95 within 10% of the start's
NOISE_FACTOR = 3.0  # growth over the fitted span beyond 3 residual standard deviations is not noise


# ----------------------------------------------------------------------------------------------- memory


def rss_mb() -> tuple[float, str]:
    """Resident memory of this process in MiB, and where it was read ("statm" now, or "maxrss" peak)."""
    try:
        with open("/proc/self/statm", encoding="ascii") as statm:
            pages = int(statm.read().split()[1])
        return pages * os.sysconf("SC_PAGE_SIZE") / 2**20, "statm"
    except (OSError, ValueError, IndexError, AttributeError):
        pass
    try:
        import resource  # Unix only
    except ImportError:
        return float("nan"), "unavailable"
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss  # KiB on Linux, bytes on macOS
    return peak / (2**20 if sys.platform == "darwin" else 2**10), "maxrss"


class MemorySampler(Worker):
    """Samples `rss_mb` every `interval` seconds in a daemon thread until `stop`."""

    def __init__(self, interval: float) -> None:
        self.interval = interval
        self.samples: list[tuple[float, float]] = []  # (seconds since start, MiB)
        self.source = "statm"
        self._started = time.perf_counter()
        super().__init__("soak-memory")

    def start(self) -> Self:
        self._started = time.perf_counter()
        return super().start()

    def _sample(self) -> None:
        mb, self.source = rss_mb()
        self.samples.append((time.perf_counter() - self._started, mb))

    def _run(self) -> None:
        while True:
            self._sample()
            if self.wait(self.interval):
                return


def memory_report(samples: Sequence[tuple[float, float]], seconds: float, source: str) -> dict[str, Any]:
    """Memory over time and its growth: a least-squares line through the samples after the warm-up."""
    times = np.array([t for t, _ in samples], dtype=np.float64)
    values = np.array([mb for _, mb in samples], dtype=np.float64)
    fitted = times >= WARM_UP_SHARE * seconds
    if fitted.sum() < 3:
        fitted = np.ones_like(times, dtype=bool)
    slope = noise = span = float("nan")
    if fitted.sum() >= 2 and np.ptp(times[fitted]) > 0:
        slope, intercept = np.polyfit(times[fitted], values[fitted], 1)
        noise = float(np.std(values[fitted] - (slope * times[fitted] + intercept)))
        span = float(np.ptp(times[fitted]))
    growth = slope * span
    return {
        "source": source,
        "samples": [[round(t, 2), _number(mb, 2)] for t, mb in samples],
        "start_mb": _number(values[0]) if len(values) else None,
        "end_mb": _number(values[-1]) if len(values) else None,
        "peak_mb": _number(values.max()) if len(values) else None,
        "fit_from_s": _number(times[fitted][0]) if fitted.any() else None,
        "growth_mb_per_hour": _number(slope * 3600.0),
        "growth_mb_over_fit": _number(growth),
        "noise_mb": _number(noise),
        "growth_beyond_noise": bool(growth > NOISE_FACTOR * max(noise, 0.5))
        if math.isfinite(growth)
        else None,
    }


# ---------------------------------------------------------------------------------------------- latency


@dataclass
class Predictions:
    """What the pipeline delivered: arrival time (s since start), latency (ms), frames dropped and windows
    skipped so far."""

    started: float = field(default_factory=time.perf_counter)
    times: list[float] = field(default_factory=list)
    latencies: list[float] = field(default_factory=list)
    frames_dropped: int = 0
    windows_skipped: int = 0
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def add(self, prediction: Prediction) -> None:
        with self._lock:
            self.times.append(time.perf_counter() - self.started)
            self.latencies.append(prediction.timings.age_ms)
            self.frames_dropped = max(self.frames_dropped, prediction.frames_dropped)
            self.windows_skipped = max(self.windows_skipped, prediction.windows_skipped)


def latency_report(times: Sequence[float], latencies: Sequence[float]) -> dict[str, Any]:
    """Percentiles over the whole run, its first and its last 20% (of the time predictions were made)."""
    t = np.asarray(times, dtype=np.float64)
    ms = np.asarray(latencies, dtype=np.float64)
    if len(t) == 0:
        empty = _percentiles(ms)
        return {"all": empty, "start": empty, "end": empty, "p95_change": None, "within_tolerance": None}
    first, last = t[0], t[-1]
    cut = SEGMENT_SHARE * (last - first)
    start = _percentiles(ms[t <= first + cut])
    end = _percentiles(ms[t >= last - cut])
    change = None
    if start["p95"] and end["p95"] is not None:
        change = end["p95"] / start["p95"] - 1.0
    return {
        "all": _percentiles(ms),
        "start": start,
        "end": end,
        "p95_change": _number(change),
        "within_tolerance": None if change is None else bool(change <= LATENCY_TOLERANCE),
    }


def _percentiles(values: np.ndarray) -> dict[str, Any]:
    if len(values) == 0:
        return {"count": 0, "p50": None, "p95": None, "max": None}
    p50, p95 = np.percentile(values, [50, 95])
    return {"count": len(values), "p50": _number(p50), "p95": _number(p95), "max": _number(values.max())}


def _number(value: float | None, digits: int = 3) -> float | None:
    """A float for JSON: rounded, None for NaN or infinity."""
    if value is None or not math.isfinite(float(value)):
        return None
    return round(float(value), digits)


# ----------------------------------------------------------------------------------------------- source


@dataclass
class _Counter:
    frames: int = 0
    loops: int = 0
    timeline: float = 0.0  # seconds of recorded time replayed


def looping_source(
    sources: Sequence[Reader], seconds: float, stop: threading.Event, counter: _Counter
) -> Reader:
    """One live source: `sources` one after another, again and again, for `seconds` of wall time.

    Frames are re-indexed and re-stamped on one continuous timeline and paced by it (a replay that
    falls behind is not waited for), so that the recognizer sees what a Kinect would give it.
    """
    if not sources:
        raise UserError("a soak run needs at least one clip")

    def frames(start: int = 0, images: object = None) -> Iterator[Frame]:
        began = time.perf_counter()
        end = began + seconds
        offset = 0.0
        while True:
            before = counter.frames
            for source in sources:
                first: float | None = None
                last = offset
                for frame in read(source):
                    if stop.is_set() or time.perf_counter() >= end:
                        return
                    first = frame.timestamp if first is None else first
                    stamp = offset + (frame.timestamp - first)
                    stop.wait(max(0.0, began + stamp - time.perf_counter()))
                    yield replace(frame, index=counter.frames, timestamp=stamp)
                    counter.frames += 1
                    counter.timeline = last = stamp
                offset = last + 1.0 / source.fps
            if counter.frames == before:
                raise RecordingError(None, "the soak clips gave no frame")
            counter.loops += 1

    names = ", ".join(source.description for source in sources)
    return FunctionReader(f"soak loop of {names}", None, sources[0].fps, frames, stop=stop.set)


# ---------------------------------------------------------------------------------------------- the run


def run_soak(
    minutes: float,
    model_folder: str | Path,
    clips: Sequence[str | Path | Reader],
    gui: bool = False,
    *,
    provider: str | None = None,
    sample_seconds: float | None = None,
) -> dict[str, Any]:
    """Replay `clips` (paths or specs as `sta-hands run` takes them, or `Reader`s) in a loop for `minutes`
    through the full pipeline, with the window when `gui`; the report as a JSON-able dict:

    ``minutes``, ``seconds`` (wall time), ``gui``, ``model``, ``provider``, ``clips``, ``frames_read``,
    ``loops``, ``timeline_seconds``, ``predictions``, ``frames_dropped``, ``windows_skipped``, ``errors``
    (list of one-line messages), ``memory`` (`memory_report`: samples [[s, MiB], ...], start/end/peak,
    growth per hour...),
    ``latency_ms`` (`latency_report`: all/start/end percentiles, p95_change), ``targets``.
    """
    seconds = float(minutes) * 60.0
    if not seconds > 0:
        raise UserError(f"a soak run needs a positive duration, got {minutes} minutes")
    model = OnnxModel(model_folder, provider=provider)
    sources = [clip if isinstance(clip, Reader) else open_reader(str(clip)) for clip in clips]
    stop, counter = threading.Event(), _Counter()
    source = looping_source(sources, seconds, stop, counter)
    interval = sample_seconds or min(MAX_SAMPLE_SECONDS, max(0.5, seconds / 20.0))
    predictions = Predictions()
    sampler = MemorySampler(interval).start()
    predictions.started = time.perf_counter()
    try:
        errors = (
            _run_gui(source, model, predictions, seconds, stop)
            if gui
            else _run_plain(source, model, predictions)
        )
    finally:
        stop.set()
        sampler.stop()
    wall = time.perf_counter() - predictions.started
    memory = memory_report(sampler.samples, wall, sampler.source)
    latency = latency_report(predictions.times, predictions.latencies)
    return {
        "minutes": float(minutes),
        "seconds": round(wall, 2),
        "gui": gui,
        "model": str(model_folder),
        "provider": model.provider,
        "clips": [s.description for s in sources],
        "frames_read": counter.frames,
        "loops": counter.loops,
        "timeline_seconds": round(counter.timeline, 2),
        "predictions": len(predictions.times),
        "frames_dropped": predictions.frames_dropped,
        "windows_skipped": predictions.windows_skipped,
        "errors": errors,
        "memory": memory,
        "latency_ms": latency,
        "targets": {
            "memory_growth_beyond_noise": memory["growth_beyond_noise"],
            "latency_p95_within_10_percent": latency["within_tolerance"],
        },
    }


def _run_plain(source: Reader, model: OnnxModel, predictions: Predictions) -> list[str]:
    """Capture thread -> ring -> recognizer thread, as `sta-hands run --headless` on a live source."""
    from app.headless import run_headless

    summary = run_headless(source, model, predictions.add, realtime=True)
    return [summary.error] if summary.error else []


def _run_gui(
    source: Reader, model: OnnxModel, predictions: Predictions, seconds: float, stop: threading.Event
) -> list[str]:
    """The real window (its session runs the capture and recognizer threads), for `seconds`."""
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    from PyQt5.QtCore import QEventLoop, QSettings, QTimer
    from PyQt5.QtWidgets import QApplication

    from app.gui.main_window import MainWindow

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
            loop = QEventLoop()
            QTimer.singleShot(round(seconds * 1000), loop.quit)
            loop.exec_()
        finally:
            stop.set()
            window.close()
            window.session.shutdown(workers_timeout=3.0)
            app.processEvents()  # deliver what the workers posted before they stopped
            window.deleteLater()
    return errors


# ---------------------------------------------------------------------------------------- command line


def format_report(report: dict[str, Any]) -> str:
    """A few lines for people; the JSON has everything."""
    memory, latency = report["memory"], report["latency_ms"]

    def ms(value: float | None) -> str:
        return "n/a" if value is None else f"{value:.1f} ms"

    lines = [
        f"soak {report['seconds'] / 60:.1f} min {'with' if report['gui'] else 'without'} the window on "
        f"{report['provider']}: {report['frames_read']} frames ({report['loops']} loops), "
        f"{report['predictions']} predictions, {report['frames_dropped']} frames dropped, "
        f"{report['windows_skipped']} windows skipped",
        f"memory {memory['start_mb']} -> {memory['end_mb']} MiB (peak {memory['peak_mb']}), growth "
        f"{memory['growth_mb_per_hour']} MiB/h after the warm-up, noise {memory['noise_mb']} MiB",
        f"latency p95 {ms(latency['start']['p95'])} at the start, {ms(latency['end']['p95'])} at the end "
        f"(p50 {ms(latency['start']['p50'])} -> {ms(latency['end']['p50'])})",
    ]
    lines += [f"error: {error}" for error in report["errors"]]
    return "\n".join(lines)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m app.soak", description="Replay clips in a loop; report memory and latency over time."
    )
    parser.add_argument(
        "clips", nargs="*", help="clips or recordings (default: the demo clip, else 'synthetic')"
    )
    parser.add_argument("--minutes", type=float, default=30.0, help="how long (default 30)")
    parser.add_argument("--model", help="exported model folder (default: the bundled demo model)")
    parser.add_argument(
        "--provider", choices=["cpu", "cuda", "tensorrt", "directml"], help="execution provider"
    )
    parser.add_argument(
        "--gui", action="store_true", help="run the window too (offscreen unless a display is set)"
    )
    parser.add_argument("--json", metavar="FILE", help="also write the report as JSON")
    return parser


def _default_clips() -> list[str]:
    from recordings.sources import demo_clip_path

    try:
        demo_clip_path()
    except UserError:
        return ["synthetic"]
    return ["demo"]


def main(argv: Sequence[str] | None = None, out: Callable[[str], None] = print) -> int:
    """`python -m app.soak ...` (and `sta-hands bench --soak MINUTES`); 0, or 1 when the run hit errors."""
    args = build_parser().parse_args(argv)
    from app.runtime import default_model_folder

    model = args.model or default_model_folder()
    report = run_soak(args.minutes, model, args.clips or _default_clips(), args.gui, provider=args.provider)
    if args.json:
        Path(args.json).write_text(json.dumps(report, indent=2) + "\n", encoding="utf-8")
    out(format_report(report))
    return 1 if report["errors"] else 0


if __name__ == "__main__":
    try:
        sys.exit(main())
    except (UserError, RecordingError, OSError) as error:
        print(f"soak: {error}", file=sys.stderr)
        sys.exit(2)
