"""Accuracy of the bundled pose models (models/shiftgcn-*) on the real NTU skeletons, whole clip and
against the live window's length, and their speed per prediction: docs/pretrained-pose.md.

    nice -n 10 python scripts/pose_model_windows.py [--samples ../shared/samples] [--json out.json]

- Files: every `.skeleton` under SAMPLES/ntu*/. NTU-60 actions (A001-A060) are measured with both models
  (the NTU-120 model knows them too); A061-A120 with the NTU-120 model.
- Whole clip: the authors' input (the two most moving bodies, filled by repetition to 300 frames).
- Windows: the same two bodies; windows of W seconds at 30 fps (or resampled to fewer frames), ending
  every `STEP` frames from the first full window to the clip's end (a clip shorter than a window is one
  window); each window filled by repetition to its own length ("window") or, on A001-A060 only, to 300
  frames ("300"), as `contract.pose_clip` does. Per window: top-1; per clip: the most frequent window
  prediction (ties: the earliest) against the truth.
- Live: the 2 s window as the live app meets a clip, every STEP frames from its start: the frames
  before the clip are zeros or hold its first frame, or the frames seen so far are filled by repetition
  (`live_windows`).
- Speed: ONNX Runtime on the CPU, one prediction (batch 1) per run, `--threads` threads (2): wall and
  process CPU milliseconds, median of `RUNS` after a warm-up.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections import Counter
from pathlib import Path

import numpy as np
import onnxruntime as ort

REPO = Path(__file__).resolve().parents[1]

from sta_hands.contract.pose_clip import CLIP_FRAMES, arrange, frame_joints, most_moving  # noqa: E402
from sta_hands.contract.pose_model_contract import POSE_MODEL_FILE, POSE_MODEL_INPUT  # noqa: E402
from sta_hands.recordings.ntu.names import parse_sample_name  # noqa: E402
from sta_hands.recordings.ntu.skeleton import read_skeleton  # noqa: E402

MODELS = {
    "ntu120": REPO / "models" / "shiftgcn-ntu120-xsub",
    "ntu60": REPO / "models" / "shiftgcn-ntu60-xsub",
}
FPS = 30
STEP = 15  # frames between window ends (0.5 s)
# (seconds, frames fed): frames < seconds * FPS resamples the window evenly
WINDOWS = ((1.5, 45), (2.0, 60), (3.0, 90), (4.0, 120), (4.0, 60))
FILLED_TO_CLIP = ((2.0, 60),)  # also measured filled to 300 frames
LIVE = (2.0, 60)  # also measured as the live app meets a clip: from its first frames on
LIVE_MODES = ("zeros", "hold", "filled")
RUNS = 20


def session(folder: Path, threads: int = 2) -> ort.InferenceSession:
    options = ort.SessionOptions()
    options.intra_op_num_threads = threads
    options.log_severity_level = 3
    return ort.InferenceSession(str(folder / POSE_MODEL_FILE), options, providers=["CPUExecutionProvider"])


def predict(model: ort.InferenceSession, batch: np.ndarray) -> np.ndarray:
    return model.run(["logits"], {POSE_MODEL_INPUT: batch})[0].argmax(axis=1)


def windows(people: np.ndarray, seconds: float, frames: int, fill: int) -> np.ndarray:
    """N x 3 x max(fill, frames) x 25 x 2: the clip's windows (module docstring)."""
    span = round(seconds * FPS)
    total = people.shape[1]
    ends = list(range(span, total + 1, STEP)) if total >= span else [total]
    batch = []
    for end in ends:
        clip = people[:, max(0, end - span) : end]
        picks = np.linspace(0, clip.shape[1] - 1, frames).round().astype(int) if frames < span else None
        batch.append(arrange(clip if picks is None else clip[:, picks], fill or frames))
    return np.stack(batch)


def live_windows(people: np.ndarray, frames: int, mode: str) -> np.ndarray:
    """The windows of `frames` frames ending every STEP frames from the clip's STEP-th frame, as a live
    source meets it. Before the clip's first frame the window holds zeros ("zeros") or that first frame
    ("hold"), or the frames seen so far are filled by repetition ("filled")."""
    batch = []
    for end in range(STEP, people.shape[1] + 1, STEP):
        clip = people[:, max(0, end - frames) : end]
        if mode == "filled":
            batch.append(arrange(clip, frames))
            continue
        padded = np.zeros((len(clip), frames, *clip.shape[2:]), np.float32)
        padded[:, frames - clip.shape[1] :] = clip
        if mode == "hold":
            padded[:, : frames - clip.shape[1]] = clip[:, :1]
        batch.append(np.ascontiguousarray(padded.transpose(3, 1, 2, 0)))
    return np.stack(batch)


def majority(predictions: np.ndarray) -> int:
    counts = Counter(predictions.tolist())
    best = max(counts.values())
    return next(p for p in predictions.tolist() if counts[p] == best)


def measure(samples: Path, live_only: bool = False) -> dict:
    files = sorted(samples.glob("ntu*/*.skeleton"))
    models = {name: session(folder) for name, folder in MODELS.items()}
    rows: dict[str, dict] = {}
    for path in files:
        sample = parse_sample_name(path)
        joints = frame_joints(read_skeleton(path).frames)
        people = joints[most_moving(joints)]
        truth = sample.action_index
        names = ["ntu120", "ntu60"] if sample.action <= 60 else ["ntu120"]
        for name in names:
            model = models[name]
            row = {"truth": truth, "whole": int(predict(model, arrange(people, CLIP_FRAMES)[None])[0])}
            variants = [] if live_only else [(s, f, 0) for s, f in WINDOWS]
            if (
                sample.action <= 60 and not live_only
            ):  # filled to 300 frames costs 5 times as much: the NTU-60 set only
                variants += [(s, f, CLIP_FRAMES) for s, f in FILLED_TO_CLIP]
            for seconds, frames, fill in variants:
                got = predict(model, windows(people, seconds, frames, fill))
                row[f"{seconds}s/{frames}/{fill or 'window'}"] = got.tolist()
            for mode in LIVE_MODES:
                got = predict(model, live_windows(people, LIVE[1], mode))
                row[f"live {LIVE[0]}s/{LIVE[1]}/{mode}"] = got.tolist()
            rows[f"{name}:{path.stem}"] = row
        print(path.stem, {n: rows[f"{n}:{path.stem}"]["whole"] == truth for n in names}, flush=True)
    return rows


def summary(rows: dict) -> dict:
    """Per model and file set: whole-clip, per-window and per-clip-majority accuracy of each variant."""
    out: dict[str, dict] = {}
    for key, row in rows.items():
        name, stem = key.split(":")
        group = f"{name} on {'A001-A060' if parse_sample_name(stem).action <= 60 else 'A061-A120'}"
        entry = out.setdefault(group, {"clips": 0, "whole": 0})
        entry["clips"] += 1
        entry["whole"] += int(row["whole"] == row["truth"])
        for variant, predictions in row.items():
            if variant in ("truth", "whole"):
                continue
            got = np.array(predictions)
            stats = entry.setdefault(variant, {"windows": 0, "windows_right": 0, "clips_right": 0})
            stats["windows"] += len(got)
            stats["windows_right"] += int((got == row["truth"]).sum())
            stats["clips_right"] += int(majority(got) == row["truth"])
    return out


def table(groups: dict) -> str:
    """The summary as a markdown table: per group and variant, clips right by majority and windows right."""
    lines = [
        "| model, files | input | clips right (majority of windows) | windows right |",
        "| --- | --- | --- | --- |",
    ]
    for group, entry in groups.items():
        clips = entry["clips"]
        lines.append(f"| {group} | whole clip (300 frames) | {entry['whole']}/{clips} | |")
        for variant, stats in entry.items():
            if isinstance(stats, dict):
                share = stats["windows_right"] / stats["windows"]
                lines.append(
                    f"| {group} | {variant} | {stats['clips_right']}/{clips} "
                    f"| {stats['windows_right']}/{stats['windows']} ({100 * share:.0f}%) |"
                )
    return "\n".join(lines)


def speed(threads: int) -> dict:
    """Milliseconds per prediction (batch 1) of each window length, wall and CPU, median of RUNS."""
    model = session(MODELS["ntu120"], threads)
    rng = np.random.default_rng(0)
    out = {}
    for frames in sorted({f for _, f in WINDOWS} | {CLIP_FRAMES}):
        joints = rng.normal(0.0, 0.3, (1, 3, frames, 25, 2)).astype(np.float32)
        joints[:, 2] += 3.0
        model.run(None, {POSE_MODEL_INPUT: joints})
        wall, cpu = [], []
        for _ in range(RUNS):
            c0, t0 = time.process_time(), time.perf_counter()
            model.run(None, {POSE_MODEL_INPUT: joints})
            wall.append(time.perf_counter() - t0)
            cpu.append(time.process_time() - c0)
        out[frames] = {
            "wall_ms_p50": 1000 * float(np.median(wall)),
            "cpu_ms_p50": 1000 * float(np.median(cpu)),
        }
        print(frames, out[frames], flush=True)
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--samples", type=Path, default=REPO.parent / "shared" / "samples")
    parser.add_argument("--json", type=Path, help="write the per-clip predictions and the summary here")
    parser.add_argument("--speed-only", action="store_true")
    parser.add_argument("--live-only", action="store_true", help="whole clips and the live windows only")
    parser.add_argument("--threads", type=int, default=2, help="ONNX Runtime's threads for the speed figures")
    parser.add_argument("--table", type=Path, help="only print the table of a --json file written before")
    args = parser.parse_args(argv)
    if args.table:
        print(table(json.loads(args.table.read_text(encoding="utf-8"))["summary"]))
        return 0
    result: dict = {"speed": speed(args.threads)}
    if not args.speed_only:
        result["rows"] = measure(args.samples, args.live_only)
        result["summary"] = summary(result["rows"])
        print(table(result["summary"]))
    if args.json:
        args.json.write_text(json.dumps(result, indent=1), encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
