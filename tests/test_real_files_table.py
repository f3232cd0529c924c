"""scripts/real_files_table.py: its live windows are `run --headless`'s, its whole clip the authors' input of
the file, and its table counts clips by the majority of their windows (ties: the earliest) and a file
shorter than a window by its one partial window."""

from __future__ import annotations

import importlib.util
from pathlib import Path
from types import ModuleType

import numpy as np
import pytest

from sta_hands.app.headless import run_headless
from sta_hands.app.model_choice import bundled_folder
from sta_hands.app.pose_model import PoseModel
from sta_hands.app.recognizer import Prediction
from sta_hands.contract.pose_clip import clip_joints
from sta_hands.recordings.ntu.skeleton import read_skeleton
from sta_hands.recordings.sources import open_reader

REPO = Path(__file__).resolve().parents[1]
NTU120 = "shiftgcn-ntu120-xsub"


def load_script() -> ModuleType:
    spec = importlib.util.spec_from_file_location(
        "real_files_table", REPO / "scripts" / "real_files_table.py"
    )
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def table() -> ModuleType:
    return load_script()


def test_a_files_windows_are_run_headless_ones_and_its_whole_clip_the_authors(
    table: ModuleType, ntu_samples: Path
) -> None:
    path = ntu_samples / "S001C001P001R001A050.skeleton"  # two people (punching), no video beside it
    if not bundled_folder(NTU120).is_dir():
        pytest.skip("the bundled pose models are not in this checkout")
    models = {name: PoseModel(bundled_folder(name), provider="cpu") for name in table.MODELS}
    rows = table.live_rows(path, "kinect", models)
    assert set(rows) == set(table.MODELS)  # A050 is an NTU-60 action: both models
    model = models[NTU120]
    found: list[Prediction] = []
    with open_reader(path, pose="kinect") as source:
        run_headless(source, model, found.append)
    row = rows[NTU120]
    assert row["windows"] == [int(np.argmax(p.probabilities)) for p in found] and len(found) >= 2
    assert row["window_ends"] == [int(p.frame_indices[-1]) for p in found]
    whole = model.run(clip_joints(read_skeleton(path).frames)[None])["logits"][0]
    assert row["whole"] == int(np.argmax(whole)) and row["truth"] == 49
    assert row["default_model"] == NTU120 and not row["partial"]


def row(file: str, truth: int, windows: list[int], whole: int, partial: bool = False) -> dict:
    return {
        "file": file,
        "bodies": "kinect",
        "truth": truth,
        "windows": windows,
        "whole": whole,
        "partial": partial,
    }


def test_the_table_counts_majorities_ties_and_partial_windows(table: ModuleType) -> None:
    assert (
        table.majority([4, 2, 4, 2, 7]) == 4
    )  # a tie: the earliest window's class (not the latest, not the lowest)
    assert table.majority([]) == -1
    rows = {
        f"{NTU120}@v:kinect:S018C001P008R001A061.skeleton": row(
            "S018C001P008R001A061.skeleton", 60, [3, 60, 60], 60
        ),
        f"{NTU120}@v:kinect:S018C001P008R001A062.skeleton": row(
            "S018C001P008R001A062.skeleton", 61, [5, 61], 5
        ),
        f"{NTU120}@v:kinect:S018C001P008R001A063.skeleton": row(
            "S018C001P008R001A063.skeleton", 62, [62], 62, partial=True
        ),
        f"{NTU120}@v:kinect:S018C001P008R001A064.skeleton": row(
            "S018C001P008R001A064.skeleton", 63, [-1], 63, partial=True
        ),
    }
    names = {name: tuple(f"class {i}" for i in range(120)) for name in table.MODELS}
    lines, misses = table.summary(rows, names)
    assert lines[2] == (f"| {NTU120} | NTU-120 skeletons (A061-A120) | 2/4 (50%) | 3/4 | 4/7 (57%) | 1/2 |")
    assert (
        "S018C001P008R001A062 'class 61' -> 'class 5' (1/2 windows right, whole clip 'class 5')" in misses[0]
    )
    assert "S018C001P008R001A064 'class 63' -> no class (0/1 windows right, whole clip right)" in misses[0]
    assert "R001A061 " not in misses[0] and "R001A063 " not in misses[0]  # right by majority
