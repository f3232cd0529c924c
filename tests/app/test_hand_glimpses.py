"""Still hands reuse their features: never chained, shown as read, and set apart from sensor noise on
real NTU frames."""

from __future__ import annotations

import numpy as np
import pytest

from sta_hands.app.hand_glimpses import (
    NO_CROP,
    STILL_CROP_THRESHOLD,
    GlimpseCache,
    StillCrops,
    crop_change,
    gather_hand_glimpses,
)
from sta_hands.contract.inputs import HAND_LEFT, HAND_RIGHT, WindowInputs, hand_crop

BODY = 7


def window(first_frame: int, brightness: list[int], textured: np.ndarray) -> tuple[list[int], WindowInputs]:
    """One person whose left hand's crop is `textured` + brightness[t]; the right hand absent."""
    steps = len(brightness)
    crops = np.zeros((steps, 4, 50, 50, 3), np.uint8)
    for t, level in enumerate(brightness):
        crops[t, 0] = np.clip(textured.astype(int) + level, 0, 255)
    mask = np.zeros((steps, 4), np.float32)
    mask[:, 0] = 1
    inputs = WindowInputs(
        pose=np.zeros((steps, 150), np.float32),
        hand_mask=mask,
        hand_px=np.zeros((steps, 4, 2), np.float32),
        crops=crops,
        body_ids=(BODY, None),
        hand_side_px=mask * 50,
    )
    return list(range(first_frame, first_frame + steps)), inputs


class MeanColour:
    """A stand-in CNN: a crop's mean colour, with the crops it was given."""

    def __init__(self) -> None:
        self.seen: list[np.ndarray] = []

    def __call__(self, crops: np.ndarray) -> np.ndarray:
        self.seen += list(crops)
        return crops.reshape(len(crops), -1, 3).mean(axis=1).astype(np.float32)


@pytest.fixture
def textured() -> np.ndarray:
    return np.random.default_rng(0).integers(40, 200, (50, 50, 3), dtype=np.uint8)


def test_a_drifting_crop_is_compared_with_the_computed_one_so_changes_cannot_add_up(textured) -> None:
    frames, inputs = window(0, list(range(10)), textured)  # one grey level brighter every frame
    cnn = MeanColour()
    out = gather_hand_glimpses(frames, inputs, 3, cnn, GlimpseCache(), StillCrops(threshold=2.5))
    # 1 and 2 levels from frame 0 reuse it; 3 levels is past the threshold: computed, and so on
    assert list(out.crop_frames[:, 0]) == [0, 0, 0, 3, 3, 3, 6, 6, 6, 9]
    assert (out.computed, out.reused) == (4, 6)
    assert np.all(out.crop_frames[:, 1:] == NO_CROP)
    # what the window shows is what the CNN read, and each value is that crop's
    assert np.array_equal(out.crops[:, 0], inputs.crops[out.crop_frames[:, 0], 0])
    assert np.allclose(out.values[:, 0], cnn(np.ascontiguousarray(out.crops[:, 0])))


def test_threshold_zero_computes_every_crop_and_the_cache_remembers_where_each_came_from(textured) -> None:
    frames, inputs = window(0, [0] * 6, textured)  # the very same crop six times
    every = gather_hand_glimpses(frames, inputs, 3, MeanColour(), GlimpseCache(), StillCrops(threshold=0))
    assert (every.computed, every.reused) == (6, 0)
    cache, still = GlimpseCache(), StillCrops(STILL_CROP_THRESHOLD)
    gather_hand_glimpses(frames, inputs, 3, MeanColour(), cache, still)
    later_frames, later = window(3, [0] * 6, textured)  # frames 3-8: 3-5 from the cache, 6-8 new and still
    cnn = MeanColour()
    out = gather_hand_glimpses(later_frames, later, 3, cnn, cache, still)
    assert cnn.seen == [] and (out.computed, out.reused) == (0, 3)
    assert list(out.crop_frames[:, 0]) == [0] * 6


def test_real_sensor_noise_stays_under_the_threshold_and_a_moving_hand_does_not(ntu_samples) -> None:
    from sta_hands.recordings.sources import open_reader

    clip = open_reader(str(ntu_samples / "S001C001P001R001A001.skeleton"))  # drink water, 30 fps
    frames = list(clip.frames(0))
    wall = np.array([300.0, 300.0])  # a still spot of the room: noise and compression only
    noise = [
        crop_change(hand_crop(a.image, wall, 50), hand_crop(b.image, wall, 50))
        for a, b in zip(frames[:-3], frames[3:], strict=True)
    ]
    assert max(noise) < STILL_CROP_THRESHOLD / 2
    moved = 0
    for a, b in zip(frames[:-3], frames[3:], strict=True):  # a window samples every third frame
        for joint in (HAND_LEFT, HAND_RIGHT):
            pa, pb = a.bodies[0].color_px[joint], b.bodies[0].color_px[joint]
            if np.linalg.norm(pa - pb) >= 10:
                moved += 1
                assert (
                    crop_change(hand_crop(a.image, pa, 50), hand_crop(b.image, pb, 50)) > STILL_CROP_THRESHOLD
                )
    assert moved >= 20  # she lifts the cup and puts it back


def test_a_negative_threshold_is_refused() -> None:
    with pytest.raises(ValueError, match="grey levels"):
        StillCrops(threshold=-1)
