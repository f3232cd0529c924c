"""The Teach panel in the real window (pytest-qt, offscreen): examples from a replayed clip, training in
a child process (a stand-in printing the `teach` contract's lines, and the real command), cancel,
failure, and bad input."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

import pytest
from PyQt5.QtCore import QSettings

from sta_hands.app.gui.main_window import MainWindow
from sta_hands.app.runtime import default_model_folder
from sta_hands.teach.gui.process import TeachProgress, parse_line
from sta_hands.teach.gui.training import TrainingBox
from tests.app.conftest import FakeModel, gui_source, shown_window

pytestmark = pytest.mark.gui
STAND_IN = (sys.executable, str(Path(__file__).with_name("teach_stand_in.py")))


@pytest.fixture
def window(qtbot, tmp_path: Path):
    settings = QSettings(str(tmp_path / "settings.ini"), QSettings.IniFormat)
    settings.setValue("teach_examples_folder", str(tmp_path / "examples"))
    settings.setValue("teach_models_folder", str(tmp_path / "models"))
    with shown_window(qtbot, settings, (1600, 900)) as w:
        w.teach.show()
        yield w


def replaying(window: MainWindow, qtbot, model: FakeModel, count: int = 60) -> MainWindow:
    window.set_model(model)
    window.set_source(gui_source(count))
    qtbot.waitUntil(lambda: window.session.position >= 0, timeout=5000)
    window.session.pause()
    return window


def save_span(window: MainWindow, qtbot, action: str, first: int, last: int) -> None:
    panel = window.teach.panel
    before = sum(panel.tree.counts().values())
    for end, index in ((0, first), (1, last)):
        window.session.seek(index)
        qtbot.waitUntil(lambda index=index: window.session.position == index, timeout=5000)
        (panel.from_button if end == 0 else panel.to_button).click()
    panel.name.setText(action)
    panel.save_span_button.click()
    qtbot.waitUntil(lambda: sum(panel.tree.counts().values()) == before + 1, timeout=10000)


def two_actions(window: MainWindow, qtbot) -> None:
    """wave x2 from spans; drink x1 from a span and x1 with the record button while the clip plays."""
    panel = window.teach.panel
    save_span(window, qtbot, "wave", 0, 19)
    save_span(window, qtbot, "wave", 30, 49)
    save_span(window, qtbot, "drink", 20, 39)
    window.session.seek(0)
    panel.name.setText("drink")
    with qtbot.waitSignal(window.session.recording_finished, timeout=10000) as finished:
        panel.record_button.click()
        assert window.session.playing and panel.record_button.text().startswith("■")
        qtbot.waitUntil(lambda: window.session.recording.frames_written >= 10, timeout=5000)
        panel.record_button.click()
    assert finished.args[1] >= 10
    qtbot.waitUntil(lambda: panel.tree.counts() == {"drink": 2, "wave": 2}, timeout=5000)
    assert panel.readiness.text().startswith("Ready to train: 2 actions, 4 examples")


def test_progress_lines_are_read_as_the_contract_says() -> None:
    line = '{"stage": "training", "done": 3, "total": 6, "eta_s": 4.5, "message": "epoch 3/6"}'
    progress = parse_line(line)
    assert progress == TeachProgress("training", 3, 6, 4.5, "epoch 3/6")
    assert progress.fraction == pytest.approx((1 + 0.5) / 3)
    assert parse_line("not json") is None and parse_line("[1, 2]") is None
    assert parse_line('{"stage": "training", "done": "many"}') is None
    done = parse_line('{"stage": "done", "model": "m", "classes": ["a"], "examples": {"a": 2}, "seconds": 3,'
                      ' "validation_accuracy": null, "message": ""}')  # fmt: skip
    assert done.model == Path("m") and done.examples == {"a": 2} and done.validation_accuracy is None
    assert parse_line('{"stage": "error", "message": "x.jsonl: frame 3: no body"}').message.endswith(
        "no body"
    )


def stand_in_training(window: MainWindow, qtbot, monkeypatch, mode: str, model: FakeModel) -> TrainingBox:
    """Two actions' examples recorded from a replay of `model`; Train runs the stand-in in `mode` ("ok",
    "hang" or "fail"). The panel's training part is returned."""
    monkeypatch.setenv("TEACH_STAND_IN", mode)
    replaying(window, qtbot, model)
    two_actions(window, qtbot)
    training = window.teach.panel.training
    training.process.program = STAND_IN
    return training


def test_examples_from_a_replay_train_and_the_new_model_runs_at_once(window, qtbot, monkeypatch) -> None:
    monkeypatch.setenv("TEACH_STAND_IN_MODEL", str(default_model_folder()))
    training = stand_in_training(window, qtbot, monkeypatch, "ok", FakeModel())
    stages = []
    training.process.progress.connect(lambda p: stages.append(p.stage))
    with qtbot.waitSignal(window.session.model_changed, timeout=20000) as changed:
        training.train_button.click()
        assert not training.train_button.isEnabled() and training.cancel_button.isEnabled()
    model = changed.args[0]
    assert model is not None and model.folder == training.out and (training.out / "head.onnx").exists()
    assert stages == ["features", "features", "training", "export"]
    assert training.progress.value() == training.progress.maximum()
    assert training.stage.text().startswith("Trained in")
    assert window.settings.value("model_folder") == str(training.out)
    shown = lambda: window.top.prediction  # noqa: E731
    qtbot.waitUntil(
        lambda: shown() is not None and shown().class_names == model.info.class_names, timeout=20000
    )
    saved = window.teach.save_model_to(training.out.parent / "kept copy")
    assert saved is not None and sorted(p.name for p in saved.iterdir()) == sorted(
        p.name for p in training.out.iterdir()
    )
    assert window.teach.save_model_to(saved) is None and "already exists" in window.banner.text()


def test_cancel_stops_the_training_and_keeps_the_model(window, qtbot, monkeypatch) -> None:
    model = FakeModel()
    training = stand_in_training(window, qtbot, monkeypatch, "hang", model)
    with qtbot.waitSignal(training.process.progress, timeout=10000,
                          check_params_cb=lambda p: p.stage == "training"):  # fmt: skip
        training.train_button.click()
    assert "about 2 s left" in training.stage.text()
    with qtbot.waitSignal(training.process.cancelled, timeout=15000):
        training.cancel_button.click()
    assert window.session.model is model and not training.out.exists()
    assert training.train_button.isEnabled() and "cancelled" in training.stage.text()


def test_a_failed_training_keeps_the_model_and_says_why(window, qtbot, monkeypatch) -> None:
    model = FakeModel()
    training = stand_in_training(window, qtbot, monkeypatch, "fail", model)
    with qtbot.waitSignal(training.process.failed, timeout=10000):
        training.train_button.click()
    why = "wave 01.jsonl: frame 3: expected a body, found none"
    assert window.session.model is model
    assert why in training.stage.text() and why in window.banner.text()
    assert "\n" not in window.banner.text()


def test_a_missing_teach_program_is_one_message(window, qtbot) -> None:
    replaying(window, qtbot, FakeModel())
    two_actions(window, qtbot)
    training = window.teach.panel.training
    training.process.program = (str(Path(window.settings.fileName()).with_name("no such program")),)
    with qtbot.waitSignal(training.process.failed, timeout=10000):
        training.train_button.click()
    assert "Cannot start the training" in window.banner.text()


def test_bad_input_gets_one_clear_message_and_nothing_recorded_is_lost(window, qtbot) -> None:
    panel = window.teach.panel
    replaying(window, qtbot, FakeModel())
    save_span(window, qtbot, "wave", 0, 19)
    files = {path: path.read_bytes() for path in panel.folder.folder.iterdir()}
    panel.training.train_button.click()  # one action, one example
    assert window.banner.text().startswith("Not ready to train: 'wave' has 1 example")
    assert not panel.training.process.running
    panel.name.setText("wave/left")
    panel.record_button.click()
    assert "'wave/left' cannot be an action name: it has '/'" in window.banner.text()
    assert window.session.recording is None
    panel.from_button.click()
    panel.to_button.click()
    panel.save_span_button.click()
    assert "cannot be an action name" in window.banner.text()
    panel.tree.select(next(iter(files)).with_suffix(""))
    panel.rename_selected("what?")
    assert "'?'" in window.banner.text()
    assert {path: path.read_bytes() for path in panel.folder.folder.iterdir()} == files
    assert panel.tree.counts() == {"wave": 1}


def test_play_rename_and_delete_an_example(window, qtbot) -> None:
    panel = window.teach.panel
    replaying(window, qtbot, FakeModel())
    save_span(window, qtbot, "wave", 0, 19)
    save_span(window, qtbot, "wave", 20, 39)
    panel.tree.select(panel.folder.folder / "wave 02")
    assert panel.play_button.isEnabled()
    with qtbot.waitSignal(window.session.source_changed, timeout=5000) as opened:
        panel.play_button.click()
    assert opened.args[0].num_frames == 20
    assert panel.either_hand.isEnabled() and not panel.either_hand.isChecked()
    panel.either_hand.click()  # 'wave' is the same with either hand
    assert panel.folder.mirrored() == {"wave"} and panel.either_hand.isChecked()
    assert panel.tree.topLevelItem(0).text(1) == "2  (either hand)"
    panel.rename_selected("nothing")
    assert panel.tree.counts() == {"nothing": 1, "wave": 1}
    assert panel.tree.selected().name == "nothing 01"
    panel.delete_button.click()
    assert panel.tree.counts() == {"wave": 1}
    assert sorted(p.name for p in panel.folder.folder.iterdir()) == [
        "teach.json", "wave 01.jsonl", "wave 01.skeleton", "wave 01_rgb.avi",
    ]  # fmt: skip


def test_below_the_threshold_the_window_is_not_sure_and_still_names_the_best(qtbot) -> None:
    from sta_hands.app.gui.top_classes import TopClasses
    from sta_hands.app.gui.window.view import WindowView
    from sta_hands.app.recognizer import StreamRecognizer

    recognizer = StreamRecognizer(FakeModel(), lossless=True)
    prediction = [p for frame in gui_source(40).frames(0) for p in recognizer.feed([frame])][-1]
    best, probability = prediction.top(1)[0]
    top = TopClasses()
    qtbot.addWidget(top)
    top.show_view(WindowView(None, prediction))
    assert top.winner.text() == best
    top.set_threshold(min(1.0, probability + 0.01))
    assert top.winner.text() == "not sure"
    assert top.winner_probability.text().startswith(f"best: {best} {probability:.0%} (below ")
    assert top.rows[0].name.text() == best  # the bars stay as they are
    top.set_threshold(probability - 0.01)
    assert top.winner.text() == best


def test_only_a_taught_model_has_a_threshold() -> None:
    from sta_hands.app.runtime import OnnxModel
    from sta_hands.teach.gui.dock import not_sure_below

    assert not_sure_below(OnnxModel(default_model_folder())) is None
    assert not_sure_below(FakeModel()) is None and not_sure_below(None) is None


# ------------------------------------------------------------------------------------------------------
# The real `python -m sta_hands.commands teach` (export, torch): the panel's default program, tiny settings.


@pytest.fixture
def real_teach(monkeypatch, tmp_path: Path) -> None:
    pytest.importorskip("torch", reason="`teach` trains with PyTorch (pip install -e '.[train]')")
    if importlib.util.find_spec("sta_hands.teach.teaching") is None:
        pytest.skip("no `sta-hands teach` command here (teach/teaching.py)")
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))  # the command's feature cache


@pytest.mark.slow
def test_the_real_teach_command_trains_a_model_the_window_runs(window, qtbot, real_teach) -> None:
    replaying(window, qtbot, FakeModel())
    two_actions(window, qtbot)
    training = window.teach.panel.training
    training.tiny = True
    stages = []
    training.process.progress.connect(lambda p: stages.append(p.stage))
    with qtbot.waitSignal(window.session.model_changed, timeout=300_000) as changed:
        training.train_button.click()
    model = changed.args[0]
    assert model is not None and model.folder == training.out
    assert model.info.class_names == ("drink", "wave")
    assert {"features", "training", "export"} <= set(stages)
    assert window.top.threshold == 0.5  # a taught model says when it is not sure
    qtbot.waitUntil(
        lambda: getattr(window.top.prediction, "class_names", None) == ("drink", "wave"), timeout=30000
    )
    assert window.top.winner.text() in ("drink", "wave", "not sure")
    assert [row.shown for row in window.top.rows] == [True, True, False, False, False]  # no empty rows


def test_the_real_teach_command_refuses_an_example_with_no_body(window, qtbot, real_teach) -> None:
    replaying(window, qtbot, FakeModel())
    two_actions(window, qtbot)
    panel = window.teach.panel
    window.set_source(gui_source(30, people=0))  # an empty room
    qtbot.waitUntil(lambda: window.session.position >= 0, timeout=5000)
    window.session.pause()
    save_span(window, qtbot, "wave", 0, 19)
    with qtbot.waitSignal(panel.training.process.failed, timeout=120_000) as failed:
        panel.training.train_button.click()
    assert "wave 03" in failed.args[0] and "\n" not in failed.args[0]
    assert failed.args[0] in window.banner.text() and failed.args[0] in panel.training.stage.text()
    assert not panel.training.out.exists()
    assert panel.tree.counts() == {"drink": 2, "wave": 3}  # nothing recorded is lost


def test_typing_an_action_name_triggers_no_window_shortcut(window, qtbot) -> None:
    """'r' records, 'e' explains and space plays in the window: not while the name field has the keys."""
    replaying(window, qtbot, FakeModel())
    window.activateWindow()
    panel = window.teach.panel
    panel.name.setFocus()
    qtbot.keyClicks(panel.name, "pre ready")
    assert panel.name.text() == "pre ready"
    assert window.session.recording is None and window.explain_dialog is None and not window.session.playing


def test_cancel_stops_the_real_command_and_leaves_no_model_folder(window, qtbot, real_teach) -> None:
    model = FakeModel()
    replaying(window, qtbot, model)
    two_actions(window, qtbot)
    training = window.teach.panel.training
    training.tiny = True
    with qtbot.waitSignal(training.process.progress, timeout=120_000):  # it runs: cancel it now
        training.train_button.click()
    with qtbot.waitSignal(training.process.cancelled, timeout=60_000):
        training.cancel_button.click()
    assert window.session.model is model and training.train_button.isEnabled()
    assert list(training.out.parent.iterdir()) == []  # neither the model nor its staging folder


def test_the_child_runs_this_app_not_one_in_the_current_folder(
    qtbot, real_teach, tmp_path, monkeypatch
) -> None:
    """`python -m sta_hands.commands` would run a `sta_hands/` package of the current folder (and, before the
    one distinct name, an `app.py` did: issue 23): the child must not."""
    from sta_hands.teach.gui.process import TeachProcess, teach_arguments

    here, marker = tmp_path / "downloads", tmp_path / "foreign ran"
    here.mkdir()
    (here / "sta_hands" / "commands").mkdir(parents=True)
    for foreign in ("app.py", "commands.py", "sta_hands/commands/__main__.py"):
        (here / foreign).write_text(
            f"import json, pathlib\npathlib.Path({str(marker)!r}).write_text('yes')\n"
            "print(json.dumps({'stage': 'done', 'model': 'elsewhere', 'message': 'foreign'}))\n"
        )
    (tmp_path / "examples").mkdir()
    monkeypatch.chdir(here)
    process, outcomes = TeachProcess(), []
    process.finished.connect(outcomes.append)
    process.failed.connect(outcomes.append)
    process.start(teach_arguments(tmp_path / "examples", tmp_path / "model"))
    qtbot.waitUntil(lambda: bool(outcomes), timeout=120_000)
    assert not marker.exists()
    assert "no examples in this folder" in outcomes[0]  # the real command's line
