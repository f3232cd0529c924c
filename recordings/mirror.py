"""Which sources show a mirror image, and `MirroredImages`, which flips the others at the source.

A Kinect v2's colour frames are mirror images (you see yourself as in a mirror), and everything built
on them follows: NTU videos, Kinect Studio files, the synthetic clips, the model's training data, and
the estimator's sides (`recordings.estimate.joint_map`: the hand on the image's left is `HandLeft`). A
webcam's raw frames and an ordinary video (a phone's `.mp4`, a `.mov`, `.mkv`, a plain `.avi`) are not:
unflipped, a webcam user's left hand would come out as the body's `HandRight`.

One rule, `mirror="auto"`: the webcam and videos that are not in the NTU layout (any name but
`..._rgb.avi`) are flipped left-right as they are read, as a Kinect and most video-call apps show you,
so the image, the estimated joints, the hand crops and the sides all follow the Kinect's convention.
NTU `_rgb.avi` videos (with or without their skeleton), the app's own recordings (stored as the app
showed them, `"mirrored": true` in the sidecar of one made from a flipped source), `.xef`, the live
Kinect and the synthetic clips are already Kinect-like and are left as they are. "yes" flips any
source with images, "no" none. A recorded skeleton belongs to its images as they are, so flipping a
source that has one is refused unless its bodies are estimated (`--pose estimate`).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace
from typing import Any

import cv2

from sta_hands.contract.errors import UserError
from sta_hands.contract.frame import Frame
from sta_hands.contract.reader import (
    NO_BODIES,
    NONE_LABEL,
    ImageFlags,
    Reader,
    SourceNature,
    WrappedReader,
    read,
)

MIRROR_MODES = ("auto", "yes", "no")
MIRRORED = "mirrored (flipped left-right as read, as a Kinect shows it)"


def should_mirror(reader: Reader, mode: str) -> bool:
    """Whether `reader`'s images are to be flipped under `mode` (module doc): with "auto", those whose
    nature is not a mirror image (`SourceNature.mirrored_by_nature`)."""
    if mode not in MIRROR_MODES:
        raise UserError(f"--mirror {mode!r}: expected one of {', '.join(MIRROR_MODES)}")
    return mode == "yes" or (mode == "auto" and not reader.nature.mirrored_by_nature)


class MirroredImages(WrappedReader):
    """`inner`'s frames with their images flipped left-right; bodies are dropped (a recorded skeleton
    belongs to the unflipped images: `recordings.sources.with_mirror` estimates them from these)."""

    @property
    def description(self) -> str:  # type: ignore[override]
        return f"{self.inner.description}, mirrored"

    @property
    def nature(self) -> SourceNature:
        """`inner`'s, its images now Kinect-like (flipped here) and without bodies."""
        without_bodies = replace(self.inner.nature, bodies=NO_BODIES, bodies_label=NONE_LABEL)
        return replace(without_bodies, mirrored_by_nature=True, flipped=True)

    def frames(self, start: int = 0, images: ImageFlags = None) -> Iterator[Frame]:
        for frame in read(self.inner, start, images):
            image = None if frame.image is None else cv2.flip(frame.image, 1)
            yield replace(frame, image=image, bodies=())

    def describe(self) -> dict[str, Any]:
        info = super().describe()
        info["mirrored"] = MIRRORED
        return info


def is_mirrored(reader: Reader) -> bool:
    """Whether `reader` (or the reader it wraps) flips its images: what a recording of it says."""
    return reader.nature.flipped


def mirror_metadata(reader: Reader) -> dict[str, Any]:
    """What a recording of `reader` adds to its sidecar's header: `{"mirrored": True}` when the app
    flipped the images it stores (they are then Kinect-like, and replay does not flip them again)."""
    return {"mirrored": True} if is_mirrored(reader) else {}
