"""The paper's figures and the ablation tables that print ours beside them.

Baradel, Wolf & Mille 2017, "Human Action Recognition: Pose-based Attention draws focus to Hands",
NTU RGB+D accuracy in %: cross-subject (CS), cross-view (CV) and their average, as issue 16 gives them.

A paper row is a configuration: the spatial integration (`RgbStreamConfig.spatial`: "sum", "concat",
or attention conditioned on the hidden state "hidden", the augmented pose "pose", or "both") and
whether the temporal attention on the augmented motion pools the steps (`temporal` "motion"). Our
variants map onto the rows by that configuration (`paper_row`):
- temporal "motion": the paper's temporal attention (T);
- temporal "mean" and "last": the paper's rows without T. The paper classifies every step and
  averages the predictions there; "mean" does the same: it is trained on every step's prediction
  (`TrainSettings.step_loss`, the default; `models.inference.training_logits`) and a linear classifier
  on the mean of the hidden states gives exactly the averaged per-step logits at test time; "last"
  (the last hidden state, one loss) departs from it;
- temporal "hidden_motion": not in the paper (an "ours only" row).
Rows of the paper that a run did not train print as "paper only".

Torch-free: data and markdown only.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

NO_TEMPORAL = ("mean", "last")  # our temporal modes that stand for the paper's rows without T


@dataclass(frozen=True)
class PaperRow:
    name: str  # as the paper names the row
    spatial: str  # RgbStreamConfig.spatial
    temporal_attention: bool  # T: temporal attention on the augmented motion
    cs: float
    cv: float
    avg: float

    @property
    def marks(self) -> tuple[str, str, str]:
        """The paper's H / P / T columns: spatial attention on the hidden state, on the pose; T."""
        return (
            "x" if self.spatial in ("hidden", "both") else "-",
            "x" if self.spatial in ("pose", "both") else "-",
            "x" if self.temporal_attention else "-",
        )

    def figure(self, split: str) -> float:
        return {"cs": self.cs, "cv": self.cv}.get(split, self.avg)


# Tables 2 and 3, one row per RGB-stream variant: (spatial attention, temporal attention), its name and
# figures (CS, CV, Avg) in Table 2 (the RGB stream alone), then in Table 3 (two-stream, the pose stream
# always Deep GRU). "Concat" is in Table 2 only.
VARIANTS: tuple[tuple[str, bool, str, tuple[float, float, float], str | None, tuple[float, ...]], ...] = (
    ("sum", False, "Sum", (68.3, 74.6, 71.5), "Sum-Hands", (79.5, 85.9, 82.8)),
    ("concat", False, "Concat", (68.9, 75.2, 72.0), None, ()),
    ("hidden", False, "SA (hidden)", (69.8, 76.2, 73.0), "SA-Hands (hidden)", (80.5, 86.8, 83.7)),
    ("pose", False, "SA-Hands", (71.0, 78.9, 75.0), "SA-Hands", (81.4, 87.4, 84.4)),
    ("both", False, "SA (hidden + pose)", (70.5, 76.6, 73.6), "SA-Hands (hidden + pose)", (81.0, 86.9, 84.0)),
    ("sum", True, "TA-Hands", (71.1, 78.5, 74.8), "TA-Hands", (80.8, 87.6, 84.2)),
    ("hidden", True, "SA (hidden) + TA", (72.2, 77.8, 75.0), "STA-Hands (hidden)", (81.4, 87.4, 84.4)),
    ("pose", True, "STA-Hands", (73.5, 80.2, 76.9), "STA-Hands", (82.5, 88.6, 85.6)),
    ("both", True, "SA (hidden + pose) + TA", (72.8, 78.3, 75.6),
     "STA-Hands (hidden + pose)", (81.6, 88.0, 84.8)),
)
TABLE2: tuple[PaperRow, ...] = tuple(
    PaperRow(name, sa, ta, *figures) for sa, ta, name, figures, _, _ in VARIANTS
)
TABLE3: tuple[PaperRow, ...] = tuple(
    PaperRow(name, sa, ta, *figures) for sa, ta, _, _, name, figures in VARIANTS if name is not None
)

# Table 1: each stream alone and both (CS, CV, Avg).
TABLE1: dict[str, tuple[str, tuple[float, float, float]]] = {
    "pose": ("Deep GRU (pose stream)", (68.0, 74.2, 71.1)),
    "rgb": ("STA-Hands (RGB stream)", (73.5, 80.2, 76.9)),
    "two-stream": ("Deep GRU + STA-Hands", (82.5, 88.6, 85.6)),
}

# Table 1's "ours only" row: STA-Hands with a pretrained pose stream in place of Deep GRU (issue 21, a
# plugin model: `app.plugin_model`); its report, under PLUGIN_REPORT, is `evaluate`'s on an exported
# plugin folder (`train --pose-stream shift-gcn`, `export`); without one it prints "not measured here".
PLUGIN_REPORT = "plugin"
PLUGIN_LABEL = "Shift-GCN (pretrained) + STA-Hands, logits summed (ours only)"

# What `sta-hands ablate` trains by default: every configuration of table 2, "mean" for the rows
# without temporal attention (the closest to the paper's averaged per-step predictions).
TABLE2_VARIANTS: tuple[tuple[str, str], ...] = tuple(
    (row.spatial, "motion" if row.temporal_attention else "mean") for row in TABLE2
)


def paper_row(table: Sequence[PaperRow], spatial: str, temporal: str) -> PaperRow | None:
    """The row of `table` that our variant (spatial, temporal) stands for; None when the paper has none."""
    if temporal == "motion":
        attention = True
    elif temporal in NO_TEMPORAL:
        attention = False
    else:
        return None
    return next((r for r in table if r.spatial == spatial and r.temporal_attention == attention), None)


def variant_name(spatial: str, temporal: str) -> str:
    return f"rgb-{spatial}-{temporal}"


def two_stream_name(spatial: str, temporal: str) -> str:
    return f"two-{spatial}-{temporal}"


def _cell(value: float | None) -> str:
    return "-" if value is None else f"{100 * value:.1f}"


def _ranks(values: Mapping[int, float]) -> dict[int, int]:
    """1 for the highest value; ties share the better rank."""
    return {key: 1 + sum(other > value for other in values.values()) for key, value in values.items()}


def _table(
    table: Sequence[PaperRow],
    ours: Mapping[tuple[str, str], float],
    attention: Mapping[tuple[str, str], float | None] | None,
    split: str,
    header: str,
) -> list[str]:
    """Markdown rows: the paper's rows in its order (ours where we ran the configuration, else "paper
    only"), then our variants that the paper does not have ("ours only"); ranks among the rows both have."""
    matched: dict[int, tuple[str, str]] = {}
    for key in ours:
        row = paper_row(table, *key)
        if row is not None and table.index(row) not in matched:
            matched[table.index(row)] = key
    our_rank = _ranks({i: ours[key] for i, key in matched.items()})
    paper_rank = _ranks({i: table[i].figure(split) for i in matched})
    score_column = " attention score |" if attention is not None else ""
    lines = [
        f"| {header} | H | P | T | ours ({split.upper()}) |{score_column} rank ours / paper "
        "| paper CS | paper CV | paper Avg |",
        "| --- | :-: | :-: | :-: | ---: |"
        + (" ---: |" if attention is not None else "")
        + " :-: | ---: | ---: | ---: |",
    ]
    for i, row in enumerate(table):
        key = matched.get(i)
        cells = [row.name, *row.marks]
        if key is None:
            cells += ["paper only"] + (["-"] if attention is not None else []) + ["-"]
        else:
            cells.append(f"{_cell(ours[key])} ({key[1]})")
            if attention is not None:
                cells.append(_cell(attention.get(key)))
            cells.append(f"{our_rank[i]} / {paper_rank[i]}")
        cells += [f"{row.cs:.1f}", f"{row.cv:.1f}", f"{row.avg:.1f}"]
        lines.append("| " + " | ".join(cells) + " |")
    for key in ours:
        if key in matched.values():
            continue
        cells = [f"{key[0]} / {key[1]} (ours only)", "", "", "", _cell(ours[key])]
        if attention is not None:
            cells.append(_cell(attention.get(key)))
        cells += ["-", "-", "-", "-"]
        lines.append("| " + " | ".join(cells) + " |")
    return lines


def ablation_markdown(reports: Mapping[str, Mapping[str, Any]], split: str, data_name: str) -> str:
    """Tables 2, 3 and 1 as markdown: our test accuracy on `split` beside the paper's CS / CV / Avg.

    `reports`: evaluation reports by name: `variant_name(spatial, temporal)` for the RGB stream alone,
    `two_stream_name(...)` for it with the pose stream, "pose" for Deep GRU alone."""
    rgb: dict[tuple[str, str], float] = {}
    scores: dict[tuple[str, str], float | None] = {}
    fused: dict[tuple[str, str], float] = {}
    for name, report in reports.items():
        kind, _, rest = name.partition("-")
        if kind not in ("rgb", "two") or "-" not in rest:
            continue
        spatial, temporal = rest.split("-", 1)
        if kind == "rgb":
            rgb[(spatial, temporal)] = report["accuracy"]["rgb"]
            scores[(spatial, temporal)] = report.get("attention_score")
        else:
            fused[(spatial, temporal)] = report["accuracy"]["fused"]
    lines = [
        f"Ours: test accuracy % on {split.upper()} of {data_name} (the temporal mode in brackets); the "
        "paper's: NTU RGB+D. Ranks: among the rows run, by our accuracy / by the paper's figure "
        f"on {split.upper()}.",
        "",
        "### Table 2: RGB stream alone",
        "",
        *_table(TABLE2, rgb, scores, split, "RGB stream (paper row)"),
        "",
        "### Table 3: two-stream (Deep GRU + the RGB stream, logits summed)",
        "",
        *_table(TABLE3, fused, None, split, "RGB stream (paper row)"),
        "",
        "### Table 1: the streams alone and fused",
        "",
        f"| model | ours ({split.upper()}) | paper CS | paper CV | paper Avg |",
        "| --- | ---: | ---: | ---: | ---: |",
    ]
    ours = {
        "pose": reports["pose"]["accuracy"]["pose"] if "pose" in reports else None,
        "rgb": rgb.get(("pose", "motion")),
        "two-stream": fused.get(("pose", "motion")),
    }
    for key, (label, (cs, cv, avg)) in TABLE1.items():
        value = ours[key]
        lines.append(f"| {label} | {'not run' if value is None else _cell(value)} | {cs} | {cv} | {avg} |")
    plugin = reports[PLUGIN_REPORT]["accuracy"]["fused"] if PLUGIN_REPORT in reports else None
    lines.append(
        f"| {PLUGIN_LABEL} | {'not measured here' if plugin is None else _cell(plugin)} | - | - | - |"
    )
    lines += [
        "",
        'No temporal attention: the paper classifies every step and averages the predictions; ours ("mean") '
        "does the same: trained on every step's prediction, and at test time the mean of the hidden states "
        "before the linear classifier, the same averaged logits (see models/paper_tables.py).",
        "",
    ]
    return "\n".join(lines)
