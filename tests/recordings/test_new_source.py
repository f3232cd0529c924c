"""A new source is one `Reader` and one row in `recordings.sources.SOURCES`: a fake camera added through that
row alone is opened, estimated, mirrored and listed (CLI help, the unknown-source error, the GUI's menu),
and taken away with its row."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import numpy as np
import pytest

import sta_hands.recordings.sources as sources
from sta_hands.contract.errors import UserError
from sta_hands.contract.frame import NUM_JOINTS, Body, Frame
from sta_hands.contract.reader import NO_BODIES, NONE_LABEL, ImageFlags, Reader, SourceNature
from sta_hands.recordings.mirror import is_mirrored
from sta_hands.recordings.sources import SourceKind, open_reader, size_help, source_help
from tests.recordings.fake_camera import FakeEstimator

PERSON = Body(
    id=7,
    joints=np.zeros((NUM_JOINTS, 3)),
    color_px=np.full((NUM_JOINTS, 2), 5.0),
    tracking=np.full(NUM_JOINTS, 2, np.uint8),
)


class FakeCam(Reader):
    """A live camera that sees the scene as it is (not mirrored) and finds no bodies itself."""

    description = "fake camera"
    fps = 30.0
    num_frames = None
    nature = SourceNature(
        live=True, has_images=True, bodies=NO_BODIES, bodies_label=NONE_LABEL, mirrored_by_nature=False
    )

    def frames(self, start: int = 0, images: ImageFlags = None) -> Iterator[Frame]:
        for index in range(start, 3):
            image = np.zeros((4, 6, 3), np.uint8)
            image[:, 0] = 255  # its left column lit: the mirrored image has its right one lit
            yield Frame(index, index / self.fps, image)

    def describe(self) -> dict[str, Any]:
        return {"description": self.description, "frames": None, "fps": self.fps}


FAKECAM = SourceKind(
    "'fakecam'", "a camera made up by the test", lambda spec: spec == "fakecam", lambda request: FakeCam(),
    options=("--size",), menu="Source", entry="&Fake camera", spec="fakecam",
)  # fmt: skip


@pytest.fixture(params=[True, False], ids=["with its row", "without it"])
def with_row(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> bool:
    if request.param:
        monkeypatch.setattr(sources, "SOURCES", (*sources.SOURCES, FAKECAM))
    return request.param


def test_it_is_estimated_and_mirrored(with_row: bool) -> None:
    if not with_row:
        with pytest.raises(UserError, match="fakecam: no such file"):
            open_reader("fakecam", estimator_factory=lambda: FakeEstimator([[PERSON]]))
        return
    with open_reader("fakecam", estimator_factory=lambda: FakeEstimator([[PERSON]])) as reader:
        assert reader.nature.live and reader.nature.bodies == "estimated"
        assert reader.nature.bodies_label == "estimated (fake estimator (tests))"
        assert is_mirrored(reader) and reader.nature.mirrored_by_nature
        frames = list(reader.frames())
    assert [frame.bodies[0].id for frame in frames] == [1, 1, 1]  # the estimator's, renumbered
    assert frames[0].image is not None and frames[0].image[0, -1, 0] == 255 and frames[0].image[0, 0, 0] == 0


def test_it_is_listed(with_row: bool, capsys: pytest.CaptureFixture[str]) -> None:
    from sta_hands.commands.cli import main

    with pytest.raises(SystemExit):
        main(["run", "--help"])
    cli_help = " ".join(capsys.readouterr().out.split())
    with pytest.raises(UserError) as unknown:
        open_reader("no-such-source")
    listed = [
        "'fakecam' (--size): a camera made up by the test" in cli_help,
        "'fakecam'" in str(unknown.value),
        "'fakecam'" in size_help(),
    ]
    assert listed == [with_row] * 3
    assert "'webcam[:N]' (--size)" in source_help() and "'demo'" in str(unknown.value)  # the others stay


def test_it_is_in_the_source_menu(with_row: bool, qtbot: Any, tmp_path: Any) -> None:
    from PyQt5.QtCore import QSettings
    from PyQt5.QtWidgets import QMainWindow

    from sta_hands.app.gui.menus import add_source_menu

    window = QMainWindow()
    qtbot.addWidget(window)
    opened: list[str] = []
    settings = QSettings(str(tmp_path / "settings.ini"), QSettings.IniFormat)
    menu = add_source_menu(window, window.menuBar(), opened.append, opened.append, settings)
    entries = {action.text(): action for action in menu.actions()}
    assert "&Webcam" in entries and "Open &video…" in entries
    assert ("&Fake camera" in entries) is with_row
    if with_row:
        entries["&Fake camera"].trigger()
        assert opened == ["fakecam"] and entries["&Fake camera"].toolTip() == "a camera made up by the test"
