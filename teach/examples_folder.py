"""The Teach panel's examples folder: the app's own recordings, each labelled by the `action` in its
sidecar header. Plain Python (no Qt), so every step is testable on its own.

An example with stem ``<folder>/<action> <nn>`` is the three files of `recordings.own.recording`
(``.skeleton``, ``_rgb.avi``, ``.jsonl``); the file name only helps a person browsing the folder: the
action is what the sidecar says (`sta-hands teach` reads the same key). Examples are found at any
depth, outside hidden folders, as `teach` finds them. Renaming an example changes its sidecar's action
and renames its files; deleting removes its three files; nothing else is touched but ``teach.json``:
``{"not_hand_specific": [action, ...]}``, the actions `teach` may also learn from mirrored examples
(left and right hands swapped), which lists only actions that have examples.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from sta_hands.contract.errors import RecordingError, UserError
from sta_hands.contract.frame import Frame
from sta_hands.contract.reader import Reader
from sta_hands.recordings.mirror import mirror_metadata
from sta_hands.recordings.own.append_file import replace_with
from sta_hands.recordings.own.format import SIDECAR_SUFFIX, json_line, parse_sidecar
from sta_hands.recordings.own.recording import RecordingPaths, RecordingWriter

ACTION_KEY = "action"  # the sidecar header's key that names the example's action
SETTINGS_FILE = "teach.json"  # in the examples folder: {NOT_HAND_SPECIFIC: [action, ...]}
NOT_HAND_SPECIFIC = "not_hand_specific"
IDLE_ACTION = "nothing"  # offered by the panel: standing still, no action, so the model can say so
MIN_EXAMPLES = 2  # per action: one to learn from and one to check on, at the least
MAX_NAME = 60
_FORBIDDEN = re.compile(r'[<>:"/\\|?*\x00-\x1f]')
_RESERVED = {"con", "prn", "aux", "nul", *(f"{port}{i}" for port in ("com", "lpt") for i in range(1, 10))}


class ExampleError(UserError):
    """A bad action name, an example that cannot be saved, renamed or deleted, or a folder not ready."""


def check_action_name(name: str) -> str:
    """The action name, stripped; one clear `ExampleError` if it cannot be part of a file name."""
    stripped = name.strip()
    if not stripped:
        raise ExampleError("Type an action name first (e.g. 'wave', 'drink', 'nothing')")
    shown = f"'{stripped}' cannot be an action name"
    if (bad := _FORBIDDEN.search(stripped)) is not None:
        char = bad.group() if bad.group().isprintable() else f"character {ord(bad.group())}"
        raise ExampleError(f'{shown}: it has {char!r}; a file name cannot hold any of < > : " / \\ | ? *')
    if stripped.startswith(".") or stripped.endswith("."):
        raise ExampleError(f"{shown}: a file name may not start or end with a dot")
    if stripped.split(".")[0].lower() in _RESERVED:
        raise ExampleError(f"{shown}: {stripped.split('.')[0].upper()} is a reserved file name on Windows")
    if len(stripped) > MAX_NAME:
        raise ExampleError(f"{shown}: it has {len(stripped)} characters, at most {MAX_NAME} fit")
    return stripped


@dataclass(frozen=True)
class Example:
    """One recorded example. `problem` is set (and `action` may be empty) when its sidecar is unreadable."""

    stem: Path
    action: str
    frames: int
    seconds: float
    problem: str | None = None

    @property
    def name(self) -> str:
        return self.stem.name

    @property
    def sidecar(self) -> Path:
        return RecordingPaths(self.stem).sidecar


def read_example(sidecar: Path) -> Example:
    """What the sidecar says: its action, frames and duration; a broken one comes back with its problem."""
    stem = RecordingPaths.of(sidecar).stem
    try:
        parsed = parse_sidecar(sidecar)
    except RecordingError as error:
        return Example(stem, "", 0, 0.0, str(error))
    action = str(parsed.header.get(ACTION_KEY, "") or "")
    frames = len(parsed.records)
    seconds = float(parsed.records[-1]["timestamp"]) if frames else 0.0
    problem = None if action else f"{sidecar}: line 1: no '{ACTION_KEY}' in the header (not an example)"
    return Example(stem, action, frames, seconds, problem)


class ExamplesFolder:
    """The examples in `folder` (created on first use), grouped by action."""

    def __init__(self, folder: str | Path) -> None:
        self.folder = Path(folder)

    def examples(self) -> list[Example]:
        """Every recording under the folder, outside hidden folders, by path (unreadable ones too, with
        their problem)."""
        if not self.folder.is_dir():
            return []
        sidecars = (
            path
            for path in sorted(self.folder.rglob(f"*{SIDECAR_SUFFIX}"))
            if not any(part.startswith(".") for part in path.relative_to(self.folder).parts)
        )
        return [read_example(path) for path in sidecars]

    def actions(self) -> dict[str, list[Example]]:
        """Action name -> its examples, actions in alphabetical order (case-insensitive)."""
        grouped: dict[str, list[Example]] = {}
        for example in self.examples():
            if example.problem is None:
                grouped.setdefault(example.action, []).append(example)
        return dict(sorted(grouped.items(), key=lambda item: item[0].casefold()))

    def new_stem(self, action: str) -> Path:
        """A free stem ``<folder>/<action> <nn>`` for a new example of `action` (the folder is created)."""
        action = check_action_name(action)
        try:
            self.folder.mkdir(parents=True, exist_ok=True)
        except OSError as error:
            raise ExampleError(f"Cannot create the examples folder {self.folder}: {error}") from None
        taken = {example.name for example in self.examples()}  # `teach` wants every name once
        number = 1
        while f"{action} {number:02d}" in taken or any(
            path.exists() for path in RecordingPaths(self.folder / f"{action} {number:02d}").all()
        ):
            number += 1
        return self.folder / f"{action} {number:02d}"

    def rename(self, example: Example, action: str) -> Example:
        """Label `example` as `action`: its sidecar says so, its files take a free name of that action."""
        action = check_action_name(action)
        if action == example.action:
            return example
        stem = self.new_stem(action)
        _set_header(example.sidecar, {ACTION_KEY: action})
        for old, new in zip(RecordingPaths(example.stem).all(), RecordingPaths(stem).all(), strict=True):
            if old.exists():
                old.rename(new)
        self._prune_mirrored()
        return read_example(RecordingPaths(stem).sidecar)

    def delete(self, example: Example) -> None:
        """Remove the example's files (only those three)."""
        for path in RecordingPaths(example.stem).all():
            path.unlink(missing_ok=True)
        self._prune_mirrored()

    @property
    def settings_file(self) -> Path:
        return self.folder / SETTINGS_FILE

    def mirrored(self) -> set[str]:
        """The actions marked as not hand-specific (`teach` may learn them from mirrored examples)."""
        try:
            data = json.loads(self.settings_file.read_text(encoding="utf-8"))
        except FileNotFoundError:
            return set()
        except (OSError, ValueError) as error:
            raise ExampleError(f"{self.settings_file}: not readable JSON ({error})") from None
        names = data.get(NOT_HAND_SPECIFIC, []) if isinstance(data, dict) else None
        if not isinstance(names, list) or not all(isinstance(name, str) for name in names):
            raise ExampleError(f'{self.settings_file}: expected {{"{NOT_HAND_SPECIFIC}": ["action", ...]}}')
        return set(names)

    def set_mirrored(self, action: str, either_hand: bool) -> None:
        """Mark `action` as not hand-specific (`either_hand`) or as hand-specific (the default)."""
        names = self.mirrored() | {action} if either_hand else self.mirrored() - {action}
        self._write_mirrored(names)

    def _prune_mirrored(self) -> None:
        """Keep only actions that still have examples (`teach` refuses a name it has no example of)."""
        if self.settings_file.exists():
            names = self.mirrored()
            kept = names & set(self.actions())
            if kept != names:
                self._write_mirrored(kept)

    def _write_mirrored(self, names: set[str]) -> None:
        data: dict[str, Any] = {}
        if self.settings_file.exists():
            loaded = json.loads(self.settings_file.read_text(encoding="utf-8"))
            data = loaded if isinstance(loaded, dict) else {}
        data[NOT_HAND_SPECIFIC] = sorted(names, key=str.casefold)
        text = json.dumps(data, indent=2, ensure_ascii=False) + "\n"
        self.folder.mkdir(parents=True, exist_ok=True)
        replace_with(self.settings_file, lambda path: path.write_text(text, encoding="utf-8"))

    def readiness(self) -> list[str]:
        """Why the folder cannot be trained on yet, one line each; empty when it can."""
        actions = self.actions()
        if not actions:
            return [f"No examples yet in {self.folder}: record at least {MIN_EXAMPLES} of each action"]
        problems = [
            f"'{name}' has {count} example{'s' * (count != 1)}: record at least {MIN_EXAMPLES}"
            for name, count in ((name, len(examples)) for name, examples in actions.items())
            if count < MIN_EXAMPLES
        ]
        if len(actions) < 2:
            problems.append(f"Only one action ('{next(iter(actions))}'): teach at least two to tell apart")
        return problems


def _set_header(sidecar: Path, fields: dict[str, Any]) -> None:
    """Rewrite the sidecar's header line with `fields` updated (through a synced temporary file)."""
    data = sidecar.read_bytes()
    first, newline, rest = data.partition(b"\n")
    try:
        header = json.loads(first)
    except ValueError:
        raise RecordingError(sidecar, "the header is not JSON", "line 1") from None
    line = json_line(sidecar, {**header, **fields}, "line 1")
    replace_with(sidecar, lambda path: path.write_bytes(line + rest if newline else line))


def save_span(
    source: Reader, first: int, last: int, stem: Path, action: str, metadata: dict[str, Any] | None = None
) -> int:
    """Write frames `first`..`last` (inclusive) of a replayable `source` as an example of `action`;
    the number of frames written. What was written is removed if it fails (nothing else is touched)."""
    first, last = min(first, last), max(first, last)
    if source.num_frames is not None and first >= source.num_frames:
        last_frame = source.num_frames - 1
        raise ExampleError(f"{source.description}: frame {first}: past its last frame ({last_frame})")
    header = {ACTION_KEY: check_action_name(action), "source": source.description, "span": [first, last],
              **mirror_metadata(source)}  # fmt: skip
    writer = RecordingWriter(  # refuses to replace an existing recording
        stem, fps=source.fps, device=source.description, metadata={**header, **(metadata or {})}
    )
    try:
        with writer:
            start_time: float | None = None
            for frame in _span(source.frames(first), last):
                start_time = frame.timestamp if start_time is None else start_time
                stamped = replace(frame, index=writer.frames_written, timestamp=frame.timestamp - start_time)
                writer.write(stamped, extra={"source_index": frame.index})
            written = writer.frames_written
    except BaseException:  # a half-written example is no example: remove what this call wrote
        for path in RecordingPaths(stem).all():
            path.unlink(missing_ok=True)
        raise
    return written


def _span(frames: Iterable[Frame], last: int) -> Iterable[Frame]:
    for frame in frames:
        if frame.index > last:
            return
        yield frame
