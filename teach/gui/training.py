"""`TrainingBox`: the Teach panel's Train / Cancel buttons, progress bar, time left and result.

It runs the `teach` command on an examples folder through `TeachProcess` and reports the model folder
it wrote (`model_ready`) or one line saying why there is none (`problem`); the model in use is never
touched here, so a failed or cancelled training leaves it loaded.
"""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

from PyQt5.QtCore import Qt, pyqtSignal
from PyQt5.QtWidgets import QCheckBox, QHBoxLayout, QLabel, QProgressBar, QPushButton, QVBoxLayout, QWidget

from sta_hands.app.gui.widgets import PlainLabel, font
from sta_hands.app.model_choice import REAL_SOURCE_MODEL, bundled_folder
from sta_hands.contract.pose_model_contract import POSE_MODEL_FILE
from sta_hands.teach.examples_folder import MIN_EXAMPLES, ExamplesFolder
from sta_hands.teach.gui.process import TeachProcess, TeachProgress, TeachResult, teach_arguments

PROGRESS_STEPS = 1000


class TrainingBox(QWidget):
    model_ready = pyqtSignal(str)  # the trained model's folder
    problem = pyqtSignal(str)  # one line: why no model came out (or why training cannot start)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.process = TeachProcess(self)
        self.tiny = False  # `teach --tiny` (tests)
        self.seconds_budget: float | None = None
        self.out: Path | None = None  # the model folder of the running or last training
        self.train_button = button("Train", "Train a model on these examples (in the background)")
        self.train_button.setStyleSheet("background:#2d7d46; color:white;")
        self.train_button.setToolTip(f"Needs at least two actions with {MIN_EXAMPLES} examples each")
        self.cancel_button = button("Cancel", "Stop the training; the model in use stays")
        # teach's pose stream: a head on the frozen pretrained Shift-GCN (its default), or Deep GRU
        self.pretrained_pose = QCheckBox("Pose: pretrained Shift-GCN (frozen)")
        self.pretrained_pose.setToolTip(
            "On: the pose stream is a small head taught on the bundled Shift-GCN's features (NTU RGB+D "
            "120, non-commercial licence). Off: the paper's Deep GRU, taught from your examples"
        )
        self.pretrained_pose.setFocusPolicy(Qt.NoFocus)
        self.pretrained_pose.setChecked(True)
        self.pretrained_pose.setVisible((bundled_folder(REAL_SOURCE_MODEL) / POSE_MODEL_FILE).is_file())
        self.progress = QProgressBar()
        self.progress.setRange(0, PROGRESS_STEPS)
        self.progress.setTextVisible(False)
        self.stage = label(10)
        self.result = label(11)
        buttons = QHBoxLayout()
        buttons.addWidget(self.train_button)
        buttons.addWidget(self.cancel_button)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addLayout(buttons)
        layout.addWidget(self.pretrained_pose)
        layout.addWidget(self.progress)
        layout.addWidget(self.stage)
        layout.addWidget(self.result)
        self.cancel_button.clicked.connect(self.cancel)
        self.process.progress.connect(self._on_progress)
        self.process.finished.connect(self._on_trained)
        self.process.failed.connect(self._on_failed)
        self.process.cancelled.connect(self._on_cancelled)
        self._update_buttons()

    @property
    def running(self) -> bool:
        return self.process.running

    def train(self, examples: ExamplesFolder, models_folder: Path) -> None:
        """Train on `examples` into a new folder under `models_folder`; `model_ready` or `problem` follows."""
        if self.process.running:
            self.problem.emit("A training is already running: wait for it or cancel it")
            return
        problems = examples.readiness()
        if problems:
            self.problem.emit(f"Not ready to train: {problems[0]}")
            return
        try:
            models_folder.mkdir(parents=True, exist_ok=True)
        except OSError as error:
            self.problem.emit(f"Cannot create the models folder {models_folder}: {error}")
            return
        self.out = models_folder / f"taught {datetime.now():%Y-%m-%d %H%M%S}"
        arguments = teach_arguments(
            examples.folder, self.out, seconds_budget=self.seconds_budget, tiny=self.tiny,
            pose_stream=self.pose_stream,
        )  # fmt: skip
        self.progress.setValue(0)
        self._say("starting…")
        self.result.setText("")
        self.process.start(arguments)
        self._update_buttons()

    @property
    def pose_stream(self) -> str | None:
        """teach's --pose-stream: as the check box says where the bundled GCN is, else teach's default."""
        if self.pretrained_pose.isHidden():
            return None
        return "shift-gcn" if self.pretrained_pose.isChecked() else "deep-gru"

    def cancel(self) -> None:
        if self.process.running:
            self.process.cancel()
            self._say("cancelling…")

    def shutdown(self, timeout_ms: int = 5000) -> None:
        """Stop a running training (the window is closing) and wait for it a little."""
        if self.process.running:
            self.process.cancel()
            self.process.wait(timeout_ms)

    def _on_progress(self, progress: TeachProgress) -> None:
        self.progress.setValue(round(PROGRESS_STEPS * progress.fraction))
        left = "estimating the time left" if progress.eta_s is None else f"about {progress.eta_s:.0f} s left"
        count = f" {progress.done}/{progress.total}" if progress.total else ""
        self._say(f"{progress.stage}{count}: {progress.message}  ({left})")

    def _on_trained(self, result: TeachResult) -> None:
        self.progress.setValue(PROGRESS_STEPS)
        accuracy = (
            "too few examples to hold any out for validation"
            if result.validation_accuracy is None
            else f"validation accuracy {result.validation_accuracy:.0%}"
        )
        examples = ", ".join(f"{name} ×{count}" for name, count in result.examples.items())
        self._say(f"Trained in {result.seconds:.0f} s: {accuracy}")
        self.result.setText(f"{examples}\nModel: {result.model}")
        self._update_buttons()
        self.model_ready.emit(str(result.model))

    def _on_failed(self, message: str) -> None:
        self.progress.setValue(0)
        self._say(f"Training failed: {message}", error=True)
        self._update_buttons()
        self.problem.emit(f"Training failed (the model in use stays): {message}")

    def _on_cancelled(self) -> None:
        self.progress.setValue(0)
        self._say("Training cancelled; the model in use stays")
        self._update_buttons()

    def _say(self, text: str, error: bool = False) -> None:
        self.stage.setText(text)
        self.stage.setStyleSheet("color:#ff6060;" if error else "")

    def _update_buttons(self) -> None:
        self.train_button.setEnabled(not self.process.running)
        self.cancel_button.setEnabled(self.process.running)


def button(text: str, tip: str) -> QPushButton:
    """A panel button that takes no keyboard focus (the window's single-key shortcuts stay live)."""
    widget = QPushButton(text)
    widget.setToolTip(tip)
    widget.setFocusPolicy(Qt.NoFocus)
    widget.setFont(font(11))
    widget.setMinimumHeight(30)
    return widget


def label(points: float) -> QLabel:
    widget = PlainLabel("")
    widget.setWordWrap(True)
    widget.setFont(font(points))
    return widget
