"""`sta-hands features` on NTU's download layout: the local and the Ray engine write the same cache, a
killed run restarted finishes with the same cache, and a listed-missing sample and a corrupt video are
skipped, counted and named.

The folder is built in tmp_path: the real NTU samples linked into `nturgb+d_skeletons/` and
`nturgb+d_rgb/` (one of them, S001C001P001R001A001, has both: its video lies in the other folder),
synthetic clips written in the same layout (videos with hands in view, no sidecar: plain NTU clips),
a skeleton under a name on the official missing-skeleton list, and a skeleton whose video is garbage.
"""

from __future__ import annotations

import dataclasses
import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from sta_hands.commands.cli import main
from sta_hands.models.data import ClipRef, find_dataset
from sta_hands.models.features.cache import CLIP_SUFFIX, CacheInfo, load_clip
from sta_hands.models.features.store import FeatureStore

INPUT_SIZE = 32  # EfficientNet-Lite0 on 32 px crops: the real CNN, cheap
REAL_WITH_VIDEO = "S001C001P001R001A001"
LISTED_MISSING = "S001C002P005R002A008"  # on NTU's list of samples with missing skeletons
CORRUPT = "S030C002P001R001A017"
SYNTHETIC = 2
FEATURES = ["features", "--input-size", str(INPUT_SIZE)]


def build_layout(root: Path, samples: Path, synthetic: int = SYNTHETIC, frames: int | None = 14) -> Path:
    """NTU's download layout under `root` (module docstring), with `synthetic` clips of `frames` frames
    (None: the generator's own lengths). scripts/features_throughput.py measures on it too."""
    from sta_hands.recordings.synthetic import generate_dataset
    from sta_hands.recordings.synthetic.plan import ClipSpec

    skeletons, videos = root / "nturgb+d_skeletons", root / "nturgb+d_rgb"
    skeletons.mkdir(parents=True)
    videos.mkdir()
    for path in samples.glob("*.skeleton"):
        (skeletons / path.name).symlink_to(path)
    for path in samples.glob("*_rgb.avi"):
        (videos / path.name).symlink_to(path)
    listed = "NTU_RGBD_samples_with_missing_skeletons.txt"
    (root / listed).symlink_to(samples / listed)
    (skeletons / f"{LISTED_MISSING}.skeleton").symlink_to(samples / "S002C001P003R001A003.skeleton")
    (skeletons / f"{CORRUPT}.skeleton").symlink_to(samples / "S004C002P003R001A017.skeleton")
    (videos / f"{CORRUPT}_rgb.avi").write_bytes(b"RIFF" + bytes(range(256)) * 40)
    specs = [ClipSpec(index=i, seed=0, class_index=i, setup=30, frames=frames) for i in range(synthetic)]
    made = root / "made"
    generate_dataset(made, specs, 0, workers=1, progress=False)
    for spec in specs:
        (made / f"{spec.name}.skeleton").rename(skeletons / f"{spec.name}.skeleton")
        (made / f"{spec.name}_rgb.avi").rename(videos / f"{spec.name}_rgb.avi")
        (made / f"{spec.name}.jsonl").unlink()
    made.rmdir()
    return root


@pytest.fixture(scope="module")
def ntu_root(ntu_samples: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    if not (ntu_samples / f"{REAL_WITH_VIDEO}_rgb.avi").is_file():
        pytest.skip(f"the real sample {REAL_WITH_VIDEO} (skeleton and video) is not in {ntu_samples}")
    return build_layout(tmp_path_factory.mktemp("ntu") / "NTU", ntu_samples)


@pytest.fixture(scope="module")
def local_cache(ntu_root: Path, tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, str]:
    """The cache of `sta-hands features --engine local --workers 1` (a decoding process), and what it
    printed."""
    cache = tmp_path_factory.mktemp("local") / "cache"
    import contextlib
    import io

    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        code = main([*FEATURES, str(ntu_root), "--out", str(cache), "--engine", "local", "--workers", "1"])
    assert code == 0
    return cache, out.getvalue()


def cached_names(cache: Path) -> set[str]:
    return {path.name[: -len(CLIP_SUFFIX)] for path in cache.glob(f"*{CLIP_SUFFIX}")}


def assert_same_cache(found: Path, expected: Path) -> None:
    """The same clips; the same inputs exactly; the same features up to float16 rounding (another
    thread count may sum in another order)."""
    assert cached_names(found) == cached_names(expected)
    for name in sorted(cached_names(expected)):
        a, b = load_clip(found, name), load_clip(expected, name)
        for field in ("pose", "hand_mask", "timestamps"):
            np.testing.assert_array_equal(getattr(a, field), getattr(b, field), err_msg=f"{name} {field}")
        np.testing.assert_allclose(
            a.features.astype(np.float32), b.features.astype(np.float32), atol=4e-3, err_msg=name
        )


def test_the_download_layout_pairs_each_skeleton_with_its_video_in_the_other_folder(ntu_root: Path) -> None:
    dataset = find_dataset(ntu_root)
    clips = {clip.name: clip for clip in dataset.clips}
    assert clips[REAL_WITH_VIDEO].video == ntu_root / "nturgb+d_rgb" / f"{REAL_WITH_VIDEO}_rgb.avi"
    assert clips["S002C001P003R001A003"].video is None  # a skeleton whose video is not here
    assert dataset.missing_skipped == (LISTED_MISSING,)
    assert LISTED_MISSING not in clips
    assert len(dataset.video_only) == 3  # the real videos without their skeletons


def test_ntu120_actions_are_labelled_with_its_classes_and_its_benchmarks_are_refused(
    ntu_samples: Path, tmp_path: Path
) -> None:
    from sta_hands.models.data import DataError
    from sta_hands.recordings.ntu.names import NTU120_CLASSES

    folder = tmp_path / "nturgb+d_skeletons"
    folder.mkdir()
    (folder / "S001C001P001R001A001.skeleton").symlink_to(ntu_samples / "S001C001P001R001A001.skeleton")
    (folder / "S018C001P008R001A120.skeleton").symlink_to(ntu_samples / "S002C001P003R001A003.skeleton")
    dataset = find_dataset(tmp_path)
    assert dataset.class_names == NTU120_CLASSES
    assert [clip.label for clip in dataset.clips] == [0, 119]
    assert dataset.class_names[119] == "finger-guessing game (playing rock-paper-scissors)"
    assert len(dataset.split(None, "train")) == 2
    with pytest.raises(DataError, match="NTU-120's benchmarks"):
        dataset.split("cs", "train")


def test_a_sample_name_opens_from_the_download_layout_with_its_video(ntu_root: Path) -> None:
    from sta_hands.recordings.sources import open_reader

    with open_reader(REAL_WITH_VIDEO, ntu_root) as reader:
        assert reader.skeleton_path == ntu_root / "nturgb+d_skeletons" / f"{REAL_WITH_VIDEO}.skeleton"
        assert reader.video_path == ntu_root / "nturgb+d_rgb" / f"{REAL_WITH_VIDEO}_rgb.avi"
        assert reader.num_frames == 103


def test_local_engine_skips_counts_and_names_the_listed_sample_and_the_corrupt_video(
    ntu_root: Path, local_cache: tuple[Path, str]
) -> None:
    cache, printed = local_cache
    dataset = find_dataset(ntu_root)
    assert cached_names(cache) == {clip.name for clip in dataset.clips} - {CORRUPT}
    assert "1 skipped (listed as missing skeletons)" in printed
    assert "1 skipped as unreadable" in printed
    assert f"skipped {CORRUPT}: " in printed and f"{CORRUPT}_rgb.avi: cannot open the video" in printed
    real = load_clip(cache, REAL_WITH_VIDEO)
    assert real.num_frames == 103 and real.hand_mask.sum() > 0
    present = real.hand_mask > 0
    assert np.abs(real.features[present].astype(np.float32)).sum(axis=-1).min() > 0  # every hand's CNN ran


@pytest.mark.skipif(sys.platform == "win32", reason="SIGKILL is POSIX's")
def test_a_killed_run_restarted_finishes_with_the_same_cache(
    ntu_root: Path, local_cache: tuple[Path, str], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    cache = tmp_path / "cache"
    command = [*FEATURES, str(ntu_root), "--out", str(cache), "--workers", "0"]
    code = "import sys; from sta_hands.commands.cli import main; sys.exit(main(sys.argv[1:]))"
    process = subprocess.Popen([sys.executable, "-c", code, *command], stdout=subprocess.DEVNULL,
                               stderr=subprocess.DEVNULL)  # fmt: skip
    try:
        deadline = time.monotonic() + 120
        while not cached_names(cache) and process.poll() is None and time.monotonic() < deadline:
            time.sleep(0.02)
        os.kill(process.pid, signal.SIGKILL)
    finally:
        process.wait()
    done = cached_names(cache)
    total = len(cached_names(local_cache[0]))
    assert 1 <= len(done) < total, f"killed after {len(done)} of {total} clips"
    assert main(command) == 0
    assert f"{len(done)} already cached" in capsys.readouterr().out
    assert_same_cache(cache, local_cache[0])


@pytest.fixture(scope="module")
def local_ray() -> Iterator[Any]:
    """A Ray instance on this machine with 2 CPUs, shut down after the module's tests."""
    ray = pytest.importorskip("ray", reason="the Ray engines need the cluster extra")
    ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False)
    yield ray
    ray.shutdown()


@pytest.mark.slow
def test_the_ray_engine_writes_the_same_cache_as_the_local_engine(
    ntu_root: Path,
    local_cache: tuple[Path, str],
    tmp_path: Path,
    local_ray: Any,
    capsys: pytest.CaptureFixture[str],
) -> None:
    command = [*FEATURES, str(ntu_root), "--out", str(tmp_path), "--engine", "ray"]
    assert main(command) == 0  # on the Ray instance this process runs (the fixture's)
    assert "1 skipped as unreadable" in capsys.readouterr().out
    assert_same_cache(tmp_path, local_cache[0])


@pytest.mark.slow
def test_an_ablation_on_ray_gives_the_same_table_as_one_run_here_one_trial_per_variant_and_seed(
    ntu_root: Path, local_cache: tuple[Path, str], tmp_path: Path, local_ray: Any
) -> None:
    import torch

    from sta_hands.models.ablate import run_ablation
    from sta_hands.models.config import ModelConfig, PoseStreamConfig, RgbStreamConfig
    from sta_hands.models.ray_ablate import ray_trials

    config = ModelConfig(
        pose=PoseStreamConfig(hidden_size=8), rgb=RgbStreamConfig(hidden_size=8, spatial_hidden=8)
    )
    options = {
        "epochs": 2,
        "config": config,
        "variants": [("sum", "mean"), ("pose", "motion")],
        "seeds": (0, 1),
    }
    threads = torch.get_num_threads()
    torch.set_num_threads(1)  # as in a one-CPU Ray task: the same sums in the same order
    try:
        here = run_ablation(ntu_root, local_cache[0], tmp_path / "here", **options)
    finally:
        torch.set_num_threads(threads)
    on_ray = run_ablation(ntu_root, local_cache[0], tmp_path / "ray", run_trials=ray_trials(), **options)
    assert on_ray == here
    assert "STA-Hands" in on_ray and on_ray.endswith("Mean over seeds 0, 1.\n")
    for seed in (0, 1):  # one trial per variant and seed
        assert (tmp_path / "ray" / f"seed-{seed}" / "rgb-pose-motion" / "best.safetensors").is_file()
    figures = json.loads((tmp_path / "ray" / "ablation.json").read_text())
    seeds = [figures["seeds"][s]["rgb-pose-motion"]["accuracy"]["rgb"] for s in ("0", "1")]
    assert figures["rgb-pose-motion"]["accuracy"]["rgb"] == pytest.approx(np.mean(seeds))


def _small_cache(folder: Path, lengths: Sequence[int], unreadable: str | None = None) -> list[ClipRef]:
    """A cache of clips with `lengths` frames and 8 features per hand (values = clip number), and a
    clip the features run could not read (named in the cache's unreadable list)."""
    from sta_hands.models.config import backbone_spec
    from sta_hands.models.data import ClipInputs
    from sta_hands.models.features.cache import _record_unreadable, open_cache, write_clip

    spec = dataclasses.replace(backbone_spec("efficientnet_lite0", INPUT_SIZE), feature_dim=8)
    open_cache(folder, CacheInfo(spec, "test"))
    clips = []
    for number, length in enumerate(lengths):
        name = f"S001C001P001R001A{number + 1:03d}"
        inputs = ClipInputs(
            pose=np.full((length, 150), number, np.float32),
            hand_mask=np.ones((length, 4), np.float32),
            timestamps=np.arange(length) / 30.0,
            crops=None,
            active_hands=None,
            body_ids=(1,),
        )
        write_clip(folder, name, inputs, np.full((length, 4, 8), number, np.float16))
        clips.append(ClipRef(name, folder / name, "ntu", number, None))
    if unreadable is not None:
        _record_unreadable(folder, [], [(unreadable, "cannot open the video")])
        clips.append(ClipRef(unreadable, folder / unreadable, "ntu", 0, None))
    return clips


def test_the_store_reads_lazily_within_its_memory_bound_and_leaves_out_unreadable_clips(
    tmp_path: Path,
) -> None:
    clips = _small_cache(tmp_path, [30, 40, 50, 60], unreadable="S001C001P001R001A099")
    one_clip = 50 * (4 * 8 * 2 + 150 * 4 + 4 * 4 + 8)  # the 50-frame clip's bytes
    store = FeatureStore(tmp_path, clips, memory_bytes=2 * one_clip)
    assert store.unreadable == ("S001C001P001R001A099",) and len(store) == 4
    assert [store.num_frames(p) for p in range(4)] == [30, 40, 50, 60]
    assert store._bytes == 0  # the frame counts came from the timestamps alone
    for position in (0, 1, 2, 3, 0):
        store.clip(position)
        assert store._bytes <= store.memory_bytes
    assert list(store._kept) == [3, 0]  # the least recently used went first (clip 3 alone is > half)
    draws = [[(p, np.arange(p, p + 20)) for p in (3, 1)], [(2, np.arange(20))], [(0, np.zeros(20, int))]]
    batches = list(store.batches(draws))
    assert [b["features"][:, 0, 0, 0].tolist() for b in batches] == [[3.0, 1.0], [2.0], [0.0]]
    assert batches[0]["pose"].shape == (2, 20, 150)
