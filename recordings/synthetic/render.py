"""Drawing a colour frame with OpenCV primitives: figures, shadows and the objects in their hands."""

from __future__ import annotations

from collections.abc import Callable
from functools import partial

import cv2
import numpy as np

from sta_hands.contract.frame import JOINT as J
from sta_hands.recordings.synthetic.camera import COLOR_C, COLOR_F, project
from sta_hands.recordings.synthetic.look import Look
from sta_hands.recordings.synthetic.plan import LEFT, OBJECTS, RIGHT
from sta_hands.recordings.synthetic.scene import SimulatedClip

# Saturated, distinct object colours (BGR); clothes and background are muted so objects stand out.
CUP_RED, CUP_RIM = (40, 40, 205), (140, 140, 245)
PHONE_BODY, PHONE_SCREEN = (35, 30, 30), (240, 205, 80)
BALL_GREEN, BALL_SHINE = (50, 190, 60), (170, 245, 180)
BOX_BLUE, BOX_TOP, BOX_TAPE = (190, 90, 20), (235, 150, 70), (150, 220, 240)
OBJECT_SIZE_M, OBJECT_SIZE_PX = 0.11, (25, 40)


def _px(points: np.ndarray) -> np.ndarray:
    return np.round(project(points, COLOR_F, COLOR_C)).astype(np.int32)


def _size(metres: float, z: float) -> int:
    return max(1, round(COLOR_F * metres / z))


# Limbs drawn as thick segments: (from joint, to joint, width in metres, "shirt" / "trousers" / "skin").
LIMBS: tuple[tuple[str, str, float, str], ...] = (
    ("HipLeft", "KneeLeft", 0.14, "trousers"), ("KneeLeft", "AnkleLeft", 0.11, "trousers"),
    ("HipRight", "KneeRight", 0.14, "trousers"), ("KneeRight", "AnkleRight", 0.11, "trousers"),
    ("AnkleLeft", "FootLeft", 0.08, "shoes"), ("AnkleRight", "FootRight", 0.08, "shoes"),
    ("ShoulderLeft", "ElbowLeft", 0.09, "shirt"), ("ElbowLeft", "WristLeft", 0.075, "shirt"),
    ("ShoulderRight", "ElbowRight", 0.09, "shirt"), ("ElbowRight", "WristRight", 0.075, "shirt"),
    ("Neck", "Head", 0.08, "skin"),
)  # fmt: skip
TORSO = ("ShoulderLeft", "ShoulderRight", "HipRight", "HipLeft")
HAND_RADIUS_M = 0.045
Part = tuple[float, Callable[[np.ndarray], None]]  # (depth in metres, draw on the image)


def render_image(clip: SimulatedClip, look: Look, t: int) -> np.ndarray:
    """The colour frame `t`: background, shadows, then every part far to near (painter's order)."""
    image = look.background.copy()
    parts: list[Part] = []
    for person, joints in enumerate(clip.clean[t]):
        _shadow(image, joints)
        parts += _figure_parts(joints, person, look)
        for side, joint in ((LEFT, J["HandLeft"]), (RIGHT, J["HandRight"])):
            kind = clip.objects[t, 2 * person + side]
            if kind >= 0:
                tip = joints[J["HandTipLeft" if side == LEFT else "HandTipRight"]]
                draw = partial(_draw_object, OBJECTS[kind], joints[joint], tip)
                parts.append((joints[joint, 2] - 0.02, draw))  # in front of its hand
    for _, draw in sorted(parts, key=lambda part: -part[0]):
        draw(image)
    return image


def _shadow(image: np.ndarray, joints: np.ndarray) -> None:
    floor = (joints[J["AnkleLeft"]] + joints[J["AnkleRight"]]) / 2 - np.array([0.0, 0.05, 0.0])
    centre = tuple(int(v) for v in _px(floor))
    axes = (_size(0.35, floor[2]), _size(0.06, floor[2]))
    cv2.ellipse(image, centre, axes, 0, 0, 360, (40, 40, 40), -1, cv2.LINE_AA)


def _figure_parts(joints: np.ndarray, person: int, look: Look) -> list[Part]:
    """Limbs, torso, head and hands of one person; small depth offsets settle ties the natural way."""
    skin, shirt = look.skins[person], look.shirts[person]
    colours = {"shirt": shirt, "trousers": look.trousers[person], "skin": skin, "shoes": (30, 30, 30)}
    px = _px(joints)
    parts: list[Part] = []
    for a, b, width, colour in LIMBS:
        depth = (joints[J[a], 2] + joints[J[b], 2]) / 2
        parts.append((depth, partial(_draw_limb, px[J[a]], px[J[b]], _size(width, depth), colours[colour])))
    torso = [J[name] for name in TORSO]
    depth = float(joints[torso, 2].mean()) + 0.02  # behind the arms that hang beside it
    parts.append((depth, partial(_draw_torso, px[torso], _size(0.12, depth), shirt)))
    head = J["Head"]
    draw_head = partial(_draw_head, px[head], _size(0.1, joints[head, 2]), skin, look.hair[person])
    parts.append((joints[head, 2] - 0.03, draw_head))  # in front of the neck
    for hand in (J["HandLeft"], J["HandRight"]):
        radius = _size(HAND_RADIUS_M, joints[hand, 2])
        parts.append((joints[hand, 2] - 0.01, partial(_draw_disc, px[hand], radius, skin)))
    return parts


def _draw_limb(
    a: np.ndarray, b: np.ndarray, thickness: int, colour: tuple[int, int, int], image: np.ndarray
) -> None:
    cv2.line(image, (int(a[0]), int(a[1])), (int(b[0]), int(b[1])), colour, thickness, cv2.LINE_AA)


def _draw_torso(corners: np.ndarray, thickness: int, colour: tuple[int, int, int], image: np.ndarray) -> None:
    cv2.fillConvexPoly(image, corners, colour, cv2.LINE_AA)
    cv2.polylines(image, [corners], True, colour, thickness, cv2.LINE_AA)


def _draw_head(
    centre: np.ndarray, radius: int, skin: tuple[int, int, int], hair: tuple[int, int, int], image: np.ndarray
) -> None:
    x, y = int(centre[0]), int(centre[1])
    cv2.circle(image, (x, y - radius // 5), radius, hair, -1, cv2.LINE_AA)
    cv2.circle(image, (x, y + radius // 8), int(radius * 0.88), skin, -1, cv2.LINE_AA)


def _draw_disc(centre: np.ndarray, radius: int, colour: tuple[int, int, int], image: np.ndarray) -> None:
    cv2.circle(image, (int(centre[0]), int(centre[1])), radius, colour, -1, cv2.LINE_AA)


def _draw_object(kind: str, hand: np.ndarray, tip: np.ndarray, image: np.ndarray) -> None:
    """The object in the hand, centred a little towards the fingers, 25-40 px across."""
    size = int(np.clip(COLOR_F * OBJECT_SIZE_M / hand[2], *OBJECT_SIZE_PX))
    centre = project(hand + 0.3 * (tip - hand), COLOR_F, COLOR_C)
    OBJECT_DRAWERS[kind](image, int(centre[0]), int(centre[1]), size)


def _cup(image: np.ndarray, x: int, y: int, s: int) -> None:
    half_top, half_bottom, half_h = int(s * 0.38), int(s * 0.28), s // 2
    body = np.array([[x - half_top, y - half_h], [x + half_top, y - half_h], [x + half_bottom, y + half_h],
                     [x - half_bottom, y + half_h]], np.int32)  # fmt: skip
    cv2.ellipse(image, (x + half_top, y), (s // 4, s // 5), 0, -90, 90, CUP_RED, max(2, s // 9), cv2.LINE_AA)
    cv2.fillConvexPoly(image, body, CUP_RED, cv2.LINE_AA)
    cv2.ellipse(image, (x, y - half_h), (half_top, max(2, s // 9)), 0, 0, 360, CUP_RIM, -1, cv2.LINE_AA)


def _phone(image: np.ndarray, x: int, y: int, s: int) -> None:
    half_w, half_h, border = int(s * 0.34), s // 2, max(2, s // 10)
    cv2.rectangle(image, (x - half_w, y - half_h), (x + half_w, y + half_h), PHONE_BODY, -1, cv2.LINE_AA)
    screen = ((x - half_w + border, y - half_h + 2 * border), (x + half_w - border, y + half_h - 2 * border))
    cv2.rectangle(image, *screen, PHONE_SCREEN, -1, cv2.LINE_AA)


def _ball(image: np.ndarray, x: int, y: int, s: int) -> None:
    cv2.circle(image, (x, y), s // 2, BALL_GREEN, -1, cv2.LINE_AA)
    cv2.circle(image, (x - s // 7, y - s // 7), max(2, s // 7), BALL_SHINE, -1, cv2.LINE_AA)


def _box(image: np.ndarray, x: int, y: int, s: int) -> None:
    """A cube seen a little from above and from the side: front, top and side faces, a strip of tape."""
    half, depth = int(s * 0.4), s // 4
    left, right, front_top, back_top = x - half, x + half, y - half + depth // 2, y - half - depth // 2
    top = np.array(
        [[left, front_top], [left + depth, back_top], [right + depth, back_top], [right, front_top]]
    )
    side = np.array([[right, front_top], [right + depth, back_top], [right + depth, y + half - depth],
                     [right, y + half]])  # fmt: skip
    cv2.rectangle(image, (left, front_top), (right, y + half), BOX_BLUE, -1)
    cv2.fillConvexPoly(image, top.astype(np.int32), BOX_TOP, cv2.LINE_AA)
    cv2.fillConvexPoly(image, side.astype(np.int32), tuple(int(c * 0.7) for c in BOX_BLUE), cv2.LINE_AA)
    cv2.line(image, (x, front_top), (x, y + half), BOX_TAPE, max(2, s // 10))


OBJECT_DRAWERS: dict[str, Callable[[np.ndarray, int, int, int], None]] = {
    "cup": _cup, "phone": _phone, "ball": _ball, "box": _box,
}  # fmt: skip
