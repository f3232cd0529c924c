"""The synthetic classes and the plan of a dataset: which clips, under which NTU names.

`ACTIONS` is the class table (see the package docstring for why these classes); `plan_clips` names
clips `SsssCcccPpppRrrrAaaa` with the class innermost, then the camera, then the performer.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from sta_hands.recordings.ntu.clip import SampleName
from sta_hands.recordings.synthetic.camera import CAMERA_YAW_DEG

FPS = 30.0
PERFORMERS_PER_REPLICATION = 40  # as NTU RGB+D 60: P001-P040, then R002, then the next setup

LEFT, RIGHT = 0, 1  # hand sides; hand slot = 2 * person + side (left-1, right-1, left-2, right-2)
SIDE_NAMES = ("left", "right")
OBJECTS: tuple[str, ...] = ("cup", "phone", "ball", "box")
IdleHand = Literal["rest", "busy"]
IdlePlan = Literal["rest", "busy", "mixed"]  # mixed: every other clip of the plan busy


# --------------------------------------------------------------------------------------- the classes


@dataclass(frozen=True)
class ActionClass:
    """One synthetic class: which motion, what the acting hand holds and which hand acts.

    `held`: one of `OBJECTS`, ``"any"`` (one drawn per clip) or None (empty hand).
    `hand`: ``"either"`` (left or right drawn per clip), ``"left"``, ``"right"`` or ``"none"``
    (body motion only). Two-person classes act with the right hands of both people.
    """

    name: str
    motion: str  # a key of MOTIONS
    held: str | None = None
    hand: str = "either"
    people: int = 1


ACTIONS: tuple[ActionClass, ...] = (
    # (a) one motion, the object decides
    ActionClass("drink from cup", "hand_to_head", held="cup"),
    ActionClass("answer phone", "hand_to_head", held="phone"),
    ActionClass("touch head", "hand_to_head"),
    ActionClass("reach holding ball", "reach", held="ball"),
    ActionClass("reach holding box", "reach", held="box"),
    # (b) which hand acts decides
    ActionClass("wave left hand", "wave", hand="left"),
    ActionClass("wave right hand", "wave", hand="right"),
    # (d) body motion only
    ActionClass("squat", "squat", hand="none"),
    ActionClass("bow", "bow", hand="none"),
    # (c) two people
    ActionClass("give object", "give", held="any", hand="right", people=2),
    ActionClass("handshake", "handshake", hand="right", people=2),
)
SYNTHETIC_CLASSES: tuple[str, ...] = tuple(action.name for action in ACTIONS)


# --------------------------------------------------------------------------------------- clip planning


@dataclass(frozen=True)
class ClipSpec:
    """One clip to make: its NTU name fields, its class and where its randomness comes from."""

    index: int  # position in the dataset; the clip's RNG is default_rng([seed, index])
    seed: int
    class_index: int  # 0-based; the name's action is class_index + 1
    setup: int = 1
    camera: int = 1  # 1, 2, 3: the scene rotated by 0, +45, -45 degrees
    performer: int = 1
    replication: int = 1
    frames: int | None = None  # overrides the drawn duration (short clips for tests)
    # "busy": the idle hand of a one-hand action scratches or gestures meanwhile (the harder case,
    # where motion alone does not give the acting hand away); "rest": it hangs
    idle_hand: IdleHand = "rest"

    @property
    def name(self) -> str:
        return str(
            SampleName(self.setup, self.camera, self.performer, self.replication, self.class_index + 1)
        )

    @property
    def action(self) -> ActionClass:
        return ACTIONS[self.class_index]


def plan_clips(
    count: int, seed: int, *, frames: int | None = None, idle_hand: IdlePlan = "rest"
) -> list[ClipSpec]:
    """`count` clips with unique NTU names: every class, then every camera, then the next performer.

    Each performer does all classes from all three cameras before the next one starts, so both the
    cross-subject and the cross-view splits have every class on both sides once a few performers
    are in. After P040 the replication goes to R002, then the setup number grows. `idle_hand`
    "mixed" makes every odd-numbered clip busy (11 classes: each class, camera and performer gets
    both kinds as the plan goes on).
    """
    classes, cameras = len(ACTIONS), len(CAMERA_YAW_DEG)
    specs = []
    for index in range(count):
        performance, class_index = divmod(index, classes)
        person_slot, camera_slot = divmod(performance, cameras)
        round_, performer_slot = divmod(person_slot, PERFORMERS_PER_REPLICATION)
        setup_slot, replication_slot = divmod(round_, 2)
        specs.append(
            ClipSpec(
                index=index, seed=seed, class_index=class_index, setup=setup_slot + 1,
                camera=camera_slot + 1, performer=performer_slot + 1,
                replication=replication_slot + 1, frames=frames,
                idle_hand=("rest", "busy")[index % 2] if idle_hand == "mixed" else idle_hand,
            )
        )  # fmt: skip
    return specs
