"""`bench --json`'s pose_estimation entry on a few real NTU frames (skipped, with the reason, without the
estimator or the samples)."""

from __future__ import annotations

from pathlib import Path

import pytest

from sta_hands.app.runtime import default_model_folder
from sta_hands.export.bench.pose_estimation import bench_pose_estimation, format_pose, webcam_sized


def test_the_pose_entry_measures_one_and_two_people_and_both_replays(ntu_samples: Path) -> None:
    entry = bench_pose_estimation(default_model_folder(), ntu_samples, frames=6)
    if "skipped" in entry:
        pytest.skip(entry["skipped"])
    assert entry["one_person"]["people_found_median"] == 1 and entry["two_people"]["people_found_median"] == 2
    assert entry["one_person_640x480"]["image_size"] == [640, 480]
    for key in ("one_person", "two_people"):
        assert 0 < entry[key]["ms_median"] <= entry[key]["ms_p95"]
    replays = [entry["end_to_end_640x480"], entry["end_to_end_1920x1080"], *entry["every_frame"].values()]
    for replay in replays:
        assert replay["frames"] == 6 and replay["realtime_factor"] > 0
        assert replay["realtime_factor"] == pytest.approx(replay["seconds"] / (6 / replay["video_fps"]))
    assert "real-time factor" in format_pose(entry)


def test_without_samples_the_entry_says_why(tmp_path: Path) -> None:
    entry = bench_pose_estimation(default_model_folder(), tmp_path, frames=2)
    assert "skipped" in entry and ("not in" in entry["skipped"] or "estimator" in entry["skipped"])
    assert format_pose(entry).startswith("Pose estimation: skipped (")


def test_a_webcam_sized_frame_is_the_middle_four_thirds() -> None:
    import numpy as np

    image = np.zeros((1080, 1920, 3), np.uint8)
    image[:, 240:1680] = 200  # the middle 1440 columns: 4:3 of 1080 rows
    small = webcam_sized(image)
    assert small.shape == (480, 640, 3) and small.min() == 200
