"""Estimated bodies against the Kinect's on a real NTU clip: colour-pixel error per joint.

    python scripts/pose_vs_kinect.py                          # S001C001P001R001A001 in ../shared/samples/ntu
    python scripts/pose_vs_kinect.py PATH/NAME_rgb.avi --max-people 1

For every frame where the Kinect has a body, the estimated body nearest to it (by the mean distance of
their joints in pixels) is compared joint by joint: per joint group the median and 90th percentile of
the pixel distance and the share within 25 px (for the hands: the hand crop centre on the Kinect's
hand), over all frames and over the frames where the Kinect itself tracked the joint (state 2; it marks
a joint it guesses as inferred). A frame where nothing was estimated counts as infinitely far. Then the
jitter of both sources: the median |second difference| of a joint over three frames (twice its distance
from the midpoint of its neighbours in time). The estimator runs over the clip in order, as it would
live (tracking, smoothing). Speed is scripts/pose_speed.py's.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]

from sta_hands.contract.frame import JOINT, TRACKED, Body  # noqa: E402
from sta_hands.recordings.estimate import PoseEstimator  # noqa: E402
from sta_hands.recordings.ntu.clip import NtuClip  # noqa: E402

DEFAULT_CLIP = REPO.parent / "shared" / "samples" / "ntu" / "S001C001P001R001A001_rgb.avi"
HAND_RADIUS = 25.0  # px: the hand crop centre counts as on the hand within this distance
GROUPS = {
    "hands": ("HandLeft", "HandRight"),
    "wrists": ("WristLeft", "WristRight"),
    "elbows": ("ElbowLeft", "ElbowRight"),
    "shoulders": ("ShoulderLeft", "ShoulderRight"),
    "head": ("Head",),
    "neck": ("Neck",),
    "spine": ("SpineBase", "SpineMid", "SpineShoulder"),
    "hips": ("HipLeft", "HipRight"),
    "hand tips, thumbs": ("HandTipLeft", "HandTipRight", "ThumbLeft", "ThumbRight"),
}


def nearest(kinect: Body, estimated: tuple[Body, ...]) -> Body | None:
    """The estimated body whose joints lie closest to the Kinect body's, in pixels."""
    if not estimated:
        return None
    return min(
        estimated, key=lambda body: float(np.mean(np.linalg.norm(body.color_px - kinect.color_px, axis=1)))
    )


def compare(clip_path: Path, threads: int, max_people: int) -> dict:
    """Per joint, the pixel error (NaN where nothing was estimated) and the Kinect's tracking state of every
    Kinect body of every frame."""
    estimator = PoseEstimator(max_people=max_people, threads=threads)
    errors: dict[str, list[float]] = {name: [] for name in JOINT}
    states: dict[str, list[int]] = {name: [] for name in JOINT}
    frames = 0
    tracks: dict[str, dict[int, np.ndarray]] = {
        "estimated": {},
        "Kinect": {},
    }  # first body's joints per frame
    with NtuClip(clip_path) as clip:
        for frame in clip.frames():
            estimated = estimator.estimate(frame.image, frame.timestamp)
            frames += 1
            for number, kinect in enumerate(frame.bodies):
                body = nearest(kinect, estimated)
                if number == 0 and body is not None:
                    tracks["estimated"][frame.index] = body.color_px
                    tracks["Kinect"][frame.index] = kinect.color_px
                for name, index in JOINT.items():
                    missing = body is None
                    error = (
                        np.nan if missing else np.linalg.norm(body.color_px[index] - kinect.color_px[index])
                    )
                    errors[name].append(float(error))
                    states[name].append(int(kinect.tracking[index]))
    return {
        "clip": clip_path.name, "frames": frames, "estimator": estimator.describe(),
        "errors": {name: np.array(values) for name, values in errors.items()},
        "states": {name: np.array(values) for name, values in states.items()},
        "jitter": {source: jitter(by_frame) for source, by_frame in tracks.items()},
    }  # fmt: skip


def jitter(by_frame: dict[int, np.ndarray]) -> float:
    """Median |second difference| of the joints' pixels over three consecutive frames: 0 for steady motion."""
    steps = [
        np.linalg.norm(by_frame[i + 1] - 2 * by_frame[i] + by_frame[i - 1], axis=1)
        for i in by_frame
        if i - 1 in by_frame and i + 1 in by_frame
    ]
    return float(np.median(np.concatenate(steps))) if steps else float("nan")


def _cells(errors: np.ndarray) -> str:
    """median | 90th percentile | share within HAND_RADIUS | count; a missing estimate counts as far."""
    if errors.size == 0:
        return "- | - | - | 0"
    far = np.where(np.isnan(errors), np.inf, errors)
    median, p90 = np.percentile(far, [50, 90])
    return f"{median:.1f} | {p90:.1f} | {100 * np.mean(far <= HAND_RADIUS):.0f} % | {errors.size}"


def table(result: dict) -> str:
    """The result as a Markdown table: every frame, and the frames where the Kinect tracked the joint."""
    lines = [
        f"| joints | median px | 90th pct px | within {HAND_RADIUS:.0f} px | joints compared "
        "| Kinect-tracked only: median px | 90th pct px | within | joints |",
        "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |",
    ]
    for group, names in GROUPS.items():
        errors = np.concatenate([result["errors"][name] for name in names])
        tracked = np.concatenate([result["states"][name] == TRACKED for name in names])
        lines.append(f"| {group} | {_cells(errors)} | {_cells(errors[tracked])} |")
    lines.append(f"\n{result['frames']} frames of {result['clip']}; {result['estimator']}.")
    lines.append(
        "Frame-to-frame jitter (median |second difference| of the joints): "
        + ", ".join(f"{source} {value:.2f} px" for source, value in result["jitter"].items())
        + "."
    )
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "clip", nargs="?", type=Path, default=DEFAULT_CLIP, help="an NTU _rgb.avi with its .skeleton"
    )
    parser.add_argument("--threads", type=int, default=2, help="ONNX Runtime threads (default 2)")
    parser.add_argument(
        "--max-people", type=int, default=2, help="people the estimator looks for (default 2)"
    )
    args = parser.parse_args(argv)
    if not args.clip.is_file():
        print(f"{args.clip}: clip not found", file=sys.stderr)
        return 1
    print(table(compare(args.clip, args.threads, args.max_people)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
