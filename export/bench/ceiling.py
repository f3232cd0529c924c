"""The ceiling of `sta-hands bench`: the best dense matrix-product rate this machine reaches.

- measured: float32 square matrix products through numpy's BLAS, PyTorch and ONNX Runtime, over
  several sizes and thread counts, each the fastest call seen; the ceiling is the best of all. numpy
  runs in a child process without the OpenBLAS core-type override (OPENBLAS_CORETYPE,
  OPENBLAS_L2_SIZE) so that OpenBLAS picks its own kernels; this process's environment is left alone.
- int8: ONNX Runtime's MatMulInteger (uint8 x int8, the kernels its quantised convolutions use), the
  ceiling of the int8 glimpse rows.
- memory: the read bandwidth from main memory (GB/s): a float32 array far larger than the caches,
  read by numpy's column sum and by BLAS's dot product, the fastest pass of either; the speed a
  model's weights stream at when no cache holds them, the head's yardstick (`sta-hands bench`);
- theoretical: cores x clock x float32 FLOPs per cycle (vector width / 32 lanes x 2 for a fused
  multiply-add x FMA units per core), from /proc/cpuinfo and lscpu; what could not be read is said.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import time
from collections.abc import Callable, Iterable, Mapping
from typing import Any

import numpy as np

MATMUL_SIZES = (256, 512, 1024, 2048)
OPENBLAS_OVERRIDES = ("OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE")
ASSUMED_FMA_UNITS = 2  # per core: Intel since Haswell, AMD since Zen 2 (not readable from /proc/cpuinfo)
VECTOR_FLAGS = ("sse2", "avx", "avx2", "fma", "f16c", "avx512f", "avx512_vnni", "avx_vnni", "amx_int8")


def fastest_call(call: Callable[[], Any], min_seconds: float, min_calls: int = 3) -> float:
    """Wall time of the fastest call, after one warm-up, over at least `min_calls` and `min_seconds`.

    The fastest, not the median: a ceiling is what the machine reaches when nothing else runs.
    """
    call()
    best = float("inf")
    started, calls = time.perf_counter(), 0
    while calls < min_calls or time.perf_counter() - started < min_seconds:
        t0 = time.perf_counter()
        call()
        best = min(best, time.perf_counter() - t0)
        calls += 1
    return best


def thread_counts() -> tuple[int, ...]:
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1
    return tuple(sorted({1, max(1, cores // 2), cores}))


def _key(size: int, threads: int) -> str:
    return f"{size}x{size}, {threads} threads"


def numpy_rates(sizes: Iterable[int], threads: int, min_seconds: float) -> dict[str, float]:
    """GFLOP/s of numpy float32 products, in this process (OPENBLAS_NUM_THREADS set by the caller)."""
    rng, rates = np.random.default_rng(0), {}
    for size in sizes:
        a, b = rng.random((size, size), np.float32), rng.random((size, size), np.float32)
        rates[_key(size, threads)] = 2 * size**3 / fastest_call(lambda a=a, b=b: a @ b, min_seconds) / 1e9
    return rates


def child_environment(environ: Mapping[str, str], threads: int) -> dict[str, str]:
    """A copy of `environ` without the OpenBLAS core-type override, with `threads` BLAS threads."""
    env = {key: value for key, value in environ.items() if key not in OPENBLAS_OVERRIDES}
    env.update(OPENBLAS_NUM_THREADS=str(threads), OMP_NUM_THREADS=str(threads))
    return env


def numpy_rates_in_child(
    sizes: Iterable[int], threads: Iterable[int], min_seconds: float
) -> dict[str, float]:
    """`numpy_rates` in fresh interpreters, one per thread count, without the OpenBLAS overrides."""
    rates: dict[str, float] = {}
    code = (
        "import json, sys; from sta_hands.export.bench.ceiling import numpy_rates as r; "
        "print(json.dumps(r(*json.loads(sys.argv[1]))))"
    )
    for count in threads:
        env = child_environment(os.environ, count)
        args = json.dumps([list(sizes), count, min_seconds])
        done = subprocess.run([sys.executable, "-c", code, args], env=env, capture_output=True, text=True)
        if done.returncode != 0:
            raise RuntimeError(f"numpy matrix product in a child process failed: {done.stderr[-2000:]}")
        rates.update(json.loads(done.stdout.splitlines()[-1]))
    return rates


def torch_rates(sizes: Iterable[int], threads: Iterable[int], min_seconds: float) -> dict[str, float]:
    import torch

    previous, rates = torch.get_num_threads(), {}
    try:
        for count in threads:
            torch.set_num_threads(count)
            for size in sizes:
                a, b = torch.rand(size, size), torch.rand(size, size)
                with torch.no_grad():
                    seconds = fastest_call(lambda a=a, b=b: a @ b, min_seconds)
                rates[_key(size, count)] = 2 * size**3 / seconds / 1e9
    finally:
        torch.set_num_threads(previous)
    return rates


def _matmul_session(size: int, threads: int, int8: bool):  # -> (InferenceSession, input)
    import onnx
    import onnxruntime as ort
    from onnx import TensorProto, helper, numpy_helper

    rng = np.random.default_rng(size)
    if int8:
        weight = rng.integers(-128, 128, (size, size), dtype=np.int8)
        a, op, out = rng.integers(0, 256, (size, size), dtype=np.uint8), "MatMulInteger", TensorProto.INT32
    else:
        weight = rng.random((size, size), np.float32)
        a, op, out = rng.random((size, size), np.float32), "MatMul", TensorProto.FLOAT
    graph = helper.make_graph(
        [helper.make_node(op, ["a", "b"], ["c"])],
        "matmul",
        [helper.make_tensor_value_info("a", onnx.helper.np_dtype_to_tensor_dtype(a.dtype), [size, size])],
        [helper.make_tensor_value_info("c", out, [size, size])],
        [numpy_helper.from_array(weight, "b")],
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    options = ort.SessionOptions()
    options.intra_op_num_threads = threads
    session = ort.InferenceSession(model.SerializeToString(), options, providers=["CPUExecutionProvider"])
    return session, a


def onnxruntime_rates(
    sizes: Iterable[int], threads: Iterable[int], min_seconds: float, int8: bool = False
) -> dict[str, float]:
    """G(FL)OP/s of ONNX Runtime's CPU MatMul (float32) or MatMulInteger (int8; a multiply-add is 2 ops)."""
    rates = {}
    for count in threads:
        for size in sizes:
            session, a = _matmul_session(size, count, int8)
            seconds = fastest_call(lambda s=session, a=a: s.run(None, {"a": a}), min_seconds)
            rates[_key(size, count)] = 2 * size**3 / seconds / 1e9
    return rates


MEMORY_PROBE_MB = 512  # far larger than any CPU's last-level cache


def memory_read_gbs(min_seconds: float = 0.5, megabytes: int = MEMORY_PROBE_MB) -> float:
    """GB/s read from main memory: a `megabytes` float32 array read whole, the fastest pass."""
    values = np.ones(megabytes * 2**20 // 4, dtype=np.float32)  # written once: resident, not just reserved
    reads = (lambda: values.reshape(-1, 4096).sum(axis=0), lambda: np.dot(values, values))
    return max(values.nbytes / fastest_call(read, min_seconds / 2) / 1e9 for read in reads)


def summarise(by_engine: dict[str, dict[str, float]]) -> dict[str, Any]:
    """The best rate and its setting per engine; the ceiling is the best of the engines."""
    best = {engine: max(rates.items(), key=lambda item: item[1]) for engine, rates in by_engine.items()}
    return {
        "ceiling_gflops": max(rate for _, rate in best.values()),
        "matmul_gflops": {engine: rate for engine, (_, rate) in best.items()},
        "matmul_best_setting": {engine: setting for engine, (setting, _) in best.items()},
        "matmul_all": by_engine,
    }


def measure_ceiling(
    sizes: Iterable[int] = MATMUL_SIZES, min_seconds: float = 0.5, earlier: dict[str, Any] | None = None
) -> dict[str, Any]:
    """Every engine at every size and thread count; with `earlier` (a report of this function), the
    best of both per setting: the machine's load moves, the ceiling is the best it reached."""
    sizes, threads = tuple(sizes), thread_counts()
    by_engine = {
        "numpy": numpy_rates_in_child(sizes, threads, min_seconds),
        "pytorch": torch_rates(sizes, threads, min_seconds),
        "onnxruntime": onnxruntime_rates(sizes, threads, min_seconds),
    }
    int8 = onnxruntime_rates(sizes, threads, min_seconds, int8=True)
    if earlier is not None:
        by_engine = {
            engine: _best_of(earlier["matmul_all"][engine], rates) for engine, rates in by_engine.items()
        }
        int8 = _best_of(earlier["int8_matmul_all"]["onnxruntime"], int8)
    report = summarise(by_engine)
    report["ceiling_int8_gops"] = max(int8.values())
    report["int8_matmul_all"] = {"onnxruntime": int8}
    report["ceiling_measurements"] = 1 if earlier is None else earlier["ceiling_measurements"] + 1
    return report


def _best_of(first: dict[str, float], second: dict[str, float]) -> dict[str, float]:
    return {key: max(first.get(key, 0.0), second.get(key, 0.0)) for key in first | second}


def _read(path: str) -> str:
    try:
        with open(path, encoding="utf-8") as file:
            return file.read()
    except OSError:
        return ""


def _lscpu() -> str:
    try:
        return subprocess.run(["lscpu"], capture_output=True, text=True, timeout=10).stdout
    except (OSError, subprocess.SubprocessError):
        return ""


def cpu_facts(cpuinfo: str | None = None, lscpu: str | None = None) -> dict[str, Any]:
    """CPU model, cores, vector extensions, clock and the float32 peak they give; assumptions named."""
    cpuinfo = _read("/proc/cpuinfo") if cpuinfo is None else cpuinfo
    lscpu = _lscpu() if lscpu is None else lscpu
    fields: dict[str, list[str]] = {}
    for line in cpuinfo.splitlines():
        key, _, value = line.partition(":")
        fields.setdefault(key.strip(), []).append(value.strip())
    flags = set(fields.get("flags", [""])[0].split())
    model = (fields.get("model name") or [None])[0] or _lscpu_field(lscpu, "Model name") or "unknown"
    assumed = []
    core_ids = {
        (p, c) for p, c in zip(fields.get("physical id", []), fields.get("core id", []), strict=False)
    }
    cores = len(core_ids) or os.cpu_count() or 1
    if not core_ids:
        assumed.append(f"{cores} cores (logical CPUs; /proc/cpuinfo names no core ids)")
    width = 512 if "avx512f" in flags else 256 if "avx" in flags else 128
    fma = "fma" in flags or "avx512f" in flags
    flops_per_cycle = width // 32 * 2 * ASSUMED_FMA_UNITS  # lanes x (multiply + add) x units
    assumed.append(f"{ASSUMED_FMA_UNITS} {width}-bit FMA units per core")
    if not fma:
        assumed[-1] = f"one {width}-bit multiply and one add unit per core (no FMA flag)"
    mhz, clock_source = _clock_mhz(lscpu, fields)
    if mhz is None:
        assumed.append("no clock readable: no theoretical peak")
    peak = None if mhz is None else cores * mhz / 1e3 * flops_per_cycle
    return {
        "cpu_model": model,
        "physical_cores": cores,
        "vector_extensions": [flag for flag in VECTOR_FLAGS if flag in flags],
        "vector_bits": width,
        "fp32_flops_per_cycle_per_core": flops_per_cycle,
        "clock_mhz": mhz,
        "clock_source": clock_source,
        "theoretical_peak_gflops": peak,
        "assumed": assumed,
    }


def _lscpu_field(lscpu: str, name: str) -> str | None:
    match = re.search(rf"^{re.escape(name)}:\s*(.+)$", lscpu, re.MULTILINE)
    return match.group(1).strip() if match else None


def _clock_mhz(lscpu: str, fields: dict[str, list[str]]) -> tuple[float | None, str]:
    top = _lscpu_field(lscpu, "CPU max MHz")
    if top:
        return float(top), "lscpu CPU max MHz"
    readings = [float(value) for value in fields.get("cpu MHz", []) if value]
    if readings:
        return max(readings), "/proc/cpuinfo cpu MHz (the clock now; no maximum readable, boost not counted)"
    return None, "none readable"
