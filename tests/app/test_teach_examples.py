"""The Teach panel's examples folder, without Qt: names, saving a span, listing, renaming, deleting."""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pytest

from sta_hands.recordings.own.format import parse_sidecar
from sta_hands.recordings.own.recording import RecordingPaths, open_recording
from sta_hands.teach.examples_folder import (
    ACTION_KEY,
    ExampleError,
    ExamplesFolder,
    check_action_name,
    read_example,
    save_span,
)
from tests.app.conftest import gui_source


@pytest.mark.parametrize(
    ("name", "said"),
    [
        ("", "Type an action name"),
        ("   ", "Type an action name"),
        ("wave/hand", "'/'"),
        ("what?", "'?'"),
        ('say "hi"', "'\"'"),
        ("tab\there", "character 9"),
        ("..", "dot"),
        ("wave.", "dot"),
        ("CON", "reserved"),
        ("nul.txt", "reserved"),
        ("x" * 61, "61 characters"),
    ],
)
def test_a_name_that_cannot_be_a_file_name_gets_one_clear_line(name: str, said: str) -> None:
    with pytest.raises(ExampleError) as caught:
        check_action_name(name)
    message = str(caught.value)
    assert said in message and "\n" not in message


@pytest.mark.parametrize("name", ["wave", "drink water", "nothing", "Händeschütteln", "pick-up_2"])
def test_ordinary_names_are_kept(name: str) -> None:
    assert check_action_name(f"  {name} ") == name


def test_a_saved_span_is_an_example_with_those_frames_and_its_action(tmp_path: Path) -> None:
    source = gui_source(40)
    folder = ExamplesFolder(tmp_path / "examples")
    stem = folder.new_stem("wave")
    assert stem.name == "wave 01" and stem.parent.is_dir()
    written = save_span(source, 25, 10, stem, "wave")  # the ends in either order
    assert written == 16
    recording = open_recording(stem)
    assert len(recording) == 16
    assert recording.header[ACTION_KEY] == "wave" and recording.header["span"] == [10, 25]
    frames = list(recording.frames())
    original = list(source.frames(10))[:16]
    start = original[0].timestamp
    assert [f.timestamp for f in frames] == pytest.approx([f.timestamp - start for f in original])
    np.testing.assert_allclose(frames[5].bodies[0].joints, original[5].bodies[0].joints, atol=1e-5)
    assert frames[0].image is not None and frames[0].image.shape == original[0].image.shape
    example = read_example(RecordingPaths(stem).sidecar)
    assert (example.action, example.frames, example.problem) == ("wave", 16, None)
    assert example.seconds == pytest.approx(15 / 30)


def test_the_folder_groups_examples_by_the_action_in_their_sidecar(tmp_path: Path) -> None:
    folder = ExamplesFolder(tmp_path)
    source = gui_source(30)
    for action, span in (("wave", (0, 9)), ("drink", (5, 14)), ("wave", (10, 19)), ("Bow", (0, 4))):
        save_span(source, *span, folder.new_stem(action), action)
    (tmp_path / "notes.jsonl").write_text("not json\n")  # a stray file is listed with its problem, not used
    actions = folder.actions()
    assert list(actions) == ["Bow", "drink", "wave"]
    assert [e.name for e in actions["wave"]] == ["wave 01", "wave 02"]
    assert [e.frames for e in actions["wave"]] == [10, 10]
    stray = [e for e in folder.examples() if e.problem is not None]
    assert len(stray) == 1 and "notes.jsonl" in stray[0].problem


def test_rename_relabels_and_renames_the_files_and_keeps_every_frame(tmp_path: Path) -> None:
    folder = ExamplesFolder(tmp_path)
    source = gui_source(30)
    save_span(source, 0, 19, folder.new_stem("wave"), "wave")
    save_span(source, 0, 9, folder.new_stem("drink"), "drink")
    before = open_recording(tmp_path / "wave 01")
    skeleton = RecordingPaths(tmp_path / "wave 01").skeleton.read_bytes()
    renamed = folder.rename(folder.actions()["wave"][0], "drink")
    assert renamed.name == "drink 02" and renamed.action == "drink" and renamed.frames == 20
    assert not any(path.exists() for path in RecordingPaths(tmp_path / "wave 01").all())
    after = open_recording(renamed.stem)
    assert len(after) == len(before) == 20
    assert RecordingPaths(renamed.stem).skeleton.read_bytes() == skeleton
    assert parse_sidecar(renamed.sidecar).ended  # the sidecar is still whole, end line included
    assert {k: v for k, v in after.header.items() if k != ACTION_KEY} == {
        k: v for k, v in before.header.items() if k != ACTION_KEY
    }
    assert [len(v) for v in folder.actions().values()] == [2]
    with pytest.raises(ExampleError, match="'/'"):
        folder.rename(renamed, "a/b")
    assert read_example(renamed.sidecar).action == "drink"  # a refused name changes nothing


def test_delete_removes_only_that_example(tmp_path: Path) -> None:
    folder = ExamplesFolder(tmp_path)
    source = gui_source(20)
    for _ in range(2):
        save_span(source, 0, 9, folder.new_stem("wave"), "wave")
    folder.delete(folder.actions()["wave"][0])
    assert [e.name for e in folder.examples()] == ["wave 02"]
    assert folder.new_stem("wave").name == "wave 01"  # the freed name is used again


def test_readiness_names_what_is_missing(tmp_path: Path) -> None:
    folder = ExamplesFolder(tmp_path / "none yet")
    assert "No examples yet" in folder.readiness()[0]
    source = gui_source(20)
    save_span(source, 0, 9, folder.new_stem("wave"), "wave")
    problems = folder.readiness()
    assert any("'wave' has 1 example:" in p for p in problems)
    assert any("Only one action" in p for p in problems)
    save_span(source, 0, 9, folder.new_stem("wave"), "wave")
    save_span(source, 0, 9, folder.new_stem("nothing"), "nothing")
    assert folder.readiness() == ["'nothing' has 1 example: record at least 2"]
    save_span(source, 10, 19, folder.new_stem("nothing"), "nothing")
    assert folder.readiness() == []


def test_a_span_that_fails_leaves_no_half_example_and_keeps_the_others(tmp_path: Path) -> None:
    folder = ExamplesFolder(tmp_path)
    save_span(gui_source(20), 0, 9, folder.new_stem("wave"), "wave")
    kept = {path: path.read_bytes() for path in tmp_path.iterdir()}
    stem = folder.new_stem("wave")
    with pytest.raises(OSError, match="damaged"):
        save_span(gui_source(20, fail_at=5), 0, 9, stem, "wave")
    assert not any(path.exists() for path in RecordingPaths(stem).all())
    assert {path: path.read_bytes() for path in tmp_path.iterdir()} == kept
    with pytest.raises(ExampleError, match="frame 40: past its last frame"):
        save_span(gui_source(20), 40, 50, stem, "wave")


def test_either_hand_actions_are_kept_in_teach_json_for_actions_that_have_examples(tmp_path: Path) -> None:
    import json

    folder = ExamplesFolder(tmp_path)
    source = gui_source(20)
    for action in ("clap", "clap", "wave"):
        save_span(source, 0, 9, folder.new_stem(action), action)
    folder.set_mirrored("clap", True)
    folder.set_mirrored("wave", True)
    folder.set_mirrored("wave", False)
    assert json.loads((tmp_path / "teach.json").read_text()) == {"not_hand_specific": ["clap"]}
    assert folder.mirrored() == {"clap"}
    for example in folder.actions()["clap"]:  # the last example of 'clap' goes: so does its mark
        folder.delete(example)
    assert folder.mirrored() == set()
    (tmp_path / "teach.json").write_text('{"not_hand_specific": "clap"}')
    expected = re.escape('teach.json: expected {"not_hand_specific": ["action", ...]}')
    with pytest.raises(ExampleError, match=expected):
        folder.mirrored()


def test_examples_in_subfolders_count_and_names_stay_unique(tmp_path: Path) -> None:
    folder = ExamplesFolder(tmp_path)
    source = gui_source(20)
    save_span(source, 0, 9, tmp_path / "monday" / "wave 01", "wave")
    save_span(source, 0, 9, tmp_path / ".trash" / "wave 02", "wave")  # hidden folders are not examples
    assert [e.name for e in folder.examples()] == ["wave 01"]
    assert folder.new_stem("wave") == tmp_path / "wave 02"  # not a second 'wave 01' (teach refuses those)
