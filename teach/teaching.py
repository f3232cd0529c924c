"""`sta-hands teach`: a model of the user's own actions, from a handful of examples, in about a minute on a
laptop CPU (issue 13). The GUI's Teach panel runs this command as a subprocess and reads its progress.

    sta-hands teach EXAMPLES --out MODEL [--base MODEL] [--seconds-budget S] [--json FILE]
                    [--progress-jsonl] [--tiny] [--cache DIR]

- EXAMPLES: a folder of the app's own recordings, each labelled by the `action` key of its sidecar
  header, or of NTU clips labelled by their action code (`teach.example_set`, which also reads
  `EXAMPLES/teach.json`: ``{"not_hand_specific": ["clap", ...]}``, the actions that may also be learnt
  from mirrored examples). Nothing is written into EXAMPLES.
- MODEL: new, an empty folder, or a model folder that teach wrote (its head.onnx carries the `teach`
  metadata) holding nothing but the model's files and the faithfulness figures `evaluate
  --save-faithfulness` wrote of it (`REPLACED_FILES`): only such a folder is replaced. Any
  other (a file the user keeps there, a subfolder, a model that teach did not write), MODEL inside
  EXAMPLES and EXAMPLES inside MODEL are refused with one line before anything runs, and checked again
  before the new model takes MODEL's place: teach never deletes what it did not write.
- MODEL's content: an ordinary exported model folder (`glimpse.onnx`, copied from the base, and the head from
  `export.onnx.export_model`) that `run --model`, `evaluate --model` and the GUI open. It is written into a
  temporary folder beside MODEL and renamed at the end, so an interrupted or failed run leaves no
  half-written MODEL (and an existing model there stays until the new one is whole; a run killed
  outright leaves a hidden ``.MODEL.teach-*`` folder, which the next run removes once an hour old).
  Its metadata is the contract's (`contract.onnx_contract`: class names, window, `trained_on`) plus
  `teach`, a JSON object:
  ``{"examples": {action: n}, "trained_at": ISO time, "base": folder, "base_version": ...,
  "examples_folder": ..., "mirrored": [...], "validation_accuracy": a|null, "epochs": n, "notes": [...]}``.
- --base: the model whose frozen glimpse CNN computes the features and whose pose stream and attention
  MLPs the new model starts from (default: the bundled demo). --seconds-budget: training stops early
  once the whole run has taken S seconds less the export's usual time. --cache: where features are
  kept (`teach.features`). --tiny: the smallest settings, for tests.
- --pose-stream: shift-gcn (the default where the bundled Shift-GCN is) or deep-gru. shift-gcn: the
  frozen GCN's pooled features of the examples and a linear head taught on them (`teach.gcn`)
  make the pose stream; the model is then a plugin model (`app.plugin_model`: MODEL also holds
  `pose_model.onnx` with the GCN's LICENSE and NOTICE; head.onnx keeps the Deep GRU taught beside the
  RGB stream, unused by the app, so the folder still serves as a --base), and its
  validation accuracy is the RGB stream's plus the GCN head's logits. deep-gru: the paper's pose
  stream, taught with the RGB stream, as before.
- --progress-jsonl: stdout gets one JSON object per line, flushed:
  ``{"stage": "features"|"training"|"export", "done": int, "total": int, "eta_s": float|null,
  "message": str}``, and finally ``{"stage": "done", "model": path, "classes": [...], "examples":
  {name: n}, "seconds": s, "validation_accuracy": a|null, "message": str}``; on failure the exit code
  is not 0 and the last line is ``{"stage": "error", "message": one clear line}`` (also for SIGTERM /
  SIGINT, which stop the run cleanly: exit code 130).
- --json FILE: ``{"classes": [...], "examples": {name: n}, "seconds": s, "validation_accuracy": a}``.

How it learns fast: `teach.features` (features through the base's glimpse.onnx, cached),
`teach.augment` (pose rotation, scale, jitter; mirroring), `teach.train` (both streams at
once, early stopping on held-out examples), `teach.base` (the base's transferable weights).
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import shutil
import signal
import sys
import time
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from typing import Any, TextIO

from sta_hands.app.faithfulness_note import FAITHFULNESS_FILE
from sta_hands.app.runtime import OnnxModel, default_model_folder
from sta_hands.contract.errors import UserError
from sta_hands.contract.onnx_contract import GLIMPSE_FILE, HEAD_FILE, PROJECTION_FILE
from sta_hands.contract.pose_model_contract import POSE_MODEL_FILE
from sta_hands.export.onnx_metadata import read_metadata, write_metadata
from sta_hands.teach.base import base_config, base_weights_for
from sta_hands.teach.example_set import ExampleSet, TeachInputError, find_examples
from sta_hands.teach.features import default_cache_root, example_features
from sta_hands.teach.gcn import GcnOutcome, bundled_gcn, teach_gcn_head, write_pose_model
from sta_hands.teach.train import TINY, TeachOutcome, TeachSettings, config_for, teach_model

MODEL_VERSION = "teach-1"
EXPORT_SECONDS = 10.0  # kept for the export when --seconds-budget ends training early
TEACH_KEY = "teach"
STALE_STAGING_S = 3600.0
# what write_model may leave in MODEL (a plugin model: the GCN with its taught head, its licence)
MODEL_FILES = frozenset({GLIMPSE_FILE, PROJECTION_FILE, HEAD_FILE, POSE_MODEL_FILE, "LICENSE", "NOTICE"})
REPLACED_FILES = MODEL_FILES | {FAITHFULNESS_FILE}  # the old model's figures go with it
POSE_STREAMS = ("shift-gcn", "deep-gru")


class Progress:
    """Where a run reports what it does: JSON lines on `stream` (--progress-jsonl), else short lines on
    stderr at most every `every_s` seconds per stage."""

    def __init__(self, jsonl: bool, stream: TextIO | None = None, every_s: float = 2.0) -> None:
        self.jsonl, self.stream, self.every_s = jsonl, stream or sys.stdout, every_s
        self._last: dict[str, float] = {}

    def stage(self, stage: str, done: int, total: int, eta_s: float | None, message: str) -> None:
        if self.jsonl:
            eta = None if eta_s is None else round(eta_s, 1)
            self.line({"stage": stage, "done": done, "total": total, "eta_s": eta, "message": message})
            return
        now = time.monotonic()
        if done in (0, total) or now - self._last.get(stage, -1e9) >= self.every_s:
            self._last[stage] = now
            left = "" if eta_s is None else f", about {eta_s:.0f} s left"
            print(f"{stage} {done}/{total}{left}: {message}", file=sys.stderr, flush=True)

    def line(self, record: dict[str, Any]) -> None:
        if self.jsonl:
            print(json.dumps(record), file=self.stream, flush=True)


class _Clock:
    """Estimates of the time left in a stage, from its pace so far."""

    def __init__(self) -> None:
        self.started = time.monotonic()

    def eta(self, done: int, total: int) -> float | None:
        if done <= 0:
            return None
        return (time.monotonic() - self.started) / done * (total - done)


def teach(
    examples: str | Path,
    out: str | Path,
    *,
    base: str | Path | None = None,
    seconds_budget: float | None = None,
    settings: TeachSettings | None = None,
    cache_root: str | Path | None = None,
    progress: Progress | None = None,
    pose_stream: str | None = None,
) -> dict[str, Any]:
    """Teach a model of the actions in `examples` and write it to `out`; the "done" record."""
    started = time.monotonic()
    gcn_folder = _gcn_folder(pose_stream)
    settings = settings or TeachSettings()
    progress = progress or Progress(jsonl=False)
    out = Path(out)
    _check_out(out, Path(examples))
    _remove_stale_staging(out)
    found = find_examples(examples)
    # one ONNX Runtime thread: the next example decodes in another meanwhile (measured on the shared
    # 2 cores: 180 crops in 0.34 s with one thread, 0.62 s with the default pool)
    base_model = OnnxModel(base if base is not None else default_model_folder(), provider="cpu", threads=1)
    clock = _Clock()

    def on_example(done: int, total: int) -> None:
        progress.stage(
            "features", done, total, clock.eta(done, total), f"glimpse features of {done} of {total} examples"
        )

    data = example_features(
        found.examples, base_model, Path(cache_root or default_cache_root()), found.mirrored,
        settings.frame_stride, on_example,
    )  # fmt: skip
    clock = _Clock()

    def on_epoch(done: int, total: int, message: str) -> None:
        progress.stage("training", done, total, clock.eta(done, total), message)

    config = base_config(base_model)
    deadline = None if seconds_budget is None else started + seconds_budget - EXPORT_SECONDS
    outcome = teach_model(
        data, config_for(config, len(found.class_names)), settings,
        base=base_weights_for(base_model, config), deadline=deadline, on_epoch=on_epoch,
    )  # fmt: skip
    gcn = None
    if gcn_folder is not None:
        message = "the pose stream's head on the frozen Shift-GCN"
        progress.stage("training", outcome.epochs, outcome.epochs, 0.0, message)
        gcn = teach_gcn_head(data, found.class_names, found.mirrored, outcome, gcn_folder, settings.seed)
        outcome.notes.append(gcn.note)
        outcome.validation_accuracy = gcn.validation_accuracy
    progress.stage("export", 0, 1, EXPORT_SECONDS, "writing the model folder")
    record = _record(found, outcome, base_model, started)
    with _staging(out) as staging:
        write_model(outcome, found, base_model, record, staging, gcn)
    record["seconds"] = round(time.monotonic() - started, 2)
    progress.stage("export", 1, 1, 0.0, f"wrote {out}")
    return {
        "stage": "done",
        "model": str(out),
        "classes": list(found.class_names),
        "examples": found.counts(),
        "seconds": record["seconds"],
        "validation_accuracy": outcome.validation_accuracy,
        "message": "; ".join(
            [f"taught {len(found.class_names)} actions in {record['seconds']:.0f} s", *outcome.notes]
        ),
    }


def _record(found: ExampleSet, outcome: TeachOutcome, base: OnnxModel, started: float) -> dict[str, Any]:
    return {
        "examples": found.counts(),
        "trained_at": datetime.now().astimezone().isoformat(timespec="seconds"),
        "base": str(base.folder),
        "base_version": base.info.model_version,
        "examples_folder": str(found.folder.resolve()),
        "mirrored": sorted(found.mirrored),
        "validation_accuracy": outcome.validation_accuracy,
        "epochs": outcome.epochs,
        "notes": outcome.notes,
        "seconds": round(time.monotonic() - started, 2),
    }


def _gcn_folder(pose_stream: str | None) -> Path | None:
    """The bundled GCN to teach on for `pose_stream` (None: shift-gcn where bundled), None for Deep GRU."""
    if pose_stream not in (None, *POSE_STREAMS):
        raise TeachInputError(f"--pose-stream {pose_stream}: expected one of {', '.join(POSE_STREAMS)}")
    folder = bundled_gcn() if pose_stream != "deep-gru" else None
    if pose_stream == "shift-gcn" and folder is None:
        raise TeachInputError("--pose-stream shift-gcn: the bundled Shift-GCN model is missing")
    return folder


def write_model(
    outcome: TeachOutcome, found: ExampleSet, base: OnnxModel, record: dict[str, Any], folder: Path,
    gcn: GcnOutcome | None = None,
) -> None:  # fmt: skip
    """The exported head (`export.onnx.export_model`, parity-checked) beside the base's own glimpse.onnx,
    every file carrying the same metadata; with `gcn`, the GCN with its taught head beside them (a plugin
    model, which reads the head's RGB stream alone)."""
    from sta_hands.export.onnx import ExportMetadata, export_model
    from sta_hands.models.glimpse import build_backbone

    info = base.info
    # export_model writes a glimpse CNN too: a random-weight one of the base's kind, replaced below by
    # the base's own file (the features the model was taught on)
    stand_in = build_backbone(info.backbone, info.glimpse_input_size, pretrained=False)
    spec = stand_in.spec
    if (spec.feature_dim, tuple(spec.mean), tuple(spec.std)) != (
        info.feature_dim,
        tuple(info.mean),
        tuple(info.std),
    ):
        raise UserError(
            f"{base.folder}: its glimpse CNN ({info.backbone}) is not the registered one of that name"
        )
    counts = ", ".join(f"{name} {n}" for name, n in record["examples"].items())
    trained_on = (
        f"taught by sta-hands teach on {record['trained_at']} from "
        f"{sum(record['examples'].values())} examples in {record['examples_folder']} ({counts}); "
        f"base model {base.folder} ({info.model_version})"
    )
    metadata = ExportMetadata(found.class_names, outcome.window_seconds, trained_on, MODEL_VERSION)
    if gcn is not None:  # the GCN is the pose stream; the head keeps its taught Deep GRU (a later --base)
        write_pose_model(gcn.gcn_folder, gcn.head, found.class_names, trained_on, folder)
    export_model(outcome.model, stand_in, metadata, folder)
    props = read_metadata(folder / HEAD_FILE)
    props[TEACH_KEY] = json.dumps(record)
    shutil.copyfile(base.folder / GLIMPSE_FILE, folder / GLIMPSE_FILE)
    for path in sorted(folder.glob("*.onnx")):
        if path.name != POSE_MODEL_FILE:  # the pose model keeps its own contract's metadata
            write_metadata(path, props)


def _check_out(out: Path, examples: Path) -> None:
    """Refuse an `out` that is or holds the examples, or lies inside them, or that teach may not replace."""
    out_path, examples_path = out.resolve(), examples.resolve()
    if out_path == examples_path or examples_path in out_path.parents:
        raise TeachInputError(f"{out}: inside the examples folder {examples}; write the model elsewhere")
    if out_path in examples_path.parents:
        raise TeachInputError(f"{out}: holds the examples folder {examples}; write the model elsewhere")
    _check_replaceable(out)


def _check_replaceable(out: Path) -> None:
    """`out` is absent, an empty folder, or a model folder that teach wrote and nothing else (module
    docstring); otherwise one line saying what teach would have deleted."""
    if not out.exists() and not out.is_symlink():
        return
    if out.is_symlink():
        raise TeachInputError(f"{out}: a link; give the folder it points to, or another --out")
    if not out.is_dir():
        raise TeachInputError(f"{out}: exists and is not a folder; choose another --out")
    if not any(out.iterdir()):
        return
    foreign = sorted(_not_written_by_teach(out))
    if foreign:
        raise TeachInputError(
            f"{out}: holds {foreign[0]!r}, which teach did not write; teach replaces only a model folder "
            "it wrote: choose another --out"
        )
    try:
        taught = TEACH_KEY in read_metadata(out / HEAD_FILE)
    except Exception:  # not an ONNX model: not one that teach wrote
        taught = False
    if not taught:
        raise TeachInputError(
            f"{out}: a model that teach did not write (no '{TEACH_KEY}' in {HEAD_FILE}'s metadata); "
            "choose another --out"
        )


def _not_written_by_teach(folder: Path) -> list[str]:
    """The names in `folder` that are not plain files of those `REPLACED_FILES` names."""
    return [
        path.name for path in folder.iterdir()
        if path.name not in REPLACED_FILES or path.is_symlink() or not path.is_file()
    ]  # fmt: skip


def _remove_stale_staging(out: Path) -> None:
    """The staging folders of runs killed outright (no SIGTERM, e.g. Windows' forced end of a process)
    beside `out`, older than `STALE_STAGING_S` (a run takes minutes), holding nothing but model files."""
    for pattern in (f".{out.name}.teach-*", f".{out.name}.old-*"):
        for folder in out.parent.glob(pattern):
            with contextlib.suppress(OSError):
                if (
                    folder.is_dir() and not folder.is_symlink()
                    and time.time() - folder.stat().st_mtime > STALE_STAGING_S
                    and not _not_written_by_teach(folder)
                ):  # fmt: skip
                    shutil.rmtree(folder)


@contextlib.contextmanager
def _staging(out: Path) -> Iterator[Path]:
    """A temporary folder beside `out`, renamed to `out` when the block ends well, removed otherwise."""
    out.parent.mkdir(parents=True, exist_ok=True)
    staging = out.with_name(f".{out.name}.teach-{os.getpid()}-{time.time_ns()}")
    staging.mkdir()  # not mkdtemp: the model folder gets the user's usual permissions
    try:
        yield staging
        _check_replaceable(out)  # again: files may have been put there while it trained
        if out.exists():
            old = out.with_name(f".{out.name}.old-{os.getpid()}")
            out.rename(old)
            staging.rename(out)
            shutil.rmtree(old, ignore_errors=True)
        else:
            staging.rename(out)
    finally:
        shutil.rmtree(staging, ignore_errors=True)


# ------------------------------------------------------------------------------------------ the command


def _interrupt(signum: int, frame: object) -> None:
    raise KeyboardInterrupt(signal.Signals(signum).name)


def run_teach(args: argparse.Namespace) -> int:
    """The command's body (`export.commands` holds its options): progress, errors and SIGTERM."""
    progress = Progress(args.progress_jsonl)
    previous = signal.signal(signal.SIGTERM, _interrupt)
    try:
        result = teach(
            args.examples, args.out, base=args.base, seconds_budget=args.seconds_budget,
            settings=TINY if args.tiny else None, cache_root=args.cache, progress=progress,
            pose_stream=args.pose_stream,
        )  # fmt: skip
    except KeyboardInterrupt as stop:
        progress.line(
            {"stage": "error", "message": f"stopped ({stop or 'interrupted'}); {args.out} was not written"}
        )
        raise
    except UserError as error:
        progress.line({"stage": "error", "message": str(error)})
        raise
    except Exception as error:
        progress.line({"stage": "error", "message": f"{type(error).__name__}: {error}"})
        raise
    finally:
        signal.signal(signal.SIGTERM, previous)
    if args.json:
        keys = ("classes", "examples", "seconds", "validation_accuracy")
        Path(args.json).write_text(
            json.dumps({k: result[k] for k in keys}, indent=2) + "\n", encoding="utf-8"
        )
    if args.progress_jsonl:
        progress.line(result)
    else:
        print(f"wrote {result['model']}: {result['message']}")
    return 0
