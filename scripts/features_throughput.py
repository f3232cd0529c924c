"""Throughput of `sta-hands features` per engine: clips/s, frames/s, crops/s and where the time goes.

    python scripts/features_throughput.py                       # the sample layout, Inception v3 at 299 px
    python scripts/features_throughput.py --data NTU_ROOT --clips 200 --engines local:0 local:3 ray
    python scripts/features_throughput.py --backbone efficientnet_lite0 --markdown

Without `--data`, the folder is NTU's download layout built in a temporary folder from the real NTU
samples (../shared/samples/ntu or $STA_HANDS_NTU_SAMPLES) and synthetic 1080p clips written in the
same layout (the tests' layout, tests/models/test_ntu_scale.py). Only the clips with a video are
measured: the real one with skeleton and video (103 frames, H.264) and the synthetic ones (MJPEG).
Each engine computes the same clips into its own empty cache: `local:N` is the local engine with N
decoding processes (0: one thread), `ray` a local Ray instance with `--ray-cpus` CPUs. The
backbone's weights are random unless `--pretrained` (the speed is the same; this machine may have no
ImageNet weights).

The stage shares are of the time summed over clips (decode: inside the video decoder and the skeleton
parser; crop: bodies, hand crops and pose arrays; CNN: resizing the crops, normalising and the glimpse
CNN); with several workers those stages overlap, so the wall time is less than their sum.
`--per-cpu-second` adds each stage's rate per CPU-second on one thread (`--engines` may be left
empty: `--engines --per-cpu-second`).
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]

from sta_hands.models.data import ClipRef, find_dataset  # noqa: E402
from sta_hands.models.features.cache import FeaturesReport, compute_features  # noqa: E402
from sta_hands.models.features.engines import LocalEngine  # noqa: E402
from sta_hands.models.features.jobs import BackboneRecipe, FeatureEngine, prepare_clip  # noqa: E402
from sta_hands.recordings.ntu.clip import VIDEO_SUFFIX  # noqa: E402

HEADER = (
    "| engine | clips | frames | crops | wall s | clips/s | frames/s | crops/s | decode | crop | CNN |\n"
    "| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |"
)


def measure(engine_name: str, data: Path, recipe: BackboneRecipe, cache: Path, args) -> FeaturesReport:
    backbone, weights = recipe.build()
    clips = [clip for clip in find_dataset(data).clips if _has_video(clip)][: args.clips]
    engine: FeatureEngine
    if engine_name.startswith("local"):
        workers = int(engine_name.partition(":")[2] or 0)
        engine = LocalEngine(backbone, args.batch, workers)
        return compute_features(clips, cache, backbone, weights, engine=engine, progress=args.progress)
    if engine_name != "ray":
        raise SystemExit(f"engine {engine_name!r}: expected local:N or ray")
    import ray

    from sta_hands.models.ray_engine import RayEngine

    ray.init(num_cpus=args.ray_cpus, include_dashboard=False, log_to_driver=False)
    try:
        engine = RayEngine(recipe, args.batch, actors=args.ray_actors)
        return compute_features(clips, cache, backbone, weights, engine=engine, progress=args.progress)
    finally:
        ray.shutdown()


def per_cpu_second(data: Path, recipe: BackboneRecipe, args) -> list[str]:
    """Rates per CPU-second on one thread (steadier than wall time on a busy machine): decoding and
    cropping each clip with a video, and the CNN on 32 crops."""
    import torch

    torch.set_num_threads(1)
    lines = []
    for clip in [clip for clip in find_dataset(data).clips if _has_video(clip)][: args.clips]:
        started = time.process_time()
        prepared = prepare_clip(clip)
        if prepared.inputs is not None:
            frames = prepared.inputs.num_frames
            rate = frames / (time.process_time() - started)
            lines.append(
                f"{clip.name}: decoding and cropping {rate:.1f} frames per CPU-second ({frames} frames)"
            )
    backbone, _ = recipe.build()
    crops = torch.randn(32, 3, backbone.spec.input_size, backbone.spec.input_size)
    with torch.inference_mode():
        backbone(crops[:4])  # warm-up
        started = time.process_time()
        backbone(crops)
        seconds = time.process_time() - started
    lines.append(
        f"{recipe.name}@{backbone.spec.input_size}: {32 / seconds:.1f} crops per CPU-second (one thread)"
    )
    return lines


def _has_video(clip: ClipRef) -> bool:
    """Whether the clip has a video (NTU's all have; the samples' skeleton-only ones are left out)."""
    return clip.video is not None or clip.stem.with_name(clip.name + VIDEO_SUFFIX).is_file()


def row(engine: str, report: FeaturesReport) -> str:
    rates, shares = report.rates(), report.timing.shares()
    clips = len(report.computed) + len(report.failed)
    return (
        f"| {engine} | {clips} | {report.frames} | {report.crops} | {report.seconds:.1f} | "
        f"{rates['clips/s']:.2f} | {rates['frames/s']:.1f} | {rates['crops/s']:.1f} | "
        f"{100 * shares['decode']:.0f}% | {100 * shares['crop']:.0f}% | {100 * shares['cnn']:.0f}% |"
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--data", type=Path, help="an NTU root (default: the sample layout, built here)")
    parser.add_argument("--clips", type=int, help="at most this many clips (default: all)")
    parser.add_argument("--synthetic", type=int, default=8, help="synthetic clips in the sample layout")
    parser.add_argument("--backbone", default="inception_v3", help="glimpse CNN (default: the paper's)")
    parser.add_argument("--input-size", type=int, help="crop side fed to the CNN (default: the backbone's)")
    parser.add_argument("--pretrained", action="store_true", help="ImageNet weights (default: random)")
    parser.add_argument("--batch", type=int, default=64, help="crops per CNN call")
    parser.add_argument("--engines", nargs="*", default=["local:0", "local:1", "ray"])
    parser.add_argument("--ray-cpus", type=int, default=2, help="CPUs of the local Ray instance")
    parser.add_argument("--ray-actors", type=int, help="CNN actors (default: the engine's)")
    parser.add_argument("--progress", action="store_true", help="show each run's progress bar")
    parser.add_argument(
        "--per-cpu-second", action="store_true", help="also the rates per CPU-second on one thread"
    )
    args = parser.parse_args(argv)
    recipe = BackboneRecipe(args.backbone, args.input_size, pretrained=args.pretrained)
    with tempfile.TemporaryDirectory(prefix="features-throughput-") as work:
        data = args.data
        if data is None:
            from tests.conftest import NTU_SAMPLES
            from tests.models.test_ntu_scale import build_layout

            data = build_layout(Path(work) / "NTU", NTU_SAMPLES, synthetic=args.synthetic, frames=None)
        print(f"{data}: {find_dataset(data).summary()}; {args.backbone}, batch {args.batch}\n")
        print(HEADER)
        for engine in args.engines:
            report = measure(engine, data, recipe, Path(work) / f"cache-{engine.replace(':', '-')}", args)
            print(row(engine, report), flush=True)
        if args.per_cpu_second:
            print("\n" + "\n".join(per_cpu_second(data, recipe, args)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
