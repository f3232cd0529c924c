"""`sta-hands bench`: speed on the machine at hand, as ratios against baselines measured in the same run.

- ceiling: the best float32 matrix product this machine reaches in this run (numpy, PyTorch, ONNX
  Runtime; sizes and thread counts tried, at the start and at the end, see `export.bench.ceiling`), beside
  the theoretical peak; int8 rows are set against ONNX Runtime's best int8 matrix product;
- glimpse: crops/s per backbone and input size, ONNX Runtime vs PyTorch eager, batch 1 / 4 / 8,
  and the effective GFLOP/s (FLOPs per crop counted by torch's FlopCounterMode) as a share of the
  ceiling;
- head: ms per prediction on the recognizer's path (cached projections), beside the unsplit head,
  PyTorch eager and the time its weights take to stream from memory once (`export.bench.head`); for
  the int8 folder too;
- streaming: the recognizer's cached glimpses vs recomputing every crop of every window, per folder;
- end to end: a 30 fps 1920x1080 one-person clip replayed from disk (JPEG decoding included) through
  the app's recognizer, every due window classified: real-time factor (processing time / clip
  duration), latency from a frame's arrival to its prediction, and the peak memory of a fresh
  interpreter that never imported torch (its own VmHWM: ru_maxrss would carry this process's); again
  as a camera's frames are treated (`end_to_end_live`: still hands reuse their features), with the
  crops computed and reused;
- GUI: `startup_s` (`sta-hands demo` to its first full-window prediction on screen; `first_guess_s`: to
  its first prediction of any kind, a partial window) and, per folder,
  `gui_latency_ms_p95` (the window replaying the clip at real time; `export.bench.gui_timing`);
- pose_estimation: bodies estimated from the image, per frame and end to end with the first backbone
  (`export.bench.pose_estimation`; skipped, saying why, without the estimator or the real NTU samples).
- pose_model: the bundled pretrained pose model (Shift-GCN) on the live path: a real NTU skeleton's
  replay and a 640x480 webcam-sized replay with estimated bodies, real-time factors and ms per
  prediction (`export.bench.pose_model`; parts skipped, saying why, without the model or the samples).

Models are exported with random weights at the paper's head sizes: speed does not depend on weights.
"""

from __future__ import annotations

import functools
import json
import multiprocessing
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch.utils.flop_counter import FlopCounterMode

from sta_hands.app.glimpse_engine import cpu_flags
from sta_hands.app.hand_glimpses import STILL_CROP_THRESHOLD
from sta_hands.app.recognizer import StreamRecognizer, classify_window
from sta_hands.app.runtime import OnnxModel
from sta_hands.export.bench.attempts import attempt, failed, not_measured
from sta_hands.export.bench.ceiling import MATMUL_SIZES, cpu_facts, measure_ceiling, memory_read_gbs
from sta_hands.export.bench.gui_timing import measure_gui_latency, measure_startup
from sta_hands.export.bench.head import (
    bench_head,
    bench_openvino,
    format_head,
    glimpse_engine_choice,
    unsplit_head_file,
)
from sta_hands.export.bench.pose_estimation import bench_pose_estimation, format_pose
from sta_hands.export.bench.pose_model import bench_pose_model, format_pose_model
from sta_hands.export.onnx import ExportMetadata, export_model
from sta_hands.export.quantize import calibration_crops, default_int8_form, quantize_int8
from sta_hands.models.config import ModelConfig
from sta_hands.models.glimpse import GlimpseBackbone, build_backbone
from sta_hands.models.two_stream import TwoStreamModel
from sta_hands.recordings.own.recording import RecordingPaths, open_recording
from sta_hands.recordings.synthetic import plan_clips, write_clip

BATCHES = (1, 4, 8)
DEFAULT_BACKBONES = (("efficientnet_lite0", 224), ("inception_v3", 299))
BENCH_WINDOW_SECONDS = 2.0  # about NTU's median clip (3 s) scaled to the synthetic clips


def seconds_per_call(call: Callable[[], Any], min_seconds: float = 1.0, min_calls: int = 3) -> float:
    """Median wall time of one call, after one warm-up, over at least `min_calls` and `min_seconds`."""
    call()
    times: list[float] = []
    started = time.perf_counter()
    while len(times) < min_calls or time.perf_counter() - started < min_seconds:
        t0 = time.perf_counter()
        call()
        times.append(time.perf_counter() - t0)
    return statistics.median(times)


def flops_per_crop(backbone: GlimpseBackbone) -> float:
    size = backbone.spec.input_size
    with FlopCounterMode(display=False) as counter, torch.no_grad():
        backbone(torch.zeros(1, 3, size, size))
    return float(counter.get_total_flops())


def _export_random(name: str, size: int, folder: Path) -> tuple[TwoStreamModel, GlimpseBackbone]:
    torch.manual_seed(0)
    backbone = build_backbone(name, input_size=size, pretrained=False)
    config = ModelConfig(num_classes=11, feature_dim=backbone.spec.feature_dim, backbone=name)
    model = TwoStreamModel(config).eval()
    classes = tuple(f"class {i}" for i in range(config.num_classes))
    export_model(
        model, backbone, ExportMetadata(classes, BENCH_WINDOW_SECONDS, "random (bench)", "bench"), folder
    )
    return model, backbone


def bench_glimpse(
    call: Callable[[np.ndarray], Any], size: int, flops: float, min_seconds: float
) -> dict[str, Any]:
    """Crops/s and effective GFLOP/s of `call` on N x 3 x size x size crops, per batch; the best batch."""
    by_batch = {}
    for batch in BATCHES:
        crops = np.random.default_rng(batch).standard_normal((batch, 3, size, size)).astype(np.float32)
        seconds = seconds_per_call(lambda c=crops: call(c), min_seconds)
        by_batch[str(batch)] = {"crops_per_s": batch / seconds, "gflops_per_s": batch * flops / seconds / 1e9}
    best = max(by_batch.values(), key=lambda entry: entry["crops_per_s"])
    return {**best, "by_batch": by_batch}


def _torch_call(backbone: GlimpseBackbone) -> Callable[[np.ndarray], Any]:
    def call(crops: np.ndarray) -> Any:
        with torch.no_grad():
            return backbone(torch.from_numpy(crops))

    return call


def bench_stream(model: OnnxModel, clip_stem: Path, max_windows: int = 8) -> dict[str, float]:
    """Cached glimpses (the recognizer) vs recomputing every crop of the same windows."""
    frames = list(open_recording(clip_stem).frames())
    recognizer = StreamRecognizer(model, lossless=True)
    started = time.perf_counter()
    predictions = []
    for frame in frames:
        predictions.extend(recognizer.feed([frame]))
        if len(predictions) >= max_windows:
            break
    cached = time.perf_counter() - started
    started = time.perf_counter()
    for prediction in predictions:
        classify_window(model, [frames[i] for i in prediction.frame_indices])
    recompute = time.perf_counter() - started
    return {
        "windows": len(predictions),
        "cached_s": cached,
        "recompute_s": recompute,
        "speedup": recompute / cached,
    }


def replay_in_fresh_process(
    model_folder: str | Path, clip: str | Path, still_threshold: float = 0.0
) -> dict[str, Any]:
    """`app.headless.measure_replay` in a new interpreter that imports the app only (never torch)."""
    code = (
        "import json, sys; from sta_hands.app.headless import measure_replay as m; "
        "print(json.dumps(m(*sys.argv[1:])))"
    )
    done = subprocess.run(
        [sys.executable, "-c", code, str(model_folder), str(clip), str(still_threshold)],
        capture_output=True,
        text=True,
    )
    if done.returncode != 0:
        raise RuntimeError(f"replay of {clip} in a child process failed: {done.stderr[-2000:]}")
    result = json.loads(done.stdout.splitlines()[-1])
    if result.get("torch_imported", True):
        raise RuntimeError(f"the replay child imported torch: {result}; its memory is not the app's")
    return result


def bench_clip(folder: Path, seed: int = 3, frames: int = 240) -> Path:
    """A one-person 30 fps 1920x1080 synthetic clip (8 s by default), as the app's recording."""
    plan = plan_clips(11, seed, frames=frames)
    spec = next(s for s in plan if s.action.people == 1 and s.action.hand == "either")
    return RecordingPaths.of(write_clip(spec, folder)).sidecar


def add_shares(glimpse: dict[str, Any], ceiling_gflops: float, ceiling_int8_gops: float) -> None:
    """Each engine's effective rate as a share of the ceiling of its number type (int8 rows: int8)."""
    for engine, entry in glimpse.items():
        if isinstance(entry, dict):
            ceiling = ceiling_int8_gops if engine.endswith("_int8") else ceiling_gflops
            entry["share_of_ceiling"] = entry["gflops_per_s"] / ceiling


def run_bench(
    backbones: tuple[tuple[str, int], ...] = DEFAULT_BACKBONES,
    min_seconds: float = 1.0,
    clip_frames: int = 240,
    matmul_sizes: tuple[int, ...] = MATMUL_SIZES,
    gui_seconds: float = 20.0,
) -> dict[str, Any]:
    """Every measurement above, as one JSON-able dict (`gui_seconds`: each folder's GUI replay)."""
    facts = cpu_facts()
    report: dict[str, Any] = {
        "machine": {
            "platform": platform.platform(),
            "processor": platform.machine(),
            "cpu_count": multiprocessing.cpu_count(),
            "torch_threads": torch.get_num_threads(),
            "load_average_at_start": os.getloadavg() if hasattr(os, "getloadavg") else None,
            **facts,
        },
        "theoretical_peak_gflops": facts["theoretical_peak_gflops"],
        "backbones": {},
    }
    errors: dict[str, str] = report.setdefault("errors", {})  # {figure: error}: see export.bench.attempts
    first = attempt(errors, "ceiling at the start", measure_ceiling, matmul_sizes, min_seconds / 2)
    report["memory_read_gbs"] = attempt(errors, "memory_read_gbs", memory_read_gbs, min_seconds)
    report["startup"] = attempt(errors, "startup", measure_startup)
    report["startup_s"] = report["startup"].get("startup_s")  # the first full window on screen
    report["first_guess_s"] = report["startup"].get("first_guess_s")  # the first partial window
    report["glimpse_engine"] = attempt(errors, "glimpse_engine", glimpse_engine_choice)
    report["int8_form"] = attempt(errors, "int8_form", lambda: default_int8_form(cpu_flags()).name)
    with tempfile.TemporaryDirectory(prefix="sta-hands-bench-") as tmp:
        clip = bench_clip(Path(tmp) / "clip", frames=clip_frames)
        for name, size in backbones:
            key = f"{name}@{size}"
            figures = (name, size, Path(tmp), clip, report, min_seconds, gui_seconds)
            report["backbones"][key] = attempt(errors, key, _bench_backbone, *figures)
        first_folder = Path(tmp) / "-".join(map(str, backbones[0])) if backbones else None
        report["pose_estimation"] = (
            attempt(errors, "pose_estimation", bench_pose_estimation, first_folder)
            if first_folder is not None and first_folder.is_dir()
            else {"skipped": "no backbone folder was exported in this run"}
        )
    report["pose_model"] = attempt(errors, "pose_model", bench_pose_model)
    earlier = None if failed(first) else first
    last = attempt(
        errors, "ceiling at the end", measure_ceiling, matmul_sizes, min_seconds / 2, earlier=earlier
    )
    report.update(last if not failed(last) else {"ceiling": last})  # measured at the start and at the end
    report["machine"]["load_average_at_end"] = os.getloadavg() if hasattr(os, "getloadavg") else None
    if "ceiling_gflops" in report:
        for entry in report["backbones"].values():
            if not failed(entry):
                add_shares(entry["glimpse"], report["ceiling_gflops"], report["ceiling_int8_gops"])
    return report


def _bench_backbone(
    name: str,
    size: int,
    tmp: Path,
    clip: Path,
    report: dict[str, Any],
    min_seconds: float,
    gui_seconds: float,
) -> dict[str, Any]:
    """One backbone's figures (export, float32 and int8 folders); each figure that fails is recorded in
    `report["errors"]` and the others are still measured."""
    take = functools.partial(attempt, report["errors"])  # take(figure, measure, *args)
    folder, key = tmp / f"{name}-{size}", f"{name}@{size}"
    head, backbone = _export_random(name, size, folder)
    int8 = quantize_int8(folder, Path(f"{folder}-int8"), calibration_crops(clip, backbone.spec, count=32))
    flops = flops_per_crop(backbone)
    pytorch = take(f"{key} pytorch", bench_glimpse, _torch_call(backbone), size, flops, min_seconds)
    glimpse: dict[str, Any] = {"gflop_per_crop": flops / 1e9, "pytorch": pytorch}
    entry = {"backbone": name, "input_size": size, "glimpse": glimpse}
    unsplit = unsplit_head_file(head, tmp)
    memory = float("nan") if failed(report["memory_read_gbs"]) else report["memory_read_gbs"]
    for suffix, path in (("", folder), ("_int8", int8)):  # every figure from its own folder
        model = OnnxModel(path, provider=None)
        report["provider"] = model.provider
        figure = f"{key}{suffix}"
        run = model.glimpse_features
        glimpse["onnxruntime" + suffix] = take(
            f"{figure} onnxruntime", bench_glimpse, run, size, flops, min_seconds
        )
        timed = functools.partial(bench_glimpse, size=size, flops=flops, min_seconds=min_seconds)
        entry["openvino" + suffix] = take(f"{figure} openvino", bench_openvino, path, timed)
        head_ms = (model, head, seconds_per_call, min_seconds, memory, unsplit)
        entry["head_ms" + suffix] = take(f"{figure} head", bench_head, *head_ms)
        stream = take(f"{figure} stream", bench_stream, model, clip)
        entry["stream_vs_recompute" + suffix] = stream if failed(stream) else stream["speedup"]
        entry["end_to_end" + suffix] = take(f"{figure} end_to_end", replay_in_fresh_process, path, clip)
        # as a camera's frames would be: still hands reuse their features (`app.hand_glimpses`)
        live = (path, clip, STILL_CROP_THRESHOLD)
        entry["end_to_end_live" + suffix] = take(f"{figure} end_to_end_live", replay_in_fresh_process, *live)
        gui = take(f"{figure} gui", measure_gui_latency, path, clip, gui_seconds)
        entry["gui" + suffix], entry["gui_latency_ms_p95" + suffix] = gui, gui.get("gui_latency_ms_p95")
    return entry


def format_report(report: dict[str, Any]) -> str:
    """A markdown table of the report, for the README: ratios within the run first, then absolutes."""
    machine, engines = report["machine"], report.get("matmul_gflops", {})
    peak, load = report.get("theoretical_peak_gflops"), machine.get("load_average_at_start")
    above = peak is not None and report.get("ceiling_gflops", 0.0) > peak
    lines = [
        f"Machine: {machine.get('cpu_model', '?')}, {machine.get('physical_cores', '?')} cores, "
        f"{' '.join(machine.get('vector_extensions', []))}; {machine['platform']}; "
        f"provider {report.get('provider', '?')}"
        + (
            f"; load average {load[0]:.1f} at the start, {machine['load_average_at_end'][0]:.1f} at the end."
            if load
            else "."
        ),
        "",
        f"Ceiling: {not_measured(report.get('ceiling'))}."
        if "ceiling_gflops" not in report
        else f"Ceiling: {report['ceiling_gflops']:.1f} GFLOP/s, the best float32 matrix product in this run ("
        + ", ".join(
            f"{engine} {rate:.1f} at {report['matmul_best_setting'][engine]}"
            for engine, rate in engines.items()
        )
        + f"); int8 ceiling {report['ceiling_int8_gops']:.1f} GOP/s (ONNX Runtime MatMulInteger). "
        + (
            f"Theoretical float32 peak {peak:.1f} GFLOP/s = {machine['physical_cores']} cores x "
            f"{machine['clock_mhz']:.0f} MHz ({machine['clock_source']}) x "
            f"{machine['fp32_flops_per_cycle_per_core']} FLOP/cycle; "
            f"assumed: {'; '.join(machine['assumed'])}."
            + (" The ceiling exceeds it: the cores run above that clock." if above else "")
            if peak
            else f"No theoretical peak: {'; '.join(machine.get('assumed', []))}."
        ),
        "",
        "| backbone | share of ceiling ORT (PyTorch) | glimpse ORT vs PyTorch | cached vs recompute "
        "| real-time factor | glimpse crops/s ORT (PyTorch) | GFLOP/s ORT | head ms ORT (PyTorch) "
        "| latency p50 / p95 ms | peak RSS MB |",
        "| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |",
    ]
    for key, entry in report["backbones"].items():
        if failed(entry):
            lines.append(f"| {key} | {not_measured(entry)} |")
            continue
        pt = entry["glimpse"]["pytorch"]
        for suffix in ("", "_int8"):
            ort, e2e = entry["glimpse"]["onnxruntime" + suffix], entry["end_to_end" + suffix]
            head = entry["head_ms" + suffix]
            missing = [f for f in (pt, ort, e2e, head, entry["stream_vs_recompute" + suffix]) if failed(f)]
            if missing or "share_of_ceiling" not in ort:
                lines.append(
                    f"| {key}{' int8' if suffix else ''} | {not_measured(missing[0] if missing else None)} |"
                )
                continue
            lines.append(
                f"| {key}{' int8' if suffix else ''} "
                f"| {ort['share_of_ceiling']:.0%} ({pt['share_of_ceiling']:.0%}) "
                f"| {ort['crops_per_s'] / pt['crops_per_s']:.1f}x "
                f"| {entry['stream_vs_recompute' + suffix]:.1f}x "
                f"| {e2e['realtime_factor']:.2f} | {ort['crops_per_s']:.1f} ({pt['crops_per_s']:.1f}) "
                f"| {ort['gflops_per_s']:.1f} | {head['onnxruntime']:.2f} ({head['pytorch']:.2f}) "
                f"| {e2e['latency_ms_p50']:.0f} / {e2e['latency_ms_p95']:.0f} | {e2e['peak_rss_mb']:.0f} |"
            )
    lines += ["", "int8 rows: share of the int8 ceiling; PyTorch is float32 eager throughout."]
    lines += ["", format_live(report)]
    lines += ["", format_head(report)]
    pose = report.get("pose_estimation")
    if pose is not None:
        lines += ["", f"Pose estimation: {not_measured(pose)}." if failed(pose) else format_pose(pose)]
    pose_model = report.get("pose_model")
    if pose_model is not None:
        lines += [
            "",
            f"Pose model: {not_measured(pose_model)}."
            if failed(pose_model)
            else format_pose_model(pose_model),
        ]
    if report.get("errors"):
        lines += [
            "",
            "Not measured in this run: " + "; ".join(f"{k}: {v}" for k, v in report["errors"].items()),
        ]
    return "\n".join(lines)


def format_live(report: dict[str, Any]) -> str:
    """The same replay with every crop computed (a file) and as a camera's frames (still hands reuse)."""
    lines = [
        "| backbone | real-time factor, every crop / still hands reused | crops reused | latency p95 ms |",
        "| --- | --- | --- | --- |",
    ]
    for key, entry in report["backbones"].items():
        for suffix in ("", "_int8"):
            every, live = (
                (None, None)
                if failed(entry)
                else (entry["end_to_end" + suffix], entry.get("end_to_end_live" + suffix))
            )
            if live is None or failed(live) or failed(every):
                continue
            total = max(1, live["crops_computed"] + live["crops_reused"])
            lines.append(
                f"| {key}{' int8' if suffix else ''} "
                f"| {every['realtime_factor']:.2f} / {live['realtime_factor']:.2f} "
                f"| {live['crops_reused'] / total:.1%} of {total} "
                f"| {every['latency_ms_p95']:.0f} / {live['latency_ms_p95']:.0f} |"
            )
    return "\n".join(lines)
