"""Which engine runs the glimpse CNN: ONNX Runtime (always there), or OpenVINO (the optional
`[openvino]` extra), picked at run time from what the CPU offers.

- "auto" (the default): OpenVINO with its bf16 precision hint where it is installed and the CPU has
  bf16 matrix units (the `amx_bf16` or `avx512_bf16` flags): there it ran Inception v3 at 299 at 3.1x
  ONNX Runtime's float32 speed (issue 14's measurement on an AVX-512 + AMX machine). Elsewhere ONNX
  Runtime: without bf16 units the hint has no hardware to use, and OpenVINO's float32 was within
  noise of ONNX Runtime's (`sta-hands bench` measures both side by side where openvino is installed).
- "onnxruntime" or "openvino": forced. A model OpenVINO cannot compile (e.g. an int8 graph in a form
  it does not read) falls back to ONNX Runtime, and the reason is kept for `bench` and the log.

The head always runs on ONNX Runtime: small, recurrent, and its attention must match the export.
"""

from __future__ import annotations

import logging
from collections.abc import Set
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from sta_hands.contract.errors import UserError

log = logging.getLogger(__name__)

ENGINES = ("auto", "onnxruntime", "openvino")
BF16_FLAGS = ("amx_bf16", "avx512_bf16")


@dataclass(frozen=True)
class EngineChoice:
    engine: str  # "onnxruntime" or "openvino"
    precision: str  # OpenVINO's inference precision hint ("bf16", "f32"); "f32" for ONNX Runtime
    reason: str  # one line: why this engine


def cpu_flags(cpuinfo: str | None = None) -> frozenset[str]:
    """The CPU's feature flags (Linux /proc/cpuinfo; empty where it cannot be read)."""
    if cpuinfo is None:
        try:
            with open("/proc/cpuinfo", encoding="utf-8") as file:
                cpuinfo = file.read()
        except OSError:
            return frozenset()
    for line in cpuinfo.splitlines():
        key, _, value = line.partition(":")
        if key.strip() == "flags":
            return frozenset(value.split())
    return frozenset()


def openvino_installed() -> bool:
    try:
        import openvino  # noqa: F401
    except ImportError:
        return False
    return True


def choose_engine(requested: str | None, flags: Set[str], openvino_available: bool) -> EngineChoice:
    """The glimpse engine for `requested` ("auto" or None, "onnxruntime", "openvino") on this CPU."""
    requested = (requested or "auto").lower()
    if requested not in ENGINES:
        raise UserError(f"unknown glimpse engine {requested!r}; choose from {', '.join(ENGINES)}")
    bf16 = [flag for flag in BF16_FLAGS if flag in flags]
    if requested == "openvino":
        if not openvino_available:
            raise UserError("the openvino glimpse engine is not installed: pip install 'sta-hands[openvino]'")
        precision = "bf16" if bf16 else "f32"
        return EngineChoice("openvino", precision, f"asked for; precision {precision}")
    if requested == "onnxruntime":
        return EngineChoice("onnxruntime", "f32", "asked for")
    if bf16 and openvino_available:
        return EngineChoice(
            "openvino", "bf16", f"auto: the CPU has {', '.join(bf16)} and openvino is installed"
        )
    if bf16:
        return EngineChoice(
            "onnxruntime", "f32", f"auto: the CPU has {bf16[0]}, but openvino is not installed"
        )
    return EngineChoice("onnxruntime", "f32", "auto: no bf16 matrix units on this CPU")


def openvino_failure(error: Exception) -> str:
    """One line for why OpenVINO could not compile a glimpse graph."""
    text = str(error)
    if "QLinear" in text:
        return "it does not convert ONNX Runtime's int8 QOperator graph (QLinearConv ...)"
    if "wasn't fully converted" in text:
        return "it does not convert some of the graph's operators"
    lines = [line for line in text.strip().splitlines() if line.strip()]
    return (lines[-1] if lines else type(error).__name__)[:160]


class OpenVinoGlimpse:
    """glimpse.onnx compiled by OpenVINO for the CPU: `run(crops)` -> features, like the ORT session."""

    def __init__(self, path: Path, precision: str, threads: int = 0) -> None:
        import openvino

        config: dict[str, object] = {"INFERENCE_PRECISION_HINT": precision, "PERFORMANCE_HINT": "LATENCY"}
        if threads:
            config["INFERENCE_NUM_THREADS"] = threads
        core = openvino.Core()
        self.compiled = core.compile_model(core.read_model(str(path)), "CPU", config)
        self.request = self.compiled.create_infer_request()

    def run(self, crops: np.ndarray) -> np.ndarray:
        result = self.request.infer({0: crops})
        return np.array(
            result[self.compiled.output(0)], dtype=np.float32
        )  # a copy: the request reuses its buffer
