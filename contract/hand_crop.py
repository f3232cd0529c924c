"""`HandCrop`: how large a square each hand is cropped in, in the colour image's own pixels.

Two rules, one type:

- ``fixed``: the paper's 50 x 50 px at 1920 x 1080 whatever the person's size (section 3). Kinect-made
  bodies (NTU RGB+D, Kinect Studio, the live Kinect, the synthetic clips) keep it, so NTU-trained
  models and the glimpse caches of their training are unchanged.
- ``body``: the side grows with the person's size in the image: ``size_px * torso_px / reference_px``,
  where ``torso_px`` is the colour-pixel distance SpineBase -> SpineShoulder and ``reference_px`` that
  distance for a typical NTU body (140 px: the median over the real NTU samples' bodies is 142, their
  clips' medians 131 to 195). A typical NTU person gets the paper's 50 px; a webcam user who fills a
  640 x 480 frame (torso about 200 px) gets about 70 px, so the crop holds the same hand and the same
  context. Used for bodies estimated from the image (any camera, any video).

Either way the crop is resampled to ``size_px`` x ``size_px`` before the glimpse CNN, so every model
input keeps its shape. Which rule a frame's hands follow travels with the frame (`Frame.hand_crop`)
and is written in the sidecar of the app's own recordings, so that training on a recording and
running live on its source crop alike.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from sta_hands.contract.errors import RecordingError, UserError

PAPER_SIZE_PX = 50  # paper section 3: 50 x 50 px glimpses around each hand at 1920 x 1080
REFERENCE_TORSO_PX = 140.0  # SpineBase -> SpineShoulder of a typical NTU body at 1920 x 1080
MIN_SIDE_PX = 8  # a crop never shrinks below this (a person far away, a bad estimate)
MAX_SCALE = 8.0  # nor grows beyond this many paper crops (a bad estimate)
# The largest `size_px` a rule may have (a recording's sidecar is untrusted input): 8 paper crops, what
# the "body" rule grows to at most. A larger square holds a whole person, not a hand, and its cost grows
# with its area: a crafted 20000 px made a 58-frame replay 30 times slower, 10^6 px asked for 2.7 TiB.
MAX_SIZE_PX = round(PAPER_SIZE_PX * MAX_SCALE)

Rule = Literal["fixed", "body"]


@dataclass(frozen=True)
class HandCrop:
    """A rule for the side of a hand crop: `side_px(torso_px)` gives it for one body."""

    rule: Rule = "fixed"
    size_px: int = PAPER_SIZE_PX  # the side of the crop the model reads (and, "fixed", in the image)
    reference_px: float = REFERENCE_TORSO_PX  # "body": the torso length that gets size_px

    def __post_init__(self) -> None:
        if self.rule not in ("fixed", "body"):
            raise UserError(f"hand crop rule {self.rule!r}: expected 'fixed' or 'body'")
        if not self.size_px > 0 or not self.reference_px > 0:
            raise UserError(f"hand crop sizes must be positive, got {self.size_px} and {self.reference_px}")
        if self.size_px > MAX_SIZE_PX or not math.isfinite(self.reference_px):
            raise UserError(
                f"hand crop size_px {self.size_px} (reference_px {self.reference_px}): expected at most "
                f"{MAX_SIZE_PX} px and a finite reference"
            )

    def side_px(self, torso_px: float | None) -> int:
        """The side of the square around each hand of a body whose torso is `torso_px` long (None or not
        finite: unknown, which gets `size_px`)."""
        if self.rule == "fixed" or torso_px is None or not math.isfinite(torso_px) or torso_px <= 0:
            return self.size_px
        scale = min(torso_px / self.reference_px, MAX_SCALE)
        return max(MIN_SIDE_PX, round(self.size_px * scale))

    def to_metadata(self) -> dict[str, Any]:
        """What a recording's sidecar stores (`from_metadata` reads it back)."""
        return {"rule": self.rule, "size_px": self.size_px, "reference_px": self.reference_px}

    @classmethod
    def from_metadata(cls, value: object, path: Path, position: str) -> HandCrop:
        """The rule stored by `to_metadata`; a malformed value is a RecordingError naming the file and
        the position in it."""
        expected = "an object with rule ('fixed' or 'body'), size_px and reference_px"
        if not isinstance(value, dict):
            raise RecordingError(path, f"bad hand_crop {value!r}: expected {expected}", position)
        try:
            return cls(str(value["rule"]), int(value["size_px"]), float(value["reference_px"]))  # type: ignore[arg-type]
        except (KeyError, TypeError, ValueError, UserError) as error:
            raise RecordingError(
                path, f"bad hand_crop {value!r} ({error}): expected {expected}", position
            ) from None

    def describe(self) -> str:
        """One line for `info` and the GUI."""
        if self.rule == "fixed":
            return f"{self.size_px} px (fixed)"
        return f"{self.size_px} px per {self.reference_px:g} px of torso (scales with the person)"


PAPER_CROP = HandCrop()
BODY_SCALED_CROP = HandCrop("body")
