"""A sub-measurement of `sta-hands bench` that fails is recorded with its error and the run goes on
(issue 23): a start-up child that hung for 120 s once cost a whole 3-minute run."""

from __future__ import annotations

import json
import subprocess

import pytest

bench = pytest.importorskip(
    "sta_hands.export.bench.speed", reason="the benchmark compares against PyTorch (train extra)"
)


def test_a_failing_sub_measurement_is_recorded_and_the_run_goes_on(monkeypatch: pytest.MonkeyPatch) -> None:
    def hangs(*args: object, **kwargs: object) -> dict:
        raise subprocess.TimeoutExpired(["python", "-m", "sta_hands.commands.gui_timing", "startup"], 120)

    monkeypatch.setattr(bench, "measure_startup", hangs)  # the failure seen: the child timed out
    report = bench.run_bench(backbones=(), min_seconds=0.01, clip_frames=10, matmul_sizes=(64,))
    assert list(report["errors"]) == ["startup"]
    error = report["errors"]["startup"]
    assert error.startswith(
        "TimeoutExpired: Command '['python', '-m', 'sta_hands.commands.gui_timing', 'startup']'"
    )
    assert report["startup"] == {"error": error} and report["startup_s"] is None
    assert report["memory_read_gbs"] > 0 and report["glimpse_engine"]["engine"]  # measured after it
    assert report["ceiling_measurements"] == 2 and report["ceiling_gflops"] > 0  # the run reached its end
    assert json.loads(json.dumps(report))["errors"] == report["errors"]  # bench --json writes it
    text = bench.format_report(report)
    assert "Startup: not measured (TimeoutExpired" in text
    assert "Not measured in this run: startup: TimeoutExpired" in text
