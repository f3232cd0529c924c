"""`sta-hands features --pose`: a folder of videos without skeletons becomes a dataset whose bodies are
estimated (a fake estimator here), with the body-scaled hand crops; `kinect` (the default) skips them."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

import sta_hands.recordings.sources
from sta_hands.models.data import DataError, clip_inputs, find_dataset
from tests.app.conftest import gui_frame
from tests.recordings.fake_camera import FakeEstimator, write_video

COUNT = 20


def test_videos_without_skeletons_are_trained_on_with_estimated_bodies(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    frames = [gui_frame(i, COUNT, (320, 180)) for i in range(COUNT)]
    write_video(tmp_path / "S001C001P001R001A023_rgb.avi", frames)
    with pytest.raises(DataError, match="no clips found"):
        find_dataset(tmp_path)  # kinect: a video alone has no bodies, so no clip
    monkeypatch.setattr(
        sta_hands.recordings.sources, "bundled_estimator", lambda: FakeEstimator([f.bodies for f in frames])
    )
    dataset = find_dataset(tmp_path, pose="auto")
    (clip,) = dataset.clips
    assert clip.label == 22 and clip.pose == "auto" and not dataset.video_only
    inputs = clip_inputs(clip)
    assert inputs.pose.shape == (COUNT, 150) and np.abs(inputs.pose[:, 75:]).sum() > 0  # both people
    assert inputs.hand_mask.all() and inputs.crops is not None
    assert inputs.body_ids == (1, 2)
