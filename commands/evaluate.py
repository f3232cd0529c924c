"""`sta-hands evaluate --model M --data D`: a checkpoint (on cached features) or an exported folder
(through the app's own recognizer): accuracy per stream and fused, per class, attention, faithfulness."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from sta_hands.commands.options import (
    add_dataset_option,
    add_missing_option,
    add_provider_option,
    add_seed_option,
)


def run(args: argparse.Namespace) -> int:
    from sta_hands.models.data import DataError, find_dataset
    from sta_hands.models.evaluate import summary_text, write_report

    dataset = find_dataset(args.data, args.missing)
    model = Path(args.model)
    split = None if args.split == "none" else args.split
    if model.is_dir():
        from sta_hands.export.evaluate_onnx import evaluate_exported

        report = evaluate_exported(
            model,
            dataset,
            split=split,
            views=args.views,
            seed=args.seed,
            provider=args.provider,
            streaming=args.streaming,
        )
    elif model.is_file():
        from sta_hands.models.checkpoint import CheckpointError
        from sta_hands.models.evaluate import evaluate_checkpoint

        if not args.features:
            raise DataError(model, "a checkpoint is evaluated on cached features: pass --features CACHE")
        try:
            report = evaluate_checkpoint(
                model,
                dataset,
                args.features,
                split=split,
                views=args.views,
                seed=args.seed,
                streaming=args.streaming,
            )
        except CheckpointError as error:
            raise DataError(model, str(error)) from None
    else:
        raise DataError(model, "no such checkpoint file or exported model folder")
    write_report(report, args.out, args.json)
    print(summary_text(report))
    if args.save_faithfulness:
        from sta_hands.export.evaluate_onnx import save_faithfulness

        if not model.is_dir():
            raise DataError(model, "--save-faithfulness writes into an exported folder, not a checkpoint")
        print(f"wrote {save_faithfulness(model, report)}")
    if args.json is None and args.out is None:
        keys = ("clips", "accuracy", "attention_score", "attention_baselines", "faithfulness", "streaming")
        print(json.dumps({key: report[key] for key in keys if key in report}, indent=2))
    return 0


def add_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "evaluate", help="accuracy per stream and fused, per class, confusion matrix, attention"
    )
    p.add_argument(
        "--model",
        required=True,
        help="a .safetensors checkpoint, or an exported folder (glimpse.onnx + "
        "head.onnx: evaluated through the app's own recognizer)",
    )
    add_dataset_option(p, required=True)
    p.add_argument("--features", help="feature cache (needed for a checkpoint)")
    p.add_argument(
        "--split",
        choices=["cs", "cv", "none"],
        default="none",
        help="evaluate the test side of the cs or cv split (default none: every clip)",
    )
    p.add_argument("--json", help="write the report as JSON to this file")
    p.add_argument("--out", help="folder for report.json and confusion.png")
    p.add_argument("--views", type=int, default=5, help="sub-sequences per clip, logits averaged (default 5)")
    add_seed_option(p, "the sub-sequences")
    p.add_argument(
        "--streaming",
        action="store_true",
        help="also score every full live window of every clip, as the app sees them "
        "(an exported folder: its own replay of each clip; a checkpoint: the same windows on the cache)",
    )
    add_provider_option(p)
    add_missing_option(p)
    p.add_argument(
        "--save-faithfulness",
        action="store_true",
        help="exported model: write the faithfulness figures into its folder (faithfulness.json), where "
        "the explain dialog says them",
    )
    p.set_defaults(func=run)
