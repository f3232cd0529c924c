"""`Reader`: what every file format and live source offers the app, `info` and the training data.

- `description`: one line for a person ("NTU clip S001C001P001R001A001", "Kinect v2 (live)");
- `fps`, `num_frames` (None for a live source), `timestamps` (every frame's seconds when known ahead,
  so that a replay can decode only the images its windows sample), `path` (None when not a file);
- `frames(start=0, images=None)`: the frames from `start`, in order; `images`, a flag per frame, lets
  a reader skip decoding the images of the frames flagged False (a reader that cannot, decodes them);
- `describe()`: a JSON-able dict of what `sta-hands info` prints, read from headers where possible;
- `stop()`: wake a live source that waits inside its own loop (nothing for a file); `problem()`: a live
  device's trouble now (a lost sensor), None when it is fine or for a file;
- `close()`, and use as a context manager.

`WrappedReader` is the base of a reader that changes another's frames (mirrored images, estimated
bodies): it passes on everything else of its `inner` reader.

`recordings.sources.open_reader` turns what a user names into a reader: a new source is one module
with a `Reader` subclass and one line there.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from types import TracebackType
from typing import Any, Self

import numpy as np

from recordings.frame import Frame

ImageFlags = Sequence[bool] | np.ndarray | None


class Reader:
    """The base of every reader: subclasses give `description`, `fps`, `num_frames` (attributes or
    properties), `frames` and `describe`; the rest has the defaults of a file that needs no closing."""

    description: str = ""
    path: Path | None = None
    fps: float
    num_frames: int | None
    timestamps: np.ndarray | None = None

    def frames(self, start: int = 0, images: ImageFlags = None) -> Iterator[Frame]:
        raise NotImplementedError

    def describe(self) -> dict[str, Any]:
        return {"description": self.description, "frames": self.num_frames, "fps": self.fps}

    def stop(self) -> None:
        """Wake a live source waiting in its own loop; a file has nothing to wake."""

    def problem(self) -> str | None:
        """A live device's trouble now (e.g. "Kinect v2 sensor lost ..."), None when fine."""
        return None

    def close(self) -> None:
        """Release what the reader holds open (a decoder, a device)."""

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self, kind: type[BaseException] | None, error: BaseException | None, trace: TracebackType | None
    ) -> None:
        self.close()


class FunctionReader(Reader):
    """A reader whose frames come from a function `(start, images) -> frames`: a clip made in memory (a
    synthetic clip, a test's frames) or frames chained from other readers (the soak loop)."""

    def __init__(
        self,
        description: str,
        num_frames: int | None,
        fps: float,
        frames: Callable[[int, ImageFlags], Iterator[Frame]],
        *,
        timestamps: np.ndarray | None = None,
        stop: Callable[[], None] | None = None,
        problem: Callable[[], str | None] | None = None,
    ) -> None:
        self.description, self.num_frames, self.fps, self.timestamps = (
            description,
            num_frames,
            fps,
            timestamps,
        )
        self._frames, self._stop, self._problem = frames, stop, problem

    def frames(self, start: int = 0, images: ImageFlags = None) -> Iterator[Frame]:
        return self._frames(start, images)

    def stop(self) -> None:
        if self._stop is not None:
            self._stop()

    def problem(self) -> str | None:
        return None if self._problem is None else self._problem()


class WrappedReader(Reader):
    """A reader over another, `inner`: its facts (`description`, `path`, `fps`, `num_frames`,
    `timestamps`), `describe()`, `stop`, `problem` and `close` are `inner`'s; a subclass changes its
    `frames` and adds to its `description` and `describe()`."""

    def __init__(self, inner: Reader) -> None:
        self.inner = inner

    @property
    def description(self) -> str:  # type: ignore[override]
        return self.inner.description

    @property
    def path(self) -> Path | None:  # type: ignore[override]
        return self.inner.path

    @property
    def fps(self) -> float:  # type: ignore[override]
        return self.inner.fps

    @property
    def num_frames(self) -> int | None:  # type: ignore[override]
        return self.inner.num_frames

    @property
    def timestamps(self) -> np.ndarray | None:  # type: ignore[override]
        return self.inner.timestamps

    def frames(self, start: int = 0, images: ImageFlags = None) -> Iterator[Frame]:
        return read(self.inner, start, images)

    def describe(self) -> dict[str, Any]:
        return dict(self.inner.describe())

    def stop(self) -> None:
        self.inner.stop()

    def problem(self) -> str | None:
        return self.inner.problem()

    def close(self) -> None:
        self.inner.close()


def read(reader: Reader, start: int = 0, images: ImageFlags = None) -> Iterator[Frame]:
    """The frames of `reader` from `start`; the frame iterator is closed when this generator ends, however
    it ends, in the thread that read it (a live device is released where it was opened)."""
    frames = reader.frames(start, images)
    try:
        yield from frames
    finally:
        close_frames(frames)


def close_frames(frames: object) -> None:
    """Close a frame iterator if it can be closed (a generator over a file or a device)."""
    closer = getattr(frames, "close", None)
    if closer is not None:
        closer()
