"""The explain dialog says plainly when the model's attention was trained onto the acting hands (not in
the paper), from the model's `trained_on` metadata; a model whose attention learnt alone gets no such
sentence. The bundled demo says it (its metadata is `export.make_demo`'s)."""

from __future__ import annotations

from sta_hands.app.attention_note import SUPERVISED_ATTENTION, attention_training_sentence
from sta_hands.app.gui.explain import ExplainDialog
from sta_hands.app.gui.frame_cache import FrameCache
from sta_hands.export.make_demo import demo_metadata
from tests.app.test_gui_drawing import make_prediction


def test_the_sentence_follows_the_metadata() -> None:
    assert attention_training_sentence("88 synthetic clips; live time-grid training windows") is None
    sentence = attention_training_sentence(f"88 synthetic clips; {SUPERVISED_ATTENTION} (weight 1)")
    assert sentence is not None and "not in the STA-Hands paper" in sentence


def test_the_demo_says_its_attention_was_supervised() -> None:
    assert attention_training_sentence(demo_metadata()["trained_on"]) is not None


def test_the_explain_dialog_shows_it_only_for_a_supervised_model(qtbot) -> None:
    prediction = make_prediction()
    taught = ExplainDialog(prediction, FrameCache(), trained_on=f"synthetic; {SUPERVISED_ATTENTION}")
    alone = ExplainDialog(prediction, FrameCache(), trained_on="NTU RGB+D 60, cross-subject")
    for dialog in (taught, alone):
        qtbot.addWidget(dialog)
    assert not taught.attention_training.isHidden()
    assert taught.attention_training.text() == attention_training_sentence(SUPERVISED_ATTENTION)
    assert alone.attention_training.isHidden() and alone.attention_training.text() == ""
