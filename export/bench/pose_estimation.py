"""`bench --json`'s `pose_estimation`: the speed of bodies estimated from the image (issue 12).

- per frame: the bundled estimator (`recordings.estimate.PoseEstimator`) on the frames of a real NTU
  video with one person (S001C001P001R001A001) and one with two (S004C002P003R001A055), in order, so
  that its tracker works as it does live (a detection when someone is new, landmarks otherwise): the
  median and 95th percentile ms per frame, and how many people it found;
- end to end: the whole live pipeline (decoding, estimation, hand crops, the glimpse CNN and the head
  through the app's recognizer, every due window classified) over a 640x480 webcam-sized replay at 30
  fps (the one-person video cut to 4:3 and scaled) and over the 1920x1080 two-person NTU video: the
  real-time factor (processing time / video duration; below 1 keeps up with the camera). As the app
  runs live (`recordings.estimate.bodies.live_view`: estimation on the frames the windows sample and at least
  every third frame), and, under `every_frame`, with estimation on every frame (as before).

The NTU files are not in the repository (their licence); they are looked for in `$STA_HANDS_NTU_SAMPLES`,
then `../shared/samples/ntu` beside the repository; without them, or without the estimator, the entry
says why it was skipped. `python -m sta_hands.commands.bench_pose [--model FOLDER] [--json FILE]` runs this
part alone (default model: the bundled demo, efficientnet_lite0 at 64 px).
"""

from __future__ import annotations

import os
import statistics
import tempfile
import time
from pathlib import Path
from typing import Any

import cv2
import numpy as np

from sta_hands.app.model import Model
from sta_hands.app.recognizer import StreamRecognizer
from sta_hands.app.runtime import OnnxModel
from sta_hands.contract.reader import read
from sta_hands.recordings.estimate.bodies import live_view
from sta_hands.recordings.sources import open_reader

ONE_PERSON = "S001C001P001R001A001_rgb.avi"
TWO_PEOPLE = "S004C002P003R001A055_rgb.avi"
WEBCAM_SIZE = (640, 480)
FRAMES = 90  # 3 s at 30 fps per measurement


def default_samples() -> Path:
    """Where the real NTU samples are: $STA_HANDS_NTU_SAMPLES, else ../shared/samples/ntu."""
    repo = Path(__file__).resolve().parents[2]
    return Path(os.environ.get("STA_HANDS_NTU_SAMPLES", repo.parent / "shared" / "samples" / "ntu"))


def video_images(path: Path, count: int) -> list[np.ndarray]:
    capture = cv2.VideoCapture(str(path))
    images = []
    while len(images) < count:
        ok, image = capture.read()
        if not ok:
            break
        images.append(image)
    capture.release()
    return images


def webcam_sized(image: np.ndarray, size: tuple[int, int] = WEBCAM_SIZE) -> np.ndarray:
    """A 16:9 frame cut to the middle 4:3 and scaled to `size`, as a webcam would see the scene."""
    height, width = image.shape[:2]
    keep = min(width, round(height * size[0] / size[1]))
    left = (width - keep) // 2
    return cv2.resize(image[:, left : left + keep], size, interpolation=cv2.INTER_AREA)


def write_webcam_video(images: list[np.ndarray], path: Path, fps: float = 30.0) -> Path:
    """`images` cut and scaled as a webcam would see them (`webcam_sized`), written to `path` (MJPG)."""
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*"MJPG"), fps, WEBCAM_SIZE)
    for image in images:
        writer.write(webcam_sized(image))
    writer.release()
    return path


def per_frame(images: list[np.ndarray]) -> dict[str, Any]:
    """ms per frame of one fresh estimator over `images` in order (after one warm-up frame)."""
    from sta_hands.recordings.estimate import PoseEstimator

    estimator = PoseEstimator(max_people=2)
    estimator.estimate(images[0])
    estimator.reset()
    times, found = [], []
    for image in images:
        started = time.perf_counter()
        bodies = estimator.estimate(image)
        times.append((time.perf_counter() - started) * 1e3)
        found.append(len(bodies))
    return {
        "frames": len(images),
        "image_size": [images[0].shape[1], images[0].shape[0]],
        "ms_median": statistics.median(times),
        "ms_p95": float(np.percentile(times, 95)),
        "people_found_median": statistics.median(found),
    }


def replay_realtime_factor(
    video: Path, model: Model, max_frames: int, *, live: bool = True
) -> dict[str, Any]:
    """The whole live pipeline over the first `max_frames` of `video` as fast as it goes: time / their
    duration. `live`: bodies estimated as the app does live (`live_view`); else on every frame."""
    recognizer = StreamRecognizer(model, lossless=True)
    predictions = frames = 0
    info = model.info
    with open_reader(video, pose="estimate") as opened:  # a webcam-like video is mirrored, as a webcam is
        reader = live_view(opened, info.window_seconds, info.window_length) if live else opened
        started = time.perf_counter()
        cpu_started = time.process_time()
        for frame in read(reader):
            predictions += len(recognizer.feed([frame]))
            frames += 1
            if frames == max_frames:
                break
        seconds = time.perf_counter() - started
        cpu_seconds = time.process_time() - cpu_started
        fps = reader.fps
    duration = frames / fps
    return {
        "frames": frames,
        "video_fps": fps,
        "seconds": seconds,
        "cpu_seconds": cpu_seconds,
        "cpu_realtime_factor": cpu_seconds / duration,
        "frames_per_s": frames / seconds,
        "realtime_factor": seconds / duration,
        "windows_classified": predictions - recognizer.windows_no_person,  # a class named
        "windows_no_person": recognizer.windows_no_person,  # no one estimated in the window: no stream ran
    }


def bench_pose_estimation(
    model_folder: str | Path, samples: Path | None = None, frames: int = FRAMES
) -> dict[str, Any]:
    """The `pose_estimation` entry of `bench --json` (module doc), or {"skipped": why}."""
    try:
        from sta_hands.recordings.estimate import PoseEstimator, estimator_available
    except ImportError as error:
        return {"skipped": f"the pose estimator is not in this checkout ({error})"}
    available, reason = estimator_available()
    if not available:
        return {"skipped": f"the pose estimator cannot run here: {reason}"}
    samples = samples or default_samples()
    missing = [name for name in (ONE_PERSON, TWO_PEOPLE) if not (samples / name).is_file()]
    if missing:
        return {
            "skipped": f"the real NTU samples {', '.join(missing)} are not in {samples} "
            "(set STA_HANDS_NTU_SAMPLES)"
        }
    one, two = video_images(samples / ONE_PERSON, frames), video_images(samples / TWO_PEOPLE, frames)
    model = OnnxModel(model_folder, provider="cpu")
    report: dict[str, Any] = {
        "estimator": PoseEstimator().describe(),
        "model": f"{model.info.backbone}@{model.info.glimpse_input_size}",
        "one_person": per_frame(one),
        "two_people": per_frame(two),
        "one_person_640x480": per_frame([webcam_sized(image) for image in one]),
    }
    with tempfile.TemporaryDirectory(prefix="sta-hands-pose-bench-") as tmp:
        webcam = write_webcam_video(one, Path(tmp) / "webcam_640x480.avi")
        report["end_to_end_640x480"] = replay_realtime_factor(webcam, model, frames)
        every_frame = {"640x480": replay_realtime_factor(webcam, model, frames, live=False)}
    report["end_to_end_1920x1080"] = replay_realtime_factor(samples / TWO_PEOPLE, model, frames)
    every_frame["1920x1080"] = replay_realtime_factor(samples / TWO_PEOPLE, model, frames, live=False)
    report["every_frame"] = every_frame
    return report


def format_pose(entry: dict[str, Any]) -> str:
    """One paragraph for `bench`'s text report."""
    if "skipped" in entry:
        return f"Pose estimation: skipped ({entry['skipped']})."
    one, two = entry["one_person"], entry["two_people"]
    webcam, ntu = entry["end_to_end_640x480"], entry["end_to_end_1920x1080"]
    return (
        f"Pose estimation ({entry['estimator']}): {one['ms_median']:.1f} ms per frame for one person "
        f"(p95 {one['ms_p95']:.1f}), {two['ms_median']:.1f} ms for two (p95 {two['ms_p95']:.1f}); "
        f"whole live pipeline with {entry['model']}: real-time factor {webcam['realtime_factor']:.2f} on a "
        f"640x480 30 fps replay, {ntu['realtime_factor']:.2f} on the 1920x1080 NTU video (estimating every "
        f"frame: {entry['every_frame']['640x480']['realtime_factor']:.2f} and "
        f"{entry['every_frame']['1920x1080']['realtime_factor']:.2f})."
    )
