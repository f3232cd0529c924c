"""The GUI's pure parts: the explain sentence, attention colours, the overlay drawing, the frame cache."""

from __future__ import annotations

import numpy as np
import pytest

from sta_hands.app.gui.drawing import (
    attention_colour,
    attention_thickness,
    draw_skeleton,
    frame_hands,
    render_annotated,
    render_overlay,
)
from sta_hands.app.gui.explain import explain_sentence, focus, streams_sentence
from sta_hands.app.gui.frame_cache import FrameCache
from sta_hands.app.gui.status import RateMeter
from sta_hands.app.recognizer import Prediction, Timings
from sta_hands.contract.frame import HAND_RIGHT, INFERRED, NOT_TRACKED, NUM_JOINTS, TRACKED, Body, Frame
from tests.app.conftest import GUI_CLASSES, gui_frame

PEOPLE = tuple(body.id for body in gui_frame(0).bodies)  # the test clip's person 1 and person 2


def make_prediction(
    hand: int = 1, peak_step: int = 12, top: int = 0, p: float = 0.87, present: int = 4,
    body_ids: tuple[int | None, ...] = PEOPLE,
) -> Prediction:  # fmt: skip
    t = 20
    timestamps = np.arange(t) * 0.1
    spatial = np.full((t, 4), 0.1, dtype=np.float32)
    spatial[:, hand] = 0.7
    mask = np.zeros((t, 4), dtype=np.float32)
    mask[:, :present] = 1.0
    temporal = np.full(t, 0.02, dtype=np.float32)
    temporal[peak_step] = 1.0 - 0.02 * (t - 1)
    probabilities = np.full(len(GUI_CLASSES), (1.0 - p) / (len(GUI_CLASSES) - 1))
    probabilities[top] = p
    pose = np.roll(probabilities, 1)
    return Prediction(
        frame_indices=np.arange(t), timestamps=timestamps, class_names=GUI_CLASSES,
        probabilities=probabilities, pose_probabilities=pose, rgb_probabilities=probabilities,
        spatial_attention=spatial * mask, temporal_attention=temporal, hand_mask=mask,
        hand_px=np.full((t, 4, 2), 100.0, dtype=np.float32), logits=np.log(probabilities),
        timings=Timings(0.0, 0.0, 0.0, 0.0, 0), body_ids=body_ids,
    )  # fmt: skip


def test_the_sentence_names_the_class_the_most_attended_hand_and_the_time() -> None:
    sentence = explain_sentence(make_prediction(hand=1, peak_step=12))
    assert sentence == (
        "The model said 'drink from cup' (87%). It looked mostly at the right hand of person 1, around 1.2 s."
    )


@pytest.mark.parametrize(("hand", "words"), [(0, "left hand of person 1"), (2, "left hand of person 2"),
                                             (3, "right hand of person 2")])  # fmt: skip
def test_the_sentence_follows_the_hand(hand: int, words: str) -> None:
    assert f"at the {words}, around 0.5 s" in explain_sentence(make_prediction(hand=hand, peak_step=5))


def test_without_hands_the_sentence_says_so() -> None:
    sentence = explain_sentence(make_prediction(present=0, peak_step=3))
    assert "saw no hands" in sentence and "0.3 s" in sentence
    assert focus(make_prediction(present=0)).hand is None


def test_an_absent_hand_is_never_the_focus() -> None:
    prediction = make_prediction(hand=3, present=2)  # the favoured slot is masked out
    assert focus(prediction).hand in (0, 1)


def test_the_streams_sentence_compares_pose_and_hands() -> None:
    sentence = streams_sentence(make_prediction())
    assert "movement alone suggests 'answer phone' (87%); the hand images alone, 'drink from cup'" in sentence


def test_attention_goes_from_grey_and_thin_to_red_and_thick() -> None:
    grey, orange, red = attention_colour(0.0), attention_colour(0.5), attention_colour(1.0)
    assert grey[0] == grey[1] == grey[2]
    assert orange[0] > orange[1] > orange[2] and red[0] > 200 and red[1] < 60
    assert attention_thickness(0.0, 2) < attention_thickness(0.5, 2) < attention_thickness(1.0, 2)


def _bone_width(state_0: int, state_1: int) -> int:
    """Pixels drawn across the middle of the SpineMid-SpineBase bone (joints 1 and 0, 100 px apart)."""
    color = np.full((NUM_JOINTS, 2), 190.0)
    color[0], color[1] = (20.0, 100.0), (120.0, 100.0)
    tracking = np.full(NUM_JOINTS, NOT_TRACKED)
    tracking[0], tracking[1] = state_0, state_1
    image = np.zeros((200, 200, 3), dtype=np.uint8)
    draw_skeleton(image, Body(1, np.zeros((NUM_JOINTS, 3)), color, tracking), 1.0, (255, 255, 255), 1)
    return int((image[:, 70] > 0).any(axis=1).sum())


def test_bones_between_inferred_or_untracked_joints_are_skipped() -> None:
    assert _bone_width(TRACKED, TRACKED) > _bone_width(TRACKED, INFERRED) > 0  # inferred: thinner
    assert _bone_width(INFERRED, INFERRED) == 0
    assert _bone_width(TRACKED, NOT_TRACKED) == 0


def test_the_overlay_boxes_the_attended_hand_in_red() -> None:
    frame = gui_frame(20, 40, (640, 360))
    prediction = make_prediction(hand=1)
    prediction = Prediction(**{**prediction.__dict__, "timestamps": np.full(20, frame.timestamp)})
    image = render_overlay(frame, prediction, (640, 360))
    assert image.shape == (360, 640, 3)
    hands = frame_hands(frame, prediction)
    assert max(hands, key=lambda h: h.weight).slot == 1
    x, y = (round(v) for v in frame.bodies[0].color_px[HAND_RIGHT])
    ring = image[y - 40 : y + 40, x - 40 : x + 40].reshape(-1, 3).astype(int)
    reddish = (ring[:, 2] > 200) & (ring[:, 1] < 120) & (ring[:, 0] < 120)
    assert reddish.sum() > 100


@pytest.mark.parametrize("body_ids", [PEOPLE, PEOPLE[::-1]])
def test_the_attended_box_is_on_the_attended_body_whatever_order_the_frame_lists_them(body_ids) -> None:
    listed = gui_frame(20, 40, (640, 360))
    for frame in (listed, Frame(listed.index, listed.timestamp, listed.image, listed.bodies[::-1])):
        prediction = make_prediction(hand=1, body_ids=body_ids)  # slot 1: the right hand of body_ids[0]
        prediction = Prediction(**{**prediction.__dict__, "timestamps": np.full(20, frame.timestamp)})
        image = render_overlay(frame, prediction, (640, 360))
        attended = next(body for body in frame.bodies if body.id == body_ids[0])
        other = next(body for body in frame.bodies if body.id != body_ids[0])
        assert frame_hands(frame, prediction)[1].centre == tuple(attended.color_px[HAND_RIGHT])
        for body, red_pixels in ((attended, lambda n: n > 100), (other, lambda n: n == 0)):
            x, y = (round(v) for v in body.color_px[HAND_RIGHT])
            ring = image[y - 40 : y + 40, x - 40 : x + 40].reshape(-1, 3).astype(int)
            assert red_pixels(((ring[:, 2] > 200) & (ring[:, 1] < 120) & (ring[:, 0] < 120)).sum())


def test_no_person_no_label_and_a_pose_only_prediction_says_so() -> None:
    from sta_hands.app.gui.drawing import render_strip

    nobody = Prediction(**{**make_prediction().__dict__, "status": "no person", "body_ids": (None, None)})
    assert nobody.top() == [] and explain_sentence(nobody).startswith("No one was in view")
    strip = render_strip(gui_frame(5), nobody, 640)
    assert strip.shape[1] == 640
    pose_only = Prediction(**{**make_prediction().__dict__, "streams": ("pose",)})
    assert pose_only.remark == "pose only (no video)"
    assert streams_sentence(pose_only).startswith("There was no video, so only the body's movement counted")
    partial = Prediction(**{**make_prediction().__dict__, "status": "partial"})
    assert partial.remark == "partial window" and partial.top()


def test_the_overlay_scales_down_and_keeps_the_aspect() -> None:
    image = render_overlay(gui_frame(3, 40, (1920, 1080)), None, (800, 800))
    assert image.shape == (450, 800, 3)
    skeleton_only = render_overlay(Frame(0, 0.0, None, gui_frame(3).bodies), None, (960, 540))
    assert skeleton_only.shape == (540, 960, 3)


def test_an_annotated_video_frame_has_a_fixed_even_size() -> None:
    image = render_annotated(gui_frame(5, 40, (640, 360)), make_prediction(), 961)
    assert image.shape[1] == 960 and image.shape[0] % 2 == 0 and image.shape[0] > 540


def test_the_frame_cache_stays_bounded() -> None:
    cache = FrameCache(capacity=8)
    for i in range(30):
        cache.add(gui_frame(i, 40, (640, 360)))
    assert len(cache) == 8 and cache.get(21) is None and cache.get(29) is not None
    assert cache.get(25).image.shape[1] == 192


def test_the_rate_meter_counts_events_per_second() -> None:
    meter = RateMeter(seconds=2.0)
    for i in range(61):
        meter.tick(now=i / 30)
    assert meter.rate(now=2.0) == pytest.approx(30.0, rel=0.05)
    assert meter.rate(now=10.0) == 0.0
