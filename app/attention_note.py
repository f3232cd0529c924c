"""Whether a model's spatial attention was trained onto the acting hands, for the explain dialog.

The paper's spatial attention learns from the class label alone, so where it looks is the model's own
finding. A model trained with `TrainSettings.attention_supervision` (`models.attention_supervision`; the
bundled demo) was also shown which hands act in its synthetic training clips: the hand it looks at is
then partly what it was taught, and the dialog says so. The model's `trained_on` metadata carries
`SUPERVISED_ATTENTION` when it was (`export.make_demo` writes it).
"""

from __future__ import annotations

SUPERVISED_ATTENTION = "supervised attention"  # the phrase in `trained_on`: not in the paper


def attention_training_sentence(trained_on: str) -> str | None:
    """One plain sentence when the model's attention was supervised (None when it learnt alone)."""
    if SUPERVISED_ATTENTION not in trained_on:
        return None
    return (
        "Trained where to look: besides the action names, this model's training was shown which hands act "
        "in its synthetic clips (not in the STA-Hands paper, whose attention learns on its own)."
    )
