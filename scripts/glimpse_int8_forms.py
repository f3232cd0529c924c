"""The int8 glimpse CNN's forms side by side on this CPU (issue 14, part 2), all in one run.

For each backbone (random weights, exported as `sta-hands bench` exports them; nothing downloads), the
float32 glimpse and each int8 form (`export.quantize.Int8Form`: QOperator or QDQ, u8 x s8 or u8 x u8,
per-channel or per-tensor, 8- or 7-bit weights) are written side by side, calibrated on real NTU hand
crops, then timed interleaved (round after round over every form, so a change of load hits them all):
crops/s at batch 1, 4, 8 on 2 threads as the app runs them, fastest and median round. Also:

- the op types of each graph after ONNX Runtime's optimisation (`optimized_model_filepath`), i.e. which
  kernels run (QLinearConv, ConvInteger, DequantizeLinear + Conv, ...);
- the relative feature change vs float32 on real NTU hand crops (max and median over crops);
- with `--trained FOLDER --trained-calibration DATA`: the same feature change for a trained export, and
  each form written as a full model folder (`--out`/trained-FORM) for `sta-hands evaluate`.

    nice python scripts/glimpse_int8_forms.py --out /tmp/int8-forms --json /tmp/int8-forms/result.json
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path
from typing import Any

import numpy as np
import onnx
import onnxruntime as ort
from onnxruntime.quantization import QuantFormat, QuantType

from sta_hands.app.runtime import open_session
from sta_hands.contract.onnx_contract import GLIMPSE_FILE
from sta_hands.export.bench.speed import (  # the bench's own export: random weights, the paper's head
    _export_random,
)
from sta_hands.export.onnx_metadata import read_metadata
from sta_hands.export.quantize import Int8Form, calibration_crops, quantize_glimpse, quantize_int8
from sta_hands.models.glimpse import build_backbone

REPO = Path(__file__).resolve().parents[1]
NTU_CLIP = REPO.parent / "shared" / "samples" / "ntu" / "S001C001P001R001A001.skeleton"
BATCHES = (1, 4, 8)
THREADS = 2
U8, S8, QOP, QDQ = QuantType.QUInt8, QuantType.QInt8, QuantFormat.QOperator, QuantFormat.QDQ
FORMS = (
    Int8Form(QOP, U8, S8, per_channel=True),  # what --int8 wrote before this script
    Int8Form(QOP, U8, S8, per_channel=True, reduce_range=True),
    # no QOperator u8 x u8 per-channel: ORT's quantiser writes s8 weights for it (the first form again)
    Int8Form(QOP, U8, S8, per_channel=False),
    Int8Form(QOP, U8, U8, per_channel=False),
    Int8Form(QDQ, U8, S8, per_channel=True),
    Int8Form(QDQ, U8, S8, per_channel=True, reduce_range=True),
    Int8Form(QDQ, U8, U8, per_channel=True),
)


def optimized_op_counts(path: Path, folder: Path) -> dict[str, int]:
    """Op types (domain-qualified outside ONNX's own) of `path` after ONNX Runtime's optimisation."""
    options = ort.SessionOptions()
    options.log_severity_level = 3
    options.intra_op_num_threads = THREADS
    options.optimized_model_filepath = str(folder / f"{path.stem}.optimized.onnx")
    ort.InferenceSession(str(path), sess_options=options, providers=["CPUExecutionProvider"])
    graph = onnx.load(options.optimized_model_filepath, load_external_data=False).graph
    names = Counter(f"{node.domain}.{node.op_type}" if node.domain else node.op_type for node in graph.node)
    return dict(names.most_common())


def features(session: ort.InferenceSession, crops: np.ndarray) -> np.ndarray:
    return np.concatenate(
        [session.run(None, {"crops": crops[i : i + 8]})[0] for i in range(0, len(crops), 8)]
    )


def feature_change(reference: np.ndarray, other: np.ndarray) -> dict[str, float]:
    """Per crop: |other - reference| / |reference| (L2 over the feature vector); max and median."""
    change = np.linalg.norm(other - reference, axis=1) / np.maximum(np.linalg.norm(reference, axis=1), 1e-12)
    return {"max": float(change.max()), "median": float(np.median(change))}


def time_round(session: ort.InferenceSession, size: int, min_seconds: float) -> dict[str, float]:
    """Crops/s per batch for one round: calls repeated for at least `min_seconds` (after one warm-up)."""
    rates = {}
    for batch in BATCHES:
        crops = np.random.default_rng(batch).standard_normal((batch, 3, size, size)).astype(np.float32)
        session.run(None, {"crops": crops})
        calls, started = 0, time.perf_counter()
        while calls == 0 or time.perf_counter() - started < min_seconds:
            session.run(None, {"crops": crops})
            calls += 1
        rates[str(batch)] = batch * calls / (time.perf_counter() - started)
    return rates


def write_forms(
    glimpse: Path, folder: Path, crops: np.ndarray, forms: tuple[Int8Form, ...], keep: bool
) -> dict[str, Any]:
    """{form name: its glimpse file, or the one-line reason it could not be written}."""
    written: dict[str, Any] = {"float32": glimpse}
    for form in forms:
        target = folder / f"glimpse.{form.name}.onnx"
        if keep and target.is_file():
            written[form.name] = target
            continue
        started = time.perf_counter()
        try:
            quantize_glimpse(glimpse, target, crops, form)
            written[form.name] = target
            print(f"  {form.name}: written in {time.perf_counter() - started:.0f} s", flush=True)
        except Exception as error:  # a form ORT cannot write is a result too
            written[form.name] = f"not written: {str(error).strip().splitlines()[0][:200]}"
            print(f"  {form.name}: {written[form.name]}", flush=True)
    return written


def open_forms(written: dict[str, Any], folder: Path) -> tuple[dict[str, Any], dict[str, Any]]:
    """Sessions as the app opens them (2 threads, no spinning), and each form's entry in the report."""
    sessions, entries = {}, {}
    for name, path in written.items():
        if not isinstance(path, Path):
            entries[name] = {"error": path}
            continue
        try:
            sessions[name] = open_session(path, ["CPUExecutionProvider"], THREADS)
            entries[name] = {"ops": optimized_op_counts(path, folder), "mb": path.stat().st_size / 1e6}
        except Exception as error:
            entries[name] = {"error": f"does not run: {str(error).strip().splitlines()[0][:200]}"}
    return sessions, entries


def measure_backbone(
    name: str,
    size: int,
    folder: Path,
    rounds: int,
    min_seconds: float,
    forms: tuple[Int8Form, ...],
    keep: bool = False,
) -> dict[str, Any]:
    print(f"{name}@{size}: exporting and quantising", flush=True)
    if keep and (folder / GLIMPSE_FILE).is_file():
        spec = build_backbone(name, size, pretrained=False).spec
    else:
        spec = _export_random(name, size, folder)[1].spec
    crops = calibration_crops(NTU_CLIP, spec, count=64)
    written = write_forms(folder / GLIMPSE_FILE, folder, crops, forms, keep)
    sessions, entries = open_forms(written, folder)
    reference = features(sessions["float32"], crops)
    for form, session in sessions.items():
        entries[form]["feature_change"] = feature_change(reference, features(session, crops))
    runs: dict[str, list[dict[str, float]]] = {form: [] for form in sessions}
    for round_index in range(rounds):  # interleaved: every form in every round
        for form, session in sessions.items():
            runs[form].append(time_round(session, size, min_seconds))
        print(f"  round {round_index + 1}/{rounds} done", flush=True)
    for form, rounds_of_form in runs.items():
        entries[form]["crops_per_s"] = {
            batch: {
                "fastest": max(r[batch] for r in rounds_of_form),
                "median": statistics.median(r[batch] for r in rounds_of_form),
            }
            for batch in rounds_of_form[0]
        }
    return {"crops": len(crops), "forms": entries}


def measure_trained(folder: Path, data: Path, out: Path, forms: tuple[Int8Form, ...]) -> dict[str, Any]:
    """A trained export's feature change per form on real NTU crops; each form as a full folder."""
    meta = read_metadata(folder / GLIMPSE_FILE)
    spec = build_backbone(meta["backbone"], int(meta["glimpse_input_size"]), pretrained=False).spec
    calibration, ntu = calibration_crops(data, spec), calibration_crops(NTU_CLIP, spec, count=64)
    # crops of clips the calibration never saw (it reads the first 16 clips of the sorted folder)
    held_out = np.concatenate([calibration_crops(clip, spec) for clip in sorted(data.glob("*.jsonl"))[-4:]])
    float32 = open_session(folder / GLIMPSE_FILE, ["CPUExecutionProvider"], THREADS)
    reference = {"ntu": features(float32, ntu), "held_out": features(float32, held_out)}
    result = {}
    for form in forms:
        target = out / f"trained-{form.name}"
        try:
            quantize_int8(folder, target, calibration, form)
            session = open_session(target / GLIMPSE_FILE, ["CPUExecutionProvider"], THREADS)
            result[form.name] = {
                "folder": str(target),
                "ntu": feature_change(reference["ntu"], features(session, ntu)),
                "held_out": feature_change(reference["held_out"], features(session, held_out)),
            }
        except Exception as error:
            result[form.name] = {"error": str(error).strip().splitlines()[0][:200]}
        print(f"  trained {form.name}: {result[form.name]}", flush=True)
    return result


def format_table(report: dict[str, Any]) -> str:
    lines = [
        "| backbone | form | crops/s b1 | b4 | b8 (fastest / median) | vs float32 (b8 fastest) "
        "| feature change max / median | conv kernels |",
        "| --- | --- | --- | --- | --- | --- | --- | --- |",
    ]
    for key, entry in report["backbones"].items():
        forms = entry["forms"]
        base = forms["float32"]["crops_per_s"]["8"]["fastest"]
        for form, data in forms.items():
            if "error" in data:
                lines.append(f"| {key} | {form} | {data['error']} | | | | | |")
                continue
            rates = data["crops_per_s"]
            cells = [f"{rates[b]['fastest']:.1f} / {rates[b]['median']:.1f}" for b in ("1", "4", "8")]
            conv = ", ".join(f"{op} {n}" for op, n in data["ops"].items() if "Conv" in op or "Linear" in op)
            change = data["feature_change"]
            lines.append(
                f"| {key} | {form} | {' | '.join(cells)} | {rates['8']['fastest'] / base:.2f}x "
                f"| {change['max']:.3f} / {change['median']:.3f} | {conv} |"
            )
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--out", type=Path, help="folder for the graphs (default: a temporary one)")
    parser.add_argument("--json", type=Path, help="write the report here too")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--min-seconds", type=float, default=0.5, help="per batch and round")
    parser.add_argument("--backbones", default="efficientnet_lite0:224,inception_v3:299")
    parser.add_argument("--forms", help="comma-separated form names (default: all)")
    parser.add_argument("--keep", action="store_true", help="reuse the graphs a run left in --out")
    parser.add_argument("--trained", type=Path, help="a trained float32 export folder")
    parser.add_argument("--trained-calibration", type=Path, help="its calibration clips")
    args = parser.parse_args(argv)
    if not NTU_CLIP.is_file():
        print(f"{NTU_CLIP}: the real NTU sample is needed for calibration crops", file=sys.stderr)
        return 2
    forms = tuple(f for f in FORMS if not args.forms or f.name in args.forms.split(","))
    out = args.out or Path(tempfile.mkdtemp(prefix="int8-forms-"))
    report: dict[str, Any] = {"onnxruntime": ort.__version__, "threads": THREADS, "backbones": {}}
    for item in filter(None, args.backbones.split(",")):
        name, size = item.split(":")
        folder = out / f"{name}-{size}"
        folder.mkdir(parents=True, exist_ok=True)
        report["backbones"][f"{name}@{size}"] = measure_backbone(
            name, int(size), folder, args.rounds, args.min_seconds, forms, args.keep
        )
    if args.trained:
        report["trained"] = measure_trained(args.trained, args.trained_calibration, out, forms)
    if args.json:
        args.json.write_text(json.dumps(report, indent=1, default=str))
    print(format_table(report))
    return 0


if __name__ == "__main__":
    sys.exit(main())
