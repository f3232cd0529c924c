"""The benchmark of `sta-hands teach` (issue 13's targets):
`python -m sta_hands.commands.teach_bench [--work DIR]`.

1. Synthetic examples (`recordings.synthetic`, seed `SEED`, camera 1, `SECONDS` s each) of `ACTIONS`:
   "drink from cup" and "answer phone" share one motion and differ in the object in the hand (the RGB
   stream and its attention must tell them apart); "wave right hand" moves differently. Performers
   1-5 give the examples; performers 6 to 5 + `TEST_PERFORMERS` give the test clips (other people);
   half of them again from cameras 2 and 3 (the scene turned 45 degrees either way: other views).
2. Time from the examples to a loaded model: `sta-hands teach` as a subprocess (the user's command,
   Python's start and imports included) with an empty feature cache, then `OnnxModel` opening the
   result. Target: 60 s on 2 cores. The command's own CPU seconds and the load average are printed
   beside it: on a shared machine the wall time says little without them.
3. Accuracy on the other performers' clips, with 5 and with 3 examples per action (targets 0.90 and
   0.80), both with and without the base model's weights (`TeachSettings.use_base_weights`): per clip
   (the paper's 5 segment windows, `sta-hands evaluate`) and per live window (the app's replay).
4. The attention score (`models.evaluate`: the share of sampled frames with one acting hand where
   that hand has the highest spatial attention) of the taught model against the bundled one, on the
   same test clips and frames.

Nothing here is a test: run it and read the figures (docs/teach.md quotes them).
"""

from __future__ import annotations

import json
import os
import resource
import subprocess
import sys
import time
from dataclasses import replace
from pathlib import Path
from typing import Any

SEED = 13
SECONDS = 3.0
ACTIONS = ("drink from cup", "answer phone", "wave right hand")
TRAIN_PERFORMERS = 5
TEST_PERFORMERS = 8


def make_examples(work: Path) -> tuple[Path, Path, Path, Path]:
    """(5-per-action folder, 3-per-action folder, test folder, other-views test folder) under `work`,
    made once."""
    from sta_hands.recordings.synthetic import FPS, SYNTHETIC_CLASSES, ClipSpec, generate_dataset

    classes = [SYNTHETIC_CLASSES.index(name) for name in ACTIONS]
    frames = round(SECONDS * FPS)
    folders = {
        "five": work / "examples-5", "three": work / "examples-3", "test": work / "test",
        "views": work / "test-other-views",
    }  # fmt: skip
    test = range(TRAIN_PERFORMERS + 1, TRAIN_PERFORMERS + 1 + TEST_PERFORMERS)
    plans = {  # performers, cameras
        "five": (range(1, TRAIN_PERFORMERS + 1), (1,)),
        "three": (range(1, 4), (1,)),
        "test": (test, (1,)),
        "views": (test[: TEST_PERFORMERS // 2], (2, 3)),  # the scene turned 45 degrees either way
    }
    for key, folder in folders.items():
        if folder.is_dir():
            continue
        performers, cameras = plans[key]
        specs = [
            ClipSpec(
                index=100 * p + 10 * k + c, seed=SEED, class_index=c, camera=k, performer=p, frames=frames
            )
            for p in performers
            for k in cameras
            for c in classes
        ]
        generate_dataset(folder, specs, SEED, workers=2, progress=False)
    return folders["five"], folders["three"], folders["test"], folders["views"]


def timed_cli(examples: Path, out: Path, cache: Path, pose_stream: str | None = None) -> dict[str, Any]:
    """`sta-hands teach` from a cold cache, then the model opened: seconds, and the load around it."""
    from sta_hands.app.model_choice import open_model

    load_before = os.getloadavg()[0]
    children = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.perf_counter()
    command = [sys.executable, "-m", "sta_hands.commands", "teach", str(examples), "--out", str(out)]
    command += ["--cache", str(cache)]
    command += ["--pose-stream", pose_stream] if pose_stream else []
    subprocess.run(command, check=True, stdout=subprocess.DEVNULL)
    open_model(out)  # of the kind teach wrote (a plugin model: the GCN too)
    seconds = time.perf_counter() - started
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime + after.ru_stime) - (children.ru_utime + children.ru_stime)
    return {
        "seconds": seconds,
        "cpu_seconds": cpu,  # the command's own CPU time: what it needs of a machine, whatever the load
        "load_before": load_before,
        "load_after": os.getloadavg()[0],
    }


def taught_report(model: Path, test: Path) -> dict[str, Any]:
    """The exported model on the test clips, labelled in its own class order: per clip and per window."""
    from sta_hands.export.evaluate_onnx import evaluate_exported
    from sta_hands.models.data import Dataset
    from sta_hands.teach.example_set import find_examples

    found = find_examples(test)
    dataset = Dataset(test, tuple(e.clip for e in found.examples), found.class_names)
    return evaluate_exported(model, dataset, streaming=True, progress=False)


def bundled_report(test: Path) -> dict[str, Any]:
    """The bundled model on the same clips (its own 11 classes): for its attention score."""
    from sta_hands.app.runtime import default_model_folder
    from sta_hands.export.evaluate_onnx import evaluate_exported
    from sta_hands.models.data import find_dataset

    return evaluate_exported(default_model_folder(), find_dataset(test), progress=False)


def figures(report: dict[str, Any]) -> dict[str, Any]:
    return {
        "clip accuracy (fused, pose, rgb)": [report["accuracy"][s] for s in ("fused", "pose", "rgb")],
        "window accuracy (fused)": report.get("streaming", {}).get("accuracy", {}).get("fused"),
        "attention score": report["attention_score"],
        "attention frames": report["attention_frames"],
        "fastest-hand baseline": (report.get("attention_baselines") or {}).get("fastest_hand"),
    }


def run_teach_bench(work: Path, pose_stream: str | None) -> dict[str, Any]:
    """Every figure of the benchmark, with its examples, models and caches in `work`, printed as they
    come; `pose_stream`: teach's (None: teach's default)."""
    from sta_hands.teach.teaching import teach
    from sta_hands.teach.train import TeachSettings

    five, three, test, views = make_examples(work)
    results: dict[str, Any] = {
        "machine": f"{os.cpu_count()} cores",
        "work": str(work),
        "pose_stream": pose_stream,
    }
    cold = work / f"cache-cold-{time.time_ns()}"
    results["time to a loaded model (5 per action)"] = timed_cli(
        five, work / "model-5-cli", cold, pose_stream
    )
    print(json.dumps(results, indent=2), flush=True)
    runs = {}
    for label, folder in (("5 per action", five), ("3 per action", three)):
        for base in (True, False):
            name = f"{label}, {'base weights' if base else 'from scratch'}"
            out = work / f"model-{label[0]}-{'base' if base else 'scratch'}"
            settings = replace(TeachSettings(), use_base_weights=base)
            done = teach(folder, out, settings=settings, cache_root=work / "cache", pose_stream=pose_stream)
            runs[name] = {"teach": {k: done[k] for k in ("seconds", "validation_accuracy", "message")}}
            runs[name].update(figures(taught_report(out, test)))
            runs[name]["other views (cameras 2, 3)"] = figures(taught_report(out, views))
            print(name, json.dumps(runs[name]), flush=True)
    results["runs"] = runs
    results["bundled model on the same clips"] = figures(bundled_report(test))
    results["bundled model on the other views"] = figures(bundled_report(views))
    print(json.dumps(results, indent=2))
    return results
