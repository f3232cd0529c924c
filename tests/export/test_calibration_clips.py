"""`export --int8 --calibration DATA` lists DATA's clips as `features` and `train` do (issue 23): NTU's
download layout (skeletons and videos in sibling folders) is found, and an own recording (its .jsonl,
.skeleton and _rgb.avi) is one clip, not two."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

pytest.importorskip("torch", reason="the export needs the train extra")

from sta_hands.contract.frame import HAND_LEFT, HAND_RIGHT, NUM_JOINTS, TRACKED, Body, Frame
from sta_hands.export.quantize import calibration_crops
from sta_hands.models.config import BACKBONE_SPECS
from sta_hands.recordings.own.recording import RecordingWriter

NAME = "S001C001P001R001A001"  # the real clip with both files
SPEC = BACKBONE_SPECS["efficientnet_lite0"]


def test_calibration_reads_ntus_download_layout(ntu_samples: Path, tmp_path: Path) -> None:
    (tmp_path / "nturgb+d_skeletons").mkdir()
    (tmp_path / "nturgb+d_rgb").mkdir()
    (tmp_path / "nturgb+d_skeletons" / f"{NAME}.skeleton").symlink_to(ntu_samples / f"{NAME}.skeleton")
    (tmp_path / "nturgb+d_rgb" / f"{NAME}_rgb.avi").symlink_to(ntu_samples / f"{NAME}_rgb.avi")
    crops = calibration_crops(tmp_path, SPEC, count=1000)
    alone = calibration_crops(ntu_samples / f"{NAME}.skeleton", SPEC, count=1000)  # the clip itself
    assert len(crops) > 0
    np.testing.assert_array_equal(crops, alone)


def test_calibration_takes_each_own_recording_once(tmp_path: Path) -> None:
    rng = np.random.default_rng(0)
    color = np.full((NUM_JOINTS, 2), 60.0)
    color[HAND_LEFT], color[HAND_RIGHT] = (30.0, 40.0), (90.0, 50.0)
    body = Body(5, np.zeros((NUM_JOINTS, 3)), color, np.full(NUM_JOINTS, TRACKED))
    (tmp_path / "data").mkdir()
    with RecordingWriter(tmp_path / "data" / NAME, fps=30.0) as writer:  # an NTU name: its label
        for index in range(24):
            image = rng.integers(0, 256, (96, 128, 3), dtype=np.uint8)
            writer.write(Frame(index, index / 30.0, image, (body,)))
    files = sorted(p.name for p in (tmp_path / "data").iterdir())
    assert files == [f"{NAME}.jsonl", f"{NAME}.skeleton", f"{NAME}_rgb.avi"]
    crops = calibration_crops(tmp_path / "data", SPEC, count=1000)
    alone = calibration_crops(tmp_path / "data" / f"{NAME}.jsonl", SPEC, count=1000)
    assert len(alone) == 40  # 20 frames, two hands each
    np.testing.assert_array_equal(crops, alone)
