"""Evaluation reports of a checkpoint (cached features) and of an exported folder (the app's recognizer),
and the recognizer's live predictions equal to offline ONNX evaluation of the same windows."""

from __future__ import annotations

import functools
import json
from pathlib import Path

import cv2
import numpy as np
import pytest

from sta_hands.app.recognizer import StreamRecognizer
from sta_hands.app.runtime import OnnxModel
from sta_hands.export.evaluate_onnx import classify_frames, evaluate_exported
from sta_hands.models import checkpoint
from sta_hands.models.attention_score import GROUPS
from sta_hands.models.data import clip_hand_frames, find_dataset, read_frames
from sta_hands.models.evaluate import (
    build_report,
    confusion_image,
    evaluate_checkpoint,
    outcome_from_views,
    summary_text,
    write_report,
)
from sta_hands.models.train import TrainSettings, combine_streams, train_stream
from sta_hands.recordings.synthetic import SYNTHETIC_CLASSES, ClipSpec, write_clip
from tests.models.test_data import _temporary, tiny_backbone, tiny_cache, tiny_dataset
from tests.models.test_train import TINY

REPORT_KEYS = {"clips", "accuracy", "per_class", "attention_score", "confusion", "class_names", "predictions"}


@functools.cache
def tiny_two_stream() -> Path:
    """A two-stream checkpoint trained for one epoch per stream on the tiny cache."""
    folder = _temporary("sta-hands-run-")
    dataset = find_dataset(tiny_dataset())
    settings = TrainSettings(epochs=1, batch_size=8, learning_rate=1e-2)
    pose = train_stream(
        "pose", dataset, tiny_cache(), folder / "pose", config=TINY, settings=settings, progress=False
    )
    rgb = train_stream(
        "rgb", dataset, tiny_cache(), folder / "rgb", config=TINY, settings=settings, progress=False
    )
    return combine_streams(pose.best, rgb.best, folder / "two_stream.safetensors")


@functools.cache
def tiny_export() -> Path:
    """The tiny two-stream model exported with the backbone that made the tiny cache."""
    from sta_hands.export.onnx import ExportMetadata, export_model

    folder = _temporary("sta-hands-export-")
    model, _, metadata = checkpoint.load(tiny_two_stream())
    backbone, _ = tiny_backbone()
    info = ExportMetadata(
        tuple(metadata["class_names"]), metadata["window_seconds"], metadata["trained_on"], "test"
    )
    export_model(model, backbone, info, folder)
    return folder


def _check_schema(report: dict, clips: int) -> None:
    assert set(report) >= REPORT_KEYS
    assert report["clips"] == clips and set(report["accuracy"]) == {"fused", "pose", "rgb"}
    assert all(0.0 <= report["accuracy"][s] <= 1.0 for s in ("fused", "pose", "rgb"))
    assert set(report["per_class"]) == set(SYNTHETIC_CLASSES)
    assert sum(entry["clips"] for entry in report["per_class"].values()) == clips
    assert 0.0 <= report["attention_score"] <= 1.0 and report["attention_frames"] > 0
    rules = report["attention_baselines"]  # on the same frames as the score
    assert set(rules) == {"uniform", "fastest_hand", "same_slot"}
    assert all(0.0 <= value <= 1.0 for value in rules.values())
    assert rules["same_slot"] >= 0.25 and report["attention_same_slot"].endswith("of person 1")
    assert "fastest hand" in summary_text(report)
    groups = report["attention"]  # every frame with an acting hand: per class, by acting hands
    assert groups["all"]["frames"] == report["attention_frames"]
    assert sum(groups[g]["frames"] for g in GROUPS[1:] if groups[g]) == report["attention_frames"]
    per_class = [groups["per_class"][name]["all"] for name in SYNTHETIC_CLASSES]
    assert sum(entry["frames"] for entry in per_class if entry) == report["attention_frames"]
    faithful = report["faithfulness"]  # removing the most- and the least-attended hand, per window
    assert faithful["removed"] == "hands" and faithful["stream"] == "rgb" and faithful["windows"] > 0
    assert 0.0 <= faithful["attended_drop_larger"] <= 1.0
    assert all(-1.0 <= faithful[k] <= 1.0 for k in ("mean_drop_attended", "mean_drop_least_attended"))
    assert np.array(report["confusion"]).sum() == clips
    json.dumps(report)  # JSON-able as it is


def test_a_checkpoint_report_has_every_stream_per_class_and_the_attention_score(tmp_path: Path) -> None:
    dataset = find_dataset(tiny_dataset())
    report = evaluate_checkpoint(tiny_two_stream(), dataset, tiny_cache(), split="cs")
    _check_schema(report, len(dataset.split("cs", "test")))
    write_report(report, tmp_path / "out", tmp_path / "report.json")
    assert json.loads((tmp_path / "report.json").read_text())["clips"] == report["clips"]
    image = cv2.imread(str(tmp_path / "out" / "confusion.png"))
    assert image is not None and image.shape[0] > 100


def test_a_single_stream_checkpoint_reports_only_its_stream(tmp_path: Path) -> None:
    dataset = find_dataset(tiny_dataset())
    settings = TrainSettings(epochs=1, batch_size=8)
    pose = train_stream(
        "pose", dataset, tiny_cache(), tmp_path, config=TINY, settings=settings, progress=False
    )
    report = evaluate_checkpoint(pose.best, dataset, tiny_cache(), split="cs")
    assert report["accuracy"]["rgb"] is None and report["accuracy"]["pose"] == report["accuracy"]["fused"]
    assert report["attention_score"] is None and report["attention_baselines"] is None
    assert report["attention"] is None and report["faithfulness"] is None


def test_an_exported_folder_is_evaluated_through_the_app_and_agrees_with_its_checkpoint() -> None:
    dataset = find_dataset(tiny_dataset())
    exported = evaluate_exported(tiny_export(), dataset, split="cs", progress=False)
    offline = evaluate_checkpoint(tiny_two_stream(), dataset, tiny_cache(), split="cs")
    _check_schema(exported, len(dataset.split("cs", "test")))
    assert exported["model_kind"] == "exported" and exported["provider"] == "CPUExecutionProvider"
    # Same windows, same bodies on synthetic clips, features from the same CNN (float32 here, float16 in
    # the cache): the same predictions but for a near tie.
    same = [a == b for a, b in zip(exported["predictions"], offline["predictions"], strict=True)]
    assert sum(same) >= len(same) - 1
    # (The attention scores are not compared: one epoch leaves the spatial attention all but uniform, so
    # its argmax is decided by rounding.)
    # The rules need no model: on the same frames, the same poses and hands, the same baselines.
    assert exported["attention_frames"] == offline["attention_frames"]
    assert exported["attention_baselines"] == pytest.approx(offline["attention_baselines"], abs=1e-9)
    assert exported["attention_same_slot"] == offline["attention_same_slot"]
    # Faithfulness counts the windows with a step of two present hands: the same windows either way.
    assert exported["faithfulness"]["windows"] == offline["faithfulness"]["windows"]


def test_evaluate_streaming_scores_every_full_live_window_beside_the_segment_figures(
    tmp_path: Path, capsys
) -> None:
    from sta_hands.commands.cli import main

    data, exported, offline = tiny_dataset(), tmp_path / "exported.json", tmp_path / "checkpoint.json"
    test_clips = len(find_dataset(data).split("cs", "test"))
    command = f"evaluate --model {tiny_export()} --data {data} --split cs --streaming --json {exported}"
    assert main(command.split()) == 0
    assert "streaming fused" in capsys.readouterr().out
    command = (
        f"evaluate --model {tiny_two_stream()} --data {data} --features {tiny_cache()} --split cs "
        f"--streaming --json {offline}"
    )
    assert main(command.split()) == 0
    reports = [json.loads(path.read_text()) for path in (exported, offline)]
    for report in reports:
        _check_schema(report, test_clips)  # the segment figures, beside
        live = report["streaming"]
        assert set(live["accuracy"]) == {"fused", "pose", "rgb"}
        assert all(0.0 <= value <= 1.0 for value in live["accuracy"].values())
        # 12-frame clips and window_seconds the median first-to-last span (11 frames): one full window each
        assert live["window_seconds"] == pytest.approx(11 / 30)
        assert live["windows"] == live["clips"] == test_clips and live["short_clips"] == 0
        assert live["pose_only_windows"] == 0
    # The app's replay and the checkpoint on the cache see the same windows: the same scores but for a tie.
    fused = [report["streaming"]["accuracy"]["fused"] for report in reports]
    assert abs(fused[0] - fused[1]) <= 1 / test_clips + 1e-9


def test_the_live_recognizer_equals_offline_onnx_evaluation_of_the_same_windows() -> None:
    folder = _temporary("sta-hands-clip-")
    spec = ClipSpec(
        index=99, seed=3, class_index=SYNTHETIC_CLASSES.index("give object"), performer=3, frames=40
    )
    stem = write_clip(spec, folder)
    clip = next(c for c in find_dataset(folder).clips if c.stem == stem)
    model = OnnxModel(tiny_export())
    recognizer = StreamRecognizer(model, lossless=True)
    predictions = recognizer.feed(list(read_frames(clip)))
    assert len(predictions) >= 3
    frames = clip_hand_frames(clip, range(40))
    for live in predictions:
        offline = classify_frames(model, frames, live.frame_indices)
        np.testing.assert_allclose(live.logits, offline.logits, rtol=0, atol=1e-4)
        np.testing.assert_allclose(live.spatial_attention, offline.spatial_attention, rtol=0, atol=1e-4)


def _views(spatial: np.ndarray, active: np.ndarray, mask: np.ndarray, pose: np.ndarray) -> dict:
    """One window's views of a clip, as a model's outputs and the clip's inputs give them."""
    return {
        "logits": np.zeros((1, 3)),
        "spatial_attention": spatial[None],
        "active_hands": active[None],
        "hand_mask": mask[None],
        "pose": pose[None],
    }


def test_the_attention_score_counts_every_frame_with_an_acting_hand() -> None:
    # Frame 3 has two acting hands (a handshake): the attention on either is a hit. The former score
    # counted only frames with exactly one acting hand: 1 of 2.
    spatial = np.array([[0.7, 0.3, 0, 0], [0.2, 0.8, 0, 0], [0.5, 0.5, 0, 0], [0.1, 0.6, 0, 0.3]])
    active = np.array([[1, 0, 0, 0], [1, 0, 0, 0], [0, 0, 0, 0], [0, 1, 0, 1]])
    mask = np.array([[1, 1, 0, 0], [1, 1, 0, 0], [1, 1, 0, 0], [1, 1, 1, 1]], dtype=np.float32)
    pose = _pose_with_hands(np.zeros((4, 4, 3), np.float32))
    report = build_report(
        [outcome_from_views("clip", 1, _views(spatial, active, mask, pose))], ["a", "b", "c"]
    )
    assert report["attention_frames"] == 3 and report["attention_score"] == pytest.approx(2 / 3)
    groups = report["attention"]
    assert groups["one_acting_hand"]["frames"] == 2 and groups["one_acting_hand"]["score"] == 0.5
    assert (
        groups["two_or_more_acting_hands"]["frames"] == 1 and groups["two_or_more_acting_hands"]["score"] == 1
    )
    assert groups["per_class"]["b"]["all"]["score"] == pytest.approx(2 / 3)
    assert groups["per_class"]["a"] == {group: None for group in GROUPS}  # no clip, no frame


def test_an_attention_on_an_absent_hand_is_no_hit() -> None:
    spatial = np.array([[0.0, 0.0, 0.0, 0.0]])  # no hand present: nothing was looked at
    active, mask = np.array([[1, 0, 0, 0]]), np.zeros((1, 4), np.float32)
    pose = _pose_with_hands(np.zeros((1, 4, 3), np.float32))
    report = build_report([outcome_from_views("clip", 0, _views(spatial, active, mask, pose))], ["a"])
    assert report["attention_frames"] == 1 and report["attention_score"] == 0.0
    assert report["attention_baselines"] == {"uniform": 0.0, "fastest_hand": 0.0, "same_slot": 0.0}


def _pose_with_hands(hands: np.ndarray) -> np.ndarray:
    """T x 150 raw poses whose four hand joints are at `hands` (T x 4 x 3); every other joint at 1 m."""
    from sta_hands.contract.inputs import HAND_SLOTS

    joints = np.ones((len(hands), 2, 25, 3), dtype=np.float32)
    for h, (body, joint) in enumerate(HAND_SLOTS):
        joints[:, body, joint] = hands[:, h]
    return joints.reshape(len(hands), 150)


def test_the_attention_rules_are_scored_on_the_attention_scores_frames() -> None:
    # Four frames; hands 0 and 1 of person 1 present, person 2 only in frames 0-1.
    hands = np.zeros((4, 4, 3), dtype=np.float32)
    hands[:, 0, 0] = [0.0, 0.5, 0.6, 0.7]  # hand 0 moves 0.5, then 0.1, then 0.1
    hands[:, 1, 0] = [0.0, 0.1, 0.4, 0.8]  # hand 1 moves 0.1, then 0.3, then 0.4
    hands[:, 2, 0] = [0.0, 0.9, 0.0, 0.0]  # hand 2 moves 0.9 (frame 1), then its body leaves
    hands[:, 3, 0] = [0.5, 0.5, 0.0, 0.0]
    pose = _pose_with_hands(hands)
    pose[2:, 75:] = 0.0  # person 2 absent in frames 2 and 3
    mask = np.array([[1, 1, 1, 1], [1, 1, 1, 1], [1, 1, 0, 0], [1, 1, 0, 0]], dtype=np.float32)
    active = np.array([[1, 0, 0, 0], [0, 1, 0, 0], [0, 1, 0, 0], [1, 1, 0, 0]])  # frame 3: two act
    spatial = np.tile([0.1, 0.6, 0.2, 0.1], (4, 1))  # the model: always hand 1
    # Frame 0 takes frame 1's moves (hand 2 fastest: miss), frame 1: hand 2 fastest (miss), frame 2:
    # hand 1 fastest (hit; hand 2's body left, so it is neither present nor moving), frame 3: hand 1
    # (hit: one of the two acting). The same slot: hand 1 acts on 3 frames, hand 0 on 2.
    report = build_report([outcome_from_views("clip", 0, _views(spatial, active, mask, pose))], ["a", "b"])
    assert report["attention_score"] == pytest.approx(3 / 4) and report["attention_frames"] == 4
    assert report["attention_baselines"] == pytest.approx(
        {"uniform": (1 / 4 + 1 / 4 + 1 / 2 + 1) / 4, "fastest_hand": 2 / 4, "same_slot": 3 / 4}
    )
    one = report["attention"]["one_acting_hand"]
    assert one["frames"] == 3 and one["score"] == pytest.approx(2 / 3)
    assert one["rules"] == pytest.approx(
        {"uniform": (1 / 4 + 1 / 4 + 1 / 2) / 3, "fastest_hand": 1 / 3, "same_slot": 2 / 3}
    )
    two = report["attention"]["two_or_more_acting_hands"]
    assert two == {
        "frames": 1,
        "score": 1.0,
        "rules": {"uniform": 1.0, "fastest_hand": 1.0, "same_slot": 1.0},
    }
    assert report["attention"]["per_class"]["a"]["all"] == report["attention"]["all"]
    assert report["attention_same_slot"] == "right hand of person 1"
    assert "attention score 0.750 (4 frames with an acting hand; on the same frames: uniform 0.500, " in (
        summary_text(report)
    )


def test_reports_need_clips_and_draw_any_number_of_classes() -> None:
    with pytest.raises(ValueError, match="no clips"):
        build_report([], SYNTHETIC_CLASSES)
    names = [f"class {i}" for i in range(60)]
    image = confusion_image(np.eye(60, dtype=np.int64), names, "sixty")
    assert image.dtype == np.uint8 and image.shape[2] == 3


def test_the_ablation_trains_its_variants_and_lays_out_the_papers_tables(tmp_path: Path) -> None:
    from sta_hands.models.ablate import run_ablation
    from sta_hands.models.paper_tables import TABLE2, TABLE3

    variants = (("sum", "mean"), ("concat", "mean"), ("pose", "motion"), ("pose", "hidden_motion"))
    table = run_ablation(
        tiny_dataset(),
        tiny_cache(),
        tmp_path,
        epochs=1,
        config=TINY,
        train={"batch_size": 8},
        variants=variants,
    )
    rows = [line for line in table.splitlines() if line.startswith("| ") and "---" not in line]
    # three headers; tables 2 and 3 in full plus our variant the paper lacks; table 1's three models and
    # the plugin's "ours only" row, unmeasured without a plugin folder's report
    assert len(rows) == 3 + len(TABLE2) + 1 + len(TABLE3) + 1 + 3 + 1
    assert sum("(ours only) | not measured here |" in row for row in rows) == 1
    assert "n/a" not in table and sum("| paper only |" in row for row in rows) == 6 + 6
    assert "| STA-Hands | - | x | x |" in table and "73.5 | 80.2 | 76.9 |" in table
    assert "| pose / hidden_motion (ours only) |" in table
    assert (tmp_path / "table.md").read_text() == table
    summary = json.loads((tmp_path / "ablation.json").read_text())
    rgb = {f"rgb-{s}-{t}" for s, t in variants}
    two = {f"two-{s}-{t}" for s, t in variants if s != "concat"}  # table 3 has no Concat row
    assert set(summary) == rgb | two | {"pose"}
