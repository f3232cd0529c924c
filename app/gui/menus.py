"""Small builders for the window's menus and keyboard shortcuts (the window says what; these say how)."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from functools import partial
from pathlib import Path

from PyQt5.QtCore import QSettings
from PyQt5.QtGui import QKeySequence
from PyQt5.QtWidgets import QAction, QActionGroup, QFileDialog, QMenu, QMenuBar, QShortcut, QWidget

from sta_hands.recordings.sources import SourceKind, file_filter, source_kinds

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


def add_source_entries(
    parent: QWidget, menu: QMenu, where: str, open_spec: Callable[[str], None],
    open_path: Callable[[str], None], settings: QSettings,
) -> dict[str, QAction]:  # fmt: skip
    """The entries of the sources that the table (`recordings.sources.SOURCES`) lists in the `where` menu
    ("File", "Source"), its help as their tooltip: a word opens its spec, a kind of file a file dialog
    for its suffixes, starting in the settings' last folder. A source that cannot open here (a Kinect
    without its SDK) is greyed out, the reason as its tooltip. By spec (a file kind: by its entry)."""
    entries: dict[str, QAction] = {}
    for kind in source_kinds():
        if kind.menu != where:
            continue
        if kind.is_file:
            choose: Callable[[], object] = partial(_choose_file, parent, kind, open_path, settings)
        else:
            choose = partial(open_spec, kind.spec)
        action = add_action(menu, kind.entry, choose, kind.shortcut or None)
        tip = kind.help
        if kind.available is not None:
            available, tip = kind.available()
            action.setEnabled(available)
        action.setToolTip(tip)
        action.setStatusTip(tip)
        entries[kind.spec or kind.entry] = action
    return entries


def _choose_file(
    parent: QWidget, kind: SourceKind, open_path: Callable[[str], None], settings: QSettings
) -> None:
    """A file dialog for `kind`'s files; the file chosen is opened."""
    folder = str(settings.value("last_folder", "") or "")
    title = kind.entry.replace("&", "").rstrip("…")
    path, _ = QFileDialog.getOpenFileName(parent, title, folder, file_filter((kind,)))
    if path:
        open_path(path)


def add_source_menu(
    parent: QWidget, menus: QMenuBar, open_spec: Callable[[str], None], open_path: Callable[[str], None],
    settings: QSettings,
) -> QMenu:  # fmt: skip
    """ "Source": the webcam and any video file (`add_source_entries`), their bodies estimated from the
    image where no skeleton was recorded (`open_reader`'s pose "auto")."""
    source = menus.addMenu("&Source")
    source.setToolTipsVisible(True)
    add_source_entries(parent, source, "Source", open_spec, open_path, settings)
    return source


def install_shortcuts(widget: QWidget, keys: Mapping[int, Callable[[], object]]) -> list[QShortcut]:
    """Single-key shortcuts of `widget` (they work whichever child has the focus)."""
    shortcuts = []
    for key, slot in keys.items():
        shortcut = QShortcut(QKeySequence(key), widget)
        shortcut.activated.connect(slot)
        shortcuts.append(shortcut)
    return shortcuts
