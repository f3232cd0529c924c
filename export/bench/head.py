"""`bench --json`'s head figures (issue 14): the head's ms per prediction beside the time its weights take
to stream from main memory once, and the window's startup and on-screen latency (`export.bench.gui_timing`).

- `head_ms` (per folder, so the int8 rows are their own): ONNX Runtime on the recognizer's path (each
  hand's projection cached; a split head reads those) in the app's head session (`OnnxModel`'s
  default `HeadSettings`, recorded as `head_session`), the same model's unsplit head in a session of
  the same settings (every glimpse multiplied by W_ih again, as before the split), PyTorch eager
  (unsplit), the projection of one new frame's four crops (the per-crop work the split moved out of
  the head), the head's weight bytes, and
  `memory_ms` = those bytes / the measured memory bandwidth (`export.bench.ceiling.memory_read_gbs`):
  `vs_memory` = head ms / memory ms, 1.0 being a head that runs at the speed its weights stream.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import onnx
import torch
from onnx import numpy_helper

from sta_hands.app.glimpse_engine import (
    OpenVinoGlimpse,
    choose_engine,
    cpu_flags,
    openvino_failure,
    openvino_installed,
)
from sta_hands.app.runtime import OnnxModel, open_session
from sta_hands.contract.onnx_contract import GLIMPSE_FILE, HEAD_FILE, HEAD_OUTPUTS
from sta_hands.export.bench.attempts import failed, not_measured
from sta_hands.export.onnx import example_head_inputs, export_unsplit_head
from sta_hands.models.two_stream import INPUT_NAMES, TwoStreamModel


def weight_bytes(path: Path) -> int:
    """Bytes of a graph's weights: its initializers and constant tensors."""
    graph = onnx.load(str(path)).graph
    tensors = list(graph.initializer) + [
        attribute.t for node in graph.node if node.op_type == "Constant" for attribute in node.attribute
    ]
    return sum(numpy_helper.to_array(tensor).nbytes for tensor in tensors)


Timer = Callable[[Callable[[], Any], float], float]  # (call, min_seconds) -> seconds per call


def bench_head(
    model: OnnxModel,
    head: TwoStreamModel,
    seconds_per_call: Timer,
    min_seconds: float,
    memory_gbs: float,
    unsplit_head: Path | None = None,
) -> dict[str, Any]:
    """The head's ms per prediction, engines side by side, and against its weights' memory time."""
    inputs = example_head_inputs(head, batch=1)
    feeds = [inputs[name] for name in INPUT_NAMES]
    features, mask, pose = (tensor.numpy() for tensor in feeds)
    flat = features.reshape(-1, features.shape[-1])
    projected = model.project(flat).reshape((*features.shape[:-1], model.head_feature_dim))
    with torch.no_grad():
        torch_s = seconds_per_call(lambda: head(*feeds), min_seconds)
    ort_s = seconds_per_call(lambda: model.run_head_projected(projected, mask, pose), min_seconds)
    one_frame = np.ascontiguousarray(flat[:4])
    projection_s = seconds_per_call(lambda: model.project(one_frame), min_seconds / 2)
    memory_ms = weight_bytes(model.folder / HEAD_FILE) / (memory_gbs * 1e9) * 1e3
    entry: dict[str, Any] = {
        "onnxruntime": ort_s * 1e3,
        "pytorch": torch_s * 1e3,
        "speedup": torch_s / ort_s,
        "split": model.split,
        "head_session": {"threads": model.head_settings.threads, "spinning": model.head_settings.spinning},
        "projection_ms_per_frame": projection_s * 1e3 if model.split else 0.0,
        "weights_mb": weight_bytes(model.folder / HEAD_FILE) / 1e6,
        "memory_ms": memory_ms,
        "vs_memory": ort_s * 1e3 / memory_ms,
    }
    if unsplit_head is not None:
        settings = model.head_settings  # the app's head session, as the split head's above
        session = open_session(unsplit_head, [model.provider], settings.threads, settings.spinning)
        arrays = dict(zip(INPUT_NAMES, (features, mask, pose), strict=True))
        unsplit_s = seconds_per_call(lambda: session.run(list(HEAD_OUTPUTS), arrays), min_seconds)
        entry["onnxruntime_unsplit"] = unsplit_s * 1e3
        entry["split_speedup"] = unsplit_s / ort_s
    return entry


def glimpse_engine_choice() -> dict[str, str]:
    """What `OnnxModel`'s "auto" picks for the glimpses on this machine, and why."""
    choice = choose_engine(None, cpu_flags(), openvino_installed())
    return {"engine": choice.engine, "precision": choice.precision, "reason": choice.reason}


def bench_openvino(folder: Path, measure: Callable[[Callable[[np.ndarray], Any]], dict[str, Any]]) -> dict:
    """OpenVINO's glimpse rows beside ONNX Runtime's (`measure`: bench's crops/s per batch), float32
    and with the bf16 hint: {"openvino_f32": row, "openvino_bf16": row} or {"skipped": why}."""
    if not openvino_installed():
        return {"skipped": "openvino is not installed (pip install 'sta-hands[openvino]')"}
    rows: dict[str, Any] = {}
    for precision in ("f32", "bf16"):
        try:
            engine = OpenVinoGlimpse(folder / GLIMPSE_FILE, precision)
        except Exception as error:  # OpenVINO's own types: the row says why it is missing
            return {"skipped": openvino_failure(error)}
        rows[f"openvino_{precision}"] = measure(engine.run)
    return rows


def unsplit_head_file(head: TwoStreamModel, folder: Path) -> Path:
    """The unsplit head of `head` at folder/unsplit-head.onnx, for `bench_head` to set against."""
    path = folder / "unsplit-head.onnx"
    export_unsplit_head(head, path)
    return path


def format_head(report: dict[str, Any]) -> str:
    """The head, startup and on-screen latency lines of the README's speed section."""
    memory = report.get("memory_read_gbs")
    lines = [
        f"Head (one prediction, batch 1) against its weights streamed once from memory "
        f"({_number(None if failed(memory) else memory, 1)} GB/s measured):",
        "",
        "| backbone | head ms ORT | x memory time | unsplit head ms ORT | split speedup | PyTorch ms "
        "| weights MB | projection ms per new frame | GUI p95 ms (p50) | drawn fps / source fps |",
        "| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |",
    ]
    for key, entry in report["backbones"].items():
        for suffix in ("", "_int8"):
            head = None if failed(entry) else entry.get("head_ms" + suffix)
            if head is None or failed(head):
                continue
            gui = entry.get("gui" + suffix) or {}  # {"error": ...} where it failed: its figures say –
            unsplit = head.get("onnxruntime_unsplit")
            p95, p50 = gui.get("gui_latency_ms_p95"), gui.get("gui_latency_ms_p50")
            lines.append(
                f"| {key}{' int8' if suffix else ''} | {head['onnxruntime']:.2f} | {head['vs_memory']:.1f}x "
                f"| {_number(unsplit)} | {_number(head.get('split_speedup'), 1, 'x')} "
                f"| {head['pytorch']:.2f} | {head['weights_mb']:.1f} | {head['projection_ms_per_frame']:.2f} "
                f"| {_number(p95, 0)} ({_number(p50, 0)}) "
                f"| {_number(gui.get('display_fps'), 1)} / {_number(gui.get('source_fps'), 0)} |"
            )
    choice, engines = report.get("glimpse_engine"), []
    choice = None if failed(choice) else choice
    for key, entry in report["backbones"].items():
        for suffix in ("", "_int8"):
            rows = entry.get("openvino" + suffix) or {}
            if failed(entry) or failed(rows):
                rows = {"skipped": not_measured(entry if failed(entry) else rows)}
            ort = entry.get("glimpse", {}).get("onnxruntime" + suffix, {}).get("crops_per_s")
            cells = [
                f"{k.removeprefix('openvino_')} {v['crops_per_s']:.1f}"
                for k, v in rows.items()
                if k != "skipped"
            ]
            said = ", ".join(cells) if cells else rows.get("skipped", "not measured")
            engines.append(
                f"{key}{' int8' if suffix else ''}: ONNX Runtime {_number(ort, 1)}, OpenVINO {said}"
            )
    if choice:
        lines += [
            "",
            f"Glimpse engine: {choice['engine']} ({choice['reason']}). Crops/s: " + "; ".join(engines) + ".",
        ]
    startup = report.get("startup")
    if failed(startup):
        lines += ["", f"Startup: {not_measured(startup)}."]
    elif startup:
        lines += [
            "",
            f"Startup: `sta-hands demo` to its first full-window prediction on screen "
            f"{startup['startup_s']:.2f} s (the model loaded at {_number(startup.get('model_loaded_s'))} s; "
            f"a first partial guess at {_number(startup.get('first_guess_s'))} s; a window spans "
            f"{startup['window_seconds']:.2f} s of the clip).",
        ]
    return "\n".join(lines)


def _number(value: float | None, digits: int = 2, unit: str = "") -> str:
    return "–" if value is None else f"{value:.{digits}f}{unit}"
