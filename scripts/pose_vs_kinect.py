"""Estimated bodies against the Kinect's on a real NTU clip: colour-pixel error per joint, and speed.

    python scripts/pose_vs_kinect.py                          # S001C001P001R001A001 in ../shared/samples/ntu
    python scripts/pose_vs_kinect.py PATH/NAME_rgb.avi --threads 2 --markdown

For every frame where the Kinect has a body, the estimated body nearest to it (by the mean distance of
their joints in pixels) is compared joint by joint: the median and 90th percentile of the pixel distance
per joint group, and the share of frames in which each hand crop centre (the hand joint) falls within
25 px of the Kinect's hand. Frames where nothing was estimated count as misses in that share. The
estimator runs over the clip in order, as it would live (tracking, smoothing); the time per frame
includes everything from the decoded BGR image to the bodies.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from recordings.estimate import PoseEstimator  # noqa: E402
from recordings.frame import JOINT, Body  # noqa: E402
from recordings.ntu import NtuClip  # noqa: E402

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
    """Per-joint pixel errors, hand hits and time per frame of the estimator on one clip."""
    estimator = PoseEstimator(max_people=max_people, threads=threads)
    errors: dict[str, list[float]] = {name: [] for name in JOINT}
    hand_hits, hand_total, times, frames = 0, 0, [], 0
    with NtuClip(clip_path) as clip:
        for frame in clip.frames():
            start = time.perf_counter()
            estimated = estimator.estimate(frame.image, frame.timestamp)
            times.append(time.perf_counter() - start)
            frames += 1
            for kinect in frame.bodies:
                body = nearest(kinect, estimated)
                for name, index in JOINT.items():
                    if body is not None:
                        errors[name].append(
                            float(np.linalg.norm(body.color_px[index] - kinect.color_px[index]))
                        )
                for hand in ("HandLeft", "HandRight"):
                    hand_total += 1
                    if body is not None:
                        distance = np.linalg.norm(body.color_px[JOINT[hand]] - kinect.color_px[JOINT[hand]])
                        hand_hits += bool(distance <= HAND_RADIUS)
    return {
        "clip": clip_path.name, "frames": frames, "errors": errors,
        "hand_share": hand_hits / max(hand_total, 1),
        "ms_per_frame": 1000 * float(np.median(times[1:] or times)), "estimator": estimator.describe(),
    }  # fmt: skip


def table(result: dict) -> str:
    """The result as a Markdown table."""
    lines = ["| joints | median px | 90th percentile px | frames |", "| --- | ---: | ---: | ---: |"]
    for group, names in GROUPS.items():
        values = np.concatenate([result["errors"][name] for name in names])
        if values.size:
            median, p90 = np.percentile(values, [50, 90])
            lines.append(f"| {group} | {median:.1f} | {p90:.1f} | {values.size // len(names)} |")
    lines.append(
        f"\nHand crop centre within {HAND_RADIUS:.0f} px of the Kinect's hand: "
        f"{100 * result['hand_share']:.0f} % "
        f"of hands; {result['frames']} frames of {result['clip']}; {result['estimator']}, "
        f"{result['ms_per_frame']:.1f} ms per frame (median)."
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
