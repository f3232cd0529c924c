"""The benchmark measures what it says: the app's own memory, a ceiling that is the best of the engines,
and the keys README and scripts read. Speed itself is never asserted."""

from __future__ import annotations

import json
import os

import numpy as np
import pytest

from sta_hands.app.runtime import default_model_folder
from sta_hands.export.bench import ceiling
from sta_hands.recordings.sources import demo_clip_path

bench = pytest.importorskip(
    "sta_hands.export.bench.speed", reason="the benchmark compares against PyTorch (train extra)"
)

PARENT_MB = 600  # touched in the test process before the child starts


def _own_peak_mb() -> float:
    with open("/proc/self/status", encoding="ascii") as status:
        return next(int(line.split()[1]) for line in status if line.startswith("VmHWM:")) / 1024


@pytest.mark.skipif(not os.path.exists("/proc/self/status"), reason="Linux /proc only")
def test_replay_child_reports_its_own_peak_memory_not_the_parents() -> None:
    ballast = np.ones(PARENT_MB * 2**20 // 8)  # np.ones writes every page: resident, not just reserved
    assert _own_peak_mb() > PARENT_MB
    result = bench.replay_in_fresh_process(default_model_folder(), demo_clip_path())
    del ballast
    assert result["torch_imported"] is False
    assert result["peak_rss_source"] == "VmHWM"
    assert 0 < result["peak_rss_mb"] < PARENT_MB / 2, result
    assert result["windows"] > 0


def test_ceiling_is_the_best_engine_and_shares_follow_it() -> None:
    by_engine = {
        "numpy": {"512x512, 1 threads": 40.0, "1024x1024, 2 threads": 90.0},
        "pytorch": {"512x512, 2 threads": 120.0},
        "onnxruntime": {"256x256, 2 threads": 100.0},
    }
    summary = ceiling.summarise(by_engine)
    assert summary["ceiling_gflops"] == 120.0
    assert summary["matmul_gflops"] == {"numpy": 90.0, "pytorch": 120.0, "onnxruntime": 100.0}
    assert summary["matmul_best_setting"]["numpy"] == "1024x1024, 2 threads"
    glimpse = {
        "gflop_per_crop": 1.0,
        "onnxruntime": {"gflops_per_s": 60.0},
        "pytorch": {"gflops_per_s": 30.0},
        "onnxruntime_int8": {"gflops_per_s": 150.0},
    }
    bench.add_shares(glimpse, summary["ceiling_gflops"], ceiling_int8_gops=300.0)
    assert glimpse["onnxruntime"]["share_of_ceiling"] == pytest.approx(0.5)  # of 120, not of numpy's 90
    assert glimpse["pytorch"]["share_of_ceiling"] == pytest.approx(0.25)
    assert glimpse["onnxruntime_int8"]["share_of_ceiling"] == pytest.approx(0.5)  # of the int8 ceiling


def test_ceiling_measured_again_keeps_the_best_of_each_setting(monkeypatch: pytest.MonkeyPatch) -> None:
    loads = iter([1.0, 1.0, 1.0, 1.0, 0.5, 0.5, 0.5, 0.5])  # the second measurement on a busier machine

    def rates(*args: object, int8: bool = False) -> dict[str, float]:
        factor = next(loads)
        return {"256x256, 1 threads": 100.0 * factor, "512x512, 2 threads": 80.0 / factor}

    for name in ("numpy_rates_in_child", "torch_rates", "onnxruntime_rates"):
        monkeypatch.setattr(ceiling, name, rates)
    first = ceiling.measure_ceiling((256, 512), 0.0)
    assert first["ceiling_gflops"] == 100.0 and first["ceiling_measurements"] == 1
    both = ceiling.measure_ceiling((256, 512), 0.0, earlier=first)
    assert both["matmul_all"]["numpy"] == {"256x256, 1 threads": 100.0, "512x512, 2 threads": 160.0}
    assert both["ceiling_gflops"] == 160.0 and both["ceiling_int8_gops"] == 160.0
    assert both["ceiling_measurements"] == 2


CPUINFO = "".join(
    f"processor\t: {i}\nmodel name\t: Test CPU\nphysical id\t: 0\ncore id\t\t: {i // 2}\n"
    f"cpu MHz\t\t: {2000 + i}.0\nflags\t\t: fpu sse2 avx avx2 fma\n\n"
    for i in range(8)  # 8 logical CPUs, 4 cores with 2 threads each
)


def test_theoretical_peak_from_cpuinfo_and_what_was_assumed() -> None:
    facts = ceiling.cpu_facts(CPUINFO, lscpu="")
    assert facts["cpu_model"] == "Test CPU"
    assert facts["physical_cores"] == 4
    assert facts["vector_extensions"] == ["sse2", "avx", "avx2", "fma"]
    assert facts["fp32_flops_per_cycle_per_core"] == 32  # 8 lanes x 2 (FMA) x 2 units
    assert facts["clock_mhz"] == 2007.0 and "cpu MHz" in facts["clock_source"]
    assert facts["theoretical_peak_gflops"] == pytest.approx(4 * 2.007 * 32)
    assert any("FMA units per core" in note for note in facts["assumed"])

    boosted = ceiling.cpu_facts(
        CPUINFO.replace("avx2 fma", "avx2 fma avx512f"), lscpu="CPU max MHz:  3500.0000\n"
    )
    assert boosted["fp32_flops_per_cycle_per_core"] == 64
    assert boosted["clock_mhz"] == 3500.0 and boosted["clock_source"] == "lscpu CPU max MHz"

    unknown = ceiling.cpu_facts("processor\t: 0\nflags\t\t: sse2\n", lscpu="")
    assert unknown["theoretical_peak_gflops"] is None
    assert any("no clock" in note for note in unknown["assumed"])


def test_numpy_is_measured_without_the_openblas_overrides() -> None:
    environ = {"PATH": "/bin", "OPENBLAS_CORETYPE": "Prescott", "OPENBLAS_L2_SIZE": "1", "HOME": "/h"}
    env = ceiling.child_environment(environ, threads=2)
    assert "OPENBLAS_CORETYPE" not in env and "OPENBLAS_L2_SIZE" not in env
    assert env["PATH"] == "/bin" and env["OPENBLAS_NUM_THREADS"] == "2"
    assert environ["OPENBLAS_CORETYPE"] == "Prescott"  # the caller's environment is left alone
    rates = ceiling.numpy_rates_in_child((64,), (1,), min_seconds=0.0)
    assert list(rates) == ["64x64, 1 threads"] and rates["64x64, 1 threads"] > 0


@pytest.mark.slow
def test_bench_report_has_the_ceiling_and_each_variants_own_figures() -> None:
    report = bench.run_bench(
        backbones=(("efficientnet_lite0", 64),), min_seconds=0.01, clip_frames=70, matmul_sizes=(64, 128)
    )
    engines = report["matmul_gflops"]
    assert set(engines) == {"numpy", "pytorch", "onnxruntime"} and min(engines.values()) > 0
    assert report["ceiling_gflops"] == max(engines.values())
    assert report["ceiling_int8_gops"] > 0
    assert report["ceiling_measurements"] == 2  # at the start and at the end of the run
    peak = report["theoretical_peak_gflops"]
    assert peak is None or peak > 0
    assert report["machine"]["cpu_model"] and isinstance(report["machine"]["assumed"], list)
    entry = report["backbones"]["efficientnet_lite0@64"]
    glimpse = entry["glimpse"]
    for engine, ceiling_key in (
        ("onnxruntime", "ceiling_gflops"),
        ("pytorch", "ceiling_gflops"),
        ("onnxruntime_int8", "ceiling_int8_gops"),
    ):
        assert glimpse[engine]["crops_per_s"] > 0
        share = glimpse[engine]["gflops_per_s"] / report[ceiling_key]
        assert glimpse[engine]["share_of_ceiling"] == pytest.approx(share)
    for suffix in ("", "_int8"):
        assert {"onnxruntime", "pytorch"} <= set(entry["head_ms" + suffix])
        assert entry["stream_vs_recompute" + suffix] > 0
        e2e = entry["end_to_end" + suffix]
        assert {"realtime_factor", "latency_ms_p50", "latency_ms_p95"} <= set(e2e)
        assert e2e["torch_imported"] is False
        assert 0 < e2e["peak_rss_mb"] < 1024  # the app's own: about 100-200 MB, not torch's GBs
        live = entry["end_to_end_live" + suffix]
        assert e2e["crops_reused"] == 0 and e2e["still_threshold"] == 0  # a file computes every crop
        assert live["still_threshold"] > 0 and live["windows"] == e2e["windows"]
        assert live["crops_computed"] + live["crops_reused"] == e2e["crops_computed"]  # the same crops
    text = bench.format_report(report)
    assert "efficientnet_lite0@64 int8" in text and "Ceiling" in text and "still hands reused" in text
    pose_model = report["pose_model"]  # the bundled Shift-GCN; its parts skip without the NTU samples
    assert "skipped" in pose_model or {"skeleton_replay", "webcam_640x480", "load_average"} <= set(pose_model)
    assert "Pose model" in text
    assert "floor" not in (text + json.dumps(report)).lower()
