"""`sta-hands features | train | evaluate | ablate`: argument parsing and thin handlers.

`app.cli` adds these with `add_subcommands(sub)`. Nothing here imports torch at module level: the
handlers import the library code when they run, so `sta-hands --help` stays fast and torch-free.
Errors are `models.data.DataError` (a `RecordingError`: the command line shows it as one line).
"""

from __future__ import annotations

import argparse
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

from models.config import BACKBONE_SPECS

if TYPE_CHECKING:
    from models.train import TrainResult, TrainSettings

DEFAULT_BACKBONE = "efficientnet_lite0"


# ------------------------------------------------------------------------------------------ features


def cmd_features(args: argparse.Namespace) -> int:
    from models.data import find_dataset
    from models.feature_engines import build_engine
    from models.feature_jobs import BackboneRecipe
    from models.features import compute_features

    # absolute paths: Ray's workers on other nodes open the clips by these paths
    data = Path(args.data).absolute() if args.engine == "ray" else args.data
    dataset = find_dataset(data, args.missing, pose=args.pose, mirror=args.mirror)
    print(dataset.summary())
    weights = str(args.backbone_weights) if args.backbone_weights else None
    recipe = BackboneRecipe(args.backbone, args.input_size, weights, args.download, not args.random_weights)
    # with Ray the CNN runs in the cluster's actors: this process's copy only checks the weights
    backbone, label = (recipe if args.engine == "local" else replace(recipe, device="cpu")).build()
    engine = build_engine(
        args.engine,
        backbone,
        recipe,
        batch=args.batch,
        workers=args.workers,
        address=args.address,
        gpus_per_worker=args.gpus_per_worker,
    )
    report = compute_features(dataset.clips, args.out, backbone, label, batch=args.batch, engine=engine)
    rates = report.rates()
    print(
        f"{args.out}: {len(report.computed)} clips computed, {len(report.skipped)} already cached, "
        f"{len(report.failed)} skipped as unreadable; {rates['clips/s']:.2f} clips/s, "
        f"{rates['crops/s']:.1f} crops/s"
    )
    for name, problem in report.failed:
        print(f"  skipped {name}: {problem}")
    return 0


def _add_features(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("features", help="compute and cache the glimpse features of every clip (resumable)")
    p.add_argument(
        "data",
        help="dataset folder: NTU's download (nturgb+d_skeletons/ beside nturgb+d_rgb/, NTU-120's "
        "folders too, or all in one folder) and/or recordings",
    )
    p.add_argument(
        "--backbone",
        choices=sorted(BACKBONE_SPECS),
        default=DEFAULT_BACKBONE,
        help=f"glimpse CNN (default {DEFAULT_BACKBONE}; the paper's is inception_v3)",
    )
    p.add_argument("--out", required=True, help="cache folder (one .npz per clip; reruns skip cached clips)")
    p.add_argument(
        "--input-size", type=int, help="side of the resized crop fed to the CNN (default: the backbone's)"
    )
    p.add_argument(
        "--backbone-weights", help="a .pth file of ImageNet weights instead of the default location"
    )
    p.add_argument("--download", action="store_true", help="let inception_v3 download its weights (internet)")
    p.add_argument("--random-weights", action="store_true", help="an untrained backbone (tests only)")
    p.add_argument("--batch", type=int, default=64, help="crops per CNN call (default 64)")
    p.add_argument(
        "--missing", help="the NTU list of samples with missing skeletons (default: the one in DATA)"
    )
    p.add_argument(
        "--engine",
        choices=["local", "ray"],
        default="local",
        help="local (default): this machine's processes; ray: Ray tasks and actors over a cluster "
        "(pip install 'sta-hands[cluster]'); docs/ntu.md",
    )
    p.add_argument(
        "--workers",
        type=int,
        help="local: decoding processes (default: cores - 1; 0: one thread); "
        "ray: CNN actors (default: one per GPU, else 3/4 of the CPUs)",
    )
    p.add_argument(
        "--address", help="ray: the cluster (auto, ray://HOST:10001; default: a new local Ray instance)"
    )
    p.add_argument(
        "--gpus-per-worker", type=float, default=0.0, help="ray: GPUs per CNN actor (e.g. 1, or 0.5)"
    )
    _add_pose_option(p)
    p.set_defaults(func=cmd_features)


def _add_pose_option(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--pose", choices=["kinect", "auto", "estimate"], default="kinect",
        help="where bodies come from: kinect (the skeletons; videos without one are skipped; default), "
        "auto (estimated from the image where there is no skeleton), estimate (always estimated); "
        "train with the same --pose as the features",
    )  # fmt: skip
    p.add_argument(
        "--mirror", choices=["auto", "yes", "no"], default="auto",
        help="flip the images left-right as read (sides as in a Kinect's mirror image): auto (videos not "
        "named NAME_rgb.avi; NTU's are not flipped; default), yes, no; train with the same --mirror",
    )  # fmt: skip


# --------------------------------------------------------------------------------------------- train


def _settings(args: argparse.Namespace, overrides: dict[str, Any]) -> TrainSettings:
    from models.train import TrainSettings

    values = dict(overrides)
    if args.epochs is not None:
        values["epochs"] = args.epochs
    if args.seed is not None:
        values["seed"] = args.seed
    if args.sampling is not None:
        values["sampling"] = args.sampling
    return TrainSettings.from_dict(values)


def cmd_train(args: argparse.Namespace) -> int:
    from models.data import find_dataset
    from models.train import load_config_file, train_both, train_stream

    dataset = find_dataset(args.data, args.missing, pose=args.pose, mirror=args.mirror)
    config, overrides = load_config_file(args.config) if args.config else (None, {})
    settings = _settings(args, overrides)
    split = None if args.split == "none" else args.split
    out = Path(args.out or f"runs/{args.stream}-{args.split}")
    if args.pose_stream != "deep-gru":  # a pretrained pose stream in Deep GRU's place: STA-Hands alone
        from models.plugin_checkpoint import plugin_checkpoint

        if args.stream != "both":
            from recordings.errors import UserError

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


def _add_train(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "train", help="train the pose stream, the RGB stream (STA-Hands) or both on cached features"
    )
    p.add_argument("--data", required=True, help="dataset folder (labels and splits)")
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
    p.add_argument("--seed", type=int, help="random seed (default 0)")
    p.add_argument(
        "--sampling",
        choices=["time", "segments", "chunk"],
        help="training windows: time (default): live windows on the time grid, as the app sees them; "
        "segments: one frame per equal segment of the clip (the paper's); chunk: consecutive frames",
    )
    p.add_argument("--resume", action="store_true", help="continue the run in --out from its last epoch")
    p.add_argument(
        "--missing", help="the NTU list of samples with missing skeletons (default: the one in DATA)"
    )
    p.add_argument(
        "--pose-stream",
        default="deep-gru",
        help="deep-gru (default): the paper's pose stream, trained here; shift-gcn or a pose model folder: a "
        "pretrained pose stream plugged in at export (NTU class names), so only STA-Hands is trained",
    )
    _add_pose_option(p)
    p.set_defaults(func=cmd_train)


# -------------------------------------------------------------------------------------------- ablate


def cmd_ablate(args: argparse.Namespace) -> int:
    from models.ablate import check_claims, run_ablation

    if args.quick:
        result = check_claims(Path(args.out or "runs/claims"), epochs=args.epochs)
        print(result.markdown)
        return 0 if result.passed else 1
    if not args.data or not args.features:
        from models.data import DataError

        raise DataError(None, "ablate needs --data and --features (or --quick for the synthetic check)")
    options: dict[str, Any] = {}
    if args.engine == "ray":
        from models.ray_ablate import ray_trials

        options["run_trials"] = ray_trials(
            args.address, cpus_per_trial=args.cpus_per_trial, gpus_per_trial=args.gpus_per_trial
        )
    table = run_ablation(  # absolute paths: Ray's tasks on other nodes read and write by these paths
        Path(args.data).absolute(),
        Path(args.features).absolute(),
        Path(args.out or "runs/ablation").absolute(),
        split=args.split,
        epochs=args.epochs,
        config=args.config,
        seeds=args.seeds or (),
        **options,
    )
    print(table)
    return 0


def _add_ablate(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "ablate", help="the paper's tables 2 and 3: every variant trained and evaluated, as markdown"
    )
    p.add_argument("--data", help="dataset folder")
    p.add_argument("--features", help="feature cache of the dataset")
    p.add_argument("--split", choices=["cs", "cv"], default="cs", help="benchmark (default cs)")
    p.add_argument("--epochs", type=int, help="at most this many epochs per variant (default 100)")
    p.add_argument("--config", help="base config JSON for every variant (e.g. a smaller RGB GRU)")
    p.add_argument("--out", help="folder for the runs and table.md (default runs/ablation, or runs/claims)")
    p.add_argument(
        "--quick",
        action="store_true",
        help="the paper's claims checked on a small synthetic set, "
        "made from scratch in --out (a few minutes on a CPU); exit 1 if a claim fails",
    )
    p.add_argument(
        "--seeds",
        type=int,
        nargs="+",
        help="random seeds: one training run per variant and seed (in OUT/seed-N), the table gives the "
        "mean over seeds (default: one run, seed 0)",
    )
    p.add_argument(
        "--engine",
        choices=["local", "ray"],
        default="local",
        help="local (default): the trials one by one; ray: all at once as Ray tasks (docs/ntu.md)",
    )
    p.add_argument(
        "--address", help="ray: the cluster (auto, ray://HOST:10001; default: a new local Ray instance)"
    )
    p.add_argument("--cpus-per-trial", type=int, default=1, help="ray: CPUs per trial (default 1)")
    p.add_argument("--gpus-per-trial", type=float, default=0.0, help="ray: GPUs per trial (e.g. 1, 0.25)")
    p.set_defaults(func=cmd_ablate)


def add_subcommands(sub: argparse._SubParsersAction) -> None:
    """Add features, train and ablate to the `sta-hands` parser's subcommands (evaluate, which takes an
    exported model as well as a checkpoint, is export.commands')."""
    for add in (_add_features, _add_train, _add_ablate):
        add(sub)
