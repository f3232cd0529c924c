"""BlazePose's 33 landmarks -> the 25 joints of a Kinect v2 body (NTU layout), in pixels and in metres.

Every Kinect joint is a fixed linear combination of landmarks (`KINECT_FROM_BLAZEPOSE`, 25 x 33), the
table in docs/pose-estimation.md. Joints BlazePose has no landmark for are placed where the Kinect puts
them relative to the others, measured on the real NTU skeletons in shared/samples (medians over 10
files): SpineShoulder 8.7 % of the trunk above the shoulders' centre, SpineMid 57.3 % of the way from
SpineBase to SpineShoulder, Neck 34.7 % of the way from SpineShoulder to Head.

Sides: Kinect v2 colour frames (and so NTU videos) are mirror images, and the Kinect names a person's
sides as in the mirror, so its "Left" joints are those BlazePose, trained on unmirrored photos, calls
"right". Tied to the image, not the person: the Kinect's left hand is on the image's left for a person
facing the camera; fed an unmirrored camera, the body comes out as the mirror image of the person.

Metres: BlazePose's world landmarks (metric, around the hips' centre) give the shape; the distance comes
from the pinhole model, with the Kinect v2 colour camera's focal length (0.5516 x the image width, fitted
on the NTU skeletons' colour pixels), so the body's size in pixels and in metres agree.
Axes as the Kinect's camera space with its mirrored image: +x towards the image's right, +y up, +z away.
"""

from __future__ import annotations

import numpy as np

from sta_hands.contract.frame import INFERRED, JOINT_NAMES, NOT_TRACKED, TRACKED, Body

BLAZEPOSE_NAMES: tuple[str, ...] = (
    "nose", "left_eye_inner", "left_eye", "left_eye_outer", "right_eye_inner", "right_eye",
    "right_eye_outer", "left_ear", "right_ear", "mouth_left", "mouth_right", "left_shoulder",
    "right_shoulder", "left_elbow", "right_elbow", "left_wrist", "right_wrist", "left_pinky",
    "right_pinky", "left_index", "right_index", "left_thumb", "right_thumb", "left_hip", "right_hip",
    "left_knee", "right_knee", "left_ankle", "right_ankle", "left_heel", "right_heel",
    "left_foot_index", "right_foot_index",
)  # fmt: skip
NUM_LANDMARKS = len(BLAZEPOSE_NAMES)
KINECT_SIDE_OF = {"Left": "right", "Right": "left"}  # mirrored frames: see the module's docstring
FOCAL_PER_WIDTH = 0.5516  # Kinect v2 colour camera: fx 1059 px at 1920 px wide
SPINE_SHOULDER_ABOVE = 0.087  # of hips' centre -> shoulders' centre, beyond the shoulders
SPINE_MID_ALONG = 0.573  # SpineBase -> SpineShoulder
NECK_ALONG = 0.347  # SpineShoulder -> Head
HAND_TIP_ALONG = 1.5  # wrist -> the knuckles' centre (BlazePose's index and pinky landmarks), beyond
TRACKED_FROM = 0.5  # landmark visibility (and presence) from which a joint is tracked
INFERRED_FROM = 0.5  # presence from which an occluded landmark is still an inferred joint


def _landmark(name: str) -> np.ndarray:
    row = np.zeros(NUM_LANDMARKS)
    row[BLAZEPOSE_NAMES.index(name)] = 1.0
    return row


def _mean(*names: str) -> np.ndarray:
    return sum(_landmark(name) for name in names) / len(names)


def _kinect_rows() -> dict[str, np.ndarray]:
    rows: dict[str, np.ndarray] = {}
    for side, theirs in KINECT_SIDE_OF.items():
        wrist, knuckles = _landmark(f"{theirs}_wrist"), _mean(f"{theirs}_index", f"{theirs}_pinky")
        rows |= {
            f"Shoulder{side}": _landmark(f"{theirs}_shoulder"),
            f"Elbow{side}": _landmark(f"{theirs}_elbow"),
            f"Wrist{side}": _landmark(f"{theirs}_wrist"),
            f"Hand{side}": knuckles,
            f"HandTip{side}": wrist + HAND_TIP_ALONG * (knuckles - wrist),
            f"Thumb{side}": _landmark(f"{theirs}_thumb"),
            f"Hip{side}": _landmark(f"{theirs}_hip"),
            f"Knee{side}": _landmark(f"{theirs}_knee"),
            f"Ankle{side}": _landmark(f"{theirs}_ankle"),
            f"Foot{side}": _landmark(f"{theirs}_foot_index"),
        }
    hips, shoulders = _mean("left_hip", "right_hip"), _mean("left_shoulder", "right_shoulder")
    rows["SpineBase"] = hips
    rows["SpineShoulder"] = shoulders + SPINE_SHOULDER_ABOVE * (shoulders - hips)
    rows["SpineMid"] = hips + SPINE_MID_ALONG * (rows["SpineShoulder"] - hips)
    rows["Head"] = _mean("left_ear", "right_ear")
    rows["Neck"] = rows["SpineShoulder"] + NECK_ALONG * (rows["Head"] - rows["SpineShoulder"])
    return rows


def _mapping_matrix() -> np.ndarray:
    rows = _kinect_rows()
    matrix = np.stack([rows[name] for name in JOINT_NAMES])
    matrix.setflags(write=False)
    return matrix


KINECT_FROM_BLAZEPOSE = _mapping_matrix()  # 25 x 33; each row sums to 1 (points, not vectors)


def tracking_states(visibility: np.ndarray, presence: np.ndarray) -> np.ndarray:
    """25 uint8 Kinect states: a joint is as sure as the least sure landmark it is made from."""
    per_landmark = np.where(
        (visibility >= TRACKED_FROM) & (presence >= TRACKED_FROM),
        TRACKED,
        np.where(presence >= INFERRED_FROM, INFERRED, NOT_TRACKED),
    )
    used = KINECT_FROM_BLAZEPOSE != 0
    return np.array([per_landmark[row].min() for row in used], dtype=np.uint8)


def camera_space(image_px: np.ndarray, world: np.ndarray, image_size: tuple[int, int]) -> np.ndarray:
    """33 x 3 metres in the Kinect's camera axes: the world landmarks' shape placed at the distance where
    their size in pixels is the one seen (least squares over the landmarks' spread from their mean)."""
    width, height = image_size
    focal = FOCAL_PER_WIDTH * width
    spread_px = image_px - image_px.mean(axis=0)
    spread_m = world[:, :2] - world[:, :2].mean(axis=0)
    pixels_per_metre = float(np.sum(spread_px * spread_m) / max(float(np.sum(spread_m**2)), 1e-9))
    depth = focal / max(pixels_per_metre, 1e-3)
    hips_px = image_px[[23, 24]].mean(axis=0)  # the world landmarks' origin
    offset = np.array([(hips_px[0] - width / 2) * depth / focal, (hips_px[1] - height / 2) * depth / focal])
    xyz_down = np.column_stack([world[:, :2] + offset, world[:, 2] + depth])
    return xyz_down * np.array([1.0, -1.0, 1.0])  # image axes (y down) -> camera space (y up)


def kinect_body(
    body_id: int, image_px: np.ndarray, world: np.ndarray, visibility: np.ndarray, presence: np.ndarray,
    image_size: tuple[int, int],
) -> Body:  # fmt: skip
    """A `Body` from one person's 33 landmarks (pixels, world metres, visibility, presence)."""
    joints = KINECT_FROM_BLAZEPOSE @ camera_space(image_px, world, image_size)
    color_px = KINECT_FROM_BLAZEPOSE @ image_px
    return Body(body_id, joints, color_px, tracking_states(visibility, presence))
