"""`Prediction`: one classified window, as every model kind hands it to the GUI, `run --json` and evaluation
(`app.model.Model`). Read-only: it is handed between threads."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import numpy as np

from sta_hands.contract.body_slots import BodyIds

Status = Literal["ok", "partial", "no person"]


@dataclass(frozen=True)
class Timings:
    crop_ms: float  # assembling the window's inputs (cropping new frames' hands)
    glimpse_ms: float  # the glimpse CNN (and a split model's projection) on the crops not cached yet
    head_ms: float  # the model on the window (the two-stream head, or a pose model)
    age_ms: float  # from the moment the newest frame left its source to this prediction; 0 offline
    crops_computed: int  # crops that went through the CNN for this window
    crops_reused: int = 0  # new crops of still hands that reused an earlier crop's features instead


@dataclass(frozen=True, eq=False)
class Prediction:
    """One classified window: what the GUI and `run --json` show, exactly as the model computed it.

    Slot k of the hands (left-1, right-1, left-2, right-2) is hand k % 2 of the body `body_ids[k // 2]`:
    every view draws from these ids, never from the order a frame lists its bodies in. `crops` are
    the very crops the glimpse CNN read, each resampled from a `hand_side_px` square of the colour image
    around `hand_px` (50 px for Kinect bodies, scaled with the person for estimated ones); a still hand's
    crop is the earlier one whose features it reused, cut from frame `crop_frames[t, k]`. `status` is
    "ok" for a window that spans `window_seconds`, "partial" for a shorter one (a source shorter than a
    window), "no person" when no body is in the window (then no class: `top()` is empty). `streams` says
    which streams made `probabilities`: ("pose", "rgb"), or ("pose",) alone when no hand image reached
    the model (a skeleton without video), none when no one was in view (no stream ran); `model_streams`
    the streams the model has (a pose model: ("pose",)). `explanation` names what `spatial_attention`
    and `temporal_attention` hold: the paper's "attention", or a pose model's class "relevance"
    (`app.relevance`: each hand's share of the predicted class's positive activation, its share over
    time), with `joint_relevance` per joint.
    """

    frame_indices: np.ndarray  # T
    timestamps: np.ndarray  # T, seconds
    class_names: tuple[str, ...]
    probabilities: np.ndarray  # C, softmax of the logits of `streams`
    pose_probabilities: np.ndarray  # C
    rgb_probabilities: np.ndarray  # C
    spatial_attention: np.ndarray  # T x 4 (left-1, right-1, left-2, right-2)
    temporal_attention: np.ndarray  # T
    hand_mask: np.ndarray  # T x 4: the hand reached the model (its crop; a pose model: its person's joints)
    hand_px: np.ndarray  # T x 4 x 2 colour pixels
    logits: np.ndarray  # C, of `streams`
    timings: Timings
    body_ids: BodyIds = (None, None)  # the tracking id in each body slot (None: empty slot)
    crops: np.ndarray | None = None  # T x 4 x 50 x 50 x 3 uint8 BGR, None without images
    crop_frames: np.ndarray | None = None  # T x 4: the frame each crop was cut from (-1: no crop)
    hand_side_px: np.ndarray | None = None  # T x 4: the side in colour px of each crop's square (0: absent)
    status: Status = "ok"
    streams: tuple[str, ...] = ("pose", "rgb")
    captured_at: float = 0.0  # time.perf_counter() when the newest frame left its source (0: unknown)
    frames_dropped: int = 0  # so far in this stream: frames the recognizer never saw (it was busy)
    windows_skipped: int = 0  # so far in this stream: windows due while it was busy, not classified
    model_streams: tuple[str, ...] = ("pose", "rgb")  # the streams the model has
    explanation: Literal["attention", "relevance"] = "attention"
    joint_relevance: np.ndarray | None = None  # T x 2 x 25 (slot, Kinect joint): share of positive relevance
    # (`to_json` gives its sum over the window, 2 x 25)

    def __post_init__(self) -> None:
        if self.status == "no person":  # no one in view: no stream ran, whatever the model kind passed
            object.__setattr__(self, "streams", ())
        for value in vars(self).values():
            if isinstance(value, np.ndarray):
                value.setflags(write=False)  # handed between threads: nobody may change it

    @property
    def crops_reused(self) -> np.ndarray:
        """T x 4: True where a still hand's features (and crop) come from an earlier frame."""
        if self.crop_frames is None:
            return np.zeros(self.hand_mask.shape, dtype=bool)
        return (self.crop_frames >= 0) & (self.crop_frames != self.frame_indices[:, None])

    @property
    def classified(self) -> bool:
        return self.status != "no person"

    @property
    def remark(self) -> str:
        """What a user must know beside the class: a partial window, the pose stream alone (and why)."""
        remarks = []
        if self.status == "partial":
            remarks.append("partial window")
        if self.classified and self.streams == ("pose",) and "rgb" in self.model_streams:
            remarks.append("pose only (no video)" if self.crops is None else "pose only (no hand in view)")
        return ", ".join(remarks)

    def top(self, k: int = 5) -> list[tuple[str, float]]:
        if not self.classified:
            return []
        order = np.argsort(-self.probabilities)[:k]
        return [(self.class_names[i], float(self.probabilities[i])) for i in order]

    def to_json(self, k: int = 5) -> dict:
        present = self.hand_mask > 0
        return {
            "status": self.status,
            "streams": list(self.streams),
            "explanation": self.explanation,
            "frame_indices": self.frame_indices.tolist(),
            "timestamps": [round(float(t), 4) for t in self.timestamps],
            "top": [{"class": name, "probability": round(p, 5)} for name, p in self.top(k)],
            "body_ids": list(self.body_ids),
            "hand_px": [
                [
                    [round(float(x), 2), round(float(y), 2)] if here else None
                    for (x, y), here in zip(step, mask, strict=True)
                ]
                for step, mask in zip(self.hand_px, present, strict=True)
            ],
            "hand_side_px": None
            if self.hand_side_px is None
            else [
                [int(side) if here else None for side, here in zip(step, mask, strict=True)]
                for step, mask in zip(self.hand_side_px, present, strict=True)
            ],
            "spatial_attention": np.round(self.spatial_attention, 5).tolist(),
            "temporal_attention": np.round(self.temporal_attention, 5).tolist(),
            **(
                {}
                if self.joint_relevance is None
                else {"joint_relevance": np.round(self.joint_relevance.sum(axis=0), 5).tolist()}  # 2 x 25
            ),
            "hand_mask": self.hand_mask.astype(int).tolist(),
            "timings_ms": {
                "crop": round(self.timings.crop_ms, 2),
                "glimpse": round(self.timings.glimpse_ms, 2),
                "head": round(self.timings.head_ms, 2),
                "age": round(self.timings.age_ms, 2),
            },
            "crops_computed": self.timings.crops_computed,
            "crops_reused": self.timings.crops_reused,
            "crop_frames": None if self.crop_frames is None else self.crop_frames.tolist(),
            "frames_dropped": self.frames_dropped,
            "windows_skipped": self.windows_skipped,
        }


def softmax(logits: np.ndarray) -> np.ndarray:
    shifted = np.exp(logits - logits.max())
    return shifted / shifted.sum()
