from __future__ import annotations

import json
import shutil

import pytest

from sta_hands.commands.cli import main
from sta_hands.contract.errors import RecordingError
from sta_hands.recordings.info import describe, format_info


def test_info_on_the_real_drink_water_clip(ntu_samples) -> None:
    info = describe(ntu_samples / "S001C001P001R001A001.skeleton")
    assert (info["name"], info["action"], info["class_name"]) == ("S001C001P001R001A001", 1, "drink water")
    assert info["frames"] == 103
    assert info["bodies_per_frame"] == [1] * 103
    assert info["video"] == {"frames": 103, "width": 1920, "height": 1080, "fps": 30.0}
    assert info["aligned"] and info["problems"] == []
    assert "drink water (A001)" in format_info(info)


def test_info_json_from_the_command_line(ntu_samples, capsys) -> None:
    assert main(["info", str(ntu_samples / "S001C001P001R001A050.skeleton"), "--json"]) == 0
    info = json.loads(capsys.readouterr().out)
    assert {"name", "action", "class_name", "frames", "bodies_per_frame", "video"} <= set(info)
    assert info["action"] == 50 and info["frames"] == 74
    assert set(info["bodies_per_frame"]) == {2}
    assert info["video"] is None


def test_info_reports_a_video_shorter_than_its_skeleton(ntu_samples, tmp_path) -> None:
    shutil.copy(ntu_samples / "S001C001P001R001A001.skeleton", tmp_path / "S001C001P001R001A001.skeleton")
    shutil.copy(ntu_samples / "S004C002P003R002A046_rgb.avi", tmp_path / "S001C001P001R001A001_rgb.avi")
    info = describe(tmp_path / "S001C001P001R001A001_rgb.avi")
    assert info["frames"] == 67 and not info["aligned"]
    assert any("103 frames and the video 67" in problem for problem in info["problems"])


def test_info_on_a_folder_is_one_clear_error(tmp_path) -> None:
    with pytest.raises(RecordingError, match="a folder"):
        describe(tmp_path)


def test_info_command_error_is_one_line_and_nonzero(tmp_path, capsys) -> None:
    bad = tmp_path / "S001C001P001R001A001.skeleton"
    bad.write_text("2\n1\n72057594037931101 0 1 1 1 1 0 0.1 0.2 2\n25\n1 2 3\n")
    assert main(["info", str(bad)]) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1
    assert f"{bad}:line 2: frame 1 declares 1 body" in err
