"""`Reader`: what every file format and live source offers the app, `info` and the training data.

- `description`: one line for a person ("NTU clip S001C001P001R001A001", "Kinect v2 (live)");
- `fps`, `num_frames` (None for a live source), `timestamps` (every frame's seconds when known ahead,
  so that a replay can decode only the images its windows sample), `path` (None when not a file);
- `frames(start=0, images=None)`: the frames from `start`, in order; `images`, a flag per frame, lets
  a reader skip decoding the images of the frames flagged False (a reader that cannot, decodes them);
- `describe()`: a JSON-able dict of what `sta-hands info` prints, read from headers where possible;
- `stop()`: wake a live source that waits inside its own loop (nothing for a file); `problem()`: a live
  device's trouble now (a lost sensor), None when it is fine or for a file;
- `close()`, and use as a context manager;
- `nature`: what the source is (`SourceNature`: live or a file, images or not, where its bodies come
  from, whether its images are mirror images as a Kinect's): what `open_reader`, the mirroring, the
  estimation and the model choice go by. The base has none: every reader says, so that a new source
  cannot pass for another (a new camera for a Kinect with recorded bodies).

`WrappedReader` is the base of a reader that changes another's frames (mirrored images, estimated
bodies): it passes on everything else of its `inner` reader, its nature too unless it changes it.

`recordings.sources.open_reader` turns what a user names into a reader: a new source is one module
with a `Reader` subclass and one row in `recordings.sources.SOURCES`.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from types import TracebackType
from typing import Any, Generic, Self, TypeVar

import numpy as np

from sta_hands.contract.frame import Frame

ImageFlags = Sequence[bool] | np.ndarray | None
T = TypeVar("T")

RECORDED, ESTIMATED, NO_BODIES = BODIES = ("recorded", "estimated", "none")  # `SourceNature.bodies`
KINECT_SKELETON = "Kinect skeleton"  # `SourceNature.bodies_label` of a Kinect's recorded bodies
NONE_LABEL = "none (no skeleton, and not estimated: --pose auto or estimate does)"
SAMPLED, EVERY_FRAME = "sampled", "every frame"  # `SourceNature.estimation`


@dataclass(frozen=True)
class SourceNature:
    """What a source is, as the code that opens, mirrors, estimates and picks a model for it asks.

    - `live`: a camera or sensor, frames as they happen (no count, no seeking);
    - `has_images`: colour images to show, flip and estimate bodies from;
    - `bodies`: where its frames' bodies come from: "recorded" (a skeleton in the file, the sensor's),
      "estimated" (from the images, `recordings.estimate.bodies`) or "none";
    - `bodies_label`: those words for a person (`info`, the GUI): "Kinect skeleton", ...;
    - `mirrored_by_nature`: its images are mirror images as a Kinect's are (NTU, `.xef`, the app's
      recordings, the synthetic clips); `--mirror auto` flips the others (a webcam, a phone's video);
    - `flipped`: the app flips its images as they are read (`recordings.mirror.MirroredImages`): what a
      recording of it notes;
    - `synthetic`: rendered figures, not people (the demo model's world: `app.model_choice`);
    - `estimation`: how estimated bodies are computed while it is read live (`recordings.estimate.bodies`):
      "sampled" (the frames the recognizer samples, and every few for the screen) or "every frame".
    """

    live: bool
    has_images: bool
    bodies: str
    bodies_label: str
    mirrored_by_nature: bool
    flipped: bool = False
    synthetic: bool = False
    estimation: str = SAMPLED

    def __post_init__(self) -> None:
        if self.bodies not in BODIES or self.estimation not in (SAMPLED, EVERY_FRAME):
            raise ValueError(f"bad source nature: bodies {self.bodies!r}, estimation {self.estimation!r}")


SYNTHETIC_CLIP = SourceNature(
    live=False, has_images=True, bodies=RECORDED, bodies_label="synthetic (rendered with the clip)",
    mirrored_by_nature=True, synthetic=True,
)  # fmt: skip


class Reader(ABC):
    """The base of every reader: subclasses give `description`, `fps`, `num_frames` (attributes or
    properties), `nature`, `frames` and `describe`; the rest has the defaults of a file that needs no
    closing."""

    description: str = ""
    path: Path | None = None
    fps: float
    num_frames: int | None
    timestamps: np.ndarray | None = None

    @property
    @abstractmethod
    def nature(self) -> SourceNature:
        """What this source is (`SourceNature`); no default: a reader that did not say cannot be made."""

    def frames(self, start: int = 0, images: ImageFlags = None) -> Iterator[Frame]:
        raise NotImplementedError

    def describe(self) -> dict[str, Any]:
        return {"description": self.description, "frames": self.num_frames, "fps": self.fps}

    def stop(self) -> None:  # noqa: B027 (a default, not abstract: a file has nothing to wake)
        """Wake a live source waiting in its own loop; a file has nothing to wake."""

    def problem(self) -> str | None:
        """A live device's trouble now (e.g. "Kinect v2 sensor lost ..."), None when fine."""
        return None

    def close(self) -> None:  # noqa: B027 (a default, not abstract: most files hold nothing open)
        """Release what the reader holds open (a decoder, a device)."""

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self, kind: type[BaseException] | None, error: BaseException | None, trace: TracebackType | None
    ) -> None:
        self.close()


class FunctionReader(Reader):
    """A reader whose frames come from a function `(start, images) -> frames`: a clip made in memory (a
    synthetic clip, a test's frames) or frames chained from other readers (the soak loop). `nature`:
    what its frames are; by default a synthetic clip's (images, rendered bodies; live without a frame
    count), what the frames made in memory are."""

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
        nature: SourceNature | None = None,
    ) -> None:
        self._nature = nature or replace(SYNTHETIC_CLIP, live=num_frames is None)
        self.description, self.num_frames, self.fps, self.timestamps = (
            description,
            num_frames,
            fps,
            timestamps,
        )
        self._frames, self._stop, self._problem = frames, stop, problem

    @property
    def nature(self) -> SourceNature:
        return self._nature

    def frames(self, start: int = 0, images: ImageFlags = None) -> Iterator[Frame]:
        return self._frames(start, images)

    def stop(self) -> None:
        if self._stop is not None:
            self._stop()

    def problem(self) -> str | None:
        return None if self._problem is None else self._problem()


class _Inner(Generic[T]):
    """A read-only attribute of a `WrappedReader` that is its `inner` reader's attribute of that name."""

    def __set_name__(self, owner: type, name: str) -> None:
        self.name = name

    def __get__(self, reader: WrappedReader | None, owner: type | None = None) -> T:
        if reader is None:
            return self  # type: ignore[return-value]  # the class's own: the descriptor
        return getattr(reader.inner, self.name)


class WrappedReader(Reader):
    """A reader over another, `inner`: its facts (`description`, `path`, `fps`, `num_frames`,
    `timestamps`, `nature`), `describe()`, `stop`, `problem` and `close` are `inner`'s; a subclass
    changes its `frames`, adds to its `description` and `describe()`, and says what it changes of the
    `nature`."""

    description = _Inner[str]()
    path = _Inner[Path | None]()
    fps = _Inner[float]()
    num_frames = _Inner[int | None]()
    timestamps = _Inner[np.ndarray | None]()
    nature = _Inner[SourceNature]()  # type: ignore[assignment]

    def __init__(self, inner: Reader) -> None:
        self.inner = inner

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
