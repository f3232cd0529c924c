"""`TeachDock`: the Teach panel in a dock beside the window's panels, and File > Save model.

`not_sure_below` says when a model names no action: a model taught by `sta-hands teach` (its files
carry the `teach` metadata record) says "not sure" below `TAUGHT_NOT_SURE_BELOW`, or below the
record's own `confidence_threshold` where it has one; other models always name their best class.

The window connects the panel's requests (play an example, load a trained model, messages) to its
own methods; the dock adds nothing else to the window.
"""

from __future__ import annotations

import json
import logging
import shutil
from pathlib import Path
from typing import Any

from PyQt5.QtCore import QSettings, Qt
from PyQt5.QtWidgets import QDockWidget, QFileDialog, QWidget

from sta_hands.app.gui.session.session import Session
from sta_hands.teach.examples_folder import ExampleError
from sta_hands.teach.gui.panel import TeachPanel

log = logging.getLogger(__name__)

DOCK_WIDTH = 430
TEACH_METADATA_KEY = "teach"  # teach.teaching's record in a taught model's metadata_props
TAUGHT_NOT_SURE_BELOW = 0.5  # a taught model has few classes (one for 'nothing'): under half is a guess


def taught_record(model: Any) -> dict[str, Any] | None:
    """The `teach` record of a model taught by `sta-hands teach` (examples, when, from what); else None."""
    head = getattr(model, "head", None)  # an `OnnxModel`'s head session; test models have none
    if head is None:
        return None
    text = head.get_modelmeta().custom_metadata_map.get(TEACH_METADATA_KEY)
    try:
        record = json.loads(text) if text else None
    except ValueError:
        log.warning("%s: its %r metadata is not JSON", getattr(model, "folder", "model"), TEACH_METADATA_KEY)
        return None
    return record if isinstance(record, dict) else None


def not_sure_below(model: Any) -> float | None:
    """The probability under which the window says "not sure" for `model` (None: it always names one)."""
    record = taught_record(model)
    if record is None:
        return None
    threshold = record.get("confidence_threshold")
    return float(threshold) if isinstance(threshold, int | float) else TAUGHT_NOT_SURE_BELOW


def copy_model(folder: Path, destination: Path) -> Path:
    """Copy the model `folder` (all its files) to the new folder `destination`; never over an existing one."""
    if destination.exists():
        raise ExampleError(f"{destination}: already exists; choose a new folder name for the copy")
    try:
        shutil.copytree(folder, destination)
    except OSError as error:
        shutil.rmtree(destination, ignore_errors=True)
        raise ExampleError(f"Cannot copy the model {folder} to {destination}: {error}") from None
    return destination


class TeachDock(QDockWidget):
    def __init__(self, session: Session, settings: QSettings, parent: QWidget | None = None) -> None:
        super().__init__("Teach", parent)
        self.setObjectName("teach")
        self.setAllowedAreas(Qt.LeftDockWidgetArea | Qt.RightDockWidgetArea)
        self.panel = TeachPanel(session, settings)
        self.panel.setMinimumWidth(DOCK_WIDTH)
        self.setWidget(self.panel)
        self.toggleViewAction().setText("&Teach new actions")
        self.toggleViewAction().setShortcut("Ctrl+T")

    def save_model(self) -> None:
        """Ask where, and copy the model in use there (its folder, as it is: glimpse, head, metadata)."""
        model = self.panel.session.model
        folder = getattr(model, "folder", None)
        if folder is None:
            self.panel.problem.emit("No model is loaded: nothing to save")
            return
        start = Path(str(self.panel.settings.value("last_folder", "") or Path.home())) / Path(folder).name
        chosen, _ = QFileDialog.getSaveFileName(self, "Save the model (a folder)", str(start), "Folder (*)")
        if chosen:
            self.save_model_to(Path(chosen))

    def save_model_to(self, destination: Path) -> Path | None:
        folder = getattr(self.panel.session.model, "folder", None)
        if folder is None:
            self.panel.problem.emit("No model is loaded: nothing to save")
            return None
        try:
            saved = copy_model(Path(folder), destination)
        except ExampleError as error:
            self.panel.problem.emit(str(error))
            return None
        self.panel.settings.setValue("last_folder", str(destination.parent))
        self.panel.notice.emit(f"Model saved: {saved}")
        return saved
