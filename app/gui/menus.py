"""Small builders for the window's menus and keyboard shortcuts (the window says what; these say how)."""

from __future__ import annotations

from collections.abc import Callable, Mapping

from PyQt5.QtGui import QKeySequence
from PyQt5.QtWidgets import QAction, QActionGroup, QMenu, QShortcut, QWidget

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


def install_shortcuts(widget: QWidget, keys: Mapping[int, Callable[[], object]]) -> list[QShortcut]:
    """Single-key shortcuts of `widget` (they work whichever child has the focus)."""
    shortcuts = []
    for key, slot in keys.items():
        shortcut = QShortcut(QKeySequence(key), widget)
        shortcut.activated.connect(slot)
        shortcuts.append(shortcut)
    return shortcuts
