"""Files that are valid on the outside and lie inside (issue 23): a cached feature file cut or damaged, a
sidecar asking for huge hand crops, a video whose header counts frames that no longer decode.

Each was found by trying inputs as a new user (or a crafted file) would; before the fixes they escaped
as a bare `zipfile.BadZipFile`, ran 30 times slower (or asked for 2.7 TiB), or told `info`'s reader that
a cut clip was whole.
"""

from __future__ import annotations

import logging
from pathlib import Path

import numpy as np
import pytest

from sta_hands.contract.errors import RecordingError
from sta_hands.contract.frame import NUM_JOINTS, TRACKED, Body, Frame
from sta_hands.contract.hand_crop import MAX_SIZE_PX, PAPER_CROP
from sta_hands.recordings.ntu.clip import NtuClip
from tests.robustness.registry import Cases

UNTRUSTED = Cases(
    "Caches, sidecars and headers that lie",
    "Files whose outer format is valid while a value inside is damaged or crafted. The feature cases use "
    "a cache of two real skeleton-only NTU clips (EfficientNet-Lite0 at 32 px); the video case cuts the "
    "real NTU video in a temporary folder.",
)
UNTRUSTED.add(
    "feature-file-cut",
    "a cached clip's .npz cut to half its bytes (a copy interrupted, a full disk)",
    "reading it: `DataError` naming the .npz (`unreadable cached clip (delete it; ...)`; was a bare "
    "`zipfile.BadZipFile`); `features` run again logs the file as unreadable and computes it again, "
    "identical to the original",
)
UNTRUSTED.add(
    "feature-file-bytes-flipped",
    "bytes flipped inside a cached array (the zip directory intact)",
    "reading it: `DataError` naming the .npz and the zip's complaint (`Bad CRC-32`), one line",
)
UNTRUSTED.add(
    "sidecar-hand-crop-huge",
    f"a recording whose sidecar asks for `hand_crop.size_px` 20000 or 10^6 (the largest kept: {MAX_SIZE_PX})",
    f"`RecordingError` naming the sidecar's line 1: `expected at most {MAX_SIZE_PX} px` (was a 58-frame "
    "replay 30 times slower at 20000, a `MemoryError` of 2.7 TiB at 10^6)",
)
UNTRUSTED.add(
    "video-cut-behind-its-header",
    "`info` of the real NTU clip whose video is cut to a quarter of its bytes (its header still says 103 "
    "frames)",
    "counts the frames that decode (13, what replay gets): `aligned: no`, and the problem `the video's "
    "header says 103 frames, 13 decode` (was `103 frames, aligned: yes`)",
)

CLIPS = ("S002C001P003R001A003", "S004C002P003R001A017")  # skeleton-only: their features are fast
NAME = "S001C001P001R001A001"  # the real clip with both files


@pytest.fixture(scope="module")
def feature_cache(tmp_path_factory: pytest.TempPathFactory, ntu_samples: Path):
    """(clips, backbone, weights, a pristine cache folder) of two real skeleton-only clips."""
    pytest.importorskip("torch")
    from sta_hands.models.data import find_dataset
    from sta_hands.models.features.cache import build_cache_backbone, compute_features

    folder = tmp_path_factory.mktemp("untrusted-cache")
    (folder / "data").mkdir()
    for name in CLIPS:
        (folder / "data" / f"{name}.skeleton").symlink_to(ntu_samples / f"{name}.skeleton")
    clips = find_dataset(folder / "data").clips
    backbone, weights = build_cache_backbone("efficientnet_lite0", 32)
    compute_features(clips, folder / "cache", backbone, weights, progress=False)
    return clips, backbone, weights, folder / "cache"


def _copy_cache(pristine: Path, to: Path) -> Path:
    to.mkdir()
    for path in pristine.iterdir():
        (to / path.name).write_bytes(path.read_bytes())
    return to


@UNTRUSTED.covers("feature-file-cut")
def test_a_cut_feature_file_is_named_and_computed_again(feature_cache, tmp_path: Path, caplog) -> None:
    from sta_hands.models.data import DataError
    from sta_hands.models.features.cache import clip_path, compute_features, load_clip

    clips, backbone, weights, pristine = feature_cache
    cache = _copy_cache(pristine, tmp_path / "cache")
    damaged = clip_path(cache, clips[0].name)
    damaged.write_bytes(damaged.read_bytes()[: damaged.stat().st_size // 2])
    with pytest.raises(DataError) as caught:
        load_clip(cache, clips[0].name)
    assert str(caught.value).startswith(f"{damaged}: unreadable cached clip") and "\n" not in str(
        caught.value
    )
    with caplog.at_level(logging.WARNING, logger="sta_hands.models.features.cache"):
        report = compute_features(clips, cache, backbone, weights, progress=False)
    assert report.computed == (clips[0].name,) and report.skipped == (clips[1].name,)
    assert any(
        str(damaged) in r.getMessage() and "computing it again" in r.getMessage() for r in caplog.records
    )
    repaired, original = load_clip(cache, clips[0].name), load_clip(pristine, clips[0].name)
    for key in ("features", "pose", "hand_mask", "timestamps"):
        np.testing.assert_array_equal(getattr(repaired, key), getattr(original, key))


@UNTRUSTED.covers("feature-file-bytes-flipped")
def test_flipped_bytes_in_a_feature_file_are_a_data_error_naming_it(feature_cache, tmp_path: Path) -> None:
    from sta_hands.models.data import DataError
    from sta_hands.models.features.cache import clip_path, load_clip, load_timestamps

    clips, _, _, pristine = feature_cache
    cache = _copy_cache(pristine, tmp_path / "cache")
    damaged = clip_path(cache, clips[1].name)
    data = bytearray(damaged.read_bytes())
    at = data.index(b"pose.npy") + 400  # inside the pose array's values (np.savez stores them as they are)
    data[at : at + 4] = bytes(b ^ 0x5A for b in data[at : at + 4])
    damaged.write_bytes(bytes(data))
    with pytest.raises(DataError) as caught:
        load_clip(cache, clips[1].name)
    text = str(caught.value)
    assert text.startswith(f"{damaged}: unreadable cached clip") and "CRC" in text and "\n" not in text, text
    np.testing.assert_array_equal(  # the other arrays still read
        load_timestamps(cache, clips[1].name), load_timestamps(pristine, clips[1].name)
    )


@UNTRUSTED.covers("sidecar-hand-crop-huge")
def test_a_sidecar_asking_for_huge_hand_crops_is_refused(tmp_path: Path) -> None:
    from sta_hands.recordings.own.recording import RecordingWriter, open_recording

    color = np.full((NUM_JOINTS, 2), 30.0)
    body = Body(5, np.zeros((NUM_JOINTS, 3)), color, np.full(NUM_JOINTS, TRACKED))
    image = np.zeros((48, 64, 3), np.uint8)
    with RecordingWriter(tmp_path / "clip", fps=30.0) as writer:
        for index in range(3):
            writer.write(Frame(index, index / 30.0, image, (body,), hand_crop=PAPER_CROP))
    sidecar = tmp_path / "clip.jsonl"
    lines = sidecar.read_text().splitlines()
    assert '"size_px": 50' in lines[0]
    with open_recording(tmp_path / "clip") as recording:  # as written: it opens
        assert recording.hand_crop == PAPER_CROP
    for size in (MAX_SIZE_PX + 1, 20000, 10**6):
        sidecar.write_text("\n".join([lines[0].replace('"size_px": 50', f'"size_px": {size}'), *lines[1:]]))
        with pytest.raises(RecordingError) as caught:
            open_recording(tmp_path / "clip")
        text = str(caught.value)
        assert text.startswith(f"{sidecar}:line 1: bad hand_crop") and f"at most {MAX_SIZE_PX} px" in text
    sidecar.write_text(
        "\n".join([lines[0].replace('"size_px": 50', f'"size_px": {MAX_SIZE_PX}'), *lines[1:]])
    )
    with open_recording(tmp_path / "clip") as recording:
        assert recording.hand_crop.size_px == MAX_SIZE_PX


@UNTRUSTED.covers("video-cut-behind-its-header")
def test_info_counts_the_frames_of_a_video_cut_behind_its_header(
    ntu_samples: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import sta_hands.recordings.ntu.clip
    from sta_hands.recordings.info import describe, format_info

    video = (ntu_samples / f"{NAME}_rgb.avi").read_bytes()
    (tmp_path / f"{NAME}_rgb.avi").write_bytes(video[: len(video) // 4])
    (tmp_path / f"{NAME}.skeleton").symlink_to(ntu_samples / f"{NAME}.skeleton")
    with NtuClip(tmp_path / f"{NAME}.skeleton") as clip:
        replayed = sum(1 for _ in clip.frames())  # what replay decodes
    assert 0 < replayed < 103
    info = describe(tmp_path / f"{NAME}_rgb.avi")
    assert info["video"]["frames"] == replayed and info["video"]["header_frames"] == 103
    assert info["frames"] == replayed and info["aligned"] is False
    assert f"the video's header says 103 frames, {replayed} decode" in info["problems"][0]
    text = format_info(info)
    assert f"{replayed} frames" in text and "aligned: no" in text and "103 frames, aligned: yes" not in text
    whole = describe(ntu_samples / f"{NAME}_rgb.avi")  # the whole video: unchanged
    assert whole["video"]["frames"] == 103 and whole["aligned"] and "header_frames" not in whole["video"]
    # a long video: the count is not checked
    monkeypatch.setattr(sta_hands.recordings.ntu.clip, "MAX_FRAMES_COUNTED", 50)
    long = describe(tmp_path / f"{NAME}_rgb.avi")
    assert long["video"]["frames"] == 103 and long["video"]["frames_checked"] is False
    assert "103 frames (the header's count, not checked)" in format_info(long)
