"""Body selection: the NTU authors' rule over a clip, and stable slots over a sliding window."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from sta_hands.contract.body_slots import BodySlots, bodies_by_slot, padded, select_main_bodies
from sta_hands.contract.frame import Body
from sta_hands.recordings.ntu.skeleton import read_skeleton
from tests.recordings.figures import figure

# ---------------------------------------------------------------- a whole clip: the NTU authors' rule


def _scene(frames: int = 30) -> list[list[Body]]:
    """A walking person (id 30, appears second), a sofa (id 10: wide, jittering hard) and a still person."""
    scene = []
    for t in range(frames):
        sofa = figure(10, (0.5 * np.sin(t), 0.3, 3.0), width=2.0, height=0.8)
        walker = figure(30, (-1 + 0.07 * t, 0.0, 3.5 - 0.03 * t))
        still = figure(20, (1.0, 0.0, 4.0))
        scene.append([sofa, walker, still] if t else [sofa, still])
    return scene


def test_main_bodies_drop_furniture_and_keep_first_appearance_order() -> None:
    assert select_main_bodies(_scene(), count=2) == [20, 30]
    assert select_main_bodies(_scene(), count=1) == [30]
    assert select_main_bodies(_scene(), count=5) == [20, 30]


def test_main_bodies_prefer_the_moving_people() -> None:
    scene = _scene()
    for t, bodies in enumerate(scene):
        bodies.insert(0, figure(40, (np.cos(t / 3), 0.0, 3.0 + np.sin(t / 3))))
    assert select_main_bodies(scene, count=2) == [40, 30]


def test_main_bodies_keep_furniture_when_nothing_else_is_there() -> None:
    scene = [[figure(10, (0.0, 0.3, 3.0), width=2.0, height=0.8)] for _ in range(5)]
    assert select_main_bodies(scene) == [10]
    assert select_main_bodies([]) == [] and select_main_bodies([[], []]) == []


def test_bodies_by_slot() -> None:
    scene = _scene(3)
    slots = bodies_by_slot(scene, [20, 30])
    assert [[None if b is None else b.id for b in frame] for frame in slots] == [
        [20, None],
        [20, 30],
        [20, 30],
    ]


def test_main_bodies_of_real_two_person_files(ntu_samples: Path) -> None:
    for path in sorted(ntu_samples.glob("*A05?.skeleton")):
        frames = read_skeleton(path).frames
        assert select_main_bodies(frames) == [body.id for body in frames[0]], path.name


# ---------------------------------------------------------------- a sliding window: stable slots


def _slide(frames: list[list[Body]], window: int = 20) -> list[tuple[int | None, ...]]:
    """The slots a `BodySlots` gives each window of `window` frames sliding one frame at a time."""
    slots = BodySlots()
    return [slots.assign(frames[max(0, end - window) : end]) for end in range(1, len(frames) + 1)]


def _two_people(frames: int, order: str = "same") -> list[list[Body]]:
    """Person 1 (id 5, appears first) and person 2 (id 9), listed in an order that may change."""
    scene = []
    for t in range(frames):
        first = figure(5, (-0.6 + 0.01 * np.sin(t), 0.0, 3.0))
        second = figure(9, (0.6, 0.02 * np.cos(t), 3.1))
        bodies = [first, second] if t else [first]
        if order == "alternate" and t % 2:
            bodies.reverse()
        scene.append(bodies)
    return scene


def test_slots_follow_the_people_whatever_order_the_frames_list_them_in() -> None:
    for window in _slide(_two_people(60, "alternate")):
        assert window[0] == 5 and window[1] in (None, 9)
    assert _slide(_two_people(60, "alternate"))[-1] == (5, 9)


def test_a_spurious_third_body_takes_no_slot_and_moves_no_one() -> None:
    scene = _two_people(60)
    for t in range(20, 40):
        scene[t].insert(0, figure(77, (0.0, 0.3, 2.5), width=2.0, height=0.5))  # a sofa, listed first
    assert all(window == (5, 9) for window in _slide(scene)[1:])


def test_a_person_keeps_the_slot_while_in_view_and_frees_it_when_gone() -> None:
    scene = _two_people(100)
    for t in range(30, 70):  # person 1 leaves for 40 frames (two windows)
        scene[t] = [body for body in scene[t] if body.id != 5]
    windows = _slide(scene)
    assert windows[35] == (5, 9)  # still in the window: keeps the slot
    assert windows[55] == (None, 9)  # gone from the whole window: slot 1 free, person 2 stays put
    assert windows[99] == (5, 9)  # back: takes the free slot again


def test_a_body_entering_mid_window_takes_the_free_slot_without_moving_the_first() -> None:
    scene = [[figure(9, (0.6, 0.0, 3.0))] for _ in range(10)]
    scene += [[figure(3, (-0.6, 0.01 * t, 3.0)), figure(9, (0.6, 0.0, 3.0))] for t in range(30)]
    windows = _slide(scene)
    assert windows[5] == (9, None)
    assert all(window == (9, 3) for window in windows[10:])


def test_the_first_window_orders_like_the_whole_clip_rule() -> None:
    scene = _scene()
    assert BodySlots().assign(scene) == tuple(select_main_bodies(scene)) == (20, 30)
    assert padded([7]) == (7, None) and padded([]) == (None, None)


def test_stable_slots_on_a_real_two_person_file(ntu_samples: Path) -> None:
    frames = read_skeleton(ntu_samples / "S017C003P020R002A055.skeleton").frames
    reversed_order = [
        list(reversed(bodies)) if t % 3 == 1 else list(bodies) for t, bodies in enumerate(frames)
    ]
    expected = tuple(select_main_bodies(frames))
    assert all(window == expected for window in _slide(reversed_order)[1:] if None not in window)
