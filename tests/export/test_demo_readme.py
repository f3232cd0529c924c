"""README's demo figures are written from an evaluation report, and make_demo --check finds a README that
prints other figures."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from sta_hands.export.demo_readme import readme_figures, readme_problems
from sta_hands.models.evaluate import build_report, outcome_from_views
from sta_hands.models.faithfulness import hand_removal_drops
from tests.models.test_faithfulness import _windows, reads_hand_zero


def _report() -> dict:
    spatial = np.array([[[0.7, 0.3, 0, 0], [0.1, 0.6, 0, 0.3]]])  # frame 1: two acting hands
    active = np.array([[[1, 0, 0, 0], [0, 1, 0, 1]]])
    mask = np.ones((1, 2, 4), np.float32)
    pose = np.zeros((1, 2, 150), np.float32)
    views = {"logits": np.zeros((1, 2)), "spatial_attention": spatial, "active_hands": active}
    drops = hand_removal_drops(reads_hand_zero, *_windows())
    outcome = outcome_from_views("clip", 1, {**views, "hand_mask": mask, "pose": pose}, drops)
    return build_report([outcome], ["squat", "handshake"])


def test_readme_prints_the_reports_figures_and_the_check_sees_a_drift(tmp_path: Path) -> None:
    report = _report()
    text = readme_figures(report)
    assert "| handshake (one or two acting hands) | 2 | 1.000 |" in text
    assert "| **frames with two or more acting hands** | 1 | 1.000 |" in text
    assert "squat" not in text  # no acting hand, no row
    assert "in 0.500 of the windows" in text
    readme = tmp_path / "README.md"
    readme.write_text(f"# the demo\n\n{text}\n")
    assert readme_problems(report, readme) == []
    readme.write_text(f"# the demo\n\n{text.replace('| 1.000 |', '| 0.990 |', 1)}\n")
    problems = readme_problems(report, readme)
    assert len(problems) == 1 and "handshake" in problems[0]
