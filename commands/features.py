"""`sta-hands features DATA --out CACHE`: the glimpse features of every clip, computed once and cached.

Torch is imported only when the command runs, so `sta-hands --help` stays fast and torch-free.
"""

from __future__ import annotations

import argparse
from dataclasses import replace
from pathlib import Path

from sta_hands.commands.options import (
    DATASET_NOTE,
    add_body_options,
    add_missing_option,
    add_ray_address_option,
)
from sta_hands.models.config import BACKBONE_SPECS

DEFAULT_BACKBONE = "efficientnet_lite0"


def run(args: argparse.Namespace) -> int:
    from sta_hands.models.data import find_dataset
    from sta_hands.models.features.cache import compute_features
    from sta_hands.models.features.engines import build_engine
    from sta_hands.models.features.jobs import BackboneRecipe

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


def add_parser(sub: argparse._SubParsersAction) -> None:
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
    add_missing_option(p)
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
    add_ray_address_option(p)
    p.add_argument(
        "--gpus-per-worker", type=float, default=0.0, help="ray: GPUs per CNN actor (e.g. 1, or 0.5)"
    )
    add_body_options(p, pose="kinect", note=DATASET_NOTE)
    p.set_defaults(func=run)
