"""The Teach panel's choice of pose stream (issue 21 part 7): a head on the frozen bundled Shift-GCN by
default, Deep GRU when unticked, passed to the `teach` command as --pose-stream."""

from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace

import pytest

pytest.importorskip("PyQt5")

from sta_hands.app.model_choice import REAL_SOURCE_MODEL, bundled_folder
from sta_hands.teach.gui.process import teach_arguments
from sta_hands.teach.gui.training import TrainingBox


def test_teach_arguments_carry_the_pose_stream() -> None:
    assert teach_arguments("ex", "out", pose_stream="deep-gru")[-2:] == ["--pose-stream", "deep-gru"]
    assert "--pose-stream" not in teach_arguments("ex", "out")


@pytest.mark.skipif(not bundled_folder(REAL_SOURCE_MODEL).is_dir(), reason="no bundled Shift-GCN")
def test_the_training_box_asks_for_the_gcn_unless_unticked(qtbot, tmp_path: Path, monkeypatch) -> None:
    box = TrainingBox()
    qtbot.addWidget(box)
    started: list[list[str]] = []
    monkeypatch.setattr(box.process, "start", started.append)
    examples = SimpleNamespace(folder=tmp_path / "examples", readiness=lambda: [])
    assert box.pretrained_pose.isChecked() and not box.pretrained_pose.isHidden()
    box.train(examples, tmp_path / "models")
    box.pretrained_pose.setChecked(False)
    box.train(examples, tmp_path / "models")
    assert [arguments[arguments.index("--pose-stream") + 1] for arguments in started] == [
        "shift-gcn",
        "deep-gru",
    ]
