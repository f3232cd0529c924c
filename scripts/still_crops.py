"""How far a still hand's crop may change before its features must be recomputed (issue 14).

Replays clips through the app's lossless streaming recognizer (`sta-hands run CLIP --headless`,
`app.headless.run_headless`) once per threshold of `app.hand_glimpses.StillCrops`, 0 (every crop
computed) first, and reports per threshold:

- the share of crops that reused an earlier crop's features (the glimpse CNN work saved);
- against threshold 0, window by window: how often the fused and the RGB stream's top class stay the
  same, and the largest change of any class probability (fused);
- on labelled synthetic clips, the streaming accuracy (fused, RGB) as `evaluate --streaming` scores it.

Each distinct crop goes through the CNN once for all thresholds (a memo on the crop's bytes), so the
figures are exactly what each threshold computes, in a fraction of the time.

    python scripts/still_crops.py --model models/demo --data DEMO_WORK/data --split cs \\
        --ntu ../shared/samples/ntu --json still.json
"""

from __future__ import annotations

import argparse
import hashlib
import json
from pathlib import Path
from typing import Any

import numpy as np
from tqdm import tqdm

from sta_hands.app.headless import run_headless
from sta_hands.app.recognizer import Prediction
from sta_hands.app.runtime import OnnxModel
from sta_hands.models.data import find_dataset, open_clip
from sta_hands.recordings.sources import open_reader

THRESHOLDS = (0.0, 1.0, 2.0, 3.0, 4.0, 6.0, 8.0)
NTU_CLIPS = (  # real NTU RGB+D samples: the recorded skeleton, or bodies estimated from the video
    "S001C001P001R001A001.skeleton",
    "S004C002P003R001A055_rgb.avi",
    "S004C003P003R001A006_rgb.avi",
    "S004C002P003R002A046_rgb.avi",
)


class MemoModel:
    """An `OnnxModel` whose per-crop values are memoised by the preprocessed crop's bytes."""

    def __init__(self, model: OnnxModel) -> None:
        self._model = model
        self._memo: dict[bytes, np.ndarray] = {}

    def __getattr__(self, name: str) -> Any:
        return getattr(self._model, name)

    def head_features(self, batch: np.ndarray) -> np.ndarray:
        keys = [hashlib.blake2b(row.tobytes(), digest_size=16).digest() for row in batch]
        todo = [i for i, key in enumerate(keys) if key not in self._memo]
        if todo:
            for i, value in zip(todo, self._model.head_features(batch[todo]), strict=True):
                self._memo[keys[i]] = value
        return np.stack([self._memo[key] for key in keys])


def replay(model: MemoModel, open_source, threshold: float) -> list[Prediction]:
    predictions: list[Prediction] = []
    summary = run_headless(open_source(), model, predictions.append, still_threshold=threshold)  # type: ignore[arg-type]
    if summary.error is not None:
        raise RuntimeError(summary.error)
    return [p for p in predictions if p.classified]  # full windows, and a short clip's one partial window


def compare(runs: dict[float, list[list[Prediction]]], labels: list[int | None]) -> list[dict[str, Any]]:
    """One row per threshold: work saved, agreement with threshold 0, accuracy where labelled."""
    reference = runs[0.0]
    rows = []
    for threshold, clips in runs.items():
        computed = sum(p.timings.crops_computed for clip in clips for p in clip)
        reused = sum(p.timings.crops_reused for clip in clips for p in clip)
        same_fused = same_rgb = windows = 0
        largest = 0.0
        right = {"fused": 0, "rgb": 0}
        labelled = 0
        for clip, base, label in zip(clips, reference, labels, strict=True):
            assert [p.frame_indices[-1] for p in clip] == [p.frame_indices[-1] for p in base]
            for p, q in zip(clip, base, strict=True):
                windows += 1
                same_fused += int(np.argmax(p.probabilities) == np.argmax(q.probabilities))
                same_rgb += int(np.argmax(p.rgb_probabilities) == np.argmax(q.rgb_probabilities))
                largest = max(largest, float(np.abs(p.probabilities - q.probabilities).max()))
                if label is not None:
                    labelled += 1
                    right["fused"] += int(np.argmax(p.probabilities) == label)
                    right["rgb"] += int(np.argmax(p.rgb_probabilities) == label)
        rows.append(
            {
                "threshold": threshold,
                "crops_computed": computed,
                "crops_reused": reused,
                "reused_share": reused / max(1, computed + reused),
                "windows": windows,
                "same_top_fused": same_fused / max(1, windows),
                "same_top_rgb": same_rgb / max(1, windows),
                "largest_probability_change": largest,
                "accuracy": {k: v / labelled for k, v in right.items()} if labelled else None,
            }
        )
    return rows


def measure(model: MemoModel, sources: list[tuple[str, Any, int | None]], thresholds, desc: str):
    runs: dict[float, list[list[Prediction]]] = {}
    for threshold in thresholds:
        runs[threshold] = [
            replay(model, opener, threshold) for _, opener, _ in tqdm(sources, desc=f"{desc} {threshold:g}")
        ]
    return compare(runs, [label for _, _, label in sources])


def format_rows(title: str, rows: list[dict[str, Any]]) -> str:
    lines = [
        f"\n{title}",
        "| threshold | crops reused | same top class (fused / RGB) | largest prob. change"
        " | accuracy fused / RGB |",
        "| --- | --- | --- | --- | --- |",
    ]
    for row in rows:
        accuracy = row["accuracy"]
        acc = "-" if accuracy is None else f"{accuracy['fused']:.3f} / {accuracy['rgb']:.3f}"
        lines.append(
            f"| {row['threshold']:g} | {row['reused_share']:.1%}"
            f" of {row['crops_computed'] + row['crops_reused']}"
            f" | {row['same_top_fused']:.3f} / {row['same_top_rgb']:.3f} of {row['windows']}"
            f" | {row['largest_probability_change']:.3f} | {acc} |"
        )
    return "\n".join(lines)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--model", default="models/demo")
    parser.add_argument("--data", help="a synthetic data set (labelled); its test side is replayed")
    parser.add_argument("--split", default="cs")
    parser.add_argument("--limit", type=int, help="at most this many synthetic test clips")
    parser.add_argument("--ntu", help="the real NTU samples folder (../shared/samples/ntu)")
    parser.add_argument("--thresholds", type=float, nargs="+", default=list(THRESHOLDS))
    parser.add_argument("--json", help="write the rows here")
    args = parser.parse_args()
    thresholds = [0.0, *[t for t in args.thresholds if t > 0]]
    model = MemoModel(OnnxModel(args.model))
    report: dict[str, Any] = {"model": args.model, "thresholds": thresholds}
    if args.data:
        dataset = find_dataset(args.data)
        clips = dataset.split(args.split, "test")[: args.limit]
        sources = [(clip.name, lambda clip=clip: open_clip(clip), clip.label) for clip in clips]
        report["synthetic"] = measure(model, sources, thresholds, "synthetic")
        title = f"synthetic {args.split} test clips ({len(clips)}), {args.model}"
        print(format_rows(title, report["synthetic"]))
    if args.ntu:
        sources = [
            (name, lambda path=Path(args.ntu) / name: open_reader(str(path)), None)
            for name in NTU_CLIPS
            if (Path(args.ntu) / name).exists()
        ]
        report["ntu"] = measure(model, sources, thresholds, "ntu")
        print(format_rows(f"real NTU samples ({len(sources)}), {args.model}", report["ntu"]))
    if args.json:
        Path(args.json).write_text(json.dumps(report, indent=1) + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
