"""A model folder's faithfulness figures, for the explain dialog: `faithfulness.json` beside its ONNX
files, written by `sta-hands evaluate --model FOLDER ... --save-faithfulness` (and by
`python -m sta_hands.commands.make_demo` for the demo, scripts/pose_faithfulness.py for the bundled pose
models) from `models.faithfulness`'s report entry, with the data it was measured on. Absent: the dialog says
nothing about it."""

from __future__ import annotations

import json
import logging
from collections.abc import Mapping
from pathlib import Path
from typing import Any

log = logging.getLogger(__name__)
FAITHFULNESS_FILE = "faithfulness.json"
FIGURES = ("windows", "attended_drop_larger", "mean_drop_attended", "mean_drop_least_attended")


def read_faithfulness(folder: str | Path) -> dict[str, Any] | None:
    """The figures in `folder`/faithfulness.json, or None (no file; a bad one is logged in one line)."""
    path = Path(folder) / FAITHFULNESS_FILE
    if not path.is_file():
        return None
    try:
        figures = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as error:
        log.warning(
            "%s: not read (%s); expected the JSON that evaluate --save-faithfulness writes", path, error
        )
        return None
    missing = [key for key in FIGURES if not isinstance(figures, dict) or not _number(figures.get(key))]
    if missing:
        log.warning("%s: expected numbers for %s; the explain dialog leaves it out", path, ", ".join(missing))
        return None
    return figures


def _number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def faithfulness_sentence(figures: Mapping[str, Any] | None) -> str | None:
    """One plain sentence for the explain dialog (None when unknown for this model)."""
    if not figures:
        return None
    how_often = f"in {figures['attended_drop_larger']:.0%} of {figures['windows']} windows"
    by = (
        f"by {figures['mean_drop_attended'] * 100:.0f} points against "
        f"{figures['mean_drop_least_attended'] * 100:.0f} on average"
    )
    if figures.get("removed", "hands") == "hands":
        return (
            "Does the hand it looked at matter? On test clips, hiding that hand from the model lowered its "
            f"hand-image confidence more than hiding the hand it looked at least, {how_often} ({by})."
        )
    if figures.get("removed") == "joints":  # a pose model's (`models.faithfulness.joint_holding_drops`)
        held = figures.get("joints_held")
        most, others = (f"{held} ", str(held)) if _number(held) else ("", "as many")
        return (
            f"Do the joints it points at matter? On sample clips, freezing its {most}most relevant joints "
            f"(held at their average position) lowered its confidence more than freezing {others} other "
            f"joints picked at random, {how_often} ({by})."
        )
    return None  # a kind of removal this sentence does not know how to say
