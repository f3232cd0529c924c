"""Small builders for the window's menus and keyboard shortcuts (the window says what; these say how)."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from pathlib import Path

from PyQt5.QtCore import QSettings
from PyQt5.QtGui import QKeySequence
from PyQt5.QtWidgets import QAction, QActionGroup, QFileDialog, QMenu, QMenuBar, QShortcut, QWidget

Shortcut = QKeySequence.StandardKey | str

PROVIDERS = (
    ("Automatic", ""),
    ("CPU", "cpu"),
    ("CUDA", "cuda"),
    ("TensorRT", "tensorrt"),
    ("DirectML", "directml"),
)


def add_action(
    menu: QMenu, text: str, slot: Callable[[], object], shortcut: Shortcut | None = None
) -> QAction:
    """A menu entry that calls `slot` (with no arguments) when chosen."""
    action = menu.addAction(text)
    action.triggered.connect(lambda _checked=False: slot())
    if shortcut is not None:
        action.setShortcut(QKeySequence(shortcut))
    return action


def add_provider_menu(parent: QWidget, menu: QMenu, current: str, choose: Callable[[str], None]) -> QMenu:
    """ "Execution provider": one checkable entry per provider, `current` checked; `choose(key)` on a pick."""
    providers = QMenu("Execution &provider", parent)
    menu.addMenu(providers)
    group = QActionGroup(parent)
    for label, key in PROVIDERS:
        action = add_action(providers, label, lambda key=key: choose(key))
        action.setCheckable(True)
        action.setChecked(key == current)
        group.addAction(action)
    return providers


def add_model_list(
    parent: QWidget,
    menu: QMenu,
    groups: Callable[[], list[tuple[str, list[Path]]]],
    choose: Callable[[str], None],
) -> QMenu:
    """ "Models": the model folders there are (`groups()`: a heading and its folders, e.g. the bundled ones
    and the user's taught ones), listed afresh each time the menu opens; `choose(folder)` on a pick."""
    models = QMenu("&Models", parent)
    menu.addMenu(models)

    def fill() -> None:
        models.clear()
        for heading, folders in groups():
            models.addSection(heading)
            if not folders:
                models.addAction("(none yet)").setEnabled(False)
            for folder in folders:
                add_action(models, folder.name, lambda folder=folder: choose(str(folder)))

    models.aboutToShow.connect(fill)
    return models


VIDEO_FILTER = "Videos (*.mp4 *.mov *.mkv *.avi);;All files (*)"
WEBCAM_TIP = "The first camera; bodies are estimated from the image (sta-hands run webcam:N for another)"


def add_source_menu(
    parent: QWidget, menus: QMenuBar, open_spec: Callable[[str], None], open_path: Callable[[str], None],
    settings: QSettings,
) -> QMenu:  # fmt: skip
    """ "Source": the webcam and any video file, their bodies estimated from the image where no skeleton
    was recorded (`open_reader`'s pose "auto"); the file dialog starts in the settings' last folder."""
    source = menus.addMenu("&Source")
    source.setToolTipsVisible(True)
    webcam = add_action(source, "&Webcam", lambda: open_spec("webcam"), "Ctrl+Shift+W")
    webcam.setToolTip(WEBCAM_TIP)
    webcam.setStatusTip(WEBCAM_TIP)

    def choose_video() -> None:
        folder = str(settings.value("last_folder", "") or "")
        path, _ = QFileDialog.getOpenFileName(parent, "Open a video", folder, VIDEO_FILTER)
        if path:
            open_path(path)

    add_action(source, "Open &video…", choose_video)
    return source


def install_shortcuts(widget: QWidget, keys: Mapping[int, Callable[[], object]]) -> list[QShortcut]:
    """Single-key shortcuts of `widget` (they work whichever child has the focus)."""
    shortcuts = []
    for key, slot in keys.items():
        shortcut = QShortcut(QKeySequence(key), widget)
        shortcut.activated.connect(slot)
        shortcuts.append(shortcut)
    return shortcuts
