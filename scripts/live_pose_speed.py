"""Before and after, in one run: the live pipeline with estimated bodies, estimating every frame or as the
app does live (`recordings.estimate.bodies.live_view`), with the app's ONNX Runtime sessions (glimpse CNN,
head) spinning (ONNX Runtime's default) or not.

    python scripts/live_pose_speed.py                  # 90 frames, 3 rounds, demo model
    python scripts/live_pose_speed.py --frames 60 --rounds 2 --json

Each round runs every variant once, in turn, so that a machine whose load changes weighs on all of them
alike; per variant it prints the median over rounds of the real-time factor (wall seconds / video
seconds; below 1 keeps up) and of the CPU-time factor (process CPU seconds / video seconds, which other
work on the machine does not inflate), over the 640x480 webcam-sized replay and the 1920x1080
two-person NTU video of `python -m sta_hands.commands.bench_pose`.
"""

from __future__ import annotations

import argparse
import contextlib
import itertools
import json
import statistics
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path

import cv2

REPO = Path(__file__).resolve().parents[1]

from sta_hands.app.runtime import OnnxModel, default_model_folder  # noqa: E402
from sta_hands.export.bench.pose_estimation import (  # noqa: E402
    ONE_PERSON,
    TWO_PEOPLE,
    WEBCAM_SIZE,
    default_samples,
    replay_realtime_factor,
    video_images,
    webcam_sized,
)

SPINNING = "session.intra_op.allow_spinning"


@contextlib.contextmanager
def sessions_spinning(spin: bool) -> Iterator[None]:
    """Sessions made inside get ONNX Runtime's thread spinning on or off, whatever their options say."""
    import onnxruntime

    original = onnxruntime.InferenceSession
    onnxruntime.set_default_logger_severity(3)  # not the warning that the app's own setting is replaced

    def session(path: str, sess_options: onnxruntime.SessionOptions, **kwargs: object) -> object:
        sess_options.add_session_config_entry(SPINNING, "1" if spin else "0")
        return original(path, sess_options=sess_options, **kwargs)

    onnxruntime.InferenceSession = session  # type: ignore[assignment,misc]
    try:
        yield
    finally:
        onnxruntime.InferenceSession = original  # type: ignore[misc]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", help="exported model folder (default: the bundled demo)")
    parser.add_argument("--frames", type=int, default=90, help="frames per replay (default 90)")
    parser.add_argument("--rounds", type=int, default=3, help="rounds of every variant (default 3)")
    parser.add_argument("--json", action="store_true", help="print JSON")
    args = parser.parse_args(argv)
    samples = default_samples()
    if not (samples / ONE_PERSON).is_file() or not (samples / TWO_PEOPLE).is_file():
        print(f"the NTU sample videos are not in {samples}", file=sys.stderr)
        return 1
    folder = args.model or default_model_folder()
    models = {}
    for spin in (True, False):
        with sessions_spinning(spin):
            models[spin] = OnnxModel(folder, provider="cpu")
    results: dict[str, dict[str, list[float]]] = {}
    with tempfile.TemporaryDirectory(prefix="sta-hands-live-speed-") as tmp:
        webcam = Path(tmp) / "webcam_640x480.avi"
        writer = cv2.VideoWriter(str(webcam), cv2.VideoWriter_fourcc(*"MJPG"), 30.0, WEBCAM_SIZE)
        for image in video_images(samples / ONE_PERSON, args.frames):
            writer.write(webcam_sized(image))
        writer.release()
        videos = {"640x480": webcam, "1920x1080": samples / TWO_PEOPLE}
        variants = list(itertools.product(videos, (False, True), (True, False)))
        for _ in range(args.rounds):
            for video, live, spin in variants:
                name = f"{video} {'live' if live else 'every frame'}, sessions {'spin' if spin else 'sleep'}"
                run = replay_realtime_factor(videos[video], models[spin], args.frames, live=live)
                entry = results.setdefault(name, {"realtime_factor": [], "cpu_realtime_factor": []})
                entry["realtime_factor"].append(run["realtime_factor"])
                entry["cpu_realtime_factor"].append(run["cpu_realtime_factor"])
    medians = {name: {key: statistics.median(v) for key, v in runs.items()} for name, runs in results.items()}
    if args.json:
        print(json.dumps({"frames": args.frames, "rounds": args.rounds, "median": medians, "runs": results}))
    else:
        print(f"{'variant':45s} {'real-time factor':>17s} {'CPU-time factor':>16s}")
        for name, entry in medians.items():
            print(f"{name:45s} {entry['realtime_factor']:17.2f} {entry['cpu_realtime_factor']:16.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
