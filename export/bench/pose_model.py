"""`bench --json`'s `pose_model`: the speed of the bundled pretrained pose model (Shift-GCN, issue 21) on
the app's live path. Ratios first:

- `skeleton_replay`: a real NTU skeleton without video (S004C002P003R001A017, 4.1 s) replayed from
  disk as fast as it goes through `app.headless.run_headless` (what `sta-hands run FILE --headless`
  does), every due window classified: the real-time factor (processing seconds / clip seconds; the
  median of `repeats` replays), its CPU-time factor (process CPU seconds / clip seconds, which other
  work on the machine inflates less), and per prediction: `onnx_ms` (ONNX Runtime on the live window)
  and `window_ms` (the window's inputs assembled and the model run), p50 / p95
  over every window of every replay, with `share_of_interval`: p50 over the time between two live
  predictions of the source (1 / `PREDICTIONS_PER_SECOND`); and `onnx_alone`: ONNX Runtime alone on one
  real live window, `RUNS` times, wall and process-CPU ms (CPU time: what the prediction costs, less
  inflated by other work on the machine; with two threads it can exceed the wall time), with the app's
  session (ONNX Runtime's default threads) and, as `onnx_alone_1_thread`, with one thread;
- `webcam_640x480`: the whole live pipeline with bodies estimated from the image (decoding, estimation
  as the app does live, the pose model) over a 640x480 30 fps video made at run time from the first
  frames of the one-person NTU video (`export.bench.pose_estimation`): its real-time factor (target <= 0.5);
- `load_average`: the machine's 1-minute load at the start and the end, since a loaded machine inflates
  every wall-clock figure.

The NTU files are looked for as `export.bench.pose_estimation` does ($STA_HANDS_NTU_SAMPLES, then
../shared/samples/ntu); without them, or without the bundled model, a part says why it was skipped.
`python -m sta_hands.commands.bench_pose_model [--json FILE]` runs this part alone.
"""

from __future__ import annotations

import os
import statistics
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np

from sta_hands.app.headless import run_headless
from sta_hands.app.model_choice import REAL_SOURCE_MODEL, bundled_folder, open_model
from sta_hands.app.pose_model import PREDICTIONS_PER_SECOND, PoseModel
from sta_hands.app.prediction import Prediction
from sta_hands.contract.pose_clip import clip_joints
from sta_hands.export.bench.pose_estimation import (
    FRAMES,
    ONE_PERSON,
    default_samples,
    replay_realtime_factor,
    video_images,
    write_webcam_video,
)
from sta_hands.recordings.ntu.skeleton import read_skeleton
from sta_hands.recordings.sources import open_reader

SKELETON_CLIP = "S004C002P003R001A017.skeleton"  # 4.1 s, no video beside it: 11 live windows
REPEATS = 5
RUNS = 30  # ONNX Runtime runs timed alone


def load_average() -> float | None:
    return os.getloadavg()[0] if hasattr(os, "getloadavg") else None


def percentiles(values: list[float]) -> dict[str, float]:
    p50, p95 = np.percentile(values, [50, 95]) if values else (float("nan"), float("nan"))
    return {"p50": float(p50), "p95": float(p95)}


def onnx_alone(model: PoseModel, clip: Path, runs: int = RUNS) -> tuple[list[float], list[float]]:
    """Wall and process-CPU ms of `runs` ONNX Runtime runs on the live window's last frames of `clip`
    (the authors' arrangement of its two most moving bodies), after one warm-up run."""
    length = model.info.window_length
    joints = clip_joints(read_skeleton(clip).frames, length)[:, -length:][None]
    model.run(joints)
    wall, cpu = [], []
    for _ in range(runs):
        started, cpu_started = time.perf_counter(), time.process_time()
        model.run(joints)
        wall.append((time.perf_counter() - started) * 1e3)
        cpu.append((time.process_time() - cpu_started) * 1e3)
    return wall, cpu


def skeleton_replay(folder: Path, clip: Path, repeats: int = REPEATS) -> dict[str, Any]:
    """`clip` replayed `repeats` times through `run_headless` (module doc)."""
    model = PoseModel(folder, provider="cpu")
    onnx_ms: list[float] = []
    window_ms: list[float] = []

    def record(prediction: Prediction) -> None:
        if prediction.classified:
            onnx_ms.append(prediction.timings.head_ms)
            window_ms.append(prediction.timings.crop_ms + prediction.timings.head_ms)

    factors, cpu_factors, windows = [], [], 0
    for _ in range(repeats):
        with open_reader(clip, pose="kinect") as source:
            fps = source.fps
            cpu_started = time.process_time()
            summary = run_headless(source, model, record)
            cpu_seconds = time.process_time() - cpu_started
        if summary.error is not None:
            raise RuntimeError(f"{clip}: the replay stopped: {summary.error}")
        duration = summary.frames_read / fps
        factors.append(summary.seconds / duration)
        cpu_factors.append(cpu_seconds / duration)
        windows = summary.windows_classified
    interval_ms = 1000.0 / PREDICTIONS_PER_SECOND
    window = percentiles(window_ms)
    alone = {}
    for key, session in (("onnx_alone", model), ("onnx_alone_1_thread", PoseModel(folder, "cpu", threads=1))):
        wall_ms, cpu_ms = onnx_alone(session, clip)
        alone[key] = {"runs": len(wall_ms), "wall_ms": percentiles(wall_ms), "cpu_ms": percentiles(cpu_ms)}
    return {
        "realtime_factor": statistics.median(factors),
        "cpu_realtime_factor": statistics.median(cpu_factors),
        "share_of_interval": window["p50"] / interval_ms,
        "clip": clip.name,
        "clip_seconds": duration,
        "repeats": repeats,
        "windows_per_replay": windows,
        "window_frames": model.info.window_length,
        "window_seconds": model.info.window_seconds,
        "interval_ms": interval_ms,
        "onnx_ms": percentiles(onnx_ms),
        "window_ms": window,
        **alone,
        "provider": model.provider,
    }


def webcam_replay(folder: Path, samples: Path, frames: int = FRAMES) -> dict[str, Any]:
    """The live pipeline with estimated bodies and the pose model over a 640x480 video (module doc)."""
    from sta_hands.recordings.estimate import estimator_available

    available, reason = estimator_available()
    if not available:
        return {"skipped": f"the pose estimator cannot run here: {reason}"}
    if not (samples / ONE_PERSON).is_file():
        return {
            "skipped": f"the real NTU sample {ONE_PERSON} is not in {samples} (set STA_HANDS_NTU_SAMPLES)"
        }
    model = open_model(folder, provider="cpu")
    with tempfile.TemporaryDirectory(prefix="sta-hands-pose-model-bench-") as tmp:
        webcam = write_webcam_video(video_images(samples / ONE_PERSON, frames), Path(tmp) / "webcam.avi")
        return replay_realtime_factor(webcam, model, frames)


def bench_pose_model(
    folder: Path | None = None,
    samples: Path | None = None,
    skeleton: Path | None = None,
    repeats: int = REPEATS,
    frames: int = FRAMES,
) -> dict[str, Any]:
    """The `pose_model` entry of `bench --json` (module doc), or {"skipped": why} without the model."""
    folder = folder or bundled_folder(REAL_SOURCE_MODEL)
    if not folder.is_dir():
        return {"skipped": f"the bundled pose model is not in {folder}"}
    samples = samples or default_samples()
    skeleton = skeleton or samples / SKELETON_CLIP
    entry: dict[str, Any] = {"model": open_model(folder, provider="cpu").describe()}
    started_load = load_average()
    entry["skeleton_replay"] = (
        skeleton_replay(folder, skeleton, repeats)
        if skeleton.is_file()
        else {"skipped": f"the real NTU skeleton {skeleton.name} is not in {skeleton.parent}"}
    )
    entry["webcam_640x480"] = webcam_replay(folder, samples, frames)
    entry["load_average"] = {"start": started_load, "end": load_average()}
    return entry


def format_pose_model(entry: dict[str, Any]) -> str:
    """One paragraph for `bench`'s text report."""
    if "skipped" in entry:
        return f"Pose model: skipped ({entry['skipped']})."
    replay, webcam = entry["skeleton_replay"], entry["webcam_640x480"]
    parts = [f"Pose model ({entry['model']}):"]
    if "skipped" in replay:
        parts.append(f"skeleton replay skipped ({replay['skipped']});")
    else:
        parts.append(
            f"skeleton replay real-time factor {replay['realtime_factor']:.2f} "
            f"(CPU {replay['cpu_realtime_factor']:.2f}); a prediction on the {replay['window_frames']}-frame "
            f"window {replay['window_ms']['p50']:.1f} ms p50 / {replay['window_ms']['p95']:.1f} ms p95 "
            f"(ONNX Runtime {replay['onnx_ms']['p50']:.1f} / {replay['onnx_ms']['p95']:.1f}), "
            f"{replay['share_of_interval']:.0%} of the {replay['interval_ms']:.0f} ms between predictions; "
            f"ONNX Runtime alone {replay['onnx_alone']['wall_ms']['p50']:.1f} ms wall, "
            f"{replay['onnx_alone']['cpu_ms']['p50']:.1f} ms CPU (one thread "
            f"{replay['onnx_alone_1_thread']['wall_ms']['p50']:.1f} ms wall, "
            f"{replay['onnx_alone_1_thread']['cpu_ms']['p50']:.1f} ms CPU);"
        )
    if "skipped" in webcam:
        parts.append(f"640x480 webcam replay skipped ({webcam['skipped']});")
    else:
        parts.append(
            f"640x480 webcam replay with estimated bodies: real-time factor {webcam['realtime_factor']:.2f};"
        )
    load = [entry["load_average"][key] for key in ("start", "end")]
    parts.append("load average " + " -> ".join("?" if x is None else f"{x:.1f}" for x in load) + ".")
    return " ".join(parts)
