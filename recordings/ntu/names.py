"""NTU RGB+D names: sample names (SsssCcccPpppRrrrAaaa), the 60 classes, the official cross-subject and
cross-view splits and the list of samples with missing skeletons (docs/ntu-format.md)."""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from sta_hands.contract.errors import RecordingError, reading

SAMPLE_NAME = re.compile(r"^S(\d{3})C(\d{3})P(\d{3})R(\d{3})A(\d{3})$")
SKELETON_SUFFIX = ".skeleton"
VIDEO_SUFFIX = "_rgb.avi"

NTU60_CLASSES: tuple[str, ...] = (
    "drink water", "eat meal/snack", "brushing teeth", "brushing hair", "drop", "pickup", "throw",
    "sitting down", "standing up (from sitting position)", "clapping", "reading", "writing",
    "tear up paper", "wear jacket", "take off jacket", "wear a shoe", "take off a shoe",
    "wear on glasses", "take off glasses", "put on a hat/cap", "take off a hat/cap", "cheer up",
    "hand waving", "kicking something", "reach into pocket", "hopping (one foot jumping)", "jump up",
    "make a phone call/answer phone", "playing with phone/tablet", "typing on a keyboard",
    "pointing to something with finger", "taking a selfie", "check time (from watch)",
    "rub two hands together", "nod head/bow", "shake head", "wipe face", "salute",
    "put the palms together", "cross hands in front (say stop)", "sneeze/cough", "staggering",
    "falling", "touch head (headache)", "touch chest (stomachache/heart pain)",
    "touch back (backache)", "touch neck (neckache)", "nausea or vomiting condition",
    "use a fan (with hand or paper)/feeling warm", "punching/slapping other person",
    "kicking other person", "pushing other person", "pat on back of other person",
    "point finger at the other person", "hugging other person", "giving something to other person",
    "touch other person's pocket", "handshaking", "walking towards each other",
    "walking apart from each other",
)  # fmt: skip
FIRST_MUTUAL_ACTION = 50  # A050-A060 involve two people
# NTU RGB+D 120 (Liu et al. 2019) adds A061-A120, as its authors name them ("hush (quite)" sic)
NTU120_CLASSES: tuple[str, ...] = (
    *NTU60_CLASSES,
    "put on headphone", "take off headphone", "shoot at the basket", "bounce ball", "tennis bat swing",
    "juggling table tennis balls", "hush (quite)", "flick hair", "thumb up", "thumb down", "make ok sign",
    "make victory sign", "staple book", "counting money", "cutting nails", "cutting paper (using scissors)",
    "snapping fingers", "open bottle", "sniff (smell)", "squat down", "toss a coin", "fold paper",
    "ball up paper", "play magic cube", "apply cream on face", "apply cream on hand back", "put on bag",
    "take off bag", "put something into a bag", "take something out of a bag", "open a box",
    "move heavy objects", "shake fist", "throw up cap/hat", "hands up (both hands)", "cross arms",
    "arm circles", "arm swings", "running on the spot", "butt kicks (kick backward)", "cross toe touch",
    "side kick", "yawn", "stretch oneself", "blow nose", "hit other person with something",
    "wield knife towards other person", "knock over other person (hit with body)",
    "grab other person's stuff", "shoot at other person with a gun", "step on foot", "high-five",
    "cheers and drink", "carry something with other person", "take a photo of other person",
    "follow other person", "whisper in other person's ear", "exchange things with other person",
    "support somebody with hand", "finger-guessing game (playing rock-paper-scissors)",
)  # fmt: skip

CROSS_SUBJECT_TRAIN_PERFORMERS: frozenset[int] = frozenset(
    (1, 2, 4, 5, 8, 9, 13, 14, 15, 16, 17, 18, 19, 25, 27, 28, 31, 34, 35, 38)
)
CROSS_VIEW_TRAIN_CAMERAS: frozenset[int] = frozenset((2, 3))
_BENCHMARKS = {"cs": "cs", "xsub": "cs", "cross-subject": "cs", "cv": "cv", "xview": "cv", "cross-view": "cv"}

# ---------------------------------------------------------------- names, classes, splits


@dataclass(frozen=True)
class SampleName:
    """The five fields of an NTU sample name such as S001C002P003R002A013 (action is 1-based)."""

    setup: int
    camera: int
    performer: int
    replication: int
    action: int

    def __str__(self) -> str:
        return (
            f"S{self.setup:03d}C{self.camera:03d}P{self.performer:03d}"
            f"R{self.replication:03d}A{self.action:03d}"
        )

    @property
    def action_index(self) -> int:
        """The 0-based class index."""
        return self.action - 1

    @property
    def class_name(self) -> str | None:
        """The NTU RGB+D 120 class name (A001-A060 are NTU-60's), or None for an action outside A001-A120."""
        return NTU120_CLASSES[self.action_index] if 1 <= self.action <= len(NTU120_CLASSES) else None

    @property
    def is_mutual(self) -> bool:
        """True for the two-person classes (A050 and up)."""
        return self.action >= FIRST_MUTUAL_ACTION


def sample_stem(text: str | Path) -> str:
    """The file name without its `.skeleton` or `_rgb.avi` suffix (or other extension)."""
    name = Path(text).name
    for suffix in (SKELETON_SUFFIX, VIDEO_SUFFIX):
        if name.endswith(suffix) and len(name) > len(suffix):
            return name[: -len(suffix)]
    return Path(name).stem if name.endswith(".avi") else name


def parse_sample_name(text: str | Path) -> SampleName:
    """Parse a bare sample name, a `.skeleton` path or an `_rgb.avi` path."""
    match = SAMPLE_NAME.match(sample_stem(text))
    if match is None:
        raise RecordingError(
            None, f"expected an NTU sample name like S001C002P003R002A013, found {str(text)!r}"
        )
    return SampleName(*(int(group) for group in match.groups()))


def split_of(name: SampleName | str | Path, benchmark: Literal["cs", "cv"]) -> Literal["train", "test"]:
    """Which side of the official NTU-60 cross-subject ("cs") or cross-view ("cv") split a sample is on."""
    sample = name if isinstance(name, SampleName) else parse_sample_name(name)
    kind = _BENCHMARKS.get(benchmark.lower())
    if kind is None:
        raise ValueError(f"benchmark must be 'cs' or 'cv', got {benchmark!r}")
    if kind == "cs":
        train = sample.performer in CROSS_SUBJECT_TRAIN_PERFORMERS
    else:
        train = sample.camera in CROSS_VIEW_TRAIN_CAMERAS
    return "train" if train else "test"


def read_missing_list(path: str | Path) -> frozenset[str]:
    """The sample names in the official list of samples with missing skeletons (headers skipped)."""
    path = Path(path)
    with reading(path, "a text file"):
        text = path.read_text(encoding="ascii", errors="replace")
    return frozenset(line.strip() for line in text.splitlines() if SAMPLE_NAME.match(line.strip()))
