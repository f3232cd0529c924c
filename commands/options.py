"""Options that several commands take, each written once: the name, the choices and the help.

Where two commands want a different default (`--pose`: `auto` for a live source, `kinect` for a dataset,
whose videos without a skeleton are skipped rather than estimated), the default is a parameter; the
help says which one applies.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

from sta_hands.recordings.mirror import MIRROR_MODES
from sta_hands.recordings.sources import POSE_MODES

PROVIDERS = ("cpu", "cuda", "tensorrt", "directml")  # app.runtime's aliases, without the short "dml"
POSE_HELP = {
    "auto": "the recorded skeleton, else estimated from the image",
    "kinect": "the recorded skeleton only; a video without one is skipped in a dataset",
    "estimate": "always estimated from the image, to compare",
}
MODEL_FOLDER_HELP = (
    "model folder (two-stream: glimpse.onnx + head.onnx; pose only: pose_model.onnx); default: the bundled "
    "demo for the demo and synthetic clips, the pretrained pose model for real sources"
)
MISSING_HELP = "the NTU list of samples with missing skeletons (default: the one in DATA)"
DATASET_NOTE = "; train with the same --pose and --mirror as the features"
RAY_ADDRESS_HELP = "ray: the cluster (auto, ray://HOST:10001; default: a new local Ray instance)"


def add_body_options(p: argparse.ArgumentParser, pose: str = "auto", note: str = "") -> None:
    """`--pose` (default `pose`) and `--mirror`: where bodies come from and how images are read; `note` is
    added to both helps (a dataset command: train with the same choices as the features)."""
    add_pose_option(p, pose, note)
    p.add_argument(
        "--mirror", choices=MIRROR_MODES, default="auto",
        help="flip the images left-right as read, so sides follow the Kinect's mirror image: auto (the "
        "webcam and videos not named NAME_rgb.avi; NTU's are not flipped; default), yes (any source), no "
        f"(none){note}",
    )  # fmt: skip


def add_pose_option(p: argparse.ArgumentParser, pose: str = "auto", note: str = "") -> None:
    """`--pose` alone (default `pose`), for a command that reads no images of its own (the soak run)."""
    modes = (f"{mode} ({POSE_HELP[mode]}{'; default' if mode == pose else ''})" for mode in POSE_MODES)
    p.add_argument(
        "--pose",
        choices=POSE_MODES,
        default=pose,
        help=f"where the bodies come from: {', '.join(modes)}{note}",
    )


def add_model_folder_option(p: argparse.ArgumentParser) -> None:
    """`--model FOLDER` of the commands that open any kind of model as the app does (`run`, the screenshot),
    default the source's (`app.model_choice`)."""
    p.add_argument("--model", help=MODEL_FOLDER_HELP)


def add_seed_option(p: argparse.ArgumentParser, what: str, default: int | None = 0) -> None:
    """`--seed N`: the random seed of `what`; `default` None where a config file may set it instead (train,
    whose settings default to seed 0)."""
    p.add_argument("--seed", type=int, default=default, help=f"random seed of {what} (default 0)")


def add_provider_option(p: argparse.ArgumentParser) -> None:
    """`--provider`: the ONNX Runtime execution provider of an exported model (default: the fastest here)."""
    p.add_argument("--provider", choices=PROVIDERS, help="force an execution provider")


def add_still_option(p: argparse.ArgumentParser) -> None:
    """`--still-crops GREY` of `run` and `demo` (the headless recognizer's still-hand reuse)."""
    p.add_argument(
        "--still-crops", type=float, metavar="GREY",
        help="with --headless: a still hand's crop reuses its features while it differs from the last "
        "computed one by at most GREY grey levels; 0 computes every crop (default: 3, measured not to move "
        "predictions, for a camera or Kinect; 0 for a file, so a replay's predictions never depend on "
        "where it started)",
    )  # fmt: skip


def add_headless_options(p: argparse.ArgumentParser, realtime: str, speed: str) -> None:
    """`--headless`, `--json`, `--realtime` and `--speed` of `run` and `demo` (their helps as given)."""
    p.add_argument("--headless", action="store_true", help="no window: one line per prediction")
    p.add_argument("--json", action="store_true", help="with --headless: JSON lines and a JSON summary")
    p.add_argument("--realtime", action="store_true", help=realtime)
    p.add_argument("--speed", type=float, default=1.0, help=speed)


def add_dataset_option(p: argparse.ArgumentParser, required: bool) -> None:
    """`--data DIR` of train, ablate and evaluate: a dataset folder (its labels and splits)."""
    p.add_argument("--data", required=required, help="dataset folder (labels and splits)")


def add_missing_option(p: argparse.ArgumentParser) -> None:
    """`--missing FILE`: NTU's list of samples whose skeletons are missing."""
    p.add_argument("--missing", help=MISSING_HELP)


def add_ray_address_option(p: argparse.ArgumentParser) -> None:
    """`--address`: the Ray cluster of `--engine ray`."""
    p.add_argument("--address", help=RAY_ADDRESS_HELP)


def window_size(text: str) -> tuple[int, int]:
    """'WxH' as (width, height), for argparse."""
    try:
        width, height = (int(v) for v in text.lower().split("x"))
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r}: expected WxH, e.g. 1280x720") from None
    if width <= 0 or height <= 0:
        raise argparse.ArgumentTypeError(f"{text!r}: width and height must be positive")
    return width, height


def add_window_size_option(p: argparse.ArgumentParser, default: str) -> None:
    """`--size WxH`: the window's size for a screenshot program."""
    p.add_argument("--size", type=window_size, default=window_size(default),
                   help=f"window size WxH (default {default})")  # fmt: skip


def add_json_file_option(p: argparse.ArgumentParser, what: str) -> None:
    """`--json FILE`: also write `what` (a measurement's report) as JSON, beside the text printed."""
    p.add_argument("--json", metavar="FILE", help=f"also write {what} as JSON")


def write_json_file(path: str | None, report: Any) -> None:
    """The `--json FILE` of `add_json_file_option`: `report`, indented, where asked (None: nowhere)."""
    if path:
        Path(path).write_text(json.dumps(report, indent=2) + "\n", encoding="utf-8")
