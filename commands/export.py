"""`sta-hands export CHECKPOINT --out DIR`: glimpse.onnx + head.onnx (with metadata) from a two-stream
checkpoint, with its int8 / float16 variants and their accuracy change if asked.

Torch is imported only when the command runs, so building the command line stays light.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from sta_hands.contract.errors import UserError

MODEL_VERSION = "1"
INT8_NEEDS_CALIBRATION = "--int8 needs --calibration DATA: real clips whose hand crops set the ranges"


def run(args: argparse.Namespace) -> int:
    from sta_hands.export.onnx import ExportMetadata, export_model
    from sta_hands.export.plugin import plug_pose_stream, pose_stream_folder
    from sta_hands.models import checkpoint
    from sta_hands.models.config import BackboneSpec
    from sta_hands.models.glimpse import build_backbone
    from sta_hands.models.two_stream import TwoStreamModel

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
    from sta_hands.export.quantize import calibration_crops, convert_fp16, quantize_int8

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
    from sta_hands.export.evaluate_onnx import evaluate_exported
    from sta_hands.models.data import find_dataset

    dataset = find_dataset(data)
    split = None if split == "none" else split
    baseline = evaluate_exported(folder, dataset, split=split)["accuracy"]["fused"]
    print(f"float32 accuracy on {data}: {baseline:.4f}")
    for variant in variants:
        accuracy = evaluate_exported(variant, dataset, split=split)["accuracy"]["fused"]
        change = {"variant": str(variant), "accuracy": accuracy, "change_vs_fp32": accuracy - baseline}
        print(json.dumps(change))


def add_parser(sub: argparse._SubParsersAction) -> None:
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
    p.set_defaults(func=run)
