"""What `sta-hands teach` learns from: the examples folder, each example's action, and what is wrong
with it, found before any long work starts.

An examples folder holds, at any depth (hidden folders skipped):
- the app's own recordings (`recordings.own.recording`: ``NAME.jsonl`` + ``NAME.skeleton`` +
  ``NAME_rgb.avi``),
  each labelled by the `action` key of its sidecar header (``teach.examples_folder.ACTION_KEY``, what
  the GUI's Teach panel writes), else by a synthetic clip's ``synthetic.class_name``, else by the NTU
  action code in its name;
- NTU RGB+D clips (``SsssCcccPpppRrrrAaaa.skeleton`` with ``_rgb.avi``), labelled by the NTU action code
  (A001 -> "drink water").
- optionally ``teach.json``: ``{"not_hand_specific": ["wave", ...]}``, the actions that may be learnt
  from mirrored examples too (left and right swapped); every other action is hand-specific ("wave left
  hand" must not be taught by a mirrored "wave right hand").

Every problem is one `TeachInputError` line naming the file: an empty folder, an example without a
label or without any body, an action name that cannot be a file name, an action with fewer than
`MIN_EXAMPLES` examples, a single action. Nothing here writes to the folder.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from sta_hands.contract.errors import RecordingError, UserError
from sta_hands.contract.reader import read
from sta_hands.models.data import ClipRef
from sta_hands.recordings.ntu.clip import SKELETON_SUFFIX, SampleName, parse_sample_name
from sta_hands.recordings.own.recording import SIDECAR_SUFFIX, open_recording
from sta_hands.recordings.sources import open_reader
from sta_hands.teach.examples_folder import (
    ACTION_KEY,
    MIN_EXAMPLES,
    NOT_HAND_SPECIFIC,
    SETTINGS_FILE,
    ExampleError,
    check_action_name,
)


class TeachInputError(UserError):
    """An examples folder that cannot be taught from; the message names the file and what is expected."""


@dataclass(frozen=True)
class Example:
    """One example: the clip (its `ClipRef.label` indexes `ExampleSet.class_names`) and its action."""

    clip: ClipRef
    action: str
    path: Path  # the file a reader opens (the sidecar or the NTU skeleton): named in messages

    @property
    def name(self) -> str:
        return self.clip.name


@dataclass(frozen=True)
class ExampleSet:
    """The examples of a folder, their actions (sorted, case-insensitively) and the mirrorable ones."""

    folder: Path
    examples: tuple[Example, ...]
    class_names: tuple[str, ...]
    mirrored: frozenset[str]  # actions that are not hand-specific (teach.json)

    def counts(self) -> dict[str, int]:
        """{action: number of examples}, in class order."""
        return {name: sum(e.action == name for e in self.examples) for name in self.class_names}


def find_examples(folder: str | Path, min_examples: int = MIN_EXAMPLES) -> ExampleSet:
    """The examples under `folder`, checked (see the module docstring); `TeachInputError` otherwise."""
    root = Path(folder)
    if not root.is_dir():
        problem = "no such folder" if not root.exists() else "not a folder"
        raise TeachInputError(
            f"{root}: {problem}; EXAMPLES is a folder of recordings (.jsonl + .skeleton + _rgb.avi) "
            "or NTU clips"
        )
    labelled = [_labelled(path) for path in _clip_files(root)]
    if not labelled:
        raise TeachInputError(
            f"{root}: no examples in this folder (expected recordings NAME.jsonl + NAME.skeleton + "
            "NAME_rgb.avi, or NTU clips SsssCcccPpppRrrrAaaa.skeleton + _rgb.avi)"
        )
    class_names = tuple(sorted({action for _, action in labelled}, key=str.casefold))
    examples = []
    for path, action in labelled:
        stem = path.with_name(path.name.removesuffix(path.suffix))
        kind = "recording" if path.suffix == SIDECAR_SUFFIX else "ntu"
        synthetic = kind == "recording" and isinstance(open_recording(stem).header.get("synthetic"), dict)
        clip = ClipRef(stem.name, stem, kind, class_names.index(action), _sample(stem.name), synthetic)
        examples.append(Example(clip, action, path))
    found = ExampleSet(root, tuple(examples), class_names, _mirrored(root, class_names))
    _check_counts(found, min_examples)
    for example in found.examples:
        check_has_bodies(example)
    return found


def _clip_files(root: Path) -> list[Path]:
    """Every recording's sidecar, and every NTU skeleton that is not a recording's, outside hidden folders."""
    visible = [
        p
        for p in sorted(root.rglob("*"))
        if not any(part.startswith(".") for part in p.relative_to(root).parts)
    ]
    sidecars = [p for p in visible if p.name.endswith(SIDECAR_SUFFIX) and p.is_file()]
    stems = {p.with_name(p.name.removesuffix(SIDECAR_SUFFIX)) for p in sidecars}
    skeletons = [
        p for p in visible
        if p.name.endswith(SKELETON_SUFFIX) and p.is_file() and p.with_name(p.stem) not in stems
    ]  # fmt: skip
    names: dict[str, Path] = {}
    for path in sorted(sidecars + skeletons):
        name = path.name.removesuffix(path.suffix)
        if name in names:
            raise TeachInputError(f"{path}: a second example named {name} (the first is {names[name]})")
        names[name] = path
    return sorted(names.values())


def _sample(name: str) -> SampleName | None:
    try:
        return parse_sample_name(name)
    except RecordingError:
        return None


def _labelled(path: Path) -> tuple[Path, str]:
    """(path, its action), the action checked as a file name."""
    action = _action_of(path)
    try:
        return path, check_action_name(action)
    except ExampleError as error:
        raise TeachInputError(f"{path}: {error}; rename the action in its sidecar's '{ACTION_KEY}'") from None


def _action_of(path: Path) -> str:
    if path.suffix == SIDECAR_SUFFIX:
        header = open_recording(path).header
        action = header.get(ACTION_KEY)
        if action is not None:
            if not isinstance(action, str):
                raise TeachInputError(f"{path}: line 1: '{ACTION_KEY}' is {action!r}, expected a name")
            return action
        synthetic = header.get("synthetic")
        if isinstance(synthetic, dict) and isinstance(synthetic.get("class_name"), str):
            return synthetic["class_name"]
    sample = _sample(path.name.removesuffix(path.suffix))
    if sample is None:
        raise TeachInputError(
            f"{path}: line 1: no '{ACTION_KEY}' in the header and the name is not an NTU sample name "
            "(SsssCcccPpppRrrrAaaa): which action does it show?"
        )
    if sample.class_name is None:
        raise TeachInputError(f"{path}: action A{sample.action:03d} is outside NTU RGB+D 120 (A001-A120)")
    return sample.class_name


def _mirrored(root: Path, class_names: tuple[str, ...]) -> frozenset[str]:
    path = root / SETTINGS_FILE
    if not path.is_file():
        return frozenset()
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as error:
        raise TeachInputError(f"{path}: not readable JSON ({error})") from None
    names = data.get(NOT_HAND_SPECIFIC, []) if isinstance(data, dict) else None
    if not isinstance(names, list) or not all(isinstance(n, str) for n in names):
        raise TeachInputError(f'{path}: expected {{"{NOT_HAND_SPECIFIC}": ["action", ...]}}')
    unknown = sorted(set(names) - set(class_names))
    if unknown:
        raise TeachInputError(
            f"{path}: {', '.join(map(repr, unknown))} in '{NOT_HAND_SPECIFIC}' is no action of these "
            f"examples ({', '.join(map(repr, class_names))})"
        )
    return frozenset(names)


def _check_counts(found: ExampleSet, min_examples: int) -> None:
    for action, count in found.counts().items():
        if count < min_examples:
            first = next(e.path for e in found.examples if e.action == action)
            raise TeachInputError(
                f"{first}: action '{action}' has {count} example{'s' * (count != 1)}; "
                f"record at least {min_examples} of each action"
            )
    if len(found.class_names) < 2:
        raise TeachInputError(
            f"{found.folder}: only one action ('{found.class_names[0]}'); teach at least two to tell apart"
        )


def check_has_bodies(example: Example) -> None:
    """`TeachInputError` when no frame of the example has a body (read without decoding any image)."""
    with open_reader(example.path) as reader:
        count = reader.num_frames or 0
        if not any(frame.bodies for frame in read(reader, 0, np.zeros(count, dtype=bool))):
            raise TeachInputError(
                f"{example.path}: frames 0-{max(count - 1, 0)}: no body in any frame; expected a person "
                "in view (record it again facing the camera)"
            )
