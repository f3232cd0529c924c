"""`TeachPanel`: teach the app your own actions. Name an action, record examples of it (from the live or
replayed source, or a span marked in a replay), repeat, train, and the new model runs at once.

The panel holds no model and no frames: examples are files (`teach_examples`, listed by
`teach_list`), recording goes through the `Session`'s recorder, training is the `teach` command in a
child process (`teach_training`), and a trained model reaches the window through `model_ready` (the
window loads it like any model folder). A failed or cancelled training leaves the loaded model alone.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from pathlib import Path
from typing import TypeVar

from PyQt5.QtCore import QSettings, QStandardPaths, Qt, QTimer, pyqtSignal
from PyQt5.QtWidgets import (
    QCheckBox,
    QFileDialog,
    QGridLayout,
    QHBoxLayout,
    QLineEdit,
    QVBoxLayout,
    QWidget,
)

from sta_hands.app.gui.session.session import Session
from sta_hands.app.gui.widgets import PlainLabel, font, plain_text_dialog
from sta_hands.app.gui.worker_signals import post
from sta_hands.app.worker import Worker
from sta_hands.contract.errors import UserError
from sta_hands.teach.examples_folder import IDLE_ACTION, Example, ExamplesFolder, check_action_name, save_span
from sta_hands.teach.gui.examples_tree import ExamplesTree
from sta_hands.teach.gui.training import TrainingBox, button, label

log = logging.getLogger(__name__)
T = TypeVar("T")

RECORD, STOP = "●  Record example", "■  Stop"


def data_folder() -> Path:
    """Where the examples and the taught models live unless the user chooses (the user's data dir)."""
    location = QStandardPaths.writableLocation(QStandardPaths.GenericDataLocation)
    return (Path(location) if location else Path.home()) / "sta-hands"


class TeachPanel(QWidget):
    play_requested = pyqtSignal(str)  # an example's sidecar, to open as the source
    notice = pyqtSignal(str)  # one line for the window's banner
    problem = pyqtSignal(str)  # one line for the window's banner, as an error
    _span_saved = pyqtSignal(str, int)  # stem, frames (from the saving thread)
    _span_failed = pyqtSignal(str)  # why

    def __init__(self, session: Session, settings: QSettings, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.session = session
        self.settings = settings
        self.span: list[int | None] = [None, None]  # first, last frame of the marked span
        self._recording_stem: Path | None = None
        self._saving: Worker | None = None
        self._mirrored: set[str] = set()  # the actions marked "either hand" (teach.json)
        self._build()
        self.model_ready = self.training.model_ready  # str: a trained model folder, to load
        self._connect()
        self.timer = QTimer(self)
        self.timer.timeout.connect(self._update_recording)
        self.timer.start(250)
        self.refresh()

    @property
    def folder(self) -> ExamplesFolder:
        chosen = str(self.settings.value("teach_examples_folder", "") or "")
        return ExamplesFolder(Path(chosen) if chosen else data_folder() / "examples")

    @property
    def models_folder(self) -> Path:
        chosen = str(self.settings.value("teach_models_folder", "") or "")
        return Path(chosen) if chosen else data_folder() / "models"

    def choose_folder(self) -> None:
        chosen = QFileDialog.getExistingDirectory(self, "Examples folder", str(self.folder.folder))
        if chosen:
            self.set_folder(chosen)

    def set_folder(self, folder: str | Path) -> None:
        self.settings.setValue("teach_examples_folder", str(folder))
        self.refresh()

    # ----------------------------------------------------------------------------------- building

    def _build(self) -> None:
        title = PlainLabel("Teach it your own actions")
        title.setFont(font(15, bold=True))
        self.folder_label = label(10)
        self.folder_button = button("Folder…", "Choose the examples folder")
        self.name = QLineEdit()
        self.name.setFont(font(13))
        self.name.setPlaceholderText("action name, e.g. wave")
        self.idle_button = button(f"'{IDLE_ACTION}'", "Name the idle action: stand still, do nothing")
        self.record_button = button(RECORD, "Record the source into a new example of this action")
        self.record_button.setStyleSheet("color:#ff5050;")
        self.rec_label = PlainLabel("")
        self.from_button = button("From here", "Mark the replay's current frame as the span's first")
        self.to_button = button("To here", "Mark the replay's current frame as the span's last")
        self.save_span_button = button("Save span", "Save the marked span of the replay as an example")
        self.span_label = label(10)
        self.tree = ExamplesTree()
        self.play_button = button("▶ Play", "Replay the selected example")
        self.rename_button = button("Rename…", "Give the selected example another action name")
        self.delete_button = button("Delete", "Delete the selected example's files")
        self.either_hand = QCheckBox("either hand: also learn it mirrored")
        self.either_hand.setFont(font(10))
        self.either_hand.setFocusPolicy(Qt.NoFocus)
        self.either_hand.setToolTip("The selected action is the same with the left or the right hand, so "
                                    "examples with the hands swapped teach it too (teach.json)")  # fmt: skip
        self.readiness = label(10)
        self.training = TrainingBox()
        grid = QGridLayout()
        for widget, row, column, width in (
            (self.name, 0, 0, 2), (self.idle_button, 0, 2, 1), (self.record_button, 1, 0, 2),
            (self.rec_label, 1, 2, 1), (self.from_button, 2, 0, 1), (self.to_button, 2, 1, 1),
            (self.save_span_button, 2, 2, 1), (self.span_label, 3, 0, 3),
        ):  # fmt: skip
            grid.addWidget(widget, row, column, 1, width)
        folder_row, example_row = QHBoxLayout(), QHBoxLayout()
        folder_row.addWidget(self.folder_label, 1)
        folder_row.addWidget(self.folder_button)
        for widget in (self.play_button, self.rename_button, self.delete_button):
            example_row.addWidget(widget)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(6, 6, 6, 6)
        layout.addWidget(title)
        layout.addLayout(folder_row)
        layout.addLayout(grid)
        layout.addWidget(self.tree, 1)
        layout.addLayout(example_row)
        layout.addWidget(self.either_hand)
        layout.addWidget(self.readiness)
        layout.addWidget(self.training)
        self._show_span()

    def _connect(self) -> None:
        self.folder_button.clicked.connect(self.choose_folder)
        self.idle_button.clicked.connect(lambda: self.name.setText(IDLE_ACTION))
        self.record_button.clicked.connect(self.toggle_recording)
        self.from_button.clicked.connect(lambda: self.mark(0))
        self.to_button.clicked.connect(lambda: self.mark(1))
        self.save_span_button.clicked.connect(self.save_span)
        self.play_button.clicked.connect(self.play_selected)
        self.rename_button.clicked.connect(self.ask_rename)
        self.delete_button.clicked.connect(self.delete_selected)
        self.either_hand.toggled.connect(self.set_either_hand)
        self.training.train_button.clicked.connect(self.train)
        self.training.problem.connect(self.problem)
        self.tree.itemSelectionChanged.connect(self._update_buttons)
        self.session.recording_finished.connect(self._on_recorded)
        self.session.source_changed.connect(lambda _source: self._reset_span())
        self._span_saved.connect(self._on_span_saved)
        self._span_failed.connect(self._on_span_failed)

    # ------------------------------------------------------------------------------------ the list

    def refresh(self) -> None:
        """Re-read the folder: each action with its number of examples, and why it cannot train yet."""
        folder = self.folder
        self.folder_label.setText(f"Examples: {folder.folder}")
        actions = folder.actions()
        self._mirrored = self._attempt(folder.mirrored) or set()
        self.tree.show_actions(actions, self._mirrored)
        problems = folder.readiness()
        total = sum(len(examples) for examples in actions.values())
        lines = problems or [f"Ready to train: {len(actions)} actions, {total} examples."]
        if IDLE_ACTION not in actions:
            lines.append(f"Tip: record '{IDLE_ACTION}' too (standing still), so it can say nothing happens.")
        self.readiness.setText("\n".join(lines))
        self.readiness.setStyleSheet("color:#ffb347;" if problems else "")
        self._update_buttons()

    def set_either_hand(self, either: bool) -> None:
        """Mark the selected action as done with either hand (or not): `teach` may mirror its examples."""
        action = self.tree.selected_action()
        if action is not None:
            self._attempt(lambda: self.folder.set_mirrored(action, either))
            self.refresh()

    def play_selected(self) -> None:
        example = self.tree.selected()
        if example is not None:
            self.play_requested.emit(str(example.sidecar))

    def ask_rename(self) -> None:
        example = self.tree.selected()
        if example is not None:
            dialog = plain_text_dialog(self, "Rename", f"Action of {example.name}:", example.action)
            if dialog.exec_():
                self.rename_selected(dialog.textValue())

    def rename_selected(self, action: str) -> None:
        example = self.tree.selected()
        if example is not None:
            renamed = self._attempt(lambda: self.folder.rename(example, action))
            self.refresh()
            if renamed is not None:
                self.tree.select(renamed.stem)

    def delete_selected(self) -> None:
        example = self.tree.selected()
        if example is not None and self._attempt(lambda: self.folder.delete(example) or True):
            self.notice.emit(f"Deleted the example {example.name}")
        self.refresh()

    # ------------------------------------------------------------------------------ recording

    def toggle_recording(self) -> None:
        """Record the source into a new example of the typed action, or stop the one being recorded."""
        if self._recording_stem is not None:
            self.session.stop_recording()
            self._update_recording()
            return
        if self.session.recording is not None:
            self.problem.emit("The window is already recording: stop that recording first")
            return
        if self.session.source is None:
            self.problem.emit("Nothing to record: open a source (File > Open, Demo or Kinect) first")
            return
        action = self._action()
        stem = self._attempt(lambda: self.folder.new_stem(action)) if action else None
        if stem is None:
            return
        self.session.start_recording(stem, metadata={"action": action})
        if self.session.recording is not None:
            self._recording_stem = stem
            self.session.play()
        self._update_recording()

    def _update_recording(self) -> None:
        recorder, stem = self.session.recording, self._recording_stem
        ours = recorder is not None and stem is not None and recorder.stem == stem
        self.record_button.setText(STOP if ours else RECORD)
        self.rec_label.setText(f"● {recorder.seconds:.1f} s" if ours and recorder is not None else "")

    def _on_recorded(self, stem: str, frames: int) -> None:
        if self._recording_stem is None or Path(stem) != self._recording_stem:
            return
        self._recording_stem = None
        self._update_recording()
        if frames == 0:  # the source was paused or had ended: an empty example would only fail training
            self.folder.delete(Example(Path(stem), "", 0, 0.0))
            self.problem.emit("Nothing was recorded: play the source while recording")
        self.refresh()
        self.tree.select(stem)

    # ----------------------------------------------------------------------------------- spans

    def mark(self, end: int) -> None:
        """Mark the replay's current frame as the span's first (`end` 0) or last (1) frame."""
        source = self.session.source
        if source is None or source.num_frames is None:
            self.problem.emit("Spans are marked in a replayed clip; record a live source instead")
            return
        self.span[end] = max(0, self.session.position)
        self._show_span()

    def _reset_span(self) -> None:
        self.span = [None, None]
        self._show_span()

    def _show_span(self) -> None:
        first, last = self.span
        source = self.session.source
        if first is None and last is None:
            self.span_label.setText("or mark a span of a replay: From here, To here, Save span")
            return
        text = f"span: frame {'?' if first is None else first + 1} to {'?' if last is None else last + 1}"
        if first is not None and last is not None and source is not None and source.fps > 0:
            text += f" ({(abs(last - first) + 1) / source.fps:.1f} s)"
        self.span_label.setText(text)

    def save_span(self) -> None:
        """Save the marked span of the replayed source as a new example (written in a worker thread)."""
        source, (first, last) = self.session.source, self.span
        if source is None or first is None or last is None:
            self.problem.emit("Mark the span first: 'From here' and 'To here' on the replay")
            return
        if self._saving is not None:
            self.problem.emit("Still saving the previous span")
            return
        action = self._action()
        stem = self._attempt(lambda: self.folder.new_stem(action)) if action else None
        if stem is None:
            return

        def work() -> None:
            try:
                frames = save_span(source, first, last, stem, action)
            except Exception as error:  # a reader's failure becomes a message, never a crash
                log.warning("saving the span as %s failed: %s", stem, error)
                post(self, TeachPanel._span_failed, f"The span was not saved: {error}")
            else:
                post(self, TeachPanel._span_saved, str(stem), frames)

        self.save_span_button.setEnabled(False)
        self._saving = Worker("save-span", work).start()

    def wait_for_span(self, timeout: float) -> None:
        saving = self._saving
        if saving is not None:
            saving.join(timeout)

    def _on_span_saved(self, stem: str, frames: int) -> None:
        self._saving = None  # its thread has nothing left to do
        self.notice.emit(f"Saved the example {Path(stem).name} ({frames} frames)")
        self._reset_span()
        self.refresh()
        self.tree.select(stem)

    def _on_span_failed(self, message: str) -> None:
        self._saving = None
        self.problem.emit(message)
        self.refresh()

    # ---------------------------------------------------------------------------------- training

    def train(self) -> None:
        """Train on the examples folder in a child process; `model_ready` follows, or a reason."""
        if self._recording_stem is not None:
            self.problem.emit("Stop the recording before training")
            return
        self.training.train(self.folder, self.models_folder)

    def shutdown(self, timeout_ms: int = 5000) -> None:
        self.timer.stop()
        self.training.shutdown(timeout_ms)
        self.wait_for_span(timeout_ms / 1000)

    # ---------------------------------------------------------------------------------- helpers

    def _action(self) -> str:
        """The typed action name, checked; empty (and the reason shown) when it cannot be used."""
        return self._attempt(lambda: check_action_name(self.name.text())) or ""

    def _attempt(self, step: Callable[[], T]) -> T | None:
        """Run `step`; a user error becomes one line in the banner and None."""
        try:
            return step()
        except (UserError, OSError) as error:
            self.problem.emit(str(error))
            return None

    def _update_buttons(self) -> None:
        chosen = self.tree.selected() is not None
        for widget in (self.play_button, self.rename_button, self.delete_button):
            widget.setEnabled(chosen)
        action = self.tree.selected_action()
        self.either_hand.setEnabled(action is not None)
        self.either_hand.blockSignals(True)
        self.either_hand.setChecked(action is not None and action in self._mirrored)
        self.either_hand.setText(f"'{action}' with either hand: also learn it mirrored" if action else
                                 "either hand: also learn it mirrored (select an action)")  # fmt: skip
        self.either_hand.blockSignals(False)
        self.save_span_button.setEnabled(self._saving is None)
