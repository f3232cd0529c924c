"""The NTU `.skeleton` reader and writer: real files byte for byte, synthetic bodies, every bad input."""

from __future__ import annotations

import time
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from sta_hands.contract.errors import RecordingError
from sta_hands.contract.frame import NUM_JOINTS, Body
from sta_hands.recordings.ntu.skeleton import SkeletonFile, parse_skeleton_text, read_skeleton
from sta_hands.recordings.ntu.skeleton_writer import (
    format_frame,
    format_header,
    format_number,
    format_skeleton,
    write_skeleton,
)

# docs/ntu-format.md section 3: frames, bodies per frame, line ending
REAL_FILES = {
    "S001C001P001R001A001": (103, 1, "\n"),
    "S002C001P003R001A003": (100, 1, "\r\n"),
    "S004C002P003R001A017": (124, 1, "\r\n"),
    "S001C001P001R001A050": (74, 2, "\n"),
    "S017C003P020R002A054": (42, 2, "\n"),
    "S017C003P020R002A055": (66, 2, "\n"),
    "S017C003P020R002A057": (76, 2, "\n"),
    "S017C003P020R002A058": (65, 2, "\n"),
}
ARRAYS = ("joints", "color_px", "depth_px", "orientation", "tracking")


def _g7(values: np.ndarray) -> np.ndarray:
    """Values rounded as the format stores them (7 significant digits)."""
    return np.vectorize(lambda v: float(format(v, ".7G")))(values)


def make_body(body_id: int, seed: int = 0) -> Body:
    """A body with random but format-exact values."""
    rng = np.random.default_rng(seed)
    return Body(
        id=body_id,
        joints=_g7(rng.normal(0, 1, (NUM_JOINTS, 3))),
        color_px=_g7(rng.uniform(0, 1920, (NUM_JOINTS, 2))),
        tracking=rng.integers(0, 3, NUM_JOINTS),
        depth_px=_g7(rng.uniform(0, 512, (NUM_JOINTS, 2))),
        orientation=_g7(rng.normal(0, 1e-4, (NUM_JOINTS, 4))),
        clipped_edges=int(rng.integers(0, 16)),
        hand_left_confidence=1,
        hand_left_state=2,
        hand_right_confidence=0,
        hand_right_state=3,
        is_restricted=0,
        lean=tuple(_g7(rng.uniform(-1, 1, 2))),
        lean_tracking=2,
    )


def same_frames(a: SkeletonFile | list, b: SkeletonFile | list) -> bool:
    frames_a = a.frames if isinstance(a, SkeletonFile) else a
    frames_b = b.frames if isinstance(b, SkeletonFile) else b
    return len(frames_a) == len(frames_b) and all(
        len(x) == len(y) and all(p.same_as(q) for p, q in zip(x, y, strict=True))
        for x, y in zip(frames_a, frames_b, strict=True)
    )


def one_body_lines() -> list[str]:
    """A valid one-frame, one-body file as lines: 1 header, 2 count, 3 info, 4 joint count, 5-29 joints."""
    return format_skeleton([[make_body(72057594037931101)]]).splitlines()


# ---------------------------------------------------------------- real files


@pytest.mark.parametrize("name", sorted(REAL_FILES))
def test_real_file_parses_with_documented_counts(ntu_samples: Path, name: str) -> None:
    frames, bodies, newline = REAL_FILES[name]
    skeleton = read_skeleton(ntu_samples / f"{name}.skeleton")
    assert len(skeleton.frames) == frames == skeleton.declared_frames
    assert not skeleton.truncated
    assert {len(b) for b in skeleton.frames} == {bodies}
    assert skeleton.newline == newline
    body = skeleton.frames[0][0]
    assert body.joints.shape == (25, 3) and body.joints.dtype == np.float64
    assert set(np.unique(body.tracking)) <= {1, 2}
    assert isinstance(body.id, int)


@pytest.mark.parametrize("name", sorted(REAL_FILES))
def test_real_file_round_trips_byte_exact(ntu_samples: Path, tmp_path: Path, name: str) -> None:
    original = (ntu_samples / f"{name}.skeleton").read_bytes()
    skeleton = read_skeleton(ntu_samples / f"{name}.skeleton")
    assert format_skeleton(skeleton.frames, skeleton.newline).encode("ascii") == original
    out = tmp_path / f"{name}.skeleton"
    write_skeleton(out, skeleton.frames, newline=skeleton.newline)
    assert out.read_bytes() == original
    assert same_frames(read_skeleton(out), skeleton)


@pytest.mark.parametrize("name", ["S001C001P001R001A001", "S002C001P003R001A003"])
def test_line_ending_conversion_reads_back_the_same(ntu_samples: Path, tmp_path: Path, name: str) -> None:
    skeleton = read_skeleton(ntu_samples / f"{name}.skeleton")
    for newline in ("\n", "\r\n"):
        write_skeleton(tmp_path / "x.skeleton", skeleton.frames, newline=newline)
        again = read_skeleton(tmp_path / "x.skeleton")
        assert again.newline == newline
        assert same_frames(again, skeleton)


def test_big_body_ids_stay_exact(ntu_samples: Path) -> None:
    skeleton = read_skeleton(ntu_samples / "S017C003P020R002A054.skeleton")
    ids = {body.id for bodies in skeleton.frames for body in bodies}
    assert ids == {72057594037937917, 72057594037937959}
    assert int(float(72057594037937917)) != 72057594037937917  # why they must never go through float


def test_real_files_parse_quickly(ntu_samples: Path) -> None:
    paths = sorted(ntu_samples.glob("*.skeleton"))
    start = time.perf_counter()
    for path in paths:
        read_skeleton(path)
    assert time.perf_counter() - start < 2.0  # ~0.1 s here; generous for slow CI machines


# ---------------------------------------------------------------- synthetic round trips


def test_zero_and_many_bodies_round_trip(tmp_path: Path) -> None:
    frames = [[], [make_body(1, 1)], [make_body(2**63 + k, k) for k in range(3)], []]
    frames.append([make_body(72057594037937917 + k, 10 + k) for k in range(6)])
    for newline in ("\n", "\r\n"):
        path = tmp_path / "many.skeleton"
        write_skeleton(path, frames, newline=newline)
        skeleton = read_skeleton(path)
        assert [len(b) for b in skeleton.frames] == [0, 1, 3, 0, 6]
        assert same_frames(skeleton, frames)
        assert skeleton.frames[4][1].id == 72057594037937918
        assert format_skeleton(skeleton.frames, newline).encode() == path.read_bytes()


def test_empty_recording_round_trips() -> None:
    assert format_skeleton([]) == "0\n"
    assert parse_skeleton_text("0\n").frames == ()


def test_frame_blocks_concatenate_to_the_file() -> None:
    frames = [[make_body(5, 1)], [], [make_body(5, 2), make_body(6, 3)]]
    for newline in ("\n", "\r\n"):
        text = format_header(len(frames), newline) + "".join(format_frame(b, newline) for b in frames)
        assert text == format_skeleton(frames, newline)


@pytest.mark.parametrize(
    ("value", "text"),
    [
        (0.0, "0"),
        (0.02764709, "0.02764709"),
        (277.419, "277.419"),
        (-4.248406e-05, "-4.248406E-05"),
        (1036.233, "1036.233"),
        (2.0, "2"),
        (1e-05, "1E-05"),
        (float("nan"), "NaN"),
        (float("inf"), "Infinity"),
    ],
)
def test_numbers_are_written_as_csharp_g7(value: float, text: str) -> None:
    assert format_number(value) == text


def test_write_rejects_a_bad_newline(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="newline"):
        write_skeleton(tmp_path / "x.skeleton", [], newline="\r")


def test_write_into_a_missing_folder_is_a_recording_error(tmp_path: Path) -> None:
    with pytest.raises(RecordingError, match="cannot write"):
        write_skeleton(tmp_path / "no" / "x.skeleton", [])


# ---------------------------------------------------------------- bad input


def _with(line: int, text: str) -> str:
    """The one-body file with line `line` (1-based) replaced."""
    lines = one_body_lines()
    lines[line - 1] = text
    return "\n".join(lines) + "\n"


GOOD_JOINT = (
    "0.2181153 0.1725972 3.785547 277.419 191.8218 1036.233 519.1677 "
    "-0.2059419 0.05349901 0.9692109 -0.1239193 2"
)
BAD_INPUTS = {
    "empty file": ("", "found an empty file", 1),
    "blank file": ("\n\n", "found an empty file", 1),
    "header not a number": ("abc\n", "expected the frame count (an integer), found 'abc'", 1),
    "negative frame count": ("-3\n", "expected the frame count >= 0, found -3", 1),
    "huge frame count": ("1000000000000\n0\n", "declares 1000000000000 frames, but only 1 line follows", 1),
    "negative body count": (_with(2, "-1"), "expected a body count >= 0, found -1", 2),
    "two values on a count line": (_with(2, "1 2"), "expected a body count (one integer), found 2 values", 2),
    "truncated in a frame": (
        "\n".join(one_body_lines()[:12]) + "\n",
        "frame 1 declares 1 body (27 lines), but only 10 lines follow",
        2,
    ),
    "truncated between frames": (
        "2\n" + "\n".join(one_body_lines()[1:]) + "\n",
        "expected the body count of frame 2 of 2, found the end of the file",
        30,
    ),
    "short body-info line": (
        _with(3, "1 0 1 1 1 1 0 0.1 0.2"),
        "expected 10 values in a body-info line, found 9",
        3,
    ),
    "float body id": (
        _with(3, "7.2e16 0 1 1 1 1 0 0.1 0.2 2"),
        "expected body ID (an integer >= 0) in a body-info line, found '7.2e16'",
        3,
    ),
    "body id over 64 bits": (_with(3, f"{2**64} 0 1 1 1 1 0 0.1 0.2 2"), "expected a 64-bit body ID", 3),
    "bad lean": (
        _with(3, "1 0 1 1 1 1 0 x 0.2 2"),
        "expected a number for leanX of a body-info line, found 'x'",
        3,
    ),
    "wrong joint count": (_with(4, "24"), "expected joint count 25, found 24", 4),
    "joint line with 11 numbers": (
        _with(5, GOOD_JOINT.rsplit(" ", 1)[0]),
        "expected 12 numbers in a joint line, found 11",
        5,
    ),
    "non-number": (
        _with(7, GOOD_JOINT.replace("0.1725972", "abc")),
        "expected a number for y of a joint line, found 'abc'",
        7,
    ),
    "underscore number": (
        _with(7, GOOD_JOINT.replace("277.419", "277_419")),
        "expected a number for depthX of a joint line, found '277_419'",
        7,
    ),
    "NaN": (
        _with(9, GOOD_JOINT.replace("3.785547", "NaN")),
        "expected a finite number for z of a joint line, found NaN",
        9,
    ),
    "lowercase nan": (_with(9, GOOD_JOINT.replace("3.785547", "nan")), "found NaN", 9),
    "infinity": (_with(10, GOOD_JOINT.replace("277.419", "-inf")), "found infinity (-inf)", 10),
    "overflow": (_with(10, GOOD_JOINT.replace("277.419", "1e999")), "found 1e999 (too large)", 10),
    "tracking state out of range": (
        _with(29, GOOD_JOINT[:-1] + "7"),
        "expected a joint trackingState of 0, 1 or 2, found '7'",
        29,
    ),
    "blank line inside": (_with(3, ""), "expected a body-info line of 10 values, found an empty line", 3),
    "data after the last frame": (
        "\n".join(one_body_lines()) + "\n0\n",
        "expected the end of the file after 1 frame, found '0'",
        30,
    ),
    "old Mac line endings": ("1\r0\r", "expected the frame count (one integer), found 2 values", 1),
}


@pytest.mark.parametrize("case", sorted(BAD_INPUTS))
def test_bad_input_names_the_line(tmp_path: Path, case: str) -> None:
    text, fragment, line = BAD_INPUTS[case]
    path = tmp_path / "bad.skeleton"
    path.write_bytes(text.encode("ascii"))
    with pytest.raises(RecordingError) as caught:
        read_skeleton(path)
    message = str(caught.value)
    assert fragment in message
    assert caught.value.position == f"line {line}"
    assert message.startswith(f"{path}:line {line}: ")
    assert "\n" not in message


def test_binary_garbage_is_a_recording_error(tmp_path: Path) -> None:
    path = tmp_path / "garbage.skeleton"
    path.write_bytes(b"3\n1\n\x89PNG\xff\xfe\x00garbage")
    with pytest.raises(RecordingError, match=r":line 3: expected ASCII text, found byte 0x89"):
        read_skeleton(path)


def test_utf8_text_is_rejected_too(tmp_path: Path) -> None:
    path = tmp_path / "digits.skeleton"
    path.write_text("\u0663\n", encoding="utf-8")  # an Arabic-Indic 3, which int() would accept
    with pytest.raises(RecordingError, match="expected ASCII text"):
        read_skeleton(path)


def test_directory_instead_of_file(tmp_path: Path) -> None:
    with pytest.raises(RecordingError, match="found a directory") as caught:
        read_skeleton(tmp_path)
    assert caught.value.position is None and caught.value.path == tmp_path


def test_missing_file(tmp_path: Path) -> None:
    with pytest.raises(RecordingError, match="file not found") as caught:
        read_skeleton(tmp_path / "nope.skeleton")
    assert caught.value.path == tmp_path / "nope.skeleton"


def test_huge_body_count_does_not_allocate() -> None:
    with pytest.raises(RecordingError, match="declares 100000000000000 bodies"):
        parse_skeleton_text("1\n100000000000000\n")


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data())
def test_damaged_files_raise_only_recording_errors(data: st.DataObject) -> None:
    text = format_skeleton([[make_body(1, 1)], [make_body(1, 2), make_body(2, 3)]])
    cut = data.draw(st.integers(0, len(text)))
    junk = data.draw(st.text(alphabet=st.characters(codec="ascii"), max_size=5))
    drop = data.draw(st.integers(0, 8))
    damaged = text[:cut] + junk + text[cut + drop :]
    for allow_truncated in (False, True):
        try:
            parse_skeleton_text(damaged, allow_truncated=allow_truncated)
        except RecordingError as error:
            assert "\n" not in str(error)


# ---------------------------------------------------------------- crash recovery


def _recording(frames: int) -> str:
    return format_skeleton([[make_body(9, seed)] for seed in range(frames)])


def test_truncated_read_keeps_the_whole_frames() -> None:
    text = _recording(4)
    lines = text.splitlines(keepends=True)
    cut = "".join(lines[: 1 + 2 * 28 + 10])  # two whole frames and 10 lines of the third
    skeleton = parse_skeleton_text(cut, allow_truncated=True)
    assert (len(skeleton.frames), skeleton.declared_frames, skeleton.truncated) == (2, 4, True)
    assert same_frames(skeleton, parse_skeleton_text(text).frames[:2])
    with pytest.raises(RecordingError, match="frame 3 declares 1 body "):
        parse_skeleton_text(cut)


def test_truncated_read_drops_a_half_written_line() -> None:
    text = _recording(3)
    cut = text[: text.index("\n", len(text) - 30) - 5]  # last joint line cut mid-number, no newline
    skeleton = parse_skeleton_text(cut, allow_truncated=True)
    assert len(skeleton.frames) == 2 and skeleton.truncated


def test_truncated_read_ignores_a_zero_filled_tail() -> None:
    text = _recording(2) + "\x00" * 100
    skeleton = parse_skeleton_text(text, allow_truncated=True)
    assert len(skeleton.frames) == 2 and not skeleton.truncated


def test_truncated_read_of_a_complete_file_is_not_truncated(tmp_path: Path) -> None:
    path = tmp_path / "done.skeleton"
    path.write_text(_recording(3))
    skeleton = read_skeleton(path, allow_truncated=True)
    assert (len(skeleton.frames), skeleton.declared_frames, skeleton.truncated) == (3, 3, False)


def test_truncated_read_goes_past_a_placeholder_header() -> None:
    text = "0\n" + _recording(3).split("\n", 1)[1]
    skeleton = parse_skeleton_text(text, allow_truncated=True)
    assert (len(skeleton.frames), skeleton.declared_frames) == (3, 0)
    with pytest.raises(RecordingError, match="after 0 frames"):
        parse_skeleton_text(text)


def test_truncated_read_with_a_huge_header() -> None:
    text = "1000000000000\n" + _recording(2).split("\n", 1)[1]
    skeleton = parse_skeleton_text(text, allow_truncated=True)
    assert (len(skeleton.frames), skeleton.declared_frames, skeleton.truncated) == (2, 10**12, True)


def test_truncated_read_still_rejects_damage_before_the_end() -> None:
    lines = _recording(3).splitlines()
    lines[40] = "garbage"
    with pytest.raises(RecordingError, match="line 41: expected 12 numbers in a joint line, found 1"):
        parse_skeleton_text("\n".join(lines) + "\n", allow_truncated=True)


def test_nan_is_accepted_only_when_asked() -> None:
    text = _with(5, GOOD_JOINT.replace("0.2181153", "NaN"))
    with pytest.raises(RecordingError, match="NaN"):
        parse_skeleton_text(text)
    body = parse_skeleton_text(text, allow_nan=True).frames[0][0]
    assert np.isnan(body.joints[0, 0])
    assert np.isnan(parse_skeleton_text(text, allow_truncated=True).frames[0][0].joints[0, 0])
    with pytest.raises(RecordingError, match="NaN"):
        parse_skeleton_text(text, allow_truncated=True, allow_nan=False)
    assert format_skeleton([[body]]).splitlines()[4].startswith("NaN ")


def test_nan_image_coordinates_read_as_an_untracked_joint() -> None:
    """The official NTU-120 files write NaN depth/colour pixels for some untracked joints (x y z are 0):
    strict reading keeps the file, marks the joint not tracked, counts it and writes it back as read."""
    joint = "0 0 0 NaN NaN NaN NaN 0 1 0 0 2"
    text = _with(5, joint)
    skeleton = parse_skeleton_text(text)
    body = skeleton.frames[0][0]
    assert skeleton.unprojected_joints == 1
    plain = parse_skeleton_text("\n".join(one_body_lines()) + "\n")
    assert body.tracking[0] == 0 and body.tracking[1:].tolist() == plain.frames[0][0].tracking[1:].tolist()
    assert np.isnan(body.color_px[0]).all() and np.isnan(body.depth_px[0]).all()
    assert (body.joints[0] == 0).all()
    assert format_skeleton(skeleton.frames).splitlines()[4] == joint[:-1] + "0"
    assert plain.unprojected_joints == 0


@pytest.mark.parametrize("column", [0, 1, 2, 7, 11])
def test_nan_outside_the_image_coordinates_is_still_refused(column: int) -> None:
    values = GOOD_JOINT.split()
    values[column] = "NaN"
    with pytest.raises(RecordingError, match="line 5: expected a"):
        parse_skeleton_text(_with(5, " ".join(values)))
