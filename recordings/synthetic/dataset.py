"""Writing synthetic clips in the NTU layout: frames of one clip, one clip's files, a whole set.

Each clip is written through the app's own `RecordingWriter` (.skeleton, _rgb.avi, .jsonl);
`generate_dataset` makes many in a spawn-context process pool, the files not depending on the
workers because each clip draws only from its own RNG.
"""

from __future__ import annotations

import contextlib
import multiprocessing
from collections.abc import Iterator, Sequence
from datetime import UTC, datetime, timedelta
from functools import partial
from pathlib import Path
from typing import Any

from tqdm import tqdm

from sta_hands.contract.errors import RecordingError
from sta_hands.contract.frame import TRACKED, Body, Frame
from sta_hands.recordings.own.recording import RecordingWriter
from sta_hands.recordings.synthetic.camera import COLOR_C, COLOR_F, DEPTH_C, DEPTH_F, project
from sta_hands.recordings.synthetic.plan import FPS, ClipSpec, IdlePlan, plan_clips
from sta_hands.recordings.synthetic.render import render_image
from sta_hands.recordings.synthetic.scene import SimulatedClip, simulate_clip

JPEG_QUALITY = 80  # the writer's default is 90; 80 halves the encoding time on 1080p frames


def _body(clip: SimulatedClip, t: int, person: int) -> Body:
    joints = clip.joints[t, person]
    return Body(
        id=clip.body_ids[person],
        joints=joints,
        color_px=project(joints, COLOR_F, COLOR_C),
        depth_px=project(joints, DEPTH_F, DEPTH_C),
        tracking=clip.tracking[t, person],
        lean=tuple(clip.lean[t, person]),
        lean_tracking=TRACKED,
    )


def render_clip(
    spec: ClipSpec, *, images: bool = True
) -> tuple[Iterator[Frame], dict[str, Any], list[dict[str, Any]]]:
    """(frames, header metadata, per-frame extras) of one clip.

    Frames are rendered lazily as the iterator is consumed (a clip of 1080p images is ~400 MB);
    with ``images=False`` they carry bodies only, which is fast.
    """
    clip = simulate_clip(spec)
    return _frames(clip, images), clip.metadata, clip.extras


def _frames(clip: SimulatedClip, images: bool) -> Iterator[Frame]:
    look = clip.look() if images else None
    for t in range(clip.frames):
        image = render_image(clip, look, t) if look is not None else None
        bodies = tuple(_body(clip, t, person) for person in range(clip.people))
        yield Frame(index=t, timestamp=t / FPS, image=image, bodies=bodies)


def created_timestamp(seed: int) -> str:
    """A fixed creation time for a dataset seed, so that the same seed gives byte-identical files."""
    moment = datetime(2017, 1, 1, tzinfo=UTC) + timedelta(seconds=seed % (50 * 365 * 86400))
    return moment.isoformat(timespec="milliseconds")


def write_clip(spec: ClipSpec, out_dir: str | Path, *, jpeg_quality: int = JPEG_QUALITY) -> Path:
    """Render one clip and write it as `<out_dir>/<name>` (.skeleton, _rgb.avi, .jsonl); returns the stem."""
    out_dir = _make_folder(out_dir)
    stem = out_dir / spec.name
    frames, metadata, extras = render_clip(spec)
    settings = {"fps": FPS, "device": "synthetic", "jpeg_quality": jpeg_quality, "overwrite": True}
    no_fsync = {"fsync_every": 2**31, "fsync_seconds": None}  # a lost clip is made again, not recovered
    created = created_timestamp(spec.seed)
    with RecordingWriter(stem, metadata=metadata, created=created, **settings, **no_fsync) as writer:
        for frame, extra in zip(frames, extras, strict=True):
            writer.write(frame, extra)
    return stem


def generate_dataset(
    out_dir: str | Path,
    clips: int | Sequence[ClipSpec],
    seed: int = 0,
    workers: int = 2,
    progress: bool = True,
    *,
    frames: int | None = None,
    idle_hand: IdlePlan = "rest",
) -> list[Path]:
    """Write clips under `out_dir` and return their stems in plan order.

    `clips` is a count (planned by ``plan_clips(clips, seed, frames=frames, idle_hand=idle_hand)``) or a
    list of specs,
    which carry their own seeds. With ``workers > 1`` the clips are made in a spawn-context process
    pool (a script calling this needs the usual ``if __name__ == "__main__":`` guard); each clip
    draws only from its own RNG, so the files do not depend on the workers or their scheduling.
    """
    specs = (
        plan_clips(clips, seed, frames=frames, idle_hand=idle_hand) if isinstance(clips, int) else list(clips)
    )
    job = partial(write_clip, out_dir=_make_folder(out_dir))  # a folder that cannot be made fails first
    stems = []
    with contextlib.ExitStack() as stack:
        bar = stack.enter_context(
            tqdm(total=len(specs), desc="synthetic clips", unit="clip", disable=not progress)
        )
        results: Iterator[Path] = map(job, specs)
        if workers > 1 and len(specs) > 1:
            pool = stack.enter_context(multiprocessing.get_context("spawn").Pool(min(workers, len(specs))))
            results = pool.imap(job, specs)
        for stem in results:
            stems.append(stem)
            bar.update()
    return stems


def _make_folder(folder: str | Path) -> Path:
    """`folder`, created when missing, or a RecordingError naming it (e.g. a path under a regular file)."""
    folder = Path(folder)
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as error:
        raise RecordingError(folder, f"cannot create the folder: {error.strerror or error}") from None
    return folder
