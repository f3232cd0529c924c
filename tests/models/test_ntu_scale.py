"""`sta-hands features` on NTU's download layout: the local and the Ray engine write the same cache, a
killed run restarted finishes with the same cache, and a listed-missing sample and a corrupt video are
skipped, counted and named.

The folder is built in tmp_path: the real NTU samples linked into `nturgb+d_skeletons/` and
`nturgb+d_rgb/` (one of them, S001C001P001R001A001, has both: its video lies in the other folder),
synthetic clips written in the same layout (videos with hands in view, no sidecar: plain NTU clips),
a skeleton under a name on the official missing-skeleton list, and a skeleton whose video is garbage.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

from app.cli import main
from models.data import find_dataset
from models.feature_jobs import BackboneRecipe
from models.features import CLIP_SUFFIX, compute_features, load_clip

INPUT_SIZE = 32  # EfficientNet-Lite0 on 32 px crops: the real CNN, cheap
REAL_WITH_VIDEO = "S001C001P001R001A001"
LISTED_MISSING = "S001C002P005R002A008"  # on NTU's list of samples with missing skeletons
CORRUPT = "S030C002P001R001A017"
SYNTHETIC = 2
FEATURES = ["features", "--input-size", str(INPUT_SIZE)]


def build_layout(root: Path, samples: Path) -> Path:
    """NTU's download layout under `root` (module docstring)."""
    from recordings.synthetic import generate_dataset
    from recordings.synthetic.plan import ClipSpec

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
    specs = [ClipSpec(index=i, seed=0, class_index=i, setup=30, frames=14) for i in range(SYNTHETIC)]
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


def test_a_killed_run_restarted_finishes_with_the_same_cache(
    ntu_root: Path, local_cache: tuple[Path, str], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    cache = tmp_path / "cache"
    command = [*FEATURES, str(ntu_root), "--out", str(cache), "--workers", "0"]
    code = "import sys; from app.cli import main; sys.exit(main(sys.argv[1:]))"
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


@pytest.mark.slow
def test_the_ray_engine_writes_the_same_cache_as_the_local_engine(
    ntu_root: Path, local_cache: tuple[Path, str], tmp_path: Path
) -> None:
    ray = pytest.importorskip("ray", reason="the Ray engine needs the cluster extra")
    from models.ray_engine import RayEngine

    recipe = BackboneRecipe("efficientnet_lite0", INPUT_SIZE)
    backbone, weights = recipe.build()
    ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False)
    try:
        clips = find_dataset(ntu_root).clips
        engine = RayEngine(recipe)
        report = compute_features(clips, tmp_path, backbone, weights, engine=engine, progress=False)
    finally:
        ray.shutdown()
    assert [name for name, _ in report.failed] == [CORRUPT]
    assert_same_cache(tmp_path, local_cache[0])
