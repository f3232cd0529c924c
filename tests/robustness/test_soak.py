"""`app.soak.loop`: the long-run harness, run for a few seconds to pin its report's schema (never its
speed)."""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest

from sta_hands.app.soak.loop import SensorPlan, format_report, latency_report, memory_report, run_soak
from sta_hands.app.soak.sensor import ReplaySensor
from sta_hands.commands.soak import main
from sta_hands.contract.errors import UserError
from tests.app.conftest import list_source, moving_frames
from tests.robustness.registry import Cases

LONG_RUNS = Cases(
    "Long runs",
    "`python -m sta_hands.commands.soak --minutes 30 --model FOLDER CLIP...` (and `--gui`, `--speed`, "
    "`--sensor`, "
    "`--pose`) replays clips in a loop through the capture and recognizer threads (and the window) and "
    "reports memory and latency over time. The tests run it for seconds and check the report's schema and "
    "the sensor's reconnections only; the figures of a compressed day are in docs/soak.md.",
)
LONG_RUNS.add(
    "replay-loop",
    "clips replayed in a loop, paced in real time, for a set number of minutes, with or without the window",
    "a JSON report: memory samples and growth per hour (linear fit after a 20% warm-up) against its noise, "
    "predictions made, frames dropped and windows skipped, latency p50/p95 over the first and last 20% of "
    "the predicting time",
)
LONG_RUNS.add(
    "replay-faster",
    "the same replayed `--speed` times faster than real time (a compressed day)",
    "the timestamps advance as recorded (the recognizer sees a 30 fps source) while the wall clock runs "
    "faster; growth is reported per hour of the source (with its standard error), over an 8-hour day and per "
    "100k frames read, latency over the first and last 10 minutes of the source, warnings and errors logged",
)
LONG_RUNS.add(
    "sensor-unplugged",
    "the clip sent by a replayed Kinect v2 that is unplugged every 10 minutes of the source, alternately "
    "silent and raising from every call (`--sensor`)",
    "the app's own KinectSource notices each loss, logs one warning and reconnects when the sensor is back; "
    "the report counts disconnects, losses seen, reconnections and frames sent and taken",
)

SEGMENT = {"count": int, "p50": (float, type(None)), "p95": (float, type(None)), "max": (float, type(None))}


def check_schema(report: dict) -> None:
    expected = {
        "minutes": float, "speed": float, "seconds": float, "gui": bool, "model": str, "provider": str,
        "clips": list, "bodies": list, "frames_read": int, "loops": int, "timeline_seconds": float,
        "predictions": int, "frames_dropped": int, "windows_skipped": int, "errors": list, "log": list,
        "sensor": (dict, type(None)), "memory": dict, "latency_ms": dict, "targets": dict,
    }  # fmt: skip
    assert set(report) == set(expected)
    for key, kind in expected.items():
        assert isinstance(report[key], kind), key
    memory = report["memory"]
    assert set(memory) == {
        "source", "samples", "start_mb", "end_mb", "peak_mb", "fit_from_s", "after_warm_up_mb",
        "growth_mb_per_hour", "growth_mb_per_source_hour", "growth_mb_per_source_hour_error",
        "growth_mb_over_day", "growth_mb_per_100k_frames", "growth_mb_over_fit", "noise_mb",
        "growth_beyond_noise", "day_under_limit",
    }  # fmt: skip
    assert len(memory["samples"]) >= 2 and all(len(sample) == 2 for sample in memory["samples"])
    assert memory["peak_mb"] >= memory["start_mb"] > 0 and isinstance(memory["growth_mb_per_hour"], float)
    latency = report["latency_ms"]
    assert set(latency) == {"all", "start", "end", "segment_s", "p95_change", "within_tolerance"}
    for part in ("all", "start", "end"):
        assert set(latency[part]) == set(SEGMENT)
        assert all(isinstance(latency[part][k], kind) for k, kind in SEGMENT.items())
    assert set(report["targets"]) == {
        "memory_growth_beyond_noise", "memory_day_under_10_mib", "latency_p95_within_10_percent",
    }  # fmt: skip
    for entry in report["log"]:
        assert set(entry) == {"level", "logger", "message", "count"} and entry["count"] >= 1
    if report["sensor"] is not None:
        assert set(report["sensor"]) == {
            "clip", "speed", "unplug_every_s", "outage_s", "frames_sent", "frames_taken", "outages",
            "losses_seen", "reconnects", "runtimes_created", "held_mb",
        }  # fmt: skip
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
    plan = SensorPlan(unplug_every=4.0, outage=1.5)
    report = run_soak(
        11 / 60, tiny_model_folder, [list_source(moving_frames(45))], gui=True, speed=2, sensor=plan
    )
    check_schema(report)
    assert report["gui"] is True and report["frames_read"] > 0 and report["errors"] == []
    assert report["sensor"]["outages"] == 2 and report["sensor"]["losses_seen"] == 2
    assert report["sensor"]["reconnects"] == 2 and report["timeline_seconds"] > 9.0


@LONG_RUNS.covers("replay-faster")
def test_a_faster_replay_covers_more_recorded_time_than_wall_time(tiny_model_folder: Path) -> None:
    report = run_soak(0.1, tiny_model_folder, [list_source(moving_frames(45))], speed=4)
    check_schema(report)
    assert report["speed"] == 4.0 and report["sensor"] is None
    assert report["timeline_seconds"] > 5.5 and report["seconds"] < 4.5  # 6 s of the clips in about 1.5 s
    assert report["memory"]["growth_mb_per_source_hour"] == pytest.approx(
        report["memory"]["growth_mb_per_hour"] / 4, abs=0.01
    )


@LONG_RUNS.covers("sensor-unplugged")
def test_a_soak_through_the_replayed_sensor_reconnects_after_each_disconnect(tiny_model_folder: Path) -> None:
    plan = SensorPlan(unplug_every=4.0, outage=1.5)  # unplugged at 4 s (silent) and 8 s (raising)
    report = run_soak(11 / 60, tiny_model_folder, [list_source(moving_frames(45))], speed=2, sensor=plan)
    check_schema(report)
    sensor = report["sensor"]
    assert sensor["outages"] == 2 and sensor["losses_seen"] == 2 and sensor["reconnects"] == 2
    assert sensor["runtimes_created"] >= 3 and 0 < sensor["frames_taken"] <= sensor["frames_sent"]
    assert report["errors"] == [] and report["predictions"] >= 1
    assert report["timeline_seconds"] > 9.0 and report["bodies"] == ["recorded, sent by the sensor"]
    lost = [entry for entry in report["log"] if "sensor lost" in entry["message"]]
    assert sum(entry["count"] for entry in lost) == 2 and {entry["logger"] for entry in lost} == {
        "sta_hands.recordings.kinect.source"
    }
    assert "2 disconnects, 2 losses seen, 2 reconnects" in format_report(report)


def test_the_replayed_sensor_sends_the_clips_own_images_and_bodies_at_30_fps() -> None:
    clip = []
    for frame in moving_frames(60):
        image = frame.image.copy()
        image[0, 0] = frame.index  # the image says which frame it is
        clip.append(replace(frame, image=image))
    sensor = ReplaySensor(list_source(clip), speed=2, unplug_every=100.0, outage=1.0)
    source = sensor.source()
    frames = []
    for frame in source:
        frames.append(frame)
        if len(frames) == 15:
            source.stop()
    assert len(frames) == 15
    numbers = [int(frame.image[0, 0, 0]) for frame in frames]
    for frame, number in zip(frames, numbers, strict=True):
        assert np.array_equal(frame.image, clip[number].image)
        (body,) = frame.bodies  # paired with the body frame sent with it, or the one before (within 1.5/30 s)
        sent = [
            clip[n].bodies[0]
            for n in (number, number - 1)
            if np.allclose(clip[n].bodies[0].joints, body.joints)
        ]
        assert sent, (
            f"frame {frame.index}: its body is neither that of clip frame {number} nor the one before"
        )
        assert np.allclose(body.color_px, sent[0].color_px, atol=1e-3) and body.id == sent[0].id
        assert np.array_equal(body.tracking, sent[0].tracking)
    # stamped on the sensor's clock: timestamps advance 1/30 s per frame sent, however fast the replay runs
    for frame, number in zip(frames, numbers, strict=True):
        sent_since = (number - numbers[0]) % len(clip)
        assert abs((frame.timestamp - frames[0].timestamp) * 30 - sent_since) < 1.5


def test_the_command_writes_the_report(tiny_model_folder: Path, tmp_path: Path, capsys) -> None:
    clip = tmp_path / "clip.jsonl"
    from sta_hands.recordings.own.recording import RecordingWriter

    with RecordingWriter(clip) as writer:
        for frame in moving_frames(12):
            writer.write(frame)
    out = tmp_path / "soak.json"
    assert main(["--minutes", "0.02", "--model", str(tiny_model_folder), str(clip), "--json", str(out)]) == 0
    check_schema(json.loads(out.read_text()))
    assert "latency p50/p95" in capsys.readouterr().out
    for bad in (["--speed", "0"], ["--speed", "nan"], ["--speed", "-1"], ["--sensor", "--unplug-every", "0"]):
        with pytest.raises(UserError, match=bad[-2]):
            main(["--minutes", "0.02", "--model", str(tiny_model_folder), str(clip), *bad])


def test_growth_is_a_fit_after_the_warm_up_and_latency_compares_the_ends() -> None:
    samples = [(t, 100.0 + (50.0 if t < 20 else 0.1 * t)) for t in range(0, 100, 5)]
    memory = memory_report(samples, 100.0, "statm")
    assert memory["fit_from_s"] == 20 and memory["growth_mb_per_hour"] == pytest.approx(360.0, abs=0.01)
    assert memory["growth_beyond_noise"] is True
    faster = memory_report(samples, 100.0, "statm", speed=4.0, frames=[10 * t for t, _ in samples])
    assert faster["growth_mb_per_source_hour"] == pytest.approx(90.0, abs=0.01)  # 360 MiB per wall hour / 4
    assert faster["growth_mb_per_100k_frames"] == pytest.approx(1000.0, abs=0.01)  # 0.1 MiB/s at 10 frames/s
    assert (
        faster["growth_mb_over_day"] == pytest.approx(720.0, abs=0.1) and faster["day_under_limit"] is False
    )
    assert faster["growth_mb_per_source_hour_error"] == pytest.approx(0.0, abs=0.01)  # an exact line
    flat = memory_report([(t, 100.0 + (t % 2)) for t in range(100)], 100.0, "statm")
    assert flat["growth_beyond_noise"] is False
    hour = memory_report([(t, 100.0 + (t % 2)) for t in range(3600)], 3600.0, "statm")  # flat, noisy
    assert hour["day_under_limit"] is True and hour["growth_mb_per_source_hour_error"] > 0
    latency = latency_report([0, 1, 2, 8, 9, 10], [10, 10, 10, 10, 10.5, 10.5])
    assert latency["start"]["count"] == 3 and latency["end"]["count"] == 3
    assert latency["p95_change"] == pytest.approx(0.05, abs=1e-3) and latency["within_tolerance"] is True
    assert latency_report([0, 10], [10, 12])["within_tolerance"] is False
    ends = latency_report(list(range(11)), [10] * 5 + [99] + [20] * 5, segment=1.0)  # 1 s of each end
    assert ends["start"]["count"] == 2 and ends["start"]["p95"] == 10 and ends["end"]["p50"] == 20
    assert latency_report([], [])["start"]["p95"] is None
