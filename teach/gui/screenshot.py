"""`teach_screenshots`: the Teach panel before and after training, as PNGs (`python -m
sta_hands.commands.teach_screenshot OUT_FOLDER`).

The real window and the real `teach` command on synthetic clips (3 actions, 3 examples each, saved as
a user would save spans of a replay; a clip by another performer is the one on screen): shot
``teach-before.png`` with the examples listed and the bundled model running, then Train, and
``teach-after.png`` once the taught model runs on that clip. Under Xvfb:
``xvfb-run -a -s "-screen 0 1920x1080x24" python -m sta_hands.commands.teach_screenshot docs``. Settings,
clips, examples and the model go to a temporary folder, not the user's.
"""

from __future__ import annotations

import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from PyQt5.QtCore import QSettings
from PyQt5.QtWidgets import QApplication

from sta_hands.app.gui.main_window import MainWindow
from sta_hands.app.gui.widgets import apply_theme
from sta_hands.recordings.own.recording import RecordingPaths
from sta_hands.recordings.sources import open_reader
from sta_hands.recordings.synthetic import generate_dataset, plan_clips
from sta_hands.teach.examples_folder import ExamplesFolder, save_span

# the synthetic classes taught, under the names a user might give them; the first two differ only by
# the object in the hand (the same motion), so the hands' images must tell them apart
ACTIONS = {"drink from cup": "drink", "answer phone": "phone call", "wave right hand": "wave"}
SHOWN = "answer phone"  # the class of the clip on screen (a performer no example comes from)
EXAMPLES_EACH = 3
SHOWN_FRAMES = 90  # 3 s: a taught model's window (2 s, teach's own) fits in it, not in a 1.9 s clip


def wait_until(app: QApplication, done: Callable[[], bool], seconds: float, what: str) -> None:
    deadline = time.monotonic() + seconds
    while not done():
        if time.monotonic() > deadline:
            raise TimeoutError(f"gave up after {seconds:.0f} s waiting for {what}")
        app.processEvents()
        time.sleep(0.02)


def make_examples(work: Path) -> tuple[ExamplesFolder, Path]:
    """`EXAMPLES_EACH` synthetic clips of each of `ACTIONS` saved as examples (whole clips saved as
    spans), and one more clip of `SHOWN`, by another performer, to show."""
    planned = plan_clips(11 * (EXAMPLES_EACH + 1), seed=7)  # every class, then the next camera / performer
    examples = [spec for spec in planned[: 11 * EXAMPLES_EACH] if spec.action.name in ACTIONS]
    long = plan_clips(len(planned), seed=7, frames=SHOWN_FRAMES)  # the same plan, clips long enough to
    shown = next(spec for spec in long[11 * EXAMPLES_EACH :] if spec.action.name == SHOWN)  # fill a window
    *stems, shown_stem = generate_dataset(work / "clips", [*examples, shown], workers=2, progress=False)
    folder = ExamplesFolder(work / "examples")
    for spec, stem in zip(examples, stems, strict=True):
        action = ACTIONS[spec.action.name]
        with open_reader(str(RecordingPaths(stem).sidecar)) as source:
            save_span(source, 0, source.num_frames - 1, folder.new_stem(action), action)
    return folder, shown_stem


def teach_screenshots(out: Path, size: tuple[int, int], tiny: bool) -> bool:
    """teach-before.png and teach-after.png in `out`, the window of `size` (width, height); `tiny`: train
    with `teach --tiny` (quick, for a check). Whether both were written."""
    width, height = size
    out.mkdir(parents=True, exist_ok=True)
    app = QApplication(sys.argv[:1])
    apply_theme(app)
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        folder, shown = make_examples(work)
        settings = QSettings(str(work / "settings.ini"), QSettings.IniFormat)
        settings.setValue("teach_examples_folder", str(folder.folder))
        settings.setValue("teach_models_folder", str(work / "models"))
        window = MainWindow(settings)
        window.resize(width, height)
        window.show()
        window.teach.show()
        window.load_model(None, None)
        window.open_spec(str(RecordingPaths(shown).sidecar))
        session, panel = window.session, window.teach.panel

        def full_prediction_from(names: tuple[str, ...]) -> bool:
            shown_now = window.top.prediction
            return shown_now is not None and shown_now.status == "ok" and shown_now.class_names == names

        wait_until(app, lambda: session.model is not None, 60, "the bundled model")
        wait_until(app, lambda: full_prediction_from(session.model.info.class_names), 60, "a prediction")
        session.pause()
        panel.name.setText("wave")
        panel.tree.select(folder.actions()["phone call"][0].stem)
        wait_until(app, lambda: True, 0.5, "the window to settle")
        before = window.export_screenshot(out / "teach-before.png")
        training = panel.training
        training.tiny = tiny
        bundled = session.model
        started = time.monotonic()
        training.train_button.click()
        wait_until(app, lambda: session.model is not bundled or not training.running, 900, "the training")
        if session.model is bundled:
            wait_until(app, lambda: session.model is not bundled, 5, "the taught model")  # or its error
        print(f"trained and loaded in {time.monotonic() - started:.0f} s: {training.stage.text()}")
        session.seek(0)
        session.play()
        taught = tuple(sorted(ACTIONS.values(), key=str.casefold))
        wait_until(app, lambda: full_prediction_from(taught), 60, "the taught model's prediction")
        wait_until(app, lambda: True, 1.5, "the clip to play on")
        session.pause()
        wait_until(app, lambda: True, 0.5, "the window to settle")
        after = window.export_screenshot(out / "teach-after.png")
        window.close()
        session.shutdown(workers_timeout=3.0)
    return bool(before and after)
