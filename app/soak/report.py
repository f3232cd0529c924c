"""What a long run measures (`app.soak.loop`): resident memory over time and its growth, prediction latency at
the start and at the end, and the warnings and errors logged meanwhile.

Times here are wall seconds since the run began. A replay `speed` times faster than real time covers
`speed` seconds of the source per wall second, so growth "per source hour" is growth per wall hour
divided by `speed`, and "the first and last 10 minutes" of the source are 600 / `speed` wall seconds.
"""

from __future__ import annotations

import logging
import math
import os
import sys
import threading
import time
from array import array
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, Self

import numpy as np

from sta_hands.app.recognizer import Prediction
from sta_hands.app.worker import Worker

WARM_UP_SHARE = 0.2  # the memory fit skips the first 20% of the run (caches and arenas filling)
SEGMENT_SHARE = 0.2  # latency "start" and "end", when no segment is given: the first and last 20%
MAX_SAMPLE_SECONDS = 5.0  # memory is sampled every few seconds (more often in short runs)
LATENCY_TOLERANCE = 0.10  # target: the end's p95 within 10% of the start's
NOISE_FACTOR = 3.0  # growth over the fitted span beyond 3 residual standard deviations is not noise
DAY_HOURS = 8.0  # an exhibition day: the growth target is under DAY_LIMIT_MB over it
DAY_LIMIT_MB = 10.0
LOG_KINDS = 50  # distinct warning and error messages kept (each with its count)


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

    def __init__(self, interval: float, frames: Callable[[], int] = lambda: 0) -> None:
        self.interval = interval
        self.samples: list[tuple[float, float]] = []  # (seconds since start, MiB)
        self.frames: list[int] = []  # frames read by then (`frames()` at each sample)
        self._count = frames
        self.source = "statm"
        self._started = time.perf_counter()
        super().__init__("soak-memory")

    def start(self) -> Self:
        self._started = time.perf_counter()
        return super().start()

    def _sample(self) -> None:
        mb, self.source = rss_mb()
        self.samples.append((time.perf_counter() - self._started, mb))
        self.frames.append(self._count())

    def _run(self) -> None:
        while True:
            self._sample()
            if self.wait(self.interval):
                return


def memory_report(
    samples: Sequence[tuple[float, float]],
    seconds: float,
    source: str,
    speed: float = 1.0,
    frames: Sequence[int] | None = None,
) -> dict[str, Any]:
    """Memory over time and its growth: a least-squares line through the samples after the warm-up, its
    residual noise and the standard error of its slope; per wall hour, per hour of the source (`speed`
    source seconds a wall second) and over an 8-hour day of the source. With `frames` (frames read at
    each sample), also per 100,000 frames read (a day at 30 fps is 864,000), for a machine that could
    not take every frame."""
    times = np.array([t for t, _ in samples], dtype=np.float64)
    values = np.array([mb for _, mb in samples], dtype=np.float64)
    fitted = times >= WARM_UP_SHARE * seconds
    if fitted.sum() < 3:
        fitted = np.ones_like(times, dtype=bool)
    slope = noise = span = slope_error = warm = float("nan")
    if fitted.sum() >= 2 and np.ptp(times[fitted]) > 0:
        t, v = times[fitted], values[fitted]
        slope, intercept = np.polyfit(t, v, 1)
        residuals = v - (slope * t + intercept)
        noise = float(np.std(residuals))
        span = float(np.ptp(t))
        warm = float(slope * t[0] + intercept)
        if len(t) > 2:
            slope_error = math.sqrt(
                float(np.sum(residuals**2)) / (len(t) - 2) / float(np.sum((t - t.mean()) ** 2))
            )
    growth = slope * span
    per_frames = float("nan")
    if frames is not None and len(frames) == len(times) and np.ptp(np.asarray(frames)[fitted]) > 0:
        per_frames = float(np.polyfit(np.asarray(frames, dtype=np.float64)[fitted], values[fitted], 1)[0])
    per_source_hour = slope * 3600.0 / speed
    return {
        "source": source,
        "samples": [[round(t, 2), _number(mb, 2)] for t, mb in samples],
        "start_mb": _number(values[0]) if len(values) else None,
        "end_mb": _number(values[-1]) if len(values) else None,
        "peak_mb": _number(values.max()) if len(values) else None,
        "fit_from_s": _number(times[fitted][0]) if fitted.any() else None,
        "after_warm_up_mb": _number(warm),
        "growth_mb_per_hour": _number(slope * 3600.0),
        "growth_mb_per_source_hour": _number(per_source_hour),
        "growth_mb_per_source_hour_error": _number(slope_error * 3600.0 / speed),
        "growth_mb_over_day": _number(per_source_hour * DAY_HOURS),
        "growth_mb_per_100k_frames": _number(per_frames * 1e5),
        "growth_mb_over_fit": _number(growth),
        "noise_mb": _number(noise),
        "growth_beyond_noise": bool(growth > NOISE_FACTOR * max(noise, 0.5))
        if math.isfinite(growth)
        else None,
        "day_under_limit": bool(per_source_hour * DAY_HOURS < DAY_LIMIT_MB)
        if math.isfinite(per_source_hour)
        else None,
    }


# ---------------------------------------------------------------------------------------------- latency


@dataclass
class Predictions:
    """What the pipeline delivered: arrival time (s since start), latency (ms), frames dropped and windows
    skipped so far."""

    started: float = field(default_factory=time.perf_counter)
    # 8 bytes a value (a list of floats takes 32): the harness's own growth stays small in a day-long run
    times: array[float] = field(default_factory=lambda: array("d"))
    latencies: array[float] = field(default_factory=lambda: array("d"))
    frames_dropped: int = 0
    windows_skipped: int = 0
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def add(self, prediction: Prediction) -> None:
        with self._lock:
            self.times.append(time.perf_counter() - self.started)
            self.latencies.append(prediction.timings.age_ms)
            self.frames_dropped = max(self.frames_dropped, prediction.frames_dropped)
            self.windows_skipped = max(self.windows_skipped, prediction.windows_skipped)


def latency_report(
    times: Sequence[float], latencies: Sequence[float], segment: float | None = None
) -> dict[str, Any]:
    """Percentiles over the whole run, its first and its last `segment` seconds (of the time predictions
    were made; at most 20% of it each, and 20% when no segment is given)."""
    t = np.asarray(times, dtype=np.float64)
    ms = np.asarray(latencies, dtype=np.float64)
    if len(t) == 0:
        empty = _percentiles(ms)
        return {
            "all": empty, "start": empty, "end": empty, "segment_s": None, "p95_change": None,
            "within_tolerance": None,
        }  # fmt: skip
    first, last = t[0], t[-1]
    cut = SEGMENT_SHARE * (last - first)
    if segment is not None:
        cut = min(cut, segment)
    start = _percentiles(ms[t <= first + cut])
    end = _percentiles(ms[t >= last - cut])
    change = None
    if start["p95"] and end["p95"] is not None:
        change = end["p95"] / start["p95"] - 1.0
    return {
        "all": _percentiles(ms),
        "start": start,
        "end": end,
        "segment_s": _number(cut),
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


# ------------------------------------------------------------------------------------------------- logs


class LogCollector(logging.Handler):
    """Warnings and errors logged anywhere during a run, counted by (level, logger, message); Python
    warnings too (`logging.captureWarnings`). A context manager: attached to the root logger inside."""

    def __init__(self) -> None:
        super().__init__(logging.WARNING)
        self.counts: dict[tuple[str, str, str], int] = {}
        self._lock_counts = threading.Lock()

    def emit(self, record: logging.LogRecord) -> None:
        try:
            message = " ".join(record.getMessage().split())[:300]
        except Exception:  # a bad format string is itself worth a line
            message = f"unformattable log message {record.msg!r}"
        key = (record.levelname, record.name, message)
        with self._lock_counts:
            if key in self.counts or len(self.counts) < LOG_KINDS:
                self.counts[key] = self.counts.get(key, 0) + 1

    def __enter__(self) -> Self:
        logging.getLogger().addHandler(self)
        logging.captureWarnings(True)
        return self

    def __exit__(self, *exc: object) -> None:
        logging.captureWarnings(False)
        logging.getLogger().removeHandler(self)

    def report(self) -> list[dict[str, Any]]:
        with self._lock_counts:
            return [
                {"level": level, "logger": name, "message": message, "count": count}
                for (level, name, message), count in self.counts.items()
            ]


# ---------------------------------------------------------------------------------------------- summary


def format_report(report: dict[str, Any]) -> str:
    """A few lines for people; the JSON has everything."""
    memory, latency = report["memory"], report["latency_ms"]

    def ms(value: float | None) -> str:
        return "n/a" if value is None else f"{value:.1f} ms"

    source_minutes = report["timeline_seconds"] / 60
    lines = [
        f"soak {report['seconds'] / 60:.1f} min at {report['speed']:g}x ({source_minutes:.1f} min of source) "
        f"{'with' if report['gui'] else 'without'} the window on {report['provider']}: "
        f"{report['frames_read']} frames ({report['loops']} loops), {report['predictions']} predictions, "
        f"{report['frames_dropped']} frames dropped, {report['windows_skipped']} windows skipped",
        f"memory {memory['start_mb']} -> {memory['end_mb']} MiB (peak {memory['peak_mb']}, "
        f"{memory['after_warm_up_mb']} after the warm-up), growth {memory['growth_mb_per_source_hour']} "
        f"+- {memory['growth_mb_per_source_hour_error']} MiB per source hour "
        f"({memory['growth_mb_over_day']} MiB over {DAY_HOURS:g} h; {memory['growth_mb_per_100k_frames']} "
        f"MiB per 100k frames read), noise {memory['noise_mb']} MiB",
        f"latency p50/p95 {ms(latency['start']['p50'])} / {ms(latency['start']['p95'])} in the first "
        f"{_source_minutes(latency['segment_s'], report['speed'])} min of source, "
        f"{ms(latency['end']['p50'])} / {ms(latency['end']['p95'])} in the last",
    ]
    sensor = report.get("sensor")
    if sensor is not None:
        lines.append(
            f"sensor: {sensor['outages']} disconnects, {sensor['losses_seen']} losses seen, "
            f"{sensor['reconnects']} reconnects; {sensor['frames_taken']} of {sensor['frames_sent']} "
            f"frames sent were taken"
        )
    lines += [f"error: {error}" for error in report["errors"]]
    lines += [f"log {entry['level']} x{entry['count']}: {entry['message']}" for entry in report["log"]]
    return "\n".join(lines)


def _source_minutes(wall_seconds: float | None, speed: float) -> str:
    return "n/a" if wall_seconds is None else f"{wall_seconds * speed / 60:.1f}"
