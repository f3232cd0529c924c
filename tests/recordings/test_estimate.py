"""The bundled pose estimator (recordings/estimate): real NTU frames against the Kinect's skeleton, an
empty image, the 33 -> 25 mapping, tracking ids."""

from __future__ import annotations

import sys
from pathlib import Path

import cv2
import numpy as np
import pytest

pytest.importorskip("onnxruntime", reason="the pose estimator runs on ONNX Runtime (the cpu extra)")

from sta_hands.contract.frame import INFERRED, JOINT, NOT_TRACKED, NUM_JOINTS, TRACKED, Body, Frame
from sta_hands.recordings.estimate import EstimatorUnavailable, PoseEstimator, estimator_available
from sta_hands.recordings.estimate.joint_map import (
    BLAZEPOSE_NAMES,
    KINECT_FROM_BLAZEPOSE,
    kinect_body,
    tracking_states,
)
from sta_hands.recordings.ntu.clip import NtuClip

ONE_PERSON = "S001C001P001R001A001"  # video + Kinect skeleton
TWO_PEOPLE = "S004C002P003R001A055_rgb.avi"  # a hug, video only
FRAMES = 12  # the Kinect tracks both of this clip's arms well in its first second (later it loses one)


def _frames(path: Path, count: int) -> list[Frame]:
    with NtuClip(path) as clip:
        frames = []
        for frame in clip.frames():
            frames.append(frame)
            if len(frames) == count:
                return frames
    return frames


@pytest.fixture(scope="module")
def estimator() -> PoseEstimator:
    return PoseEstimator(threads=2)


@pytest.fixture(scope="module")
def one_person(ntu_samples: Path) -> list[tuple[Frame, tuple[Body, ...]]]:
    """The first frames of the real clip with its Kinect bodies, and what a fresh estimator made of them."""
    estimator = PoseEstimator(threads=2)
    return [(frame, estimator.estimate(frame.image)) for frame in _frames(ntu_samples / ONE_PERSON, FRAMES)]


def _px_error(estimated: Body, kinect: Body, joint: str) -> float:
    return float(np.linalg.norm(estimated.color_px[JOINT[joint]] - kinect.color_px[JOINT[joint]]))


def test_the_bundled_models_are_there() -> None:
    assert estimator_available() == (True, "")


def test_missing_model_files_give_one_line_naming_the_file(tmp_path: Path) -> None:
    available, reason = estimator_available(tmp_path)
    assert not available and "pose_detection.onnx" in reason and "\n" not in reason
    with pytest.raises(EstimatorUnavailable, match=r"pose_detection\.onnx: pose model file not found"):
        PoseEstimator(tmp_path)


def test_without_onnx_runtime_the_reason_names_the_extra(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "onnxruntime", None)  # import onnxruntime now raises ImportError
    available, reason = estimator_available()
    assert not available and "pip install 'sta-hands[cpu]'" in reason
    with pytest.raises(EstimatorUnavailable, match="needs ONNX Runtime"):
        PoseEstimator()


def test_a_provider_this_onnx_runtime_lacks_is_one_line() -> None:
    with pytest.raises(
        EstimatorUnavailable, match=r"none of the providers \['NoSuchExecutionProvider'\] is in"
    ):
        PoseEstimator(providers=["NoSuchExecutionProvider"])


def test_describe_names_the_model_and_the_provider(estimator: PoseEstimator) -> None:
    assert estimator.describe() == "BlazePose full (ONNX Runtime, CPUExecutionProvider)"


@pytest.mark.parametrize("shape", [(480, 640, 3), (1080, 1920, 3)])
def test_an_empty_scene_gives_no_bodies(shape: tuple[int, ...]) -> None:
    estimator = PoseEstimator(threads=2)
    grey = np.full(shape, 128, dtype=np.uint8)
    noise = np.random.default_rng(0).integers(0, 256, shape, dtype=np.uint8)
    assert [estimator.estimate(image) for image in (grey, noise, grey)] == [(), (), ()]


def test_not_an_image_is_refused(estimator: PoseEstimator) -> None:
    with pytest.raises(ValueError, match="expected an H x W x 3 uint8 BGR image"):
        estimator.estimate(np.zeros((48, 64), dtype=np.uint8))


def test_the_person_is_found_with_hands_near_the_kinects(one_person) -> None:
    hand_errors = []
    for frame, estimated in one_person:
        assert len(estimated) == 1, f"frame {frame.index}: {len(estimated)} bodies, expected the one person"
        body, kinect = estimated[0], frame.bodies[0]
        hand_errors += [_px_error(body, kinect, hand) for hand in ("HandLeft", "HandRight")]
        assert body.joints.shape == (NUM_JOINTS, 3) and body.color_px.shape == (NUM_JOINTS, 2)
        assert np.all(np.isfinite(body.joints)) and np.all(body.tracking <= TRACKED)
    assert np.median(hand_errors) <= 25.0, f"median hand error {np.median(hand_errors):.1f} px at 1920x1080"


def test_left_and_right_are_the_kinects(one_person) -> None:
    """Kinect v2 frames are mirrored and the Kinect names sides as in the mirror: its left arm is on the
    image's left for a person facing it. The hands sit together at this clip's start, so the check uses the
    joints that stand apart."""
    for frame, (body,) in one_person:
        kinect = frame.bodies[0]
        for left, right in (
            ("ShoulderLeft", "ShoulderRight"),
            ("ElbowLeft", "ElbowRight"),
            ("HipLeft", "HipRight"),
        ):
            same = _px_error(body, kinect, left)
            crossed = float(np.linalg.norm(body.color_px[JOINT[left]] - kinect.color_px[JOINT[right]]))
            assert same < crossed, f"frame {frame.index}: estimated {left} lies on the Kinect's {right}"


def test_metres_match_the_kinects_scale(one_person) -> None:
    """Shape from BlazePose's world landmarks, distance from the pinhole model: bone lengths and the
    distance to the camera agree with the Kinect's depth measurements."""
    frame, (body,) = one_person[0]
    kinect = frame.bodies[0]
    for a, b in (("SpineBase", "SpineShoulder"), ("ShoulderLeft", "ShoulderRight"), ("HipLeft", "AnkleLeft")):
        ours = np.linalg.norm(body.joints[JOINT[a]] - body.joints[JOINT[b]])
        theirs = np.linalg.norm(kinect.joints[JOINT[a]] - kinect.joints[JOINT[b]])
        assert ours == pytest.approx(theirs, rel=0.3), f"{a}-{b}: {ours:.2f} m, the Kinect {theirs:.2f} m"
    assert body.joints[JOINT["SpineBase"], 2] == pytest.approx(kinect.joints[JOINT["SpineBase"], 2], rel=0.3)
    head_up = body.joints[JOINT["Head"], 1] - body.joints[JOINT["SpineBase"], 1]
    assert head_up > 0.4, "camera space has +y up"


def test_a_webcam_framed_person_is_found_and_legs_out_of_view_are_not_tracked(one_person) -> None:
    """The upper body filling a 640 x 480 frame, as at a desk in front of a webcam (cut from the real clip
    and enlarged 1.6 times): hands where the Kinect's are, knees and ankles below the frame not tracked."""
    estimator = PoseEstimator(threads=2)
    left, top, scale = 830, 250, 1.6
    for frame, _ in one_person[:4]:
        webcam = cv2.resize(frame.image[top : top + 300, left : left + 400], (640, 480))
        (body,) = estimator.estimate(webcam)
        kinect = frame.bodies[0]
        for hand in ("HandLeft", "HandRight"):
            in_full_frame = body.color_px[JOINT[hand]] / scale + (left, top)
            assert np.linalg.norm(in_full_frame - kinect.color_px[JOINT[hand]]) < 25.0, (frame.index, hand)
        legs = [JOINT[name] for name in ("KneeLeft", "KneeRight", "AnkleLeft", "AnkleRight")]
        assert np.all(body.tracking[legs] == NOT_TRACKED)
        assert body.tracking[JOINT["Head"]] == TRACKED


def test_two_people_keep_their_ids(ntu_samples: Path) -> None:
    estimator = PoseEstimator(threads=2)
    ids = [
        tuple(body.id for body in estimator.estimate(frame.image))
        for frame in _frames(ntu_samples / TWO_PEOPLE, 8)
    ]
    assert len(ids[0]) == 2, f"first frame: {len(ids[0])} people found, expected both"
    assert all(frame_ids == ids[0] for frame_ids in ids), ids
    estimator.reset()
    first = _frames(ntu_samples / TWO_PEOPLE, 1)[0]
    assert {body.id for body in estimator.estimate(first.image)}.isdisjoint(ids[0]), "ids are not reused"


# ---------------------------------------------------------------- the mapping, on constructed landmarks


def _landmarks() -> tuple[np.ndarray, np.ndarray]:
    """33 landmarks of a person facing a mirrored camera (BlazePose's right side on the image's left)."""
    image_px = np.zeros((33, 2))
    for index, name in enumerate(BLAZEPOSE_NAMES):
        side = -1.0 if name.startswith("right") else 1.0 if name.startswith("left") else 0.0
        height = 300.0 if any(part in name for part in ("eye", "ear", "nose", "mouth")) else 500.0
        height = (
            600.0 if "hip" in name else 800.0 if any(p in name for p in ("ankle", "heel", "foot")) else height
        )
        image_px[index] = (960 + 60 * side, height)
    world = np.column_stack([(image_px[:, 0] - 960) / 200, (image_px[:, 1] - 600) / 200, np.zeros(33)])
    return image_px, world


def test_each_kinect_joint_is_a_weighted_mean_of_landmarks() -> None:
    assert KINECT_FROM_BLAZEPOSE.shape == (NUM_JOINTS, 33)
    np.testing.assert_allclose(KINECT_FROM_BLAZEPOSE.sum(axis=1), 1.0)


def test_tracking_states_follow_visibility_and_presence() -> None:
    visibility, presence = np.ones(33), np.ones(33)
    assert np.all(tracking_states(visibility, presence) == TRACKED)
    left_wrist = BLAZEPOSE_NAMES.index("left_wrist")
    visibility[left_wrist] = 0.1  # hidden behind the body, still in the image
    states = tracking_states(visibility, presence)
    assert states[JOINT["WristRight"]] == INFERRED and states[JOINT["HandRight"]] == TRACKED
    assert states[JOINT["HandTipRight"]] == INFERRED and states[JOINT["WristLeft"]] == TRACKED
    presence[left_wrist] = 0.1  # out of the image
    assert tracking_states(visibility, presence)[JOINT["WristRight"]] == NOT_TRACKED


def test_sides_and_axes_of_a_constructed_body() -> None:
    image_px, world = _landmarks()
    body = kinect_body(7, image_px, world, np.ones(33), np.ones(33), (1920, 1080))
    assert body.id == 7 and body.tracking.dtype == np.uint8
    assert body.color_px[JOINT["HandLeft"], 0] < 960 < body.color_px[JOINT["HandRight"], 0]
    assert body.joints[JOINT["HandLeft"], 0] < body.joints[JOINT["HandRight"], 0], (
        "+x towards the image's right"
    )
    assert (
        body.joints[JOINT["Head"], 1] > body.joints[JOINT["SpineMid"], 1] > body.joints[JOINT["SpineBase"], 1]
    )
    assert body.joints[JOINT["Neck"], 1] > body.joints[JOINT["SpineShoulder"], 1]
    assert np.all(body.joints[:, 2] > 0), "in front of the camera"
