"""No committed picture shows an NTU RGB+D frame (its terms bar redistributing them; docs/images.md),
and the check that says so can see one: in a window screenshot and as a thumbnail."""

from __future__ import annotations

import subprocess
from pathlib import Path

import cv2
import numpy as np
import pytest

from tests.conftest import NTU_SAMPLES, REPO
from tests.ntu_likeness import SHOWS_NTU, NtuFrames

IMAGE_SUFFIXES = {".png", ".jpg", ".jpeg", ".gif", ".bmp", ".webp", ".tif", ".tiff"}
# the commit that added the screenshot of S004C002P003R001A055 (replaced since): the check must flag it
NTU_SCREENSHOT = "5143caf:docs/screenshot-estimated.png"


def committed_images() -> list[Path]:
    """Every image git tracks in the repository (every image file under it without git)."""
    try:
        listed = subprocess.run(
            ["git", "ls-files", "-z"], cwd=REPO, capture_output=True, check=True, timeout=30
        ).stdout.decode()
        paths = [REPO / name for name in listed.split("\0") if name]
    except (OSError, subprocess.SubprocessError):
        paths = [p for p in REPO.rglob("*") if not {".git", ".venv"} & set(p.relative_to(REPO).parts)]
    return sorted(p for p in paths if p.suffix.lower() in IMAGE_SUFFIXES and p.is_file())


@pytest.fixture(scope="module")
def ntu_frames() -> NtuFrames:
    folders = [NTU_SAMPLES, *sorted(NTU_SAMPLES.parent.glob("ntu-*"))]
    videos = sorted(video for folder in folders if folder.is_dir() for video in folder.glob("*.avi"))
    if not videos:
        pytest.skip(f"no NTU sample videos at {NTU_SAMPLES} (set STA_HANDS_NTU_SAMPLES)")
    return NtuFrames(videos)


def test_no_committed_image_shows_an_ntu_frame(ntu_frames: NtuFrames) -> None:
    images = committed_images()
    assert any(p.name == "screenshot-estimated.png" for p in images)  # the list is the repository's
    for path in images:
        picture = cv2.imread(str(path), cv2.IMREAD_COLOR)
        assert picture is not None, f"{path}: not an image OpenCV can read"
        likeness = ntu_frames.likeness(picture)
        assert likeness.score < SHOWS_NTU, f"{path.relative_to(REPO)} shows a frame of {likeness}"


def test_the_check_sees_an_ntu_frame_in_a_window_and_as_a_thumbnail(ntu_frames: NtuFrames) -> None:
    frame = ntu_frames.frames[len(ntu_frames.frames) // 2]
    rng = np.random.default_rng(0)
    window = rng.integers(30, 60, (720, 1280), dtype=np.uint8)  # a dark window around a shown frame
    shown = cv2.resize(frame.grey, (780, 439), interpolation=cv2.INTER_AREA)
    window[30:469, 48:828] = shown
    cv2.line(window, (300, 100), (320, 400), 255, 6)  # a skeleton drawn over it
    cv2.rectangle(window, (400, 150), (460, 210), 200, 4)  # a hand box
    thumbnails = rng.integers(30, 60, (400, 600), dtype=np.uint8)
    thumbnails[20:110, 40:200] = cv2.resize(frame.grey, (160, 90), interpolation=cv2.INTER_AREA)
    for picture, how in ((window, "keypoints"), (thumbnails, "thumbnail")):
        likeness = ntu_frames.likeness(picture)
        assert likeness.score > SHOWS_NTU and likeness.how == how and likeness.video == frame.video
    unrelated = ntu_frames.likeness(rng.integers(0, 256, (720, 1280), dtype=np.uint8))
    assert unrelated.score < 0.3


def test_the_check_flags_the_ntu_screenshot_that_was_committed_once(ntu_frames: NtuFrames) -> None:
    shown = subprocess.run(["git", "show", NTU_SCREENSHOT], cwd=REPO, capture_output=True, timeout=30)
    if shown.returncode != 0:
        pytest.skip(f"{NTU_SCREENSHOT} is not in this clone's history")
    picture = cv2.imdecode(np.frombuffer(shown.stdout, np.uint8), cv2.IMREAD_COLOR)
    likeness = ntu_frames.likeness(picture)
    assert likeness.score > SHOWS_NTU and likeness.video == "S004C002P003R001A055_rgb.avi", likeness
