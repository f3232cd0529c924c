"""The benchmark's report has the keys README and scripts read (speed itself is never asserted)."""

from __future__ import annotations

import pytest

pytest.importorskip("torch", reason="the benchmark compares against PyTorch (train extra)")


@pytest.mark.slow
def test_bench_report_schema() -> None:
    from export.bench import format_report, run_bench

    report = run_bench(backbones=(("efficientnet_lite0", 64),), min_seconds=0.01, clip_frames=70)
    assert report["floor_gflops"] > 0
    entry = report["backbones"]["efficientnet_lite0@64"]
    for engine in ("onnxruntime", "pytorch", "onnxruntime_int8"):
        assert {"crops_per_s", "gflops_per_s"} <= set(entry["glimpse"][engine])
    assert {"onnxruntime", "pytorch"} <= set(entry["head_ms"])
    assert entry["stream_vs_recompute"] > 0
    for key in ("end_to_end", "end_to_end_int8"):
        assert {"realtime_factor", "latency_ms_p50", "latency_ms_p95", "peak_rss_mb"} <= set(entry[key])
    assert "efficientnet_lite0@64 int8" in format_report(report)
