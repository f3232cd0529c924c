"""Every command given a wrong path, a folder for a file, an output it cannot write, or a disk that fills:
one line on stderr, a non-zero exit code, no traceback; `--debug` shows the traceback.

The commands run in-process through `commands.cli.main(argv)`. Tests run as root, who may write anywhere, so
an unwritable output is a path under a regular FILE (mkdir fails) and a full disk is the recording
writer's write raising OSError(ENOSPC).
"""

from __future__ import annotations

import errno
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pytest

from sta_hands.commands.cli import main
from sta_hands.contract.errors import RecordingError
from sta_hands.recordings.own.recording import open_recording
from tests.recordings.xef_builder import XefOptions, make_frames, write_xef
from tests.robustness.registry import Cases

COMMANDS = Cases(
    "Commands",
    "`sta-hands COMMAND ...` run through `commands.cli.main(argv)`. Every case must print exactly one line "
    "on stderr (`sta-hands COMMAND: ...`), exit non-zero (2 for a bad input or path, 1 for other errors) and "
    "show no traceback. Cases marked (slow) first make a small feature cache and 1-epoch checkpoints.",
)
CLIPS = ("S002C001P003R001A003", "S004C002P003R001A017")  # skeleton-only real clips: features are fast


@dataclass
class Place:
    """Paths a case can use: a regular file, a folder, garbage, an .xef, a dataset; trained artefacts."""

    tmp: Path
    samples: Path
    trained: Path | None = None  # the folder of the `trained` fixture (slow cases only)

    def __post_init__(self) -> None:
        (self.tmp / "a-file").write_text("not a folder\n")
        (self.tmp / "a-folder").mkdir()
        (self.tmp / "garbage.skeleton").write_bytes(np.random.default_rng(0).bytes(3000))
        (self.tmp / "dataset").mkdir()
        for name in CLIPS:
            (self.tmp / "dataset" / f"{name}.skeleton").symlink_to(self.samples / f"{name}.skeleton")

    @property
    def file(self) -> Path:
        return self.tmp / "a-file"

    @property
    def folder(self) -> Path:
        return self.tmp / "a-folder"

    @property
    def under_file(self) -> Path:
        return self.file / "out"

    @property
    def dataset(self) -> Path:
        return self.tmp / "dataset"

    @property
    def xef(self) -> Path:
        path = self.tmp / "clip.xef"
        if not path.exists():
            write_xef(path, make_frames(8), XefOptions(quality=30))
        return path

    def artefact(self, name: str) -> Path:
        assert self.trained is not None
        return self.trained / name


@dataclass(frozen=True)
class Run:
    argv: Callable[[Place], list[str]]
    message: str  # a fragment of the one line on stderr
    names: Callable[[Place], Path] | None = None  # the path that line must name
    code: int = 2
    prepare: Callable[[Place, pytest.MonkeyPatch], None] | None = None
    after: Callable[[Place], None] | None = None  # checks on what was left on disk


def disk_full_after(writes: int) -> Callable[[Place, pytest.MonkeyPatch], None]:
    """The recording writer's writes fail with ENOSPC after `writes` of them (and keep failing)."""

    def prepare(place: Place, monkeypatch: pytest.MonkeyPatch) -> None:
        from sta_hands.recordings.own import append_file

        real = append_file._write_all
        count = [0]

        def write_all(file, data: bytes) -> None:
            count[0] += 1
            if count[0] > writes:
                raise OSError(errno.ENOSPC, "No space left on device")
            real(file, data)

        monkeypatch.setattr(append_file, "_write_all", write_all)

    return prepare


def recording_kept_its_whole_frames(place: Place) -> None:
    recording = open_recording(place.tmp / "converted")
    assert recording.recovered and recording.num_frames >= 2
    frames = list(recording.frames())
    assert len(frames) == recording.num_frames and all(f.image is not None for f in frames)


def tiny_bench_report(place: Place, monkeypatch: pytest.MonkeyPatch) -> None:
    bench = pytest.importorskip("sta_hands.export.bench.speed")
    monkeypatch.setattr(bench, "run_bench", lambda *args, **kwargs: {"note": "measured nothing (test)"})


def add(
    id: str,
    bad: str,
    outcome: str,
    argv: Callable[[Place], list[str]],
    message: str,
    names: Callable[[Place], Path] | None = None,
    *,
    slow: bool = False,
    **run: object,
) -> None:
    COMMANDS.add(id, bad, outcome, Run(argv, message, names, **run), slow=slow)  # type: ignore[arg-type]


add(
    "info-missing-path",
    "`info` of a path that does not exist",
    "`...: no clip found: neither X.skeleton nor X_rgb.avi exists`",
    lambda p: ["info", str(p.tmp / "nope.skeleton")],
    "no clip found",
    lambda p: p.tmp / "nope",
)
add(
    "info-folder",
    "`info` of a folder",
    "`...: a folder; give a .skeleton, _rgb.avi or .jsonl file`",
    lambda p: ["info", str(p.folder)],
    "a folder",
    lambda p: p.folder,
)
add(
    "info-binary-file",
    "`info` of random bytes named .skeleton",
    "`...:line 1: expected ASCII text, found byte 0x..`",
    lambda p: ["info", str(p.tmp / "garbage.skeleton")],
    "expected ASCII text",
    lambda p: p.tmp / "garbage.skeleton",
)
add(
    "run-folder",
    "`run` of a folder",
    "`...: a folder; give a clip (.skeleton, _rgb.avi) or a recording (.jsonl)`",
    lambda p: ["run", str(p.folder), "--headless"],
    "a folder",
    lambda p: p.folder,
)
add(
    "run-damaged-skeleton",
    "`run` of random bytes named .skeleton",
    "the reader's error, with its line",
    lambda p: ["run", str(p.tmp / "garbage.skeleton"), "--headless"],
    "expected ASCII text",
    lambda p: p.tmp / "garbage.skeleton",
)
add(
    "run-model-is-a-file",
    "`run --model` naming a regular file",
    "`...: model folder not found (it should hold glimpse.onnx, head.onnx)`",
    lambda p: ["run", "synthetic", "--headless", "--model", str(p.file)],
    "model folder not found",
    lambda p: p.file,
)
add(
    "synth-out-under-a-file",
    "`synth` into a folder that cannot be created (a path under a regular file)",
    "`...: cannot create the folder: Not a directory`, before any progress bar (fixed: it failed in the "
    "middle of the bar, without saying which folder)",
    lambda p: ["synth", str(p.under_file), "--clips", "1", "--workers", "1"],
    "cannot create the folder",
    lambda p: p.under_file,
)
add(
    "convert-missing",
    "`convert` of a missing .xef",
    "`...: file not found`",
    lambda p: ["convert", str(p.tmp / "nope.xef"), str(p.tmp / "out")],
    "file not found",
    lambda p: p.tmp / "nope.xef",
)
add(
    "convert-folder",
    "`convert` of a folder",
    "`...: expected an .xef file, found a directory`",
    lambda p: ["convert", str(p.folder), str(p.tmp / "out")],
    "found a directory",
    lambda p: p.folder,
)
add(
    "convert-out-under-a-file",
    "`convert` to a recording whose folder cannot be created",
    "`...: cannot create the folder: Not a directory`",
    lambda p: ["convert", str(p.xef), str(p.under_file / "rec")],
    "cannot create the folder",
    lambda p: p.under_file,
)
add(
    "convert-disk-full",
    "`convert` while the disk fills up (every write fails with ENOSPC after the 12th)",
    "`..._rgb.avi:byte N: cannot write: [Errno 28] No space left on device`; the frames written before open "
    "as a recovered recording",
    lambda p: ["convert", str(p.xef), str(p.tmp / "converted")],
    "No space left on device",
    prepare=disk_full_after(12),
    after=recording_kept_its_whole_frames,
)
add(
    "export-missing",
    "`export` of a missing checkpoint",
    "`...: No such file or directory: ...`",
    lambda p: ["export", str(p.tmp / "nope.safetensors"), "--out", str(p.tmp / "x")],
    "No such file or directory",
    lambda p: p.tmp / "nope.safetensors",
)
add(
    "export-folder",
    "`export` of a folder",
    "`CheckpointError: ...: not a safetensors file (No such device (os error 19))`; exit 1",
    lambda p: ["export", str(p.folder), "--out", str(p.tmp / "x")],
    "not a safetensors file",
    lambda p: p.folder,
    code=1,
)
add(
    "export-garbage",
    "`export` of random bytes",
    "`CheckpointError: ...: not a safetensors file (...)`; exit 1",
    lambda p: ["export", str(p.tmp / "garbage.skeleton"), "--out", str(p.tmp / "x")],
    "not a safetensors file",
    lambda p: p.tmp / "garbage.skeleton",
    code=1,
)
add(
    "export-out-under-a-file",
    "`export` of a real two-stream checkpoint into a folder that cannot be created",
    "`[Errno 20] Not a directory: ...`",
    lambda p: ["export", str(p.artefact("run/two_stream.safetensors")), "--out", str(p.under_file)],
    "Not a directory",
    lambda p: p.under_file,
    slow=True,
)
add(
    "evaluate-missing-data",
    "`evaluate` of a dataset folder that does not exist",
    "`...: dataset folder not found`",
    lambda p: ["evaluate", "--model", str(p.folder), "--data", str(p.tmp / "nope")],
    "dataset folder not found",
    lambda p: p.tmp / "nope",
)
add(
    "evaluate-missing-model",
    "`evaluate --model` of a path that does not exist",
    "`...: no such checkpoint file or exported model folder`",
    lambda p: ["evaluate", "--model", str(p.tmp / "nope"), "--data", str(p.dataset)],
    "no such checkpoint file or exported model folder",
    lambda p: p.tmp / "nope",
)
add(
    "evaluate-out-under-a-file",
    "`evaluate` of a real checkpoint with an `--out` folder that cannot be created",
    "`[Errno 20] Not a directory: ...` after the evaluation",
    lambda p: [
        *("evaluate", "--model", str(p.artefact("run/pose/best.safetensors")), "--data", str(p.dataset)),
        *("--features", str(p.artefact("cache")), "--out", str(p.under_file)),
    ],
    "Not a directory",
    lambda p: p.under_file,
    slow=True,
)
add(
    "features-data-is-a-file",
    "`features` of a regular file",
    "`...: expected a folder`",
    lambda p: ["features", str(p.file), "--out", str(p.tmp / "cache")],
    "expected a folder",
    lambda p: p.file,
)
add(
    "features-out-under-a-file",
    "`features` into a cache folder that cannot be created",
    "`[Errno 20] Not a directory: ...`",
    lambda p: ["features", str(p.dataset), "--out", str(p.under_file), "--random-weights"],
    "Not a directory",
    lambda p: p.under_file,
)
add(
    "train-features-not-a-cache",
    "`train --features` of a regular file",
    "`.../cache.json: not a feature cache (no cache.json); make one with sta-hands features`",
    lambda p: [
        "train",
        "--data",
        str(p.dataset),
        "--features",
        str(p.file),
        "--stream",
        "pose",
        "--split",
        "none",
    ],
    "not a feature cache",
)
add(
    "train-out-under-a-file",
    "`train` of a real cache into a run folder that cannot be created",
    "`[Errno 20] Not a directory: ...`",
    lambda p: [
        *("train", "--data", str(p.dataset), "--features", str(p.artefact("cache")), "--stream", "pose"),
        *("--split", "none", "--epochs", "1", "--out", str(p.under_file)),
    ],
    "Not a directory",
    lambda p: p.under_file,
    slow=True,
)
add(
    "bench-json-under-a-file",
    "`bench --json` into a folder that cannot be created (the measurements replaced by a stub)",
    "`[Errno 20] Not a directory: ...`",
    lambda p: ["bench", "--json", str(p.under_file / "report.json")],
    "Not a directory",
    lambda p: p.under_file,
    prepare=tiny_bench_report,
)
add(
    "bench-bad-backbone",
    "`bench --backbones nonsense` (no @SIZE)",
    "one line, exit 2: --backbones takes NAME@SIZE items",
    lambda p: ["bench", "--backbones", "nonsense"],
    "NAME@SIZE",
    code=2,
)

add(
    "export-int8-without-calibration",
    "`export CHECKPOINT --int8` without `--calibration` (the checkpoint: random bytes)",
    "one line, exit 2: `--int8 needs --calibration DATA: ...`, before the checkpoint is read (it was said "
    "after the whole export)",
    lambda p: ["export", str(p.tmp / "garbage.skeleton"), "--out", str(p.tmp / "out"), "--int8"],
    "--int8 needs --calibration DATA",
    code=2,
)
add(
    "run-speed-zero",
    "`run --headless --realtime --speed 0` (the recorded times are divided by it)",
    "one line, exit 2: `--speed 0: expected a finite number above 0` (was a ZeroDivisionError)",
    lambda p: ["run", "synthetic", "--headless", "--realtime", "--speed", "0"],
    "--speed 0: expected a finite number above 0",
    code=2,
)
add(
    "run-speed-negative",
    "`run --headless --speed -1`",
    "one line, exit 2: `--speed -1: expected a finite number above 0` (was accepted)",
    lambda p: ["run", "synthetic", "--headless", "--speed", "-1"],
    "--speed -1: expected a finite number above 0",
    code=2,
)
add(
    "run-still-crops-nan",
    "`run --headless --still-crops nan`",
    "one line, exit 2: `--still-crops nan: expected a finite number of grey levels, 0 or more` (was "
    "accepted)",
    lambda p: ["run", "synthetic", "--headless", "--still-crops", "nan"],
    "--still-crops nan: expected a finite number",
    code=2,
)


@pytest.fixture(scope="module")
def trained(tmp_path_factory: pytest.TempPathFactory, ntu_samples: Path) -> Path:
    """A feature cache of two skeleton-only clips and 1-epoch checkpoints (pose and two-stream)."""
    pytest.importorskip("torch")
    folder = tmp_path_factory.mktemp("trained")
    data = folder / "dataset"
    data.mkdir()
    for name in CLIPS:
        (data / f"{name}.skeleton").symlink_to(ntu_samples / f"{name}.skeleton")
    assert main(["features", str(data), "--out", str(folder / "cache"), "--random-weights"]) == 0
    train = ["train", "--data", str(data), "--features", str(folder / "cache"), "--stream", "both"]
    assert main([*train, "--split", "none", "--epochs", "1", "--out", str(folder / "run")]) == 0
    return folder


@COMMANDS.parametrize()
def test_a_command_fails_in_one_line_without_a_traceback(
    case, tmp_path: Path, ntu_samples: Path, monkeypatch: pytest.MonkeyPatch, capsys, request
) -> None:
    run: Run = case.data
    place = Place(tmp_path, ntu_samples, request.getfixturevalue("trained") if case.slow else None)
    argv = run.argv(place)
    if run.prepare is not None:
        run.prepare(place, monkeypatch)
    capsys.readouterr()
    code = main(argv)
    err = capsys.readouterr().err
    assert code == run.code, err
    assert err.endswith("\n") and err.count("\n") == 1, f"not one line: {err!r}"
    assert err.startswith(f"sta-hands {argv[0]}: ") and "Traceback" not in err
    assert run.message in err
    if run.names is not None:
        assert str(run.names(place)) in err, err
    if run.after is not None:
        run.after(place)


@COMMANDS.covers("info-missing-path", "convert-disk-full")
def test_debug_shows_the_traceback(
    tmp_path: Path, ntu_samples: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    with pytest.raises(RecordingError, match="no clip found"):
        main(["--debug", "info", str(tmp_path / "nope.skeleton")])
    place = Place(tmp_path, ntu_samples)
    disk_full_after(12)(place, monkeypatch)
    with pytest.raises(RecordingError, match="No space left on device") as caught:
        main(["--debug", "convert", str(place.xef), str(tmp_path / "converted")])
    assert caught.traceback  # the full chain reaches the caller
