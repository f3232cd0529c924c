"""Teaching on real NTU skeletons (issue 21 part 7): a head on the frozen bundled Shift-GCN against today's
teach pose stream (Deep GRU from the demo), leave-one-performer-out, skeletons only (no video: the pose
stream alone in both, as the app runs them on a skeleton file).

    python scripts/teach_gcn_real.py [--samples ../shared/samples] [--json FILE]

- NTU-120 (A061-A120, `ntu-more/`): the 60 actions by P008 and by P045 (setup S018). Taught on one
  performer's 60 clips (one example per action), tested on the other's, both ways. Both performers are in
  the training half of the GCN's cross-subject split: its frozen features have seen these very clips
  (optimistic; on unseen performers the GCN's own whole-clip figure is 82%, docs/pretrained-pose.md).
- NTU-60 (`ntu/`, `ntu-more/`): each action with two or more skeletons is held out one clip at a time,
  taught on every other NTU-60 skeleton (one or more per action).
- Per test clip: the majority of its live windows (each model's own window and rate) and the share of
  windows right; the frozen GCN's own classifier (its NTU logits on the taught actions) beside them.

Nothing here is a test: run it and read the figures (docs/teach.md quotes them).
"""

from __future__ import annotations

import argparse
import json
import re
import tempfile
from collections import Counter
from pathlib import Path

import numpy as np

from sta_hands.app.pose_model import PoseModel, joints_input
from sta_hands.app.runtime import OnnxModel, default_model_folder
from sta_hands.models.data import ClipRef
from sta_hands.recordings.ntu.clip import parse_sample_name
from sta_hands.teach.base import base_config, base_weights_for
from sta_hands.teach.example_set import Example, ExampleSet
from sta_hands.teach.features import example_features
from sta_hands.teach.gcn import bundled_gcn, example_pose, example_windows, fit_head, gcn_windows
from sta_hands.teach.train import TeachSettings, config_for, teach_model, validation_windows, window_of

NAME = re.compile(r"S(\d{3})C(\d{3})P(\d{3})R(\d{3})A(\d{3})\.skeleton$")


def examples_of(files: list[Path], class_names: tuple[str, ...] | None = None) -> ExampleSet:
    """NTU skeletons as teach's examples, labelled by their NTU-120 names (built here: teach's folder
    reader refuses an action name with a '/', which a few NTU names have)."""
    actions = [parse_sample_name(path.stem).class_name for path in files]
    names = class_names or tuple(sorted(set(actions), key=str.casefold))
    examples = tuple(
        Example(ClipRef(path.stem, path.with_suffix(""), "ntu", names.index(action), parse_sample_name(
            path.stem)), action, path)
        for path, action in zip(files, actions, strict=True)
    )  # fmt: skip
    return ExampleSet(files[0].parent, examples, names, frozenset())


def score(windows_right: list[list[bool]]) -> dict[str, float | int]:
    clips = sum(Counter(w).most_common(1)[0][0] for w in windows_right if w)
    flat = [r for w in windows_right for r in w]
    return {"clips_right": int(clips), "clips": len(windows_right), "windows_right": int(sum(flat)),
            "windows": len(flat)}  # fmt: skip


def gcn_fold(train: ExampleSet, test: ExampleSet, gcn: PoseModel) -> dict[str, dict]:
    """The taught head and the GCN's own classifier on the test clips' GCN windows."""
    features, labels = [], []
    for example in train.examples:
        found = example_windows(gcn, example_pose(example), mirrored=False)
        features.append(found)
        labels += [example.clip.label] * len(found)
    head = fit_head(np.concatenate(features), np.array(labels), len(train.class_names))
    own = [gcn.info.class_names.index(name) for name in train.class_names]
    taught, frozen = [], []
    for example in test.examples:
        label = train.class_names.index(example.action)
        pose = example_pose(example)
        pooled = example_windows(gcn, pose, mirrored=False)
        taught.append([int(np.argmax(row)) == label for row in head.logits(pooled)])
        windows = gcn_windows(pose.timestamps, gcn.info)
        logits = [gcn.run(joints_input(pose.pose[w]))["logits"][0, own] for w in windows]
        frozen.append([int(np.argmax(row)) == label for row in logits])
    return {"gcn_head": score(taught), "gcn_own_classifier": score(frozen)}


def deep_gru_fold(train: ExampleSet, test: ExampleSet, cache: Path) -> dict[str, dict]:
    """Today's teach (Deep GRU from the demo's weights, taught with the RGB stream) on the test clips'
    live windows, its pose stream alone (no video)."""
    import torch

    base = OnnxModel(default_model_folder(), provider="cpu", threads=1)
    data = example_features(train.examples, base, cache, frozenset())
    config = base_config(base)
    outcome = teach_model(
        data, config_for(config, len(train.class_names)), TeachSettings(), base=base_weights_for(base, config)
    )
    model = outcome.model.eval()
    rights = []
    for item in example_features(test.examples, base, cache, frozenset()):
        label = train.class_names.index(item.example.action)
        right = []
        for frames in validation_windows(item, outcome.window_seconds, config.window, most=1000):
            arrays = window_of(item, frames, False)
            with torch.no_grad():
                out = model(*(torch.from_numpy(np.ascontiguousarray(a))[None] for a in arrays))
            right.append(int(out.pose_logits[0].argmax()) == label)
        rights.append(right)
    return {"deep_gru": score(rights), "deep_gru_window_seconds": round(outcome.window_seconds, 2)}


def folds(samples: Path) -> list[tuple[str, list[Path], list[Path]]]:
    ntu120 = sorted(
        p for p in (samples / "ntu-more").glob("S018*.skeleton") if int(NAME.search(p.name)[5]) > 60
    )
    by = {perf: [p for p in ntu120 if f"P{perf}" in p.name] for perf in ("008", "045")}
    out = [("NTU-120 taught on P008, tested on P045", by["008"], by["045"]),
           ("NTU-120 taught on P045, tested on P008", by["045"], by["008"])]  # fmt: skip
    ntu60 = sorted(
        p for folder in ("ntu", "ntu-more") for p in (samples / folder).glob("*.skeleton")
        if int(NAME.search(p.name)[5]) <= 60
    )  # fmt: skip
    actions = Counter(NAME.search(p.name)[5] for p in ntu60)
    for path in ntu60:
        if actions[NAME.search(path.name)[5]] >= 2:
            out.append((f"NTU-60 held out {path.stem}", [p for p in ntu60 if p != path], [path]))
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--samples", default=str(Path(__file__).resolve().parents[2] / "shared" / "samples"))
    parser.add_argument("--json", help="write the figures here")
    parser.add_argument("--no-deep-gru", action="store_true", help="the GCN alone (faster)")
    args = parser.parse_args(argv)
    folder = bundled_gcn()
    if folder is None:
        raise SystemExit("the bundled Shift-GCN is missing")
    gcn = PoseModel(folder, provider="cpu")
    results = {}
    with tempfile.TemporaryDirectory() as work:  # the feature cache of today's teach
        for name, train_files, test_files in folds(Path(args.samples)):
            train = examples_of(train_files)
            test = examples_of(test_files, train.class_names)
            figures = gcn_fold(train, test, gcn)
            if not args.no_deep_gru:
                figures |= deep_gru_fold(train, test, Path(work) / "cache")
            results[name] = {"train_clips": len(train_files), "actions": len(train.class_names), **figures}
            print(name, json.dumps(results[name]), flush=True)
    if args.json:
        Path(args.json).write_text(json.dumps(results, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
