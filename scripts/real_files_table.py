"""Accuracy of the bundled pose models on every real NTU file, through the app's own live path:
docs/pretrained-pose.md, "Accuracy on real people, through the app".

    nice -n 10 python scripts/real_files_table.py [--samples ../shared/samples] [--cache FILE] [--json FILE]

- Files: every `.skeleton` under SAMPLES/ntu*/ (the Kinect's bodies, `--pose kinect`) and every
  `*_rgb.avi` whose name carries an action code (bodies estimated from the image, `--pose estimate`).
  Truth: the action code in the name. NTU-60 actions (A001-A060) with both bundled models, A061-A120
  with the NTU-120 model. The source's default model (`app.model_choice.default_model_folder_for`) is
  recorded too: for every real file it is the NTU-120 model.
- Live windows: each file replayed as `sta-hands run FILE --headless` replays it (`app.replay.replay`,
  `app.recognizer.StreamRecognizer`, lossless, the images some window samples decoded, still-crop
  threshold of a file), one replay feeding both models. Counted: the full windows ("ok": 2 s of
  source); a file shorter than one window has its single "partial" window instead (the recognizer's
  flush), counted as that file's only window. A window with no one in view names no class: wrong.
- Per clip: the most frequent class over its windows (ties: the earliest window's) against the truth;
  per window: the share right.
- Whole clip: the same replay's bodies (Kinect or estimated) arranged as the authors do
  (`contract.pose_clip.clip_joints`: the two most moving bodies, filled by repetition to 300 frames)
  through the same ONNX file (`PoseModel.run`).
- Kinect against estimated bodies on the pair with both (S001C001P001R001A001): per window end, the
  class of each.

Estimating bodies on the 1080p videos is slow: each file's predictions are kept in `--cache` (JSON, by
file, bodies and model version), so a second run only computes what is missing.
"""

from __future__ import annotations

import argparse
import json
import time
from collections import Counter
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]

from sta_hands.app.hand_glimpses import still_threshold_for  # noqa: E402
from sta_hands.app.model_choice import bundled_folder, default_model_folder_for  # noqa: E402
from sta_hands.app.pose_model import PoseModel  # noqa: E402
from sta_hands.app.recognizer import StreamRecognizer  # noqa: E402
from sta_hands.app.replay import replay  # noqa: E402
from sta_hands.contract.inputs import window_grid_frames  # noqa: E402
from sta_hands.contract.pose_clip import clip_joints  # noqa: E402
from sta_hands.recordings.ntu.names import parse_sample_name  # noqa: E402
from sta_hands.recordings.sources import open_reader  # noqa: E402

MODELS = ("shiftgcn-ntu120-xsub", "shiftgcn-ntu60-xsub")
NTU60_ACTIONS = 60
PAIR = "S001C001P001R001A001"  # the one clip with both a Kinect skeleton and its video
TRAINING_HALF_NOTE = (
    "P008 and P045 are in the NTU-120 cross-subject *training* half: optimistic; on an unseen performer "
    "the whole-clip figure was 98 of 120 (82%, issue 21)"
)


def real_files(samples: Path) -> list[tuple[Path, str]]:
    """(file, bodies) for every real file of known action: skeletons with "kinect", videos with "estimate"."""
    found = [(path, "kinect") for path in sorted(samples.glob("ntu*/*.skeleton"))]
    for path in sorted(samples.glob("ntu*/*_rgb.avi")):
        found.append((path, "estimate"))
    return found


def models_for(action: int) -> tuple[str, ...]:
    return MODELS if action <= NTU60_ACTIONS else MODELS[:1]


def live_rows(path: Path, pose: str, models: dict[str, PoseModel]) -> dict[str, dict]:
    """One replay of `path` through a recognizer per model: each model's row (module doc)."""
    sample = parse_sample_name(path)
    chosen = {name: models[name] for name in models_for(sample.action)}
    recognizers = {
        name: StreamRecognizer(model, lossless=True, still_threshold=still_threshold_for(live=False))
        for name, model in chosen.items()
    }
    found: dict[str, list] = {name: [] for name in chosen}
    bodies = []
    started = time.perf_counter()
    with open_reader(path, pose=pose) as source:
        default = default_model_folder_for(source).name
        images = None
        if source.timestamps is not None:  # decode only the images some window samples, as `run` does
            flags = [
                window_grid_frames(source.timestamps, m.info.window_seconds, m.info.window_length)
                for m in chosen.values()
            ]
            images = np.logical_or.reduce(flags)
        for frame, _ in replay(source, None, 0, images):
            bodies.append(frame.bodies)
            for name, recognizer in recognizers.items():
                found[name].extend(recognizer.feed([frame]))
    for name, recognizer in recognizers.items():
        found[name].extend(recognizer.flush())
    seconds = time.perf_counter() - started
    rows = {}
    for name, model in chosen.items():
        whole = model.run(clip_joints(bodies)[None])["logits"][0]
        predictions = found[name]
        rows[name] = {
            "file": path.name,
            "bodies": pose,
            "default_model": default,
            "truth": sample.action - 1,
            "whole": int(np.argmax(whole)),
            "windows": [int(np.argmax(p.probabilities)) if p.classified else -1 for p in predictions],
            "window_ends": [int(p.frame_indices[-1]) for p in predictions],
            "partial": any(p.status == "partial" for p in predictions),
            "frames": len(bodies),
            "replay_s": seconds,
        }
    return rows


def majority(windows: list[int]) -> int:
    """The most frequent class of the windows, ties to the earliest window's; -1 without windows."""
    counts = Counter(windows)
    return next((c for c in windows if counts[c] == max(counts.values())), -1)


def measure(samples: Path, cache: Path | None, skip_videos: bool) -> dict[str, dict]:
    """Every file's row per model, from `cache` where it holds them (keyed by file, bodies, model version)."""
    rows: dict[str, dict] = json.loads(cache.read_text(encoding="utf-8")) if cache and cache.is_file() else {}
    models = {name: PoseModel(bundled_folder(name), provider="cpu") for name in MODELS}
    versions = {name: model.info.model_version for name, model in models.items()}
    for path, pose in real_files(samples):
        if skip_videos and pose == "estimate":
            continue
        keys = {
            name: f"{name}@{versions[name]}:{pose}:{path.name}"
            for name in models_for(parse_sample_name(path).action)
        }
        if all(key in rows for key in keys.values()):
            continue
        for name, row in live_rows(path, pose, models).items():
            rows[keys[name]] = row
        print(path.name, pose, {n: rows[k]["whole"] == rows[k]["truth"] for n, k in keys.items()}, flush=True)
        if cache:
            cache.write_text(json.dumps(rows, indent=0), encoding="utf-8")
    return rows


def group_of(key: str, row: dict) -> str:
    model = key.split("@")[0]
    action = row["truth"] + 1
    files = (
        "videos, estimated bodies"
        if row["bodies"] == "estimate"
        else "NTU-60 skeletons (A001-A060)"
        if action <= NTU60_ACTIONS
        else "NTU-120 skeletons (A061-A120)"
    )
    return f"{model} | {files}"


def summary(rows: dict[str, dict], names: dict[str, tuple[str, ...]]) -> tuple[list[str], list[str]]:
    """The table's lines (per model and file set) and the misses by majority, per group."""
    groups: dict[str, list[tuple[str, dict]]] = {}
    for key, row in sorted(rows.items()):
        groups.setdefault(group_of(key, row), []).append((key, row))
    table = [
        "| model | files | clips right, majority of live windows | whole clip | windows right | "
        "files shorter than a window: right by their one partial window |",
        "| --- | --- | --- | --- | --- | --- |",
    ]
    misses = []
    for group, members in sorted(groups.items()):
        clips = len(members)
        by_majority = sum(majority(row["windows"]) == row["truth"] for _, row in members)
        whole = sum(row["whole"] == row["truth"] for _, row in members)
        windows = sum(len(row["windows"]) for _, row in members)
        right = sum(sum(c == row["truth"] for c in row["windows"]) for _, row in members)
        short = [row for _, row in members if row["partial"]]
        short_right = sum(row["windows"] == [row["truth"]] for row in short)
        table.append(
            f"| {group} | {by_majority}/{clips} ({by_majority / clips:.0%}) | {whole}/{clips} "
            f"| {right}/{windows} ({right / max(1, windows):.0%}) | {short_right}/{len(short)} |"
        )
        classes = names[group.split(" | ")[0]]
        wrong = [miss(row, classes) for _, row in members if majority(row["windows"]) != row["truth"]]
        misses.append(f"- {group}: " + ("; ".join(wrong) if wrong else "none"))
    return table, misses


def miss(row: dict, classes: tuple[str, ...]) -> str:
    """One clip wrong by majority: its truth, what the windows said, its windows right, its whole clip."""
    said = majority(row["windows"])
    right = sum(c == row["truth"] for c in row["windows"])
    whole = "right" if row["whole"] == row["truth"] else repr(classes[row["whole"]])
    return (
        f"{row['file'].split('.')[0].removesuffix('_rgb')} {classes[row['truth']]!r} -> "
        f"{repr(classes[said]) if said >= 0 else 'no class'} ({right}/{len(row['windows'])} windows right, "
        f"whole clip {whole})"
    )


def pair_lines(rows: dict[str, dict], names: dict[str, tuple[str, ...]]) -> list[str]:
    """Kinect against estimated bodies on the pair, per model: each window's class under each."""
    lines = []
    for model in MODELS:
        kinect = next(
            (
                r
                for k, r in rows.items()
                if k.startswith(f"{model}@") and k.endswith(f":kinect:{PAIR}.skeleton")
            ),
            None,
        )
        estimated = next(
            (
                r
                for k, r in rows.items()
                if k.startswith(f"{model}@") and k.endswith(f":estimate:{PAIR}_rgb.avi")
            ),
            None,
        )
        if kinect is None or estimated is None:
            continue
        by_end = dict(zip(estimated["window_ends"], estimated["windows"], strict=True))
        same = [
            (c, by_end[e])
            for e, c in zip(kinect["window_ends"], kinect["windows"], strict=True)
            if e in by_end
        ]
        truth = kinect["truth"]
        classes = names[model]
        lines.append(
            f"- {model}: {len(same)} windows at the same ends; the same class in "
            f"{sum(a == b for a, b in same)}; right with Kinect bodies {sum(a == truth for a, _ in same)}, "
            f"with estimated bodies {sum(b == truth for _, b in same)}; majority "
            f"{classes[majority(kinect['windows'])]!r} / {classes[majority(estimated['windows'])]!r}; "
            f"whole clip {classes[kinect['whole']]!r} / {classes[estimated['whole']]!r}"
        )
    return lines


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--samples", type=Path, default=REPO.parent / "shared" / "samples")
    parser.add_argument("--cache", type=Path, help="JSON of per-file rows: read, completed, written back")
    parser.add_argument("--json", type=Path, help="also write the rows here")
    parser.add_argument("--skip-videos", action="store_true", help="skeletons only (no estimation)")
    args = parser.parse_args(argv)
    rows = measure(args.samples, args.cache, args.skip_videos)
    names = {name: PoseModel(bundled_folder(name), provider="cpu").info.class_names for name in MODELS}
    table, misses = summary(rows, names)
    defaults = Counter(row["default_model"] for row in rows.values())
    print("\n".join(table))
    print(f"\nNTU-120 skeletons: {TRAINING_HALF_NOTE}.")
    print("\nMisses by majority of live windows:\n" + "\n".join(misses))
    print("\nKinect against estimated bodies, " + PAIR + ":\n" + "\n".join(pair_lines(rows, names)))
    print(f"\nThe default model of these sources (with no --model): {dict(defaults)} (rows)")
    if args.json:
        args.json.write_text(json.dumps(rows, indent=1), encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
