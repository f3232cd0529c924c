"""`sta-hands export CHECKPOINT --out DIR`, `sta-hands evaluate --model M --data D` and `sta-hands
teach EXAMPLES --out MODEL`: the argparse definitions and their thin handlers (evaluate takes a
checkpoint or an exported folder, so it is here).

Torch is imported only when the command runs, so building the command line stays light.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from recordings.errors import UserError

MODEL_VERSION = "1"
INT8_NEEDS_CALIBRATION = "--int8 needs --calibration DATA: real clips whose hand crops set the ranges"


def cmd_export(args: argparse.Namespace) -> int:
    from export.onnx import ExportMetadata, export_model
    from export.plugin import plug_pose_stream, pose_stream_folder
    from models import checkpoint
    from models.config import BackboneSpec
    from models.glimpse import build_backbone
    from models.two_stream import TwoStreamModel

    if args.int8 and not args.calibration:  # said before the export, not after it
        raise UserError(INT8_NEEDS_CALIBRATION)
    model, _config, metadata = checkpoint.load(args.checkpoint)
    if not isinstance(model, TwoStreamModel):
        raise UserError(f"{args.checkpoint}: a {type(model).__name__}; export takes a two-stream checkpoint "
                        "(sta-hands train --stream both)")  # fmt: skip
    spec = BackboneSpec.from_dict(metadata["backbone"])
    random_weights = metadata.get("backbone_weights") == "random"
    backbone = build_backbone(
        spec.name, spec.input_size, pretrained=not random_weights,
        weights_path=args.backbone_weights, download=args.download,
    )  # fmt: skip
    info = ExportMetadata(
        class_names=tuple(metadata["class_names"]),
        window_seconds=float(metadata["window_seconds"]),
        trained_on=str(metadata.get("trained_on", "unknown")),
        model_version=args.model_version,
    )
    pose_choice = args.pose_stream or metadata.get("pose_stream", "deep-gru")
    pose_folder = pose_stream_folder(pose_choice, info.class_names)  # refused before the export, not after
    parity = export_model(model, backbone, info, args.out)
    print(f"wrote {args.out}/glimpse.onnx and head.onnx; parity with PyTorch: {parity}")
    if pose_folder is not None:
        plug_pose_stream(args.out, pose_folder)
        print(f"plugged in the pose stream of {pose_folder} (pose_model.onnx, its LICENSE and NOTICE)")
    variants = _variants(args, Path(args.out), backbone.spec)
    if args.eval:
        _report_accuracy(Path(args.out), variants, args.eval, args.split)
    return 0


def _variants(args: argparse.Namespace, folder: Path, spec) -> list[Path]:
    from export.quantize import calibration_crops, convert_fp16, quantize_int8

    variants = []
    if args.int8:
        if not args.calibration:
            raise UserError(INT8_NEEDS_CALIBRATION)
        crops = calibration_crops(args.calibration, spec)
        variants.append(quantize_int8(folder, folder.with_name(folder.name + "-int8"), crops))
        print(f"wrote {variants[-1]} (int8 glimpses, calibrated on {len(crops)} real hand crops)")
    if args.fp16:
        variants.append(convert_fp16(folder, folder.with_name(folder.name + "-fp16")))
        print(f"wrote {variants[-1]} (float16 glimpses, for GPUs)")
    return variants


def _report_accuracy(folder: Path, variants: list[Path], data: str, split: str | None) -> None:
    from export.evaluate_onnx import evaluate_exported
    from models.data import find_dataset

    dataset = find_dataset(data)
    split = None if split == "none" else split
    baseline = evaluate_exported(folder, dataset, split=split)["accuracy"]["fused"]
    print(f"float32 accuracy on {data}: {baseline:.4f}")
    for variant in variants:
        accuracy = evaluate_exported(variant, dataset, split=split)["accuracy"]["fused"]
        change = {"variant": str(variant), "accuracy": accuracy, "change_vs_fp32": accuracy - baseline}
        print(json.dumps(change))


def cmd_evaluate(args: argparse.Namespace) -> int:
    from models.data import DataError, find_dataset
    from models.evaluate import summary_text, write_report

    dataset = find_dataset(args.data, args.missing)
    model = Path(args.model)
    split = None if args.split == "none" else args.split
    if model.is_dir():
        from export.evaluate_onnx import evaluate_exported

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
        from models.checkpoint import CheckpointError
        from models.evaluate import evaluate_checkpoint

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
        from export.evaluate_onnx import save_faithfulness

        if not model.is_dir():
            raise DataError(model, "--save-faithfulness writes into an exported folder, not a checkpoint")
        print(f"wrote {save_faithfulness(model, report)}")
    if args.json is None and args.out is None:
        keys = ("clips", "accuracy", "attention_score", "attention_baselines", "faithfulness", "streaming")
        print(json.dumps({key: report[key] for key in keys if key in report}, indent=2))
    return 0


def _add_evaluate(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "evaluate", help="accuracy per stream and fused, per class, confusion matrix, attention"
    )
    p.add_argument(
        "--model",
        required=True,
        help="a .safetensors checkpoint, or an exported folder (glimpse.onnx + "
        "head.onnx: evaluated through the app's own recognizer)",
    )
    p.add_argument("--data", required=True, help="dataset folder")
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
    p.add_argument("--seed", type=int, default=0, help="seed of the sub-sequences (default 0)")
    p.add_argument(
        "--streaming",
        action="store_true",
        help="also score every full live window of every clip, as the app sees them "
        "(an exported folder: its own replay of each clip; a checkpoint: the same windows on the cache)",
    )
    p.add_argument(
        "--provider", choices=["cpu", "cuda", "tensorrt", "directml"], help="exported model: ORT provider"
    )
    p.add_argument(
        "--missing", help="the NTU list of samples with missing skeletons (default: the one in DATA)"
    )
    p.add_argument(
        "--save-faithfulness",
        action="store_true",
        help="exported model: write the faithfulness figures into its folder (faithfulness.json), where "
        "the explain dialog says them",
    )
    p.set_defaults(func=cmd_evaluate)


def add_subcommands(sub: argparse._SubParsersAction) -> None:
    """Add export, evaluate and teach to the `sta-hands` parser's subcommands."""
    _add_export(sub)
    _add_evaluate(sub)
    _add_teach(sub)


def cmd_teach(args: argparse.Namespace) -> int:
    from export.teach import run_teach

    return run_teach(args)


def _add_teach(sub: argparse._SubParsersAction) -> None:
    """`sta-hands teach`: its options are the contract with the GUI's Teach panel (`export.teach`)."""
    p = sub.add_parser("teach", help="teach a model your own actions from a few examples (a minute on a CPU)")
    p.add_argument(
        "examples", help="folder of examples: recordings with an 'action' in their sidecar, or NTU clips"
    )
    p.add_argument(
        "--out", required=True, help="model folder to write (replaced only once the new one is whole)"
    )
    p.add_argument(
        "--base", help="model whose glimpse CNN and pose/attention weights to start from (default: demo)"
    )
    p.add_argument(
        "--seconds-budget", type=float, help="stop training early to finish in about this many seconds"
    )
    p.add_argument(
        "--json", metavar="FILE", help="write classes, examples per class, seconds, validation accuracy"
    )
    p.add_argument(
        "--progress-jsonl", action="store_true", help="progress as JSON lines on stdout (for the GUI)"
    )
    p.add_argument("--tiny", action="store_true", help="the smallest settings (tests)")
    p.add_argument("--cache", help="feature cache folder (default: ~/.cache/sta-hands/teach)")
    p.add_argument(
        "--pose-stream",
        choices=["shift-gcn", "deep-gru"],
        help="shift-gcn: a head taught on the frozen bundled Shift-GCN (the default where it is bundled); "
        "deep-gru: the paper's pose stream, taught with the RGB stream",
    )
    p.set_defaults(func=cmd_teach)


def _add_export(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("export", help="glimpse.onnx + head.onnx (with metadata) from a two-stream checkpoint")
    p.add_argument("checkpoint", help="a two-stream .safetensors checkpoint (sta-hands train --stream both)")
    p.add_argument("--out", required=True, help="output folder")
    p.add_argument("--backbone-weights", help="ImageNet weights file for the backbone (inception_v3)")
    p.add_argument("--download", action="store_true", help="let inception_v3 download its weights")
    p.add_argument(
        "--int8", action="store_true", help="also write OUT-int8: int8 glimpses for CPUs (with --calibration)"
    )
    p.add_argument(
        "--calibration", metavar="DATA",
        help="clips whose hand crops calibrate --int8: a clip, or a folder as `features` takes it (NTU's "
        "layout, recordings)",
    )  # fmt: skip
    p.add_argument("--fp16", action="store_true", help="also write OUT-fp16: float16 glimpses for GPUs")
    p.add_argument("--eval", metavar="DATA", help="report the variants' accuracy change vs float32 on DATA")
    p.add_argument("--split", choices=["cs", "cv", "none"], default="none", help="test side of --eval's data")
    p.add_argument("--model-version", default=MODEL_VERSION, help="version string stored in the metadata")
    p.add_argument(
        "--pose-stream",
        help="deep-gru: the checkpoint's own pose stream; shift-gcn (a bundled Shift-GCN whose NTU classes "
        "hold the model's) or a pose model folder: plugged in beside STA-Hands, logits summed (default: what "
        "`train --pose-stream` stored, else deep-gru)",
    )
    p.set_defaults(func=cmd_export)
