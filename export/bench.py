"""`sta-hands bench`: speed on the machine at hand, as ratios against baselines measured in the same run.

- floor: a float32 matrix product through numpy's BLAS, in GFLOP/s: what this machine can do;
- glimpse: crops/s per backbone and input size, ONNX Runtime vs PyTorch eager, batch 1 / 4 / 8,
  and the effective GFLOP/s (FLOPs per crop counted by torch's FlopCounterMode) against the floor;
- head: ms per window, ONNX Runtime vs PyTorch eager;
- streaming: the recognizer's cached glimpses vs recomputing every crop of every window;
- end to end: a 30 fps 1920x1080 one-person clip replayed from disk (JPEG decoding included) through
  the app's recognizer, every due window classified: real-time factor (processing time / clip
  duration), latency from a frame's arrival to its prediction, peak memory (in a fresh process).

Models are exported with random weights at the paper's head sizes: speed does not depend on weights.
"""

from __future__ import annotations

import multiprocessing
import platform
import statistics
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch.utils.flop_counter import FlopCounterMode

from app.headless import measure_replay
from app.recognizer import StreamRecognizer, classify_window
from app.runtime import OnnxModel
from export.onnx import ExportMetadata, example_head_inputs, export_model
from export.quantize import calibration_crops, quantize_int8
from models.config import ModelConfig
from models.glimpse import GlimpseBackbone, build_backbone
from models.two_stream import INPUT_NAMES, TwoStreamModel
from recordings.own import RecordingPaths, open_recording
from recordings.synthetic import plan_clips, write_clip

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


def matmul_floor_gflops(size: int = 1024, min_seconds: float = 1.0) -> float:
    """GFLOP/s of a float32 size x size matrix product: the machine's floor for dense convolutions."""
    rng = np.random.default_rng(0)
    a, b = rng.random((size, size), np.float32), rng.random((size, size), np.float32)
    return 2 * size**3 / seconds_per_call(lambda: a @ b, min_seconds) / 1e9


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


def bench_glimpse(model: OnnxModel, backbone: GlimpseBackbone, min_seconds: float) -> dict[str, Any]:
    size = backbone.spec.input_size
    flops = flops_per_crop(backbone)
    result: dict[str, Any] = {"gflop_per_crop": flops / 1e9}
    for engine in ("onnxruntime", "pytorch"):
        by_batch = {}
        for batch in BATCHES:
            crops = np.random.default_rng(batch).standard_normal((batch, 3, size, size)).astype(np.float32)
            if engine == "onnxruntime":
                seconds = seconds_per_call(lambda c=crops: model.glimpse_features(c), min_seconds)
            else:
                tensor = torch.from_numpy(crops)
                with torch.no_grad():
                    seconds = seconds_per_call(lambda t=tensor: backbone(t), min_seconds)
            by_batch[str(batch)] = {
                "crops_per_s": batch / seconds,
                "gflops_per_s": batch * flops / seconds / 1e9,
            }
        best = max(by_batch.values(), key=lambda entry: entry["crops_per_s"])
        result[engine] = {**best, "by_batch": by_batch}
    return result


def bench_head(model: OnnxModel, head: TwoStreamModel, min_seconds: float) -> dict[str, float]:
    inputs = example_head_inputs(head, batch=1)
    feeds = [inputs[name] for name in INPUT_NAMES]
    arrays = [tensor.numpy() for tensor in feeds]
    with torch.no_grad():
        torch_s = seconds_per_call(lambda: head(*feeds), min_seconds)
    ort_s = seconds_per_call(lambda: model.run_head(*arrays), min_seconds)
    return {"onnxruntime": ort_s * 1e3, "pytorch": torch_s * 1e3, "speedup": torch_s / ort_s}


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


def _in_fresh_process(function: Callable[..., dict[str, float]], *args: str) -> dict[str, float]:
    with multiprocessing.get_context("spawn").Pool(1) as pool:
        return pool.apply(function, args)


def bench_clip(folder: Path, seed: int = 3, frames: int = 240) -> Path:
    """A one-person 30 fps 1920x1080 synthetic clip (8 s by default), as the app's recording."""
    plan = plan_clips(11, seed, frames=frames)
    spec = next(s for s in plan if s.action.people == 1 and s.action.hand == "either")
    return RecordingPaths.of(write_clip(spec, folder)).sidecar


def run_bench(
    backbones: tuple[tuple[str, int], ...] = DEFAULT_BACKBONES,
    min_seconds: float = 1.0,
    clip_frames: int = 240,
) -> dict[str, Any]:
    """Every measurement above, as one JSON-able dict."""
    report: dict[str, Any] = {
        "machine": {
            "platform": platform.platform(),
            "processor": platform.machine(),
            "cpu_count": multiprocessing.cpu_count(),
            "torch_threads": torch.get_num_threads(),
        },
        "floor_gflops": matmul_floor_gflops(min_seconds=min_seconds),
        "backbones": {},
    }
    with tempfile.TemporaryDirectory(prefix="sta-hands-bench-") as tmp:
        clip = bench_clip(Path(tmp) / "clip", frames=clip_frames)
        for name, size in backbones:
            folder = Path(tmp) / f"{name}-{size}"
            head, backbone = _export_random(name, size, folder)
            model = OnnxModel(folder, provider=None)
            report["provider"] = model.provider
            glimpse = bench_glimpse(model, backbone, min_seconds)
            glimpse["onnxruntime_int8"] = _bench_int8(folder, clip, backbone, min_seconds)
            for engine in ("onnxruntime", "pytorch", "onnxruntime_int8"):
                glimpse[engine]["share_of_floor"] = glimpse[engine]["gflops_per_s"] / report["floor_gflops"]
            report["backbones"][f"{name}@{size}"] = {
                "backbone": name,
                "input_size": size,
                "glimpse": glimpse,
                "head_ms": bench_head(model, head, min_seconds),
                "stream_vs_recompute": bench_stream(model, clip)["speedup"],
                "end_to_end": _in_fresh_process(measure_replay, str(folder), str(clip)),
                "end_to_end_int8": _in_fresh_process(measure_replay, str(folder) + "-int8", str(clip)),
            }
    return report


def _bench_int8(folder: Path, clip: Path, backbone: GlimpseBackbone, min_seconds: float) -> dict[str, Any]:
    """Glimpse speed of the int8 variant (written beside `folder`, calibrated on the clip's crops)."""
    out = quantize_int8(folder, Path(str(folder) + "-int8"), calibration_crops(clip, backbone.spec, count=32))
    model = OnnxModel(out)
    flops = flops_per_crop(backbone)
    by_batch = {}
    for batch in BATCHES:
        size = backbone.spec.input_size
        crops = np.random.default_rng(batch).standard_normal((batch, 3, size, size)).astype(np.float32)
        seconds = seconds_per_call(lambda c=crops: model.glimpse_features(c), min_seconds)
        by_batch[str(batch)] = {"crops_per_s": batch / seconds, "gflops_per_s": batch * flops / seconds / 1e9}
    best = max(by_batch.values(), key=lambda entry: entry["crops_per_s"])
    return {**best, "by_batch": by_batch}


def format_report(report: dict[str, Any]) -> str:
    """A markdown table of the report, for the README."""
    lines = [
        f"Machine: {report['machine']['platform']}, {report['machine']['cpu_count']} CPU cores, "
        f"provider {report.get('provider', '?')}; float32 matrix-product floor "
        f"{report['floor_gflops']:.1f} GFLOP/s.",
        "",
        "| backbone | glimpse crops/s ORT (PyTorch) | GFLOP/s ORT, share of floor | head ms ORT (PyTorch) "
        "| cached vs recompute | real-time factor | latency p50 / p95 ms | peak RSS MB |",
        "| --- | --- | --- | --- | --- | --- | --- | --- |",
    ]
    for key, entry in report["backbones"].items():
        pt, head = entry["glimpse"]["pytorch"], entry["head_ms"]
        for variant, suffix in (("onnxruntime", ""), ("onnxruntime_int8", "_int8")):
            ort, e2e = entry["glimpse"][variant], entry["end_to_end" + suffix]
            lines.append(
                f"| {key}{' int8' if suffix else ''} | {ort['crops_per_s']:.1f} ({pt['crops_per_s']:.1f}) "
                f"| {ort['gflops_per_s']:.1f}, {ort['share_of_floor']:.0%} "
                f"| {head['onnxruntime']:.2f} ({head['pytorch']:.2f}) | {entry['stream_vs_recompute']:.1f}x "
                f"| {e2e['realtime_factor']:.2f} | {e2e['latency_ms_p50']:.0f} / {e2e['latency_ms_p95']:.0f} "
                f"| {e2e['peak_rss_mb']:.0f} |"
            )
    return "\n".join(lines)
