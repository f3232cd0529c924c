"""`WrappedReader` (contract/reader.py): a reader over another passes on the inner reader's facts,
describe(), stop, problem and close, whatever the wrappers stacked on it (estimated bodies over mirrored
images, as `--mirror yes --pose estimate` builds), and `is_mirrored` sees through them."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import numpy as np

from sta_hands.contract.frame import Frame
from sta_hands.contract.reader import FunctionReader, ImageFlags, Reader, WrappedReader
from sta_hands.recordings.estimate.bodies import EstimatedBodies
from sta_hands.recordings.mirror import MirroredImages, is_mirrored
from tests.app.conftest import moving_frames
from tests.recordings.fake_camera import FakeEstimator


class Device(FunctionReader):
    """A file-like live source that says what was asked of it."""

    def __init__(self, frames: list[Frame]) -> None:
        super().__init__(
            "a device", len(frames), 25.0, self._frames, timestamps=np.array([f.timestamp for f in frames]),
            stop=lambda: self.calls.append("stop"), problem=lambda: "cable loose",
        )  # fmt: skip
        self.path = Path("/dev/video9")
        self.calls: list[str] = []
        self._list = frames

    def _frames(self, start: int, images: ImageFlags) -> Iterator[Frame]:
        return iter(self._list[start:])

    def describe(self) -> dict:
        return {"description": self.description, "frames": self.num_frames, "fps": self.fps, "own": 1}

    def close(self) -> None:
        self.calls.append("close")


def test_stacked_wrappers_pass_on_the_inner_readers_facts_and_controls() -> None:
    frames = moving_frames(4, fps=25.0, size=(64, 48))
    device = Device(frames)
    estimator = FakeEstimator([frame.bodies for frame in frames])
    reader: Reader = EstimatedBodies(MirroredImages(device), lambda: estimator)
    assert isinstance(reader, WrappedReader)
    assert (reader.path, reader.fps, reader.num_frames) == (Path("/dev/video9"), 25.0, 4)
    assert reader.timestamps is not None and list(reader.timestamps) == [f.timestamp for f in frames]
    assert reader.description.startswith("a device, mirrored, bodies estimated")
    info = reader.describe()
    assert info["own"] == 1 and "mirrored" in info and info["bodies_from"].startswith("estimated")
    assert reader.problem() == "cable loose" and is_mirrored(reader) and not is_mirrored(device)
    got = list(reader.frames(2))
    assert [f.index for f in got] == [2, 3] and np.array_equal(got[0].image, frames[2].image[:, ::-1])
    with reader:
        reader.stop()
    assert device.calls == ["stop", "close"]
