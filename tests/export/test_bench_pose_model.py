"""`bench --json`'s pose_model entry: its figures' schema and how they relate, on a tiny pose model and a
short skeleton written here (no timed assertion), and the parts that say why they were skipped."""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np
import pytest

from sta_hands.contract.frame import NUM_JOINTS, Body
from sta_hands.export.bench.pose_estimation import write_webcam_video
from sta_hands.export.bench.pose_model import SKELETON_CLIP, bench_pose_model, format_pose_model
from sta_hands.recordings.ntu.skeleton_writer import write_skeleton
from tests.tiny_pose_model import export_tiny_pose_model, tiny_pose_info

FRAMES = 75  # 2.5 s at 30 fps


def moving_body(t: int) -> Body:
    rng = np.random.default_rng(t)
    joints = rng.normal(0.0, 0.2, (NUM_JOINTS, 3)) + np.array([0.0, 0.0, 3.0])
    color = np.full((NUM_JOINTS, 2), 900.0) + rng.normal(0.0, 20.0, (NUM_JOINTS, 2))
    return Body(id=7, joints=joints, color_px=color, tracking=np.full(NUM_JOINTS, 2, np.uint8))


@pytest.fixture(scope="module")
def tiny_folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return export_tiny_pose_model(tmp_path_factory.mktemp("tiny-pose"), tiny_pose_info())


def test_the_entry_relates_its_figures_and_skips_the_webcam_without_samples(
    tiny_folder: Path, tmp_path: Path
) -> None:
    skeleton = tmp_path / "S001C001P001R001A001.skeleton"
    write_skeleton(skeleton, [[moving_body(t)] for t in range(FRAMES)])
    entry = bench_pose_model(tiny_folder, samples=tmp_path / "none", skeleton=skeleton, repeats=2)
    replay = entry["skeleton_replay"]
    # the tiny model: a 1 s window of 32 frames, a prediction every 6 grid steps (5 a second of source)
    assert replay["window_frames"] == 32 and replay["window_seconds"] == 1.0
    assert replay["windows_per_replay"] == 8  # windows ending at 1.0 s, then every 0.1875 s up to 2.5 s
    assert replay["clip_seconds"] == pytest.approx(FRAMES / 30) and replay["repeats"] == 2
    assert replay["realtime_factor"] > 0 and replay["cpu_realtime_factor"] >= 0
    assert replay["interval_ms"] == pytest.approx(200.0)
    assert replay["share_of_interval"] == pytest.approx(replay["window_ms"]["p50"] / 200.0)
    for key in ("onnx_ms", "window_ms"):
        assert 0 < replay[key]["p50"] <= replay[key]["p95"]
    assert replay["onnx_ms"]["p50"] <= replay["window_ms"]["p50"]  # the window's classification holds the run
    for alone in (replay["onnx_alone"], replay["onnx_alone_1_thread"]):
        assert alone["runs"] == 30
        assert all(0 < alone[k]["p50"] <= alone[k]["p95"] for k in ("wall_ms", "cpu_ms"))
    assert "skipped" in entry["webcam_640x480"] and "not in" in entry["webcam_640x480"]["skipped"]
    assert set(entry["load_average"]) == {"start", "end"}
    text = format_pose_model(entry)
    assert "skeleton replay real-time factor" in text and "640x480 webcam replay skipped (" in text


def test_without_the_model_or_the_skeleton_the_entry_says_why(tiny_folder: Path, tmp_path: Path) -> None:
    missing = bench_pose_model(tmp_path / "no-model", samples=tmp_path)
    assert "not in" in missing["skipped"] and format_pose_model(missing).startswith("Pose model: skipped (")
    entry = bench_pose_model(tiny_folder, samples=tmp_path)
    assert f"{SKELETON_CLIP} is not in" in entry["skeleton_replay"]["skipped"]


def test_the_webcam_video_is_640x480_frames_of_the_middle_of_the_image(tmp_path: Path) -> None:
    image = np.zeros((1080, 1920, 3), np.uint8)
    image[:, 240:1680] = 200  # the middle 4:3
    path = write_webcam_video([image] * 3, tmp_path / "webcam.avi")
    capture = cv2.VideoCapture(str(path))
    frames = []
    while (read := capture.read())[0]:
        frames.append(read[1])
    capture.release()
    assert len(frames) == 3 and frames[0].shape == (480, 640, 3)
    assert frames[0].min() > 150  # the black sides were cut off, not scaled in
