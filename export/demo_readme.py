"""README's figures for the demo model, written from an evaluation report (`sta-hands evaluate --json`), so
that README prints what a run measured and `python -m sta_hands.commands.make_demo --check` can tell when it
does not.

- `attention_table`: per class with acting hands, and over every frame, one and two or more acting hands,
  the share of sampled frames whose highest spatial attention is on an acting hand, beside the rules on
  the same frames (`models.attention_score`);
- `faithfulness_line`: the faithfulness figures (`models.faithfulness`).

    python -m sta_hands.commands.demo_readme REPORT.json      (prints both, as README shows them)
"""

from __future__ import annotations

import textwrap
from collections.abc import Mapping
from pathlib import Path
from typing import Any

LINE_WIDTH = 104  # README's prose
GROUP_ROWS = (
    ("all", "every frame with an acting hand"),
    ("one_acting_hand", "frames with one acting hand"),
    ("two_or_more_acting_hands", "frames with two or more acting hands"),
)


def _row(label: str, tally: Mapping[str, Any]) -> str:
    rules = tally["rules"]
    margin = (tally["score"] - rules["fastest_hand"]) * 100
    return (
        f"| {label} | {tally['frames']} | {tally['score']:.3f} | {rules['fastest_hand']:.3f} | "
        f"{margin:+.1f} | {rules['uniform']:.3f} | {rules['same_slot']:.3f} |"
    )


def attention_table(report: Mapping[str, Any]) -> str:
    """The markdown table (empty without attention figures)."""
    attention = report.get("attention")
    if not attention:
        return ""
    lines = [
        "| class (its acting hands) | sampled frames | attention on an acting hand | fastest hand | "
        f"points over it | uniform | same slot ({report['attention_same_slot']}) |",
        "| --- | ---: | ---: | ---: | ---: | ---: | ---: |",
    ]
    for name, groups in attention["per_class"].items():
        if groups and groups["all"]:
            acting = "two acting hands" if groups["one_acting_hand"] is None else "one acting hand"
            if groups["one_acting_hand"] and groups["two_or_more_acting_hands"]:
                acting = "one or two acting hands"
            lines.append(_row(f"{name} ({acting})", groups["all"]))
    lines += [_row(f"**{label}**", attention[key]) for key, label in GROUP_ROWS if attention[key]]
    return "\n".join(lines)


def faithfulness_line(report: Mapping[str, Any]) -> str:
    """One sentence with the faithfulness figures, wrapped as README's prose (empty without them)."""
    figures = report.get("faithfulness")
    if not figures:
        return ""
    return textwrap.fill(
        f"Faithfulness ({figures['windows']} test windows with two or more hands in view): removing the "
        f"most-attended hand lowers the RGB stream's probability of its class more than removing the "
        f"least-attended one in {figures['attended_drop_larger']:.3f} of the windows; mean drop "
        f"{figures['mean_drop_attended']:.3f} against {figures['mean_drop_least_attended']:.3f}.",
        width=LINE_WIDTH,
    )


def readme_figures(report: Mapping[str, Any]) -> str:
    return "\n\n".join(part for part in (attention_table(report), faithfulness_line(report)) if part)


def readme_problems(report: Mapping[str, Any], readme: Path) -> list[str]:
    """What README does not print as `readme_figures(report)` says (one line per missing line)."""
    text = readme.read_text(encoding="utf-8")
    return [
        f"{readme.name}: lacks the line '{line[:80]}...' "
        "(python -m sta_hands.commands.demo_readme REPORT.json)"
        for line in readme_figures(report).splitlines()
        if line and line not in text
    ]
