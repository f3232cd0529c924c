"""Milliseconds per frame of the bundled pose estimator on real NTU frames (1920x1080), CPU.

    python scripts/pose_speed.py                 # 2 threads, as on a 2-core machine
    python scripts/pose_speed.py --threads 4 --json
    python scripts/pose_speed.py --cpu-time      # one thread's CPU time: a busy machine does not inflate it

Frames are decoded first, so only the estimator is timed: the detector (letterbox, network, decoding)
and the landmark network on one person's region (crop, network, projection), as medians; the whole
estimator per frame with tracking and smoothing, as the mean (the frames where the detector runs count),
on a one-person clip (S001C001P001R001A001) and on the first 40 frames of a two-person one
(S004C002P003R001A055, both people tracked). Each figure is the best of `--passes` passes, so that
other work on the machine weighs less.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]

from sta_hands.recordings.estimate import PoseEstimator  # noqa: E402
from sta_hands.recordings.estimate.detector import detect_people  # noqa: E402
from sta_hands.recordings.estimate.landmarks import read_landmarks  # noqa: E402
from sta_hands.recordings.estimate.models_onnx import open_pose_sessions  # noqa: E402
from sta_hands.recordings.ntu.clip import NtuClip  # noqa: E402

NTU = REPO.parent / "shared" / "samples" / "ntu"
CLIPS = {"one person": "S001C001P001R001A001_rgb.avi", "two people": "S004C002P003R001A055_rgb.avi"}
TWO_PEOPLE_FRAMES = 40  # the hug hides one person from about frame 44 on


def decoded(path: Path, count: int) -> list[np.ndarray]:
    with NtuClip(path) as clip:
        return [frame.image for frame, _ in zip(clip.frames(), range(count), strict=False)]


def best_ms(
    run: Callable[[np.ndarray], object],
    images: list[np.ndarray],
    passes: int,
    clock: Callable[[], float],
    statistic: Callable[[list[float]], float] = np.median,
) -> float:
    """The lowest over `passes` of the `statistic` (median) of the ms of `run` per image, on `clock`."""
    medians = []
    for _ in range(passes):
        times = []
        for image in images:
            start = clock()
            run(image)
            times.append(clock() - start)
        medians.append(float(statistic(times)))
    return 1000 * min(medians)


def measure(threads: int, passes: int, frames: int, cpu_time: bool = False) -> dict[str, float | str]:
    """Times in ms; with `cpu_time`, the CPU time of the one thread that runs everything (threads=1)."""
    clock = time.thread_time if cpu_time else time.perf_counter
    threads = 1 if cpu_time else threads
    one = decoded(NTU / CLIPS["one person"], frames)
    two = decoded(NTU / CLIPS["two people"], min(frames, TWO_PEOPLE_FRAMES))
    sessions = open_pose_sessions(threads=threads)
    region = detect_people(sessions, one[0], 1)[0].roi()
    results: dict[str, float | str] = {
        "clock": "CPU time of one thread" if cpu_time else f"wall, {threads} threads",
        "detector_ms": best_ms(lambda image: detect_people(sessions, image, 2), one, passes, clock),
        "landmarks_ms": best_ms(lambda im: read_landmarks(sessions, im, region), one, passes, clock),
    }
    for name, images in (("one_person_ms", one), ("two_people_ms", two)):
        per_pass = []
        for _ in range(passes):  # a fresh estimator per pass: tracking starts from the first frame again
            estimator = PoseEstimator(threads=threads)
            found = [len(estimator.estimate(image)) for image in images[:1]]
            per_pass.append(best_ms(estimator.estimate, images[1:], 1, clock, np.mean))
            found += [len(estimator.estimate(image)) for image in images[-1:]]
        results[name] = min(per_pass)
        results[name.replace("_ms", "_found")] = f"{found[0]} then {found[-1]}"
    results["provider"] = estimator.describe()
    return results


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--threads", type=int, default=2, help="ONNX Runtime threads (default 2)")
    parser.add_argument("--passes", type=int, default=3, help="passes over the frames; the best counts")
    parser.add_argument("--frames", type=int, default=60, help="frames of each clip (default 60)")
    parser.add_argument("--cpu-time", action="store_true", help="one thread's CPU time, not wall time")
    parser.add_argument("--json", action="store_true", help="print JSON")
    args = parser.parse_args(argv)
    if not all((NTU / clip).is_file() for clip in CLIPS.values()):
        print(f"the NTU sample videos are not in {NTU}", file=sys.stderr)
        return 1
    results = measure(args.threads, args.passes, args.frames, args.cpu_time)
    if args.json:
        print(json.dumps(results, indent=2))
    else:
        for key, value in results.items():
            print(f"{key:18s} {value:.1f}" if isinstance(value, float) else f"{key:18s} {value}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
