"""`TeachDock`: the Teach panel in a dock beside the window's panels, and File > Save model.

The window connects the panel's requests (play an example, load a trained model, messages) to its
own methods; the dock adds nothing else to the window.
"""

from __future__ import annotations

import shutil
from pathlib import Path

from PyQt5.QtCore import QSettings, Qt
from PyQt5.QtWidgets import QDockWidget, QFileDialog, QWidget

from app.gui.session import Session
from app.gui.teach_examples import ExampleError
from app.gui.teach_panel import TeachPanel

DOCK_WIDTH = 430


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
