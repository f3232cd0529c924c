"""`sta-hands ablate`: the paper's tables 2 and 3, every variant trained and evaluated (or `--quick`)."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from sta_hands.commands.options import add_dataset_option, add_ray_address_option


def run(args: argparse.Namespace) -> int:
    from sta_hands.models.ablate import check_claims, run_ablation

    if args.quick:
        result = check_claims(Path(args.out or "runs/claims"), epochs=args.epochs)
        print(result.markdown)
        return 0 if result.passed else 1
    if not args.data or not args.features:
        from sta_hands.models.data import DataError

        raise DataError(None, "ablate needs --data and --features (or --quick for the synthetic check)")
    options: dict[str, Any] = {}
    if args.engine == "ray":
        from sta_hands.models.ray_ablate import ray_trials

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


def add_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "ablate", help="the paper's tables 2 and 3: every variant trained and evaluated, as markdown"
    )
    add_dataset_option(p, required=False)
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
    add_ray_address_option(p)
    p.add_argument("--cpus-per-trial", type=int, default=1, help="ray: CPUs per trial (default 1)")
    p.add_argument("--gpus-per-trial", type=float, default=0.0, help="ray: GPUs per trial (e.g. 1, 0.25)")
    p.set_defaults(func=run)
