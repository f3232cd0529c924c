"""A model's predictions on one clip with the Kinect's bodies and with bodies estimated from the image,
side by side (docs/any-camera.md), and how often each stream alone agrees.

    python scripts/kinect_vs_estimated_predictions.py            # S001C001P001R001A001, the demo model
    python scripts/kinect_vs_estimated_predictions.py PATH/NAME.skeleton --model FOLDER

Each run is exactly `sta-hands run CLIP --headless --pose kinect` and `... --pose estimate` (the same
`app.headless.run_headless`); the table has one row per classified window: its last frame, the top class
and its probability under each, and the spatial attention each gave the four hands (left-1, right-1,
left-2, right-2) averaged over the window's 20 steps.
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]

from sta_hands.app.headless import run_headless  # noqa: E402
from sta_hands.app.recognizer import Prediction  # noqa: E402
from sta_hands.app.runtime import OnnxModel, default_model_folder  # noqa: E402
from sta_hands.recordings.sources import open_reader  # noqa: E402

DEFAULT_CLIP = REPO.parent / "shared" / "samples" / "ntu" / "S001C001P001R001A001.skeleton"


def predictions(clip: Path, model: OnnxModel, pose: str) -> tuple[str, list[Prediction]]:
    found: list[Prediction] = []
    with open_reader(clip, pose=pose) as source:
        summary = run_headless(source, model, found.append)
    return summary.source, found


def _attention(prediction: Prediction) -> str:
    return " / ".join(f"{value:.2f}" for value in prediction.spatial_attention.mean(axis=0))


def table(kinect: list[Prediction], estimated: list[Prediction]) -> list[str]:
    lines = [
        "| window ends at frame | Kinect bodies: top class | estimated bodies: top class | same | "
        "spatial attention L1 / R1 / L2 / R2, Kinect | estimated |",
        "| --- | --- | --- | --- | --- | --- |",
    ]
    by_frame = {int(p.frame_indices[-1]): p for p in estimated}
    for k in kinect:
        e = by_frame.get(int(k.frame_indices[-1]))
        if e is None:
            continue
        (k_name, k_p), (e_name, e_p) = (k.top(1) or [("none", 0.0)])[0], (e.top(1) or [("none", 0.0)])[0]
        lines.append(
            f"| {int(k.frame_indices[-1])} | {k_name} {k_p:.2f} | {e_name} {e_p:.2f} | "
            f"{'yes' if k_name == e_name else 'no'} | {_attention(k)} | {_attention(e)} |"
        )
    return lines


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("clip", nargs="?", default=str(DEFAULT_CLIP), help="a clip with skeleton and video")
    parser.add_argument("--model", help="exported model folder (default: the bundled demo)")
    args = parser.parse_args(argv)
    model = OnnxModel(args.model or default_model_folder(), provider="cpu")
    clip = Path(args.clip)
    kinect_source, kinect = predictions(clip, model, "kinect")
    estimated_source, estimated = predictions(clip, model, "estimate")
    print(f"model: {model.name}; clip: {kinect_source}\nestimated: {estimated_source}\n")
    print("\n".join(table(kinect, estimated)))
    same = [
        k.top(1)[0][0] == e.top(1)[0][0]
        for k, e in zip(kinect, estimated, strict=False)
        if k.top(1) and e.top(1)
    ]
    pairs = list(zip(kinect, estimated, strict=False))
    for stream in ("pose", "rgb"):
        agree = sum(
            int(
                getattr(k, f"{stream}_probabilities").argmax()
                == getattr(e, f"{stream}_probabilities").argmax()
            )
            for k, e in pairs
        )
        print(f"{stream} stream alone: the same top class in {agree} of {len(pairs)} windows")
    k_mean = np.mean([p.probabilities for p in kinect], axis=0)
    e_mean = np.mean([p.probabilities for p in estimated], axis=0)
    names = model.info.class_names
    print(
        f"\nsame top class in {sum(same)} of {len(same)} windows; clip-level (mean of the windows): "
        f"Kinect {names[int(k_mean.argmax())]} {k_mean.max():.2f}, estimated {names[int(e_mean.argmax())]} "
        f"{e_mean.max():.2f}"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
