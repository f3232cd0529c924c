"""`sta-hands run SOURCE --headless`: the recognizer without a window, one line per prediction."""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass

import numpy as np

from sta_hands.app.hand_glimpses import still_threshold_for
from sta_hands.app.model import Model
from sta_hands.app.pipeline import run_live, run_lossless
from sta_hands.app.recognizer import Prediction, StreamRecognizer
from sta_hands.contract.reader import Reader


@dataclass(frozen=True)
class RunSummary:
    source: str
    provider: str
    frames_read: int
    windows_classified: int  # a class named ("ok" and "partial" windows)
    frames_dropped: int  # frames the recognizer never saw: it was busy (live only)
    windows_skipped: int  # windows due while the recognizer was busy, not classified (live only)
    latency_ms_p50: float
    latency_ms_p95: float
    seconds: float
    error: str | None = None
    windows_no_person: int = 0  # windows with no one in view: no stream ran, not counted as classified

    def to_text(self) -> str:
        text = (
            f"{self.source}: {self.frames_read} frames read, {self.windows_classified} windows classified, "
            f"{self.windows_no_person} with no one in view, "
            f"{self.frames_dropped} frames dropped, {self.windows_skipped} windows skipped, "
            f"latency median {self.latency_ms_p50:.1f} ms, "
            f"p95 {self.latency_ms_p95:.1f} ms, {self.seconds:.1f} s on {self.provider}"
        )
        return text if self.error is None else f"{text}; stopped by an error: {self.error}"


def prediction_line(prediction: Prediction, as_json: bool, model: Model | None = None) -> str:
    """One line per prediction: JSON (which `model` and kind made it first), or words (the class, or why
    there is none, and what it rests on)."""
    if as_json:
        made_by = {} if model is None else model_json(model)
        return json.dumps({**made_by, **prediction.to_json()})
    last = int(prediction.frame_indices[-1])
    age = f"{prediction.timings.age_ms:.0f} ms"
    if not prediction.classified:
        return f"frame {last:6d}  no one in view: no class  {age}"
    (best, p), *rest = prediction.top(3)
    others = ", ".join(f"{name} {q:.2f}" for name, q in rest)
    remark = f"  [{prediction.remark}]" if prediction.remark else ""
    return f"frame {last:6d}  {best} {p:.2f}  ({others})  {age}{remark}"


def model_json(model: Model) -> dict[str, str]:
    """Which model made a `run --json` line: its folder's name, version and kind."""
    return {"model": model.folder.name, "model_version": model.info.model_version, "kind": model.kind}


def run_headless(
    source: Reader,
    model: Model,
    emit: Callable[[Prediction], None],
    *,
    realtime: bool = False,
    speed: float = 1.0,
    still_threshold: float | None = None,
) -> RunSummary:
    """Classify `source` through the streaming recognizer and summarise the run.

    As fast as possible, every due window is classified (lossless); in real time, capture and
    recognition run in their own threads and a slow model skips windows, counted.
    """
    latencies: list[float] = []
    realtime = realtime or source.num_frames is None  # a live device never waits for a slow model

    def record(prediction: Prediction) -> None:
        latencies.append(prediction.timings.age_ms)
        emit(prediction)

    if still_threshold is None:
        still_threshold = still_threshold_for(live=source.num_frames is None)
    recognizer = StreamRecognizer(model, lossless=not realtime, still_threshold=still_threshold)
    started = time.perf_counter()
    error = (
        run_live(source, recognizer, record, speed) if realtime else run_lossless(source, recognizer, record)
    )
    seconds = time.perf_counter() - started
    if error is None and recognizer.frames_seen + recognizer.frames_dropped == 0:
        error = "no frames: expected at least one colour or body frame"
    p50, p95 = np.percentile(latencies, [50, 95]) if latencies else (float("nan"), float("nan"))
    return RunSummary(
        source=source.description,
        provider=model.provider,
        frames_read=recognizer.frames_seen + recognizer.frames_dropped,
        windows_classified=recognizer.predictions - recognizer.windows_no_person,
        windows_no_person=recognizer.windows_no_person,
        frames_dropped=recognizer.frames_dropped,
        windows_skipped=recognizer.windows_skipped,
        latency_ms_p50=float(p50),
        latency_ms_p95=float(p95),
        seconds=seconds,
        error=error,
    )


def summary_json(summary: RunSummary) -> str:
    return json.dumps({"summary": asdict(summary)})


def measure_replay(model_folder: str, clip: str, still_threshold: str = "0") -> dict[str, float | bool | str]:
    """Replay a clip from disk as fast as possible, every due window classified: the end-to-end figures;
    `still_threshold` (a string: it comes from the command line) as `StillCrops`', 0 as for any file.

    Meant to run in a fresh interpreter that imports the app only (the benchmark starts one), so that
    the peak memory is the torch-free app's own; `torch_imported` says whether that held.
    """
    import resource  # POSIX only; this function is the benchmark's, not the app's
    import sys

    from sta_hands.recordings.sources import open_reader

    source = open_reader(clip)
    crops = {"computed": 0, "reused": 0}

    def count(prediction: Prediction) -> None:
        crops["computed"] += prediction.timings.crops_computed
        crops["reused"] += prediction.timings.crops_reused

    from sta_hands.app.model_choice import open_model

    model = open_model(model_folder)
    summary = run_headless(source, model, count, still_threshold=float(still_threshold))
    duration = summary.frames_read / source.fps
    # VmHWM: this address space's own high-water mark, fresh after exec. ru_maxrss is not: on Linux
    # it survives fork and execve, so a child started by a large parent reports the parent's size.
    try:
        with open("/proc/self/status", encoding="ascii") as status:
            peak_kb = next(int(line.split()[1]) for line in status if line.startswith("VmHWM:"))
        peak_source = "VmHWM"
    except (OSError, StopIteration, ValueError):
        maxrss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss  # kB, bytes on macOS
        peak_kb = maxrss // 1024 if sys.platform == "darwin" else maxrss
        peak_source = "ru_maxrss"
    return {
        "clip_seconds": duration,
        "processing_seconds": summary.seconds,
        "realtime_factor": summary.seconds / duration,
        "windows": summary.windows_classified,
        "still_threshold": float(still_threshold),
        "crops_computed": crops["computed"],
        "crops_reused": crops["reused"],
        "latency_ms_p50": summary.latency_ms_p50,
        "latency_ms_p95": summary.latency_ms_p95,
        "peak_rss_mb": peak_kb / 1024.0,
        "peak_rss_source": peak_source,
        "torch_imported": "torch" in sys.modules,
    }
