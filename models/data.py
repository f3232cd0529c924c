"""Datasets on disk: which clips a folder holds, their labels and splits, and each clip's raw inputs.

Torch-free. A dataset folder holds, at any depth:
- NTU RGB+D clips: `SsssCcccPpppRrrrAaaa.skeleton`, with or without `..._rgb.avi` beside it or in
  any other folder below (the download's `nturgb+d_rgb/` beside `nturgb+d_skeletons/`, NTU-120's
  extra folders). The label is the action in the name (A001 -> class 0), the class names
  `NTU60_CLASSES`, or `NTU120_CLASSES` where any clip is one of NTU-120's actions (A061-A120; its
  own benchmarks are not implemented: `split` refuses them). Samples named in the official lists of
  missing skeletons (`MISSING_LIST_NAMES`, in the folder, or given) are skipped and counted; a video
  without a skeleton is skipped and counted, unless `pose` estimates bodies from its images ("auto"
  or "estimate", `recordings.sources.open_reader`'s choice: then `clip_inputs` reads estimated
  bodies and body-scaled hand crops).
- the app's own recordings (a `.jsonl` sidecar beside `.skeleton` and `_rgb.avi`), synthetic clips
  included: the label is the header's `synthetic.class_index` (else the NTU name's action), the class
  names the header's `class_names` (else `NTU60_CLASSES`). Synthetic clips also carry, per frame, the
  hands that act (`active_hands`), the ground truth of the attention score.

Splits are NTU's official cross-subject ("cs", by performer) and cross-view ("cv", by camera) ones
(`recordings.ntu.clip.split_of`); synthetic clips have NTU names and split the same way.

Per clip, `clip_inputs` reads every frame once and returns the raw model inputs for the whole clip:
the two main bodies are chosen over the whole clip (`select_main_bodies`, as the NTU authors do), then
`contract.inputs.window_inputs` (the one place frames become inputs) gives the pose T x 150, the
hand mask T x 4 and the hand crops.
"""

from __future__ import annotations

import zlib
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any, Literal

import numpy as np

from sta_hands.contract.body_slots import select_main_bodies
from sta_hands.contract.errors import RecordingError
from sta_hands.contract.frame import Frame
from sta_hands.contract.inputs import (
    NUM_BODIES,
    NUM_HANDS,
    HandFrame,
    hand_frame,
    segment_indices,
    window_inputs,
)
from sta_hands.contract.reader import Reader, read
from sta_hands.recordings.ntu.clip import (
    NTU60_CLASSES,
    SAMPLE_NAME,
    SKELETON_SUFFIX,
    VIDEO_SUFFIX,
    NtuClip,
    SampleName,
    parse_sample_name,
    read_missing_list,
    split_of,
)
from sta_hands.recordings.ntu.names import NTU120_CLASSES
from sta_hands.recordings.own.recording import SIDECAR_SUFFIX, Recording, open_recording
from sta_hands.recordings.sources import open_reader, with_mirror, with_pose

MISSING_LIST_NAME = "NTU_RGBD_samples_with_missing_skeletons.txt"  # NTU-60's 302 samples
MISSING_LIST_NAMES = (MISSING_LIST_NAME, "NTU_RGBD120_samples_with_missing_skeletons.txt")  # + NTU-120's
Benchmark = Literal["cs", "cv"]
Side = Literal["train", "test"]


class DataError(RecordingError):
    """A dataset, a clip or a feature cache that cannot be used as asked; the message names the file."""

    def __init__(self, path: str | Path | None, problem: str, position: str | None = None) -> None:
        super().__init__(path, problem, position)
        if path is None:  # a problem with the request itself: no file to name
            self.args = (problem,)


# ------------------------------------------------------------------------------------------ the index


@dataclass(frozen=True)
class ClipRef:
    """One clip of a dataset: where it is, what kind, its label and its parsed NTU name (if any)."""

    name: str  # the file stem, unique in the dataset
    stem: Path  # <folder>/<name>: the .skeleton, _rgb.avi and .jsonl lie beside it
    kind: Literal["ntu", "recording"]
    label: int  # 0-based class index
    sample: SampleName | None  # None for a recording whose name is not an NTU sample name
    synthetic: bool = False  # a synthetic recording: per-frame active hands in its sidecar
    video: Path | None = None  # an NTU video kept in another folder than its skeleton (the download's)
    pose: str = "kinect"  # where its bodies come from: open_reader's pose ("auto", "kinect", "estimate")
    mirror: str = "auto"  # whether its images are flipped: open_reader's mirror ("auto", "yes", "no")


@dataclass(frozen=True)
class Dataset:
    """The usable clips of a folder, sorted by name, and what was skipped."""

    root: Path
    clips: tuple[ClipRef, ...]
    class_names: tuple[str, ...]
    missing_skipped: tuple[str, ...] = ()  # in the official list of missing skeletons
    video_only: tuple[str, ...] = ()  # an _rgb.avi without a .skeleton: no pose, skipped

    def split(self, benchmark: str | None, side: Side) -> list[ClipRef]:
        """The clips on `side` of the benchmark ("cs" or "cv"); every clip when `benchmark` is None."""
        if benchmark is None:
            return list(self.clips)
        if self.class_names == NTU120_CLASSES:
            raise DataError(
                self.root,
                f"NTU-120's benchmarks (its cross-subject and cross-setup splits) are not implemented, and "
                f"{benchmark} is NTU-60's; use --split none, or a folder of NTU-60's samples (A001-A060)",
            )
        unnamed = [clip for clip in self.clips if clip.sample is None]
        if unnamed:
            raise DataError(
                unnamed[0].stem.with_name(unnamed[0].name + SIDECAR_SUFFIX),
                f"not an NTU sample name, so it has no {benchmark} split side ({len(unnamed)} such clips); "
                "evaluate without --split or rename the recordings SsssCcccPpppRrrrAaaa",
            )
        return [clip for clip in self.clips if split_of(clip.sample, benchmark) == side]

    def summary(self) -> str:
        text = f"{self.root}: {len(self.clips)} clips, {len(self.class_names)} classes"
        if self.missing_skipped:
            text += f"; {len(self.missing_skipped)} skipped (listed as missing skeletons)"
        if self.video_only:
            text += f"; {len(self.video_only)} skipped (video without skeleton)"
        return text


def find_dataset(
    folder: str | Path, missing_list: str | Path | None = None, pose: str = "kinect", mirror: str = "auto"
) -> Dataset:
    """Index the clips under `folder` (see the module docstring); `pose` other than "kinect" also takes the
    NTU-named videos without a skeleton, their bodies estimated; `mirror`: open_reader's, for every clip."""
    root = Path(folder)
    if not root.is_dir():
        raise DataError(root, "dataset folder not found" if not root.exists() else "expected a folder")
    missing = _missing_names(root, missing_list)
    recordings = _unique_stems(root, SIDECAR_SUFFIX)
    skeletons = {n: s for n, s in _unique_stems(root, SKELETON_SUFFIX).items() if n not in recordings}
    videos = _unique_stems(root, VIDEO_SUFFIX)
    video_only = sorted(n for n in videos if n not in skeletons and n not in recordings)
    if pose != "kinect":  # estimated bodies: a video alone is a clip (the skeleton path finds the video)
        skeletons.update({n: videos[n] for n in video_only})
        video_only = []
    clips: list[ClipRef] = []
    class_names: tuple[str, ...] | None = None
    skipped = []
    ntu120 = any(_action(name) > len(NTU60_CLASSES) for name in skeletons)
    ntu_classes = NTU120_CLASSES if ntu120 else NTU60_CLASSES
    for name, stem in sorted({**skeletons, **recordings}.items()):
        if name in missing:
            skipped.append(name)
            continue
        if name in recordings:
            clip, names = _recording_ref(stem)
        else:
            clip, names = _ntu_ref(stem, videos.get(name), ntu_classes)
        clip = replace(clip, pose=pose, mirror=mirror)
        class_names = _same_classes(class_names, names, clip)
        clips.append(clip)
    if not clips:
        raise DataError(root, "no clips found (expected .skeleton files or recordings with a .jsonl sidecar)")
    assert class_names is not None
    return Dataset(root, tuple(clips), class_names, tuple(skipped), tuple(video_only))


def _missing_names(root: Path, missing_list: str | Path | None) -> frozenset[str]:
    if missing_list is not None:
        return read_missing_list(missing_list)
    found = [root / name for name in MISSING_LIST_NAMES if (root / name).is_file()]
    return frozenset().union(*(read_missing_list(path) for path in found))


def _unique_stems(root: Path, suffix: str) -> dict[str, Path]:
    """{file name without `suffix`: stem path} of every file under `root` ending in `suffix`."""
    stems: dict[str, Path] = {}
    for path in sorted(root.rglob(f"*{suffix}")):
        if not path.is_file() or len(path.name) <= len(suffix):
            continue
        name = path.name[: -len(suffix)]
        if name in stems:
            raise DataError(path, f"a second clip named {name} (the first is in {stems[name].parent})")
        stems[name] = path.with_name(name)
    return stems


def _action(name: str) -> int:
    """The action number of an NTU sample name (0 for another name)."""
    match = SAMPLE_NAME.match(name)
    return int(match.group(5)) if match else 0


def _ntu_ref(
    stem: Path, video_stem: Path | None = None, classes: tuple[str, ...] = NTU60_CLASSES
) -> tuple[ClipRef, tuple[str, ...]]:
    """The clip of a skeleton; `video_stem` (<folder>/<name> of its `_rgb.avi`) where the video lies in
    another folder, as in the download (`nturgb+d_rgb/` beside `nturgb+d_skeletons/`); `classes`:
    NTU-60's, or NTU-120's where the folder holds any of its actions."""
    path = stem.with_name(stem.name + SKELETON_SUFFIX)
    try:
        sample = parse_sample_name(stem.name)
    except RecordingError:
        raise DataError(path, "not an NTU sample name (SsssCcccPpppRrrrAaaa), so it has no label") from None
    if not 1 <= sample.action <= len(classes):
        raise DataError(path, f"action A{sample.action:03d} is outside NTU RGB+D (A001-A{len(classes):03d})")
    video = None
    if video_stem is not None and video_stem.parent != stem.parent:
        video = video_stem.with_name(video_stem.name + VIDEO_SUFFIX)
    return ClipRef(stem.name, stem, "ntu", sample.action_index, sample, video=video), classes


def _recording_ref(stem: Path) -> tuple[ClipRef, tuple[str, ...]]:
    sidecar = stem.with_name(stem.name + SIDECAR_SUFFIX)
    header = open_recording(stem).header
    try:
        sample: SampleName | None = parse_sample_name(stem.name)
    except RecordingError:
        sample = None
    synthetic = header.get("synthetic")
    names = header.get("class_names")
    if isinstance(synthetic, dict) and isinstance(synthetic.get("class_index"), int):
        label = int(synthetic["class_index"])
    elif sample is not None:
        label = sample.action_index
    else:
        raise DataError(
            sidecar, "no label: the header has no synthetic.class_index and the name is not NTU's"
        )
    class_names = tuple(str(n) for n in names) if isinstance(names, list) and names else NTU60_CLASSES
    if not 0 <= label < len(class_names):
        raise DataError(sidecar, f"class index {label} is outside its {len(class_names)} class names")
    ref = ClipRef(stem.name, stem, "recording", label, sample, synthetic=isinstance(synthetic, dict))
    return ref, class_names


def _same_classes(known: tuple[str, ...] | None, names: tuple[str, ...], clip: ClipRef) -> tuple[str, ...]:
    if known is not None and known != names:
        suffix = SIDECAR_SUFFIX if clip.kind == "recording" else SKELETON_SUFFIX
        raise DataError(
            clip.stem.with_name(clip.name + suffix),
            f"its {len(names)} class names differ from the other clips' {len(known)}; "
            "one dataset folder must hold one set of classes",
        )
    return names


# ------------------------------------------------------------------------------------- one clip's inputs


@dataclass(frozen=True, eq=False)
class ClipInputs:
    """The raw inputs of every frame of a clip, the two bodies fixed for the whole clip."""

    pose: np.ndarray  # T x 150 float32
    hand_mask: np.ndarray  # T x 4 float32
    timestamps: np.ndarray  # T float64, seconds
    crops: np.ndarray | None  # T x 4 x 50 x 50 x 3 uint8 BGR; None without a video
    active_hands: np.ndarray | None  # T x 4 uint8, synthetic clips: 1 where the hand acts
    body_ids: tuple[int, ...]

    @property
    def num_frames(self) -> int:
        return len(self.pose)


def clip_path(clip: ClipRef) -> Path:
    """The file a reader opens for the clip: the recording's sidecar, or the NTU skeleton."""
    return clip.stem.with_name(clip.name + (SIDECAR_SUFFIX if clip.kind == "recording" else SKELETON_SUFFIX))


def open_clip(clip: ClipRef) -> Reader:
    """The clip's reader (its video found in another folder where the download keeps it there)."""
    if clip.video is not None:
        clip_reader = NtuClip(clip_path(clip), video=clip.video)
        return with_pose(with_mirror(clip_reader, clip.mirror, clip.pose), clip.pose)
    return open_reader(clip_path(clip), allow_empty=True, pose=clip.pose, mirror=clip.mirror)


def read_frames(clip: ClipRef, wanted: Sequence[bool] | np.ndarray | None = None) -> Iterator[Frame]:
    """The clip's frames in order; with `wanted` (a flag per frame) only those, decoding no other image."""
    with open_clip(clip) as reader:
        for frame in read(reader, 0, wanted):
            if wanted is None or wanted[frame.index]:
                yield frame


def num_frames(clip: ClipRef) -> int:
    """Frames of the clip, without decoding any image."""
    with open_clip(clip) as reader:
        return reader.num_frames or 0


def clip_inputs(clip: ClipRef, frames: Iterable[Frame] | None = None) -> ClipInputs:
    """Read the clip once: pose, hand mask and crops of every frame, the main bodies chosen clip-wide.
    `frames`: the clip's frames to read instead of all of them, as `read_frames(clip, wanted)` gives them
    (a caller timing the decoding; teaching reads every other frame)."""
    source = read_frames(clip) if frames is None else frames
    hands = [hand_frame(frame) for frame in source]  # each image dropped once cropped
    if not hands:
        raise DataError(clip.stem, "the clip has no frames")
    body_ids = select_main_bodies([frame.bodies for frame in hands], count=NUM_BODIES)
    inputs = window_inputs(hands, body_ids)
    return ClipInputs(
        pose=inputs.pose,
        hand_mask=inputs.hand_mask,
        timestamps=np.array([frame.timestamp for frame in hands], dtype=np.float64),
        crops=inputs.crops,
        active_hands=active_hands(clip, hands, inputs.body_ids) if clip.synthetic else None,
        body_ids=inputs.body_ids,
    )


def clip_hand_frames(clip: ClipRef, indices: Sequence[int] | np.ndarray) -> dict[int, HandFrame]:
    """The frames at `indices` (cropped, images dropped), decoding only their images where possible."""
    wanted = np.zeros(num_frames(clip), dtype=bool)
    wanted[np.asarray(indices, dtype=np.int64)] = True
    return {frame.index: hand_frame(frame) for frame in read_frames(clip, wanted)}


def active_hands(clip: ClipRef, frames: Sequence[HandFrame], body_ids: Sequence[int]) -> np.ndarray:
    """T x 4 uint8: 1 where the synthetic ground truth says the hand acts, in our slot order.

    The generator numbers hands 2 * person + side, person = the body's place in the frame; here
    the slots follow `body_ids` (the clip's main bodies), so each hand is mapped through its body.
    """
    recording: Recording = open_recording(clip.stem)
    out = np.zeros((len(frames), NUM_HANDS), dtype=np.uint8)
    for t, frame in enumerate(frames):  # a window may repeat frames: go by each frame's own index
        if not 0 <= frame.index < recording.num_frames:
            continue
        slots: Any = recording.frame_extras(frame.index).get("active_hands", [])
        for slot in slots:
            person, side = divmod(int(slot), 2)
            if person < len(frame.bodies) and frame.bodies[person].id in body_ids:
                out[t, 2 * list(body_ids).index(frame.bodies[person].id) + side] = 1
    return out


# ------------------------------------------------------------------------------------ windows in time

Sampling = Literal["segments", "chunk"]


def window_indices(
    num_frames: int, length: int, rng: np.random.Generator | None = None, sampling: Sampling = "segments"
) -> np.ndarray:
    """`length` frame indices of one sub-sequence of a clip (design.md, "Windows in time").

    "segments" (the default, the NTU authors'): one frame per equal segment, drawn at random with
    `rng`, the middle without (`contract.inputs.segment_indices`). "chunk": `length` consecutive
    frames starting at a random frame (the middle chunk without `rng`), the last frame repeated when
    the clip is shorter.
    """
    if sampling == "segments":
        return segment_indices(num_frames, length, rng)
    if sampling != "chunk":
        raise ValueError(f"sampling must be 'segments' or 'chunk', got {sampling!r}")
    if num_frames <= 0:
        raise ValueError("a window needs at least one frame")
    room = max(num_frames - length, 0)
    start = room // 2 if rng is None else int(rng.integers(room + 1))
    return np.minimum(np.arange(start, start + length), num_frames - 1)


def evaluation_windows(
    name: str, num_frames: int, length: int, views: int = 5, seed: int = 0, sampling: Sampling = "segments"
) -> list[np.ndarray]:
    """The `views` sub-sequences a clip is tested on (paper: 5, logits averaged).

    Drawn from an RNG seeded by `seed` and the clip's name, so every evaluation of the clip (a
    checkpoint on cached features, an exported model on the frames) sees the same frames.
    """
    rng = np.random.default_rng([seed, zlib.crc32(name.encode("utf-8"))])
    return [window_indices(num_frames, length, rng, sampling) for _ in range(views)]
