"""`features` / `train --mirror`: a dataset's clips open with their images flipped as the option says
(NTU-named videos are Kinect frames, so "auto" leaves them; "yes" flips a user's own unmirrored videos
named so)."""

from __future__ import annotations

from pathlib import Path

import sta_hands.recordings.sources
from sta_hands.models.data import find_dataset, open_clip
from sta_hands.recordings.mirror import is_mirrored
from tests.app.conftest import gui_frame
from tests.recordings.fake_camera import FakeEstimator, write_video


def test_the_datasets_clips_follow_mirror(tmp_path: Path, monkeypatch) -> None:
    frames = [gui_frame(i, 4, (64, 48)) for i in range(4)]
    write_video(tmp_path / "S001C001P001R001A023_rgb.avi", frames)
    bodies = [f.bodies for f in frames]
    monkeypatch.setattr(sta_hands.recordings.sources, "bundled_estimator", lambda: FakeEstimator(bodies))
    for mirror, flipped in (("auto", False), ("yes", True), ("no", False)):
        (clip,) = find_dataset(tmp_path, pose="auto", mirror=mirror).clips
        with open_clip(clip) as reader:
            assert is_mirrored(reader) is flipped, mirror
            assert len(next(iter(reader.frames())).bodies) == 2  # estimated either way
