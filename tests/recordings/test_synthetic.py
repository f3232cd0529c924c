"""The synthetic NTU-format generator: names and splits, files, determinism, and the ground truth that
makes the paper's claims testable (same motion inside a group, objects visible at the acting hand)."""

from __future__ import annotations

import dataclasses
import re
from pathlib import Path

import numpy as np
import pytest

from sta_hands.contract.frame import COLOR_SIZE, DEPTH_SIZE, HAND_LEFT, HAND_RIGHT, INFERRED, TRACKED
from sta_hands.contract.frame import JOINT as J
from sta_hands.contract.inputs import window_inputs
from sta_hands.recordings.ntu.skeleton import read_skeleton
from sta_hands.recordings.own.recording import open_recording
from sta_hands.recordings.synthetic import (
    ACTIONS,
    BALL_GREEN,
    BOX_BLUE,
    COLOR_C,
    COLOR_F,
    CUP_RED,
    HEIGHT_RANGE_M,
    MOTIONS,
    OBJECTS,
    PHONE_SCREEN,
    SYNTHETIC_CLASSES,
    ClipSpec,
    generate_dataset,
    performer_height,
    plan_clips,
    project,
    render_clip,
    render_image,
    simulate_clip,
)

NAME = re.compile(r"^S(\d{3})C(\d{3})P(\d{3})R(\d{3})A(\d{3})$")
SHORT = 10  # frames per clip where the test writes files
HAND_JOINTS = (HAND_LEFT, HAND_RIGHT)
CLASS = {name: index for index, name in enumerate(SYNTHETIC_CLASSES)}


def spec_of(
    class_name: str, index: int, *, seed: int = 11, camera: int = 1, frames: int | None = None
) -> ClipSpec:
    return ClipSpec(index=index, seed=seed, class_index=CLASS[class_name], camera=camera, frames=frames)


def hand_tracks(clip) -> np.ndarray:
    """T x 4 x 3 hand joints by slot (left-1, right-1, left-2, right-2), clean camera space."""
    hands = clip.clean[:, :, HAND_JOINTS]  # T x P x 2 x 3
    out = np.zeros((clip.frames, 4, 3))
    out[:, : 2 * hands.shape[1]] = hands.reshape(clip.frames, -1, 3)
    return out


def crop(image: np.ndarray, centre: np.ndarray, size: int = 50) -> np.ndarray:
    x0, y0 = round(float(centre[0])) - size // 2, round(float(centre[1])) - size // 2
    return image[max(y0, 0) : y0 + size, max(x0, 0) : x0 + size]


def share_of_colour(patch: np.ndarray, colour: tuple[int, int, int], tolerance: int = 45) -> float:
    return float(np.all(np.abs(patch.astype(int) - colour) <= tolerance, axis=-1).mean())


@pytest.fixture(scope="module")
def written(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, list[Path]]:
    """One short clip of every class (performer 1, camera 1), written in-process."""
    out = tmp_path_factory.mktemp("synthetic")
    return out, generate_dataset(out, len(ACTIONS), seed=5, workers=1, progress=False, frames=SHORT)


# ------------------------------------------------------------------------------------ classes and names


def test_classes_are_a_table_of_named_motions() -> None:
    assert len(SYNTHETIC_CLASSES) >= 8 and len(set(SYNTHETIC_CLASSES)) == len(SYNTHETIC_CLASSES)
    assert all(action.motion in MOTIONS for action in ACTIONS)
    assert all(action.held in (*OBJECTS, "any", None) for action in ACTIONS)
    groups = {}
    for action in ACTIONS:
        groups.setdefault(action.motion, []).append(action)
    object_groups = [g for g in groups.values() if len({a.held for a in g}) > 1]
    assert len(object_groups) >= 2  # (a) same motion, different objects
    assert {a.hand for a in groups["wave"]} == {"left", "right"}  # (b)
    assert sum(a.people == 2 for a in ACTIONS) >= 2  # (c)
    assert sum(a.hand == "none" for a in ACTIONS) >= 2  # (d)


def test_planned_names_are_ntu_valid_and_unique() -> None:
    specs = plan_clips(500, seed=0)
    names = [spec.name for spec in specs]
    assert len(set(names)) == len(names)
    for spec in specs:
        setup, camera, performer, replication, action = map(int, NAME.match(spec.name).groups())
        assert action == spec.class_index + 1 and 1 <= camera <= 3 and replication in (1, 2)
        assert setup >= 1 and performer >= 1


def test_every_performer_does_every_class_from_every_camera() -> None:
    specs = plan_clips(len(ACTIONS) * 3 * 4, seed=0)
    for performer in {s.performer for s in specs}:
        done = {(s.class_index, s.camera) for s in specs if s.performer == performer}
        assert done == {(c, v) for c in range(len(ACTIONS)) for v in (1, 2, 3)}


def test_cross_subject_and_cross_view_splits_both_hold_every_class() -> None:
    specs = plan_clips(len(ACTIONS) * 3 * 3, seed=0)
    splits = {
        "cross-subject": [s.performer == 1 for s in specs],
        "cross-view": [s.camera == 1 for s in specs],
    }
    for test_side in splits.values():
        for side in (True, False):
            classes = {s.class_index for s, t in zip(specs, test_side, strict=True) if t == side}
            assert classes == set(range(len(ACTIONS)))


def test_a_performer_has_the_same_height_in_every_clip() -> None:
    assert HEIGHT_RANGE_M[0] <= performer_height(3) <= HEIGHT_RANGE_M[1]
    heights = {performer_height(p) for p in range(1, 41)}
    assert len(heights) == 40
    specs = [s for s in plan_clips(len(ACTIONS) * 6, seed=2) if s.performer == 2 and s.action.hand != "none"]
    spans = []
    for spec in specs[:3]:
        first = simulate_clip(spec).clean[0, 0]
        spans.append(np.linalg.norm(first[J["Head"]] - first[J["AnkleLeft"]]))
    assert np.ptp(spans) < 0.05


# -------------------------------------------------------------------------------------- files on disk


def test_files_read_back_with_the_readers(written: tuple[Path, list[Path]]) -> None:
    _, stems = written
    assert [stem.name for stem in stems] == [spec.name for spec in plan_clips(len(ACTIONS), 5)]
    for stem in stems:
        recording = open_recording(stem)
        assert len(recording) == SHORT and not recording.recovered
        synthetic = recording.header["synthetic"]
        assert recording.header["class_names"] == list(SYNTHETIC_CLASSES)
        assert SYNTHETIC_CLASSES[synthetic["class_index"]] == synthetic["class_name"]
        assert synthetic["class_index"] + 1 == int(stem.name[-3:])
        people = ACTIONS[synthetic["class_index"]].people
        frames = list(recording.frames())
        assert all(f.image.shape == (1080, 1920, 3) for f in frames)
        assert all(len(f.bodies) == people for f in frames)
        assert all(body.id > 2**56 for f in frames for body in f.bodies)
        assert all("active_hands" in extra for extra in recording.extras)
        skeleton = read_skeleton(stem.with_name(stem.name + ".skeleton"))
        assert len(skeleton.frames) == SHORT


def test_same_seed_gives_byte_identical_files_whatever_the_workers(
    written: tuple[Path, list[Path]], tmp_path: Path
) -> None:
    first_dir, _ = written
    specs = plan_clips(len(ACTIONS), 5, frames=SHORT)[-3:]  # includes both two-person classes
    again = generate_dataset(tmp_path, specs, workers=2, progress=False)
    for stem in again:
        for suffix in (".skeleton", "_rgb.avi", ".jsonl"):
            name = stem.name + suffix
            assert (tmp_path / name).read_bytes() == (first_dir / name).read_bytes(), name


def test_another_seed_gives_other_files(written: tuple[Path, list[Path]], tmp_path: Path) -> None:
    first_dir, _ = written
    (stem,) = generate_dataset(tmp_path, plan_clips(1, 6, frames=SHORT), workers=1, progress=False)
    for suffix in (".skeleton", "_rgb.avi"):
        assert (tmp_path / (stem.name + suffix)).read_bytes() != (
            first_dir / (stem.name + suffix)
        ).read_bytes()


# ------------------------------------------------------------------------------------- the geometry


def test_joints_project_inside_the_colour_and_depth_images() -> None:
    for spec in plan_clips(len(ACTIONS) * 3 * 2, seed=3):
        frames, _, _ = render_clip(spec, images=False)
        for frame in frames:
            for body in frame.bodies:
                assert np.all((body.color_px >= 0) & (body.color_px < COLOR_SIZE))
                assert np.all((body.depth_px >= 0) & (body.depth_px < DEPTH_SIZE))
                assert np.all((body.joints[:, 2] > 1.8) & (body.joints[:, 2] < 4.8))
                assert set(np.unique(body.tracking)) <= {INFERRED, TRACKED}


def test_people_stand_2_5_to_4_m_away_and_the_image_is_mirrored() -> None:
    for spec in plan_clips(len(ACTIONS) * 3, seed=4):
        clip = simulate_clip(spec)
        spine = clip.clean[:, :, J["SpineMid"], 2]
        assert np.all((spine > 2.5) & (spine < 4.0))
        if spec.camera == 1 and spec.action.people == 1:  # facing the camera: left shoulder has smaller x
            frames, _, _ = render_clip(spec, images=False)
            body = next(frames).bodies[0]
            assert body.color_px[J["ShoulderLeft"], 0] < body.color_px[J["ShoulderRight"], 0]


def test_cameras_2_and_3_see_the_scene_turned_by_45_degrees() -> None:
    def facing_angle(camera: int) -> float:
        angles = []
        for index in range(6):
            joints = simulate_clip(spec_of("squat", index, camera=camera)).clean[0, 0]
            across = joints[J["ShoulderRight"]] - joints[J["ShoulderLeft"]]
            angles.append(np.degrees(np.arctan2(across[2], across[0])))
        return float(np.mean(angles))

    assert abs(facing_angle(1)) < 12
    assert abs(abs(facing_angle(2) - facing_angle(3)) - 90) < 15


# ----------------------------------------------------------------------------------- the ground truth


@pytest.mark.parametrize("group", [("drink from cup", "answer phone", "touch head"),
                                   ("reach holding ball", "reach holding box")])  # fmt: skip
def test_a_motion_group_has_the_same_poses_whatever_the_object(group: tuple[str, ...]) -> None:
    for index in range(3):
        clips = [simulate_clip(spec_of(name, index)) for name in group]
        for other in clips[1:]:
            assert np.array_equal(other.joints, clips[0].joints)
            assert other.extras == clips[0].extras
        assert len({clip.metadata["synthetic"]["held_object"] for clip in clips}) == len(group)


def test_a_motion_group_has_the_same_pose_statistics_across_clips() -> None:
    def head_distance_curve(name: str, indices: range) -> np.ndarray:
        curves = []
        for index in indices:
            clip = simulate_clip(spec_of(name, index))
            side = 1 if clip.metadata["synthetic"]["acting_hand"] == "right" else 0
            distance = np.linalg.norm(
                clip.joints[:, 0, HAND_JOINTS[side]] - clip.joints[:, 0, J["Head"]], axis=1
            )
            curves.append(np.interp(np.linspace(0, 1, 20), np.linspace(0, 1, len(distance)), distance))
        return np.mean(curves, axis=0)

    drink = head_distance_curve("drink from cup", range(0, 24))
    phone = head_distance_curve("answer phone", range(100, 124))
    reach = head_distance_curve("reach holding ball", range(200, 224))
    assert np.abs(drink - phone).max() < 0.35 * np.abs(drink - reach).max()


def test_the_acting_hand_crop_shows_the_object() -> None:
    colours = {"drink from cup": CUP_RED, "answer phone": PHONE_SCREEN,
               "reach holding ball": BALL_GREEN, "reach holding box": BOX_BLUE}  # fmt: skip
    for name, colour in colours.items():
        for index in range(2):
            spec = spec_of(name, index, camera=1 + index * 2)
            clip = simulate_clip(spec)
            look = clip.look()
            frames, _, extras = render_clip(spec, images=False)
            for t, (frame, extra) in enumerate(zip(frames, extras, strict=True)):
                if t % 6 or not extra["active_hands"]:
                    continue
                (slot,) = extra["active_hands"]
                image = render_image(clip, look, t)
                patch = crop(image, frame.bodies[0].color_px[HAND_JOINTS[slot]])
                assert share_of_colour(patch, colour) > 0.08, (name, index, t)


def test_crops_of_one_group_differ_only_at_the_acting_hand() -> None:
    images, hands = [], None
    for name in ("drink from cup", "answer phone", "touch head"):
        clip = simulate_clip(spec_of(name, 1))
        t = int(np.flatnonzero([bool(e["active_hands"]) for e in clip.extras]).mean())
        images.append(render_image(clip, clip.look(), t))
        acting = clip.extras[t]["active_hands"][0]
        hands = project(clip.joints[t, 0, list(HAND_JOINTS)], COLOR_F, COLOR_C)
    idle = 1 - acting
    for a in range(3):
        for b in range(a + 1, 3):
            acting_diff = np.abs(crop(images[a], hands[acting]).astype(int) - crop(images[b], hands[acting]))
            idle_diff = np.abs(crop(images[a], hands[idle]).astype(int) - crop(images[b], hands[idle]))
            assert acting_diff.mean() > 10 and idle_diff.mean() < 1


def test_active_hands_are_the_hands_that_move_the_most() -> None:
    for name in ("drink from cup", "reach holding box", "wave left hand", "wave right hand", "give object",
                 "handshake"):  # fmt: skip
        for index in range(4):
            clip = simulate_clip(spec_of(name, index))
            path = np.linalg.norm(np.diff(hand_tracks(clip), axis=0), axis=2).sum(axis=0)
            active = sorted({h for e in clip.extras for h in e["active_hands"]})
            assert sorted(np.argsort(path)[-len(active) :]) == active, (name, index)
            assert path[active].min() > 2 * max(np.delete(path, active).max(), 0.01)
            assert not clip.extras[0]["active_hands"] and not clip.extras[-1]["active_hands"]
            if name.startswith("wave"):
                assert active == [0 if "left" in name else 1]


@pytest.mark.parametrize("frames", [8, 10, None])
def test_every_clip_starts_and_ends_idle(frames: int | None) -> None:
    for spec in plan_clips(len(ACTIONS) * 6, seed=8, frames=frames):
        extras = simulate_clip(spec).extras
        assert not extras[0]["active_hands"] and not extras[-1]["active_hands"], spec.name
        assert any(extra["active_hands"] for extra in extras) == (spec.action.hand != "none")


def test_too_short_a_clip_is_refused() -> None:
    with pytest.raises(ValueError, match="at least"):
        simulate_clip(spec_of("squat", 0, frames=4))


def test_body_motion_classes_have_no_active_hand_and_move_the_trunk() -> None:
    for name in ("squat", "bow"):
        clip = simulate_clip(spec_of(name, 0))
        assert all(not e["active_hands"] for e in clip.extras)
        head = clip.clean[:, 0, J["Head"]]
        assert np.linalg.norm(head - head[0], axis=1).max() > 0.2


def test_active_hand_slots_are_the_model_input_slots() -> None:
    """`active_hands` numbers hands as `contract.inputs` does: left-1, right-1, left-2, right-2."""
    clip = simulate_clip(spec_of("give object", 2))
    frames, _, _ = render_clip(clip.spec, images=False)
    inputs = window_inputs(list(frames))
    expected = project(clip.joints[:, :, list(HAND_JOINTS)], COLOR_F, COLOR_C).reshape(clip.frames, 4, 2)
    assert np.allclose(inputs.hand_px, expected, atol=1e-3)


def test_the_acting_hand_is_drawn_per_clip_and_idle_hands_hold_distractors() -> None:
    sides, distractors = set(), []
    for index in range(20):
        clip = simulate_clip(spec_of("touch head", index))
        side = clip.metadata["synthetic"]["acting_hand"]
        sides.add(side)
        idle = 1 if side == "left" else 0
        distractors.append(clip.objects[0, idle] >= 0)
        assert np.all(clip.objects[:, 0 if side == "left" else 1] == -1)  # "touch head": empty hand
    assert sides == {"left", "right"}
    assert 0.2 < np.mean(distractors) < 0.8


def test_give_object_passes_the_object_from_one_right_hand_to_the_other() -> None:
    clip = simulate_clip(spec_of("give object", 0))
    held = OBJECTS.index(clip.metadata["synthetic"]["held_object"])
    carriers = [set(np.flatnonzero(row == held)) & {1, 3} for row in clip.objects]
    assert carriers[0] != carriers[-1] and all(len(c) == 1 for c in carriers)


# ------------------------------------------------------------------------- the harder case: a busy idle hand


def _fastest_hand_hits(idle_hand: str) -> float:
    """Share of sampled frames (every 3rd: about a live window's spacing) with one acting hand where
    that hand moved the most since the previous sampled frame: the rule attention must beat."""
    hits = []
    for spec in plan_clips(len(ACTIONS) * 6, seed=3, idle_hand=idle_hand):
        if spec.action.people != 1 or spec.action.hand == "none":
            continue
        clip = simulate_clip(spec)
        moves = np.linalg.norm(np.diff(clip.joints[::3, 0][:, list(HAND_JOINTS)], axis=0), axis=-1)
        for move, extra in zip(moves, clip.extras[::3][1:], strict=True):
            if len(extra["active_hands"]) == 1:
                hits.append(int(np.argmax(move)) == extra["active_hands"][0])
    return float(np.mean(hits))


def test_a_busy_idle_hand_moves_as_much_as_the_acting_one_so_the_fastest_hand_rule_fails() -> None:
    assert _fastest_hand_hits("rest") > 0.75
    assert 0.35 < _fastest_hand_hits("busy") < 0.65  # about a coin toss between the two hands


def test_a_busy_clip_keeps_the_acting_hand_the_truth_and_the_rest_of_the_clip() -> None:
    for name in ("drink from cup", "reach holding box", "wave left hand"):
        for index in range(3):
            rest = simulate_clip(spec_of(name, index))
            busy = simulate_clip(dataclasses.replace(spec_of(name, index), idle_hand="busy"))
            side = 1 if rest.metadata["synthetic"]["acting_hand"] == "right" else 0
            acting_arm = [J[f"{joint}{'Right' if side else 'Left'}"] for joint in ("Elbow", "Wrist", "Hand")]
            idle_hand = HAND_JOINTS[1 - side]
            assert np.array_equal(busy.joints[:, 0, acting_arm], rest.joints[:, 0, acting_arm])
            assert busy.extras == rest.extras  # the acting hand is still the only active one
            assert np.abs(busy.clean[:, 0, idle_hand] - rest.clean[:, 0, idle_hand]).max() > 0.05
            assert busy.metadata["synthetic"]["idle_hand"] in ("scratch", "gesture")
            assert "idle_hand" not in rest.metadata["synthetic"]  # resting clips' files are unchanged


def test_two_person_and_body_motion_clips_have_no_busy_hand() -> None:
    for name in ("squat", "bow", "give object", "handshake"):
        rest = simulate_clip(spec_of(name, 0))
        busy = simulate_clip(dataclasses.replace(spec_of(name, 0), idle_hand="busy"))
        assert np.array_equal(busy.joints, rest.joints) and "idle_hand" not in busy.metadata["synthetic"]


def test_a_mixed_plan_makes_every_other_clip_busy_and_every_class_gets_both() -> None:
    specs = plan_clips(len(ACTIONS) * 6, seed=1, idle_hand="mixed")
    assert [s.idle_hand for s in specs[:4]] == ["rest", "busy", "rest", "busy"]
    for class_index in range(len(ACTIONS)):
        assert {s.idle_hand for s in specs if s.class_index == class_index} == {"rest", "busy"}
