"""A short video of a public-domain photograph, for pictures of the app on a video without a skeleton.

    pip install scikit-image                          # ships the photograph (skimage.data.astronaut)
    python scripts/astronaut_video.py /tmp/astronaut.avi
    python scripts/astronaut_video.py /tmp/astronaut.avi --image astronaut.png   # the file itself

The photograph is NASA's portrait of the astronaut Eileen Collins, as scikit-image ships it
(`skimage.data.astronaut`: "No known copyright restrictions, released into the public domain";
docs/images.md). The video is `--seconds` long (12): the photograph on a grey canvas, drifting right and
growing a little, so that the estimated body and the hand crops move. An ordinary `.avi` is shown
mirrored (`--mirror auto`, docs/any-camera.md), so the frames are written mirrored: the window shows the
photograph as it was taken. Nothing here is an NTU frame; the video stays out of the repository.
"""

from __future__ import annotations

import argparse
from pathlib import Path

import cv2
import numpy as np

CANVAS_GREY = 96


def astronaut_bgr(image: Path | None) -> np.ndarray:
    """The photograph as a BGR uint8 image: from `image`, else from scikit-image's bundled copy."""
    if image is not None:
        read = cv2.imread(str(image), cv2.IMREAD_COLOR)
        if read is None:
            raise SystemExit(f"{image}: not an image OpenCV can read")
        return read
    try:
        from skimage import data
    except ImportError as error:
        message = "the photograph comes with scikit-image: pip install scikit-image (or --image PATH)"
        raise SystemExit(message) from error
    return cv2.cvtColor(data.astronaut(), cv2.COLOR_RGB2BGR)


def frames(photo: np.ndarray, size: tuple[int, int], count: int) -> list[np.ndarray]:
    """`count` frames of `size` (w, h): the photograph from 90% to 95% of the height, drifting right by
    4% of the width, on a grey canvas; mirrored left-right."""
    width, height = size
    out = []
    for i in range(count):
        progress = i / max(count - 1, 1)
        side = round(height * (0.90 + 0.05 * progress))
        scaled = cv2.resize(photo, (side, side), interpolation=cv2.INTER_AREA)
        canvas = np.full((height, width, 3), CANVAS_GREY, np.uint8)
        x0 = round((width - side) / 2 - width * 0.02 + width * 0.04 * progress)
        y0 = height - side
        left, right = max(x0, 0), min(x0 + side, width)
        canvas[y0:, left:right] = scaled[:, left - x0 : right - x0]
        out.append(cv2.flip(canvas, 1))
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("out", type=Path, help="the .avi to write (Motion JPEG)")
    parser.add_argument("--image", type=Path, help="the photograph (default: scikit-image's astronaut)")
    parser.add_argument("--seconds", type=float, default=12.0)
    parser.add_argument("--fps", type=float, default=30.0)
    parser.add_argument("--size", default="1280x720", help="WxH")
    args = parser.parse_args(argv)
    size = tuple(int(v) for v in args.size.lower().split("x"))
    writer = cv2.VideoWriter(str(args.out), cv2.VideoWriter_fourcc(*"MJPG"), args.fps, size)
    if not writer.isOpened():
        raise SystemExit(f"{args.out}: OpenCV cannot write a Motion JPEG .avi there")
    for frame in frames(astronaut_bgr(args.image), size, round(args.seconds * args.fps)):
        writer.write(frame)
    writer.release()
    print(f"wrote {args.out}: {args.seconds} s at {args.fps} fps, {size[0]}x{size[1]}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
