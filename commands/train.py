"""`sta-hands train --data D --features F --stream S`: the pose stream, the RGB stream or both.

Torch is imported only when the command runs, so `sta-hands --help` stays fast and torch-free.
"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sta_hands.commands.options import (
    DATASET_NOTE,
    add_body_options,
    add_dataset_option,
    add_missing_option,
    add_seed_option,
)

if TYPE_CHECKING:
    from sta_hands.models.train import TrainResult, TrainSettings


def _settings(args: argparse.Namespace, overrides: dict[str, Any]) -> TrainSettings:
    from sta_hands.models.train import TrainSettings

    values = dict(overrides)
    if args.epochs is not None:
        values["epochs"] = args.epochs
    if args.seed is not None:
        values["seed"] = args.seed
    if args.sampling is not None:
        values["sampling"] = args.sampling
    return TrainSettings.from_dict(values)


def run(args: argparse.Namespace) -> int:
    from sta_hands.models.data import find_dataset
    from sta_hands.models.train import load_config_file, train_both, train_stream

    dataset = find_dataset(args.data, args.missing, pose=args.pose, mirror=args.mirror)
    config, overrides = load_config_file(args.config) if args.config else (None, {})
    settings = _settings(args, overrides)
    split = None if args.split == "none" else args.split
    out = Path(args.out or f"runs/{args.stream}-{args.split}")
    if args.pose_stream != "deep-gru":  # a pretrained pose stream in Deep GRU's place: STA-Hands alone
        from sta_hands.models.plugin_checkpoint import plugin_checkpoint

        if args.stream != "both":
            from sta_hands.contract.errors import UserError

            raise UserError(f"--pose-stream {args.pose_stream} goes with --stream both")
        rgb = train_stream(
            "rgb",
            dataset,
            args.features,
            out / "rgb",
            split=split,
            config=config,
            settings=settings,
            resume=args.resume,
        )
        combined = plugin_checkpoint(rgb.best, out / "two_stream.safetensors", args.pose_stream)
        print(
            f"rgb: {_result_line(rgb)}\n"
            f"plugin checkpoint (pose stream: {args.pose_stream}, plugged in at export): {combined}"
        )
        return 0
    if args.stream == "both":
        combined, pose, rgb = train_both(
            dataset, args.features, out, split=split, config=config, settings=settings, resume=args.resume
        )
        print(f"pose: {_result_line(pose)}\nrgb: {_result_line(rgb)}\ntwo-stream checkpoint: {combined}")
        return 0
    result = train_stream(
        args.stream,
        dataset,
        args.features,
        out,
        split=split,
        config=config,
        settings=settings,
        resume=args.resume,
    )
    print(f"{args.stream}: {_result_line(result)}")
    return 0


def _result_line(result: TrainResult) -> str:
    accuracy = "n/a" if result.best_val_accuracy is None else f"{result.best_val_accuracy:.3f}"
    stop = ", stopped early" if result.stopped_early else ""
    best = f"best validation accuracy {accuracy} (epoch {result.best_epoch})"
    return f"{result.epochs} epochs{stop}, {best} -> {result.best}"


def add_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "train", help="train the pose stream, the RGB stream (STA-Hands) or both on cached features"
    )
    add_dataset_option(p, required=True)
    p.add_argument("--features", required=True, help="feature cache of `sta-hands features`")
    p.add_argument(
        "--stream",
        choices=["pose", "rgb", "both"],
        required=True,
        help="both: the two streams in turn, then the combined two-stream checkpoint",
    )
    p.add_argument(
        "--split",
        choices=["cs", "cv", "none"],
        default="cs",
        help="train on the cross-subject or cross-view training side (default cs), or on all clips",
    )
    p.add_argument(
        "--config",
        help='JSON: a ModelConfig (e.g. {"rgb": {"spatial": "sum"}}), or '
        '{"model": {...}, "train": {...}} with training settings',
    )
    p.add_argument("--out", help="run folder (default runs/STREAM-SPLIT)")
    p.add_argument("--epochs", type=int, help="at most this many epochs (default 100, the paper's)")
    add_seed_option(p, "the training", default=None)
    p.add_argument(
        "--sampling",
        choices=["time", "segments", "chunk", "time+segments"],
        help="training windows: time (default): live windows on the time grid, as the app sees them; "
        "segments: one frame per equal segment of the clip (the paper's); chunk: consecutive frames; "
        "time+segments: each draw one of the first two at random",
    )
    p.add_argument("--resume", action="store_true", help="continue the run in --out from its last epoch")
    add_missing_option(p)
    p.add_argument(
        "--pose-stream",
        default="deep-gru",
        help="deep-gru (default): the paper's pose stream, trained here; shift-gcn or a pose model folder: a "
        "pretrained pose stream plugged in at export (NTU class names), so only STA-Hands is trained",
    )
    add_body_options(p, pose="kinect", note=DATASET_NOTE)
    p.set_defaults(func=run)
