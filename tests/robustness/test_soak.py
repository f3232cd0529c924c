"""`app.soak`: the long-run harness, run for a few seconds to pin its report's schema (never its speed)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from app.soak import latency_report, main, memory_report, run_soak
from tests.app.conftest import list_source, moving_frames
from tests.robustness.registry import Cases

LONG_RUNS = Cases(
    "Long runs",
    "`python -m app.soak --minutes 30 --model FOLDER CLIP...` (and `--gui`) replays clips in a loop through "
    "the capture and recognizer threads (and the window) and reports memory and latency over time. The "
    "tests run it for seconds and check the report's schema only; the measurements of a real run are in "
    "the issue's note.",
)
LONG_RUNS.add(
    "replay-loop",
    "clips replayed in a loop, paced in real time, for a set number of minutes, with or without the window",
    "a JSON report: memory samples and growth per hour (linear fit after a 20% warm-up) against its noise, "
    "predictions made, frames dropped and windows skipped, latency p50/p95 over the first and last 20% of "
    "the predicting time",
)

SEGMENT = {"count": int, "p50": (float, type(None)), "p95": (float, type(None)), "max": (float, type(None))}


def check_schema(report: dict) -> None:
    expected = {
        "minutes": float, "seconds": float, "gui": bool, "model": str, "provider": str, "clips": list,
        "frames_read": int, "loops": int, "timeline_seconds": float, "predictions": int,
        "frames_dropped": int, "windows_skipped": int, "errors": list, "memory": dict, "latency_ms": dict,
        "targets": dict,
    }  # fmt: skip
    assert set(report) == set(expected)
    for key, kind in expected.items():
        assert isinstance(report[key], kind), key
    memory = report["memory"]
    assert set(memory) == {
        "source", "samples", "start_mb", "end_mb", "peak_mb", "fit_from_s", "growth_mb_per_hour",
        "growth_mb_over_fit", "noise_mb", "growth_beyond_noise",
    }  # fmt: skip
    assert len(memory["samples"]) >= 2 and all(len(sample) == 2 for sample in memory["samples"])
    assert memory["peak_mb"] >= memory["start_mb"] > 0 and isinstance(memory["growth_mb_per_hour"], float)
    latency = report["latency_ms"]
    assert set(latency) == {"all", "start", "end", "p95_change", "within_tolerance"}
    for part in ("all", "start", "end"):
        assert set(latency[part]) == set(SEGMENT)
        assert all(isinstance(latency[part][k], kind) for k, kind in SEGMENT.items())
    assert set(report["targets"]) == {"memory_growth_beyond_noise", "latency_p95_within_10_percent"}
    json.dumps(report, allow_nan=False)  # strict JSON: no NaN


@LONG_RUNS.covers("replay-loop")
def test_a_short_soak_without_the_window_reports_the_schema(tiny_model_folder: Path) -> None:
    report = run_soak(0.1, tiny_model_folder, [list_source(moving_frames(45))], gui=False)
    check_schema(report)
    assert report["gui"] is False and report["errors"] == []
    assert report["frames_read"] > 45 and report["loops"] >= 1 and report["predictions"] >= 1


@pytest.mark.gui
@LONG_RUNS.covers("replay-loop")
def test_a_short_soak_with_the_window_reports_the_schema(qapp, tiny_model_folder: Path) -> None:
    report = run_soak(0.05, tiny_model_folder, [list_source(moving_frames(45))], gui=True)
    check_schema(report)
    assert report["gui"] is True and report["frames_read"] > 0


def test_the_command_writes_the_report(tiny_model_folder: Path, tmp_path: Path, capsys) -> None:
    clip = tmp_path / "clip.jsonl"
    from recordings.own import RecordingWriter

    with RecordingWriter(clip) as writer:
        for frame in moving_frames(12):
            writer.write(frame)
    out = tmp_path / "soak.json"
    assert main(["--minutes", "0.02", "--model", str(tiny_model_folder), str(clip), "--json", str(out)]) == 0
    check_schema(json.loads(out.read_text()))
    assert "latency p95" in capsys.readouterr().out


def test_growth_is_a_fit_after_the_warm_up_and_latency_compares_the_ends() -> None:
    samples = [(t, 100.0 + (50.0 if t < 20 else 0.1 * t)) for t in range(0, 100, 5)]
    memory = memory_report(samples, 100.0, "statm")
    assert memory["fit_from_s"] == 20 and memory["growth_mb_per_hour"] == pytest.approx(360.0, abs=0.01)
    assert memory["growth_beyond_noise"] is True
    flat = memory_report([(t, 100.0 + (t % 2)) for t in range(100)], 100.0, "statm")
    assert flat["growth_beyond_noise"] is False
    latency = latency_report([0, 1, 2, 8, 9, 10], [10, 10, 10, 10, 10.5, 10.5])
    assert latency["start"]["count"] == 3 and latency["end"]["count"] == 3
    assert latency["p95_change"] == pytest.approx(0.05, abs=1e-3) and latency["within_tolerance"] is True
    assert latency_report([0, 10], [10, 12])["within_tolerance"] is False
    assert latency_report([], [])["start"]["p95"] is None
