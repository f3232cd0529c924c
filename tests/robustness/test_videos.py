"""Damaged videos through the app (`sta-hands run CLIP --headless`): a clear message, or a replay of
what is readable with a warning.

NTU clips pair a `.skeleton` with an `_rgb.avi` that OpenCV decodes; the app's own recordings carry
their Motion-JPEG chunks in an AVI of their own. Each case builds the clip on the fly (the real NTU
video is cut in a temporary folder, never copied into the repository) and runs the real command.
"""

from __future__ import annotations

import json
import logging
import struct
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np

from sta_hands.commands.cli import main
from sta_hands.recordings.own.recording import RecordingWriter
from tests.recordings.test_own import make_extra, make_frame
from tests.recordings.xef_builder import write_xef
from tests.robustness.registry import Cases

VIDEOS = Cases(
    "Videos",
    "Each clip runs through `sta-hands run CLIP --headless --json` with the tiny test model. NTU clips "
    "are named SsssCcccPpppRrrrAaaa (.skeleton + _rgb.avi); recordings are the app's own format.",
)

NAME = "S001C001P001R001A001"  # the real clip with both files


@dataclass(frozen=True)
class Expect:
    """What the run must do: fail in one line naming `names` and saying `message`, or replay `frames`
    (None: some, not all) with `warning` in the log, and `stopped` (the summary's error) when the
    source died mid-way."""

    build: Callable[[Path, Path], Path]  # (folder, real NTU samples) -> the path given to `run`
    message: str | None = None
    names: str | None = None
    warning: str | None = None
    stopped: str | None = None


def write_mjpg(path: Path, frames: int, size: tuple[int, int] = (64, 48)) -> Path:
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*"MJPG"), 30.0, size)
    for t in range(frames):
        writer.write(np.full((size[1], size[0], 3), (10 * t) % 256, dtype=np.uint8))
    writer.release()
    return path


def real_pair(folder: Path, samples: Path, video: bytes | None = None) -> Path:
    """The real skeleton beside the real video (or `video`, e.g. a cut copy of it)."""
    (folder / f"{NAME}.skeleton").symlink_to(samples / f"{NAME}.skeleton")
    target = folder / f"{NAME}_rgb.avi"
    if video is None:
        target.symlink_to(samples / f"{NAME}_rgb.avi")
    else:
        target.write_bytes(video)
    return folder / f"{NAME}.skeleton"


def cut_real_video(fraction: float) -> Callable[[Path, Path], Path]:
    def build(folder: Path, samples: Path) -> Path:
        data = (samples / f"{NAME}_rgb.avi").read_bytes()
        return real_pair(folder, samples, data[: int(len(data) * fraction)])

    return build


def ntu_video(make: Callable[[Path], None]) -> Callable[[Path, Path], Path]:
    """A video-only NTU clip made by `make`."""

    def build(folder: Path, samples: Path) -> Path:
        path = folder / "S001C001P001R001A010_rgb.avi"
        make(path)
        return path

    return build


def patch_fourcc(path: Path) -> None:
    write_mjpg(path, 8)
    path.write_bytes(path.read_bytes().replace(b"MJPG", b"XQZ1"))


def garbage_chunks(path: Path) -> None:
    write_mjpg(path, 8)
    data = bytearray(path.read_bytes())
    start = data.find(b"movi")
    while (start := data.find(b"00dc", start + 1)) > 0:
        size = int.from_bytes(data[start + 4 : start + 8], "little")
        data[start + 8 : start + 8 + size] = np.random.default_rng(start).bytes(size)
    path.write_bytes(bytes(data))


def header_says_smaller(path: Path) -> None:
    """An MJPG AVI of 128x96 frames whose avih and strf headers say 64x48."""
    write_mjpg(path, 8, (128, 96))
    data = bytearray(path.read_bytes())
    avih, strf = data.find(b"avih"), data.find(b"strf")
    struct.pack_into("<II", data, avih + 8 + 32, 64, 48)
    struct.pack_into("<ii", data, strf + 8 + 4, 64, 48)
    path.write_bytes(bytes(data))


def short_video_long_skeleton(folder: Path, samples: Path) -> Path:
    (folder / f"{NAME}.skeleton").symlink_to(samples / f"{NAME}.skeleton")
    write_mjpg(folder / f"{NAME}_rgb.avi", 40)
    return folder / f"{NAME}.skeleton"


def own_recording(damage: Callable[[Path], None], frames: int = 30) -> Callable[[Path, Path], Path]:
    """A recording of the app's own format (30 frames), then `damage(stem)`."""

    def build(folder: Path, samples: Path) -> Path:
        stem = folder / "rec"
        with RecordingWriter(stem, created="2024-05-01T12:00:00.000+00:00", fsync_every=0) as writer:
            for index in range(frames):
                writer.write(make_frame(index), make_extra(index))
        damage(stem)
        return Path(f"{stem}.jsonl")

    return build


def header_color_size(stem: Path) -> None:
    sidecar = Path(f"{stem}.jsonl")
    sidecar.write_bytes(sidecar.read_bytes().replace(b'"color_size": [64, 48]', b'"color_size": [32, 24]', 1))


def garbage_jpegs_from_frame_10(stem: Path) -> None:
    video = Path(f"{stem}_rgb.avi")
    data = bytearray(video.read_bytes())
    chunks = [i for i in range(data.find(b"movi"), len(data) - 4) if data[i : i + 4] == b"00dc"]
    for start in chunks[10:]:
        size = int.from_bytes(data[start + 4 : start + 8], "little")
        data[start + 8 : start + 8 + size] = bytes(size)
    video.write_bytes(bytes(data))


VIDEOS.add(
    "real-avi-cut-at-90%",
    "the real NTU H.264 video cut to 90% of its bytes, beside its whole skeleton (103 frames)",
    "replays the frames OpenCV can decode (63 here) and logs `the video ended at frame 63 of 103`; exit 0",
    Expect(cut_real_video(0.9), warning="the video ended at frame"),
)
VIDEOS.add(
    "real-avi-cut-at-50%",
    "the real NTU video cut to half its bytes",
    "replays the decodable frames with the same warning",
    Expect(cut_real_video(0.5), warning="the video ended at frame"),
)
VIDEOS.add(
    "real-avi-cut-inside-its-header",
    "the real NTU video cut to 0.1% of its bytes (inside the container header)",
    "one line: `cannot open the video (not a video file, or no decoder for it)`, naming the video; exit 2",
    Expect(cut_real_video(0.001), message="cannot open the video", names=f"{NAME}_rgb.avi"),
)
VIDEOS.add(
    "zero-frames",
    "an AVI with a valid header and no frame",
    "one line: `cannot decode the first frame of the video`, naming it; exit 2",
    Expect(
        ntu_video(lambda path: write_mjpg(path, 0)), message="cannot decode the first frame", names="_rgb.avi"
    ),
)
VIDEOS.add(
    "unknown-codec",
    "an AVI whose codec (fourcc XQZ1) no decoder knows",
    "one line: `cannot open the video (not a video file, or no decoder for it)`; exit 2",
    Expect(ntu_video(patch_fourcc), message="cannot open the video", names="_rgb.avi"),
)
VIDEOS.add(
    "undecodable-frames",
    "an MJPG AVI whose every frame is random bytes",
    "one line: `cannot decode the first frame of the video`; exit 2",
    Expect(ntu_video(garbage_chunks), message="cannot decode the first frame", names="_rgb.avi"),
)
VIDEOS.add(
    "header-size-differs-from-frames",
    "an AVI whose header says 64x48 while its frames are 128x96",
    "replays at the frames' real size (OpenCV decodes what the frames say); exit 0",
    Expect(ntu_video(header_says_smaller)),
)
VIDEOS.add(
    "video-shorter-than-skeleton",
    "the real 103-frame skeleton beside a 40-frame video",
    "replays the 40 frames both have and logs `the skeleton has 103 frames and the video 40`; exit 0",
    Expect(short_video_long_skeleton, warning="the skeleton has 103 frames and the video 40"),
)
VIDEOS.add(
    "recording-header-size-differs",
    "an own recording whose sidecar says 32x24 while its JPEG frames are 64x48",
    "the run stops at frame 0 and the summary says `image is 64x48, the header says (32, 24)`; exit 1",
    Expect(own_recording(header_color_size), stopped="image is 64x48, the header says (32, 24)"),
)
VIDEOS.add(
    "recording-jpeg-chunks-zeroed",
    "an own recording whose JPEG chunks from frame 10 on are zero bytes (a disk error)",
    "predictions for the frames before, then the summary says `JPEG data does not decode` with the frame; "
    "exit 1",
    Expect(own_recording(garbage_jpegs_from_frame_10), stopped="JPEG data does not decode"),
)
VIDEOS.add(
    "recording-video-missing",
    "an own recording whose _rgb.avi was deleted",
    "one line: `file not found`, naming the _rgb.avi; exit 2",
    Expect(
        own_recording(lambda stem: Path(f"{stem}_rgb.avi").unlink()),
        message="file not found",
        names="rec_rgb.avi",
    ),
)
VIDEOS.add(
    "recording-with-no-frame",
    "an own recording closed before its first frame",
    "one line: `no frames (expected at least one colour or body frame)`, naming the sidecar; exit 2",
    Expect(own_recording(lambda stem: None, frames=0), message="no frames", names="rec.jsonl"),
)
VIDEOS.add(
    "xef-with-no-frame",
    "a Kinect Studio .xef with its streams declared and no frame in them (an empty or cut capture)",
    "one line: `no frames (expected at least one colour or body frame)`, naming the file; exit 2",
    Expect(
        lambda folder, samples: write_xef(folder / "empty.xef", []), message="no frames", names="empty.xef"
    ),
)


@VIDEOS.parametrize()
def test_a_damaged_video_gives_a_clear_message_or_what_is_readable(
    case, tmp_path: Path, ntu_samples: Path, tiny_model_folder: Path, capsys, caplog
) -> None:
    expect: Expect = case.data
    clip = expect.build(tmp_path, ntu_samples)
    with caplog.at_level(logging.WARNING):
        code = main(["run", str(clip), "--headless", "--json", "--model", str(tiny_model_folder)])
    out, err = capsys.readouterr()
    if expect.message is not None:
        assert code == 2 and out == ""
        assert len(err.strip().splitlines()) == 1 and "Traceback" not in err, err
        assert expect.message in err and expect.names is not None and expect.names in err
        return
    lines = out.strip().splitlines()
    summary = json.loads(lines[-1])["summary"]
    # every prediction made was printed: those that named a class and those with no one in view
    assert summary["windows_classified"] + summary["windows_no_person"] == len(lines) - 1
    if expect.stopped is not None:
        assert code == 1 and expect.stopped in summary["error"]
        return
    assert code == 0 and summary["error"] is None, summary
    windows = summary["windows_classified"] + summary["windows_no_person"]  # no one found in a bare video
    assert summary["frames_read"] > 0 and windows >= 1
    if expect.warning is not None:
        assert expect.warning in caplog.text
        assert summary["frames_read"] < 103


@VIDEOS.covers("real-avi-cut-at-90%")
def test_the_cut_video_replays_exactly_what_opencv_decodes(tmp_path: Path, ntu_samples: Path) -> None:
    """The frame count the warning gives is what a plain OpenCV read of the cut file yields."""
    from sta_hands.recordings.ntu.clip import NtuClip

    skeleton = cut_real_video(0.9)(tmp_path, ntu_samples)
    capture = cv2.VideoCapture(str(tmp_path / f"{NAME}_rgb.avi"))
    decodable = 0
    while capture.read()[0]:
        decodable += 1
    capture.release()
    with NtuClip(skeleton) as clip:
        assert sum(1 for _ in clip.frames()) == decodable < clip.num_frames
