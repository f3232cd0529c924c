"""The paper's claims checked on synthetic data (`sta-hands ablate --quick`, `check_claims`).

`check_claims` makes a small synthetic set (fixed seed, the cross-subject split by performer),
computes EfficientNet-Lite0 features at a reduced input size, trains Deep GRU, STA-Hands and TA-Hands
(the paper's name for STA-Hands without the spatial attention: the hands' glimpses summed, the
temporal attention kept), and checks the paper's claims:
1. Deep GRU is near chance inside the groups of classes that share one motion, STA-Hands separates
   them. "Near chance": chance lies inside the 95% Wilson interval of Deep GRU's accuracy on the
   group's test clips (`near_chance`), the same as the accuracy lying within chance +- 1.96 x the
   binomial standard error sqrt(chance (1 - chance) / clips), printed as chance's band;
2. STA-Hands beats TA-Hands;
3. the two-stream model beats each stream; 4. it reaches at least 95% test accuracy;
5. the spatial attention beats the fastest-moving-hand rule by `ATTENTION_MARGIN` on every class that
   has acting hands, interactions included (`models.attention_score`: the highest attention on any
   acting hand, every sampled frame with one, the rule on exactly the same frames).

The training runs are `models.trials`'; the tables on NTU are `models.ablate`'s.
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from sta_hands.models.config import ModelConfig, RgbStreamConfig
from sta_hands.models.data import Dataset, find_dataset
from sta_hands.models.trials import PAPER_SAMPLING, train_and_evaluate, two_stream_run

# The synthetic check (`check_claims`): small enough for a few minutes on 2 CPU cores.
CLAIMS_SEED = 0
CLAIMS_PERFORMERS = 8  # 8 performers x 11 classes x 3 cameras = 264 clips; cs: P1,2,4,5,8 train, P3,6,7 test
CLAIMS_FRAMES: int | None = None  # the generator's own clip lengths (1.3-2.2 s); 1 s clips cost half
# as much but leave the two-stream accuracy at 95-100% over seeds instead of 98-100%
CLAIMS_INPUT_SIZE = 64  # EfficientNet-Lite0 on 50 px crops upsampled to 64 px: 4x fewer FLOPs than 224
CLAIMS_RGB_HIDDEN = 128  # RGB GRU units (the paper's 1024 is for NTU's 40k training clips)
# The paper's optimiser settings assume NTU's ~40k training clips (over 1000 steps per epoch); on 165
# clips the same 100 epochs are 600 steps, too few at lr 1e-4. A larger step and smaller batches
# give the optimiser enough updates; the claims are checked as stated.
CLAIMS_TRAIN = {
    "learning_rate": 1e-3,
    "batch_size": 16,
    "validation_fraction": 0.1,
    "patience": 30,
    **PAPER_SAMPLING,
}
TWO_STREAM_MIN = 0.95
# the attention must beat the best rule without parameters ("the fastest-moving hand") on the same frames
ATTENTION_MARGIN = 0.05
CHANCE_Z = 1.96  # "near chance": inside the 95% binomial (Wilson) interval


def wilson_interval(successes: float, trials: int, z: float = CHANCE_Z) -> tuple[float, float]:
    """The Wilson score interval of a binomial proportion: (low, high), for `successes` of `trials`."""
    if trials < 1:
        raise ValueError(f"a proportion needs at least one trial; got {trials}")
    share = successes / trials
    scale = 1.0 + z * z / trials
    centre = (share + z * z / (2 * trials)) / scale
    half = z * np.sqrt(share * (1.0 - share) / trials + z * z / (4 * trials * trials)) / scale
    return max(0.0, float(centre - half)), min(1.0, float(centre + half))


def chance_band(chance: float, trials: int, z: float = CHANCE_Z) -> tuple[float, float]:
    """The accuracies that `near_chance` accepts: chance +- z sqrt(chance (1 - chance) / trials)."""
    half = z * np.sqrt(chance * (1.0 - chance) / trials)
    return max(0.0, chance - half), min(1.0, chance + half)


def near_chance(accuracy: float, trials: int, chance: float, z: float = CHANCE_Z) -> bool:
    """Whether an accuracy measured on `trials` clips is consistent with guessing at `chance`: chance
    inside its Wilson interval (the score test; the same as `accuracy` inside `chance_band`)."""
    low, high = wilson_interval(accuracy * trials, trials, z)
    return low - 1e-12 <= chance <= high + 1e-12


@dataclass(frozen=True)
class Claim:
    text: str
    measured: str
    passed: bool


@dataclass(frozen=True)
class ClaimsResult:
    claims: tuple[Claim, ...]
    markdown: str
    numbers: dict[str, Any]

    @property
    def passed(self) -> bool:
        return all(claim.passed for claim in self.claims)


def motion_groups() -> list[tuple[str, ...]]:
    """The synthetic classes that share one motion generator and differ only in the held object."""
    from sta_hands.recordings.synthetic import ACTIONS

    groups: dict[str, list[str]] = {}
    for action in ACTIONS:
        groups.setdefault(action.motion, []).append(action.name)
    return [
        tuple(names)
        for names in groups.values()
        if len(names) > 1 and len({a.held for a in ACTIONS if a.name in names}) == len(names)
    ]


def group_clips(report: dict[str, Any], group: Sequence[str]) -> int:
    """How many of the report's clips belong to the group's classes."""
    members = [report["class_names"].index(c) for c in group]
    return sum(p["label"] in members for p in report["predictions"])


def within_group_accuracy(
    report: dict[str, Any], outcomes_logits: dict[str, np.ndarray], group: Sequence[str], stream: str
) -> float:
    """Accuracy of choosing among the group's classes only (argmax of the group's logits) on its clips."""
    names = report["class_names"]
    members = [names.index(c) for c in group]
    rows = [p for p in report["predictions"] if p["label"] in members]
    hits = [members[int(np.argmax(outcomes_logits[p["clip"]][members]))] == p["label"] for p in rows]
    return float(np.mean(hits))


def _clip_logits(
    checkpoint: Path, dataset: Dataset, cache: Path, split: str, stream: str
) -> dict[str, np.ndarray]:
    """Per test clip, the stream's logits averaged over the evaluation windows."""
    from sta_hands.models import checkpoint as checkpoints
    from sta_hands.models.data import evaluation_windows
    from sta_hands.models.evaluate import outcome_from_views
    from sta_hands.models.features.store import FeatureStore
    from sta_hands.models.inference import choose_device, predict

    model, config, _ = checkpoints.load(checkpoint)
    clips = dataset.split(split, "test")
    store = FeatureStore(cache, clips)
    clips = store.clips  # less those whose files could not be read when the features were made
    windows = [evaluation_windows(c.name, store.num_frames(p), config.window) for p, c in enumerate(clips)]
    outputs = predict(model, store, list(range(len(clips))), windows, choose_device(None))
    return {
        c.name: outcome_from_views(c.name, c.label, o).logits[stream]
        for c, o in zip(clips, outputs, strict=True)
    }


def prepare_synthetic(
    out: Path,
    performers: int = CLAIMS_PERFORMERS,
    frames: int | None = CLAIMS_FRAMES,
    input_size: int = CLAIMS_INPUT_SIZE,
    seed: int = CLAIMS_SEED,
    idle_hand: str = "rest",
) -> tuple[Path, Path]:
    """The synthetic clips in `out`/data and their features in `out`/features (both reused when there);
    `idle_hand`: `recordings.synthetic.plan_clips`'s ("mixed": every other clip's idle hand busy)."""
    from sta_hands.models.features.cache import build_cache_backbone, compute_features
    from sta_hands.recordings.synthetic import ACTIONS, CAMERA_YAW_DEG, generate_dataset, plan_clips

    data, cache = out / "data", out / "features"
    specs = plan_clips(
        performers * len(ACTIONS) * len(CAMERA_YAW_DEG), seed, frames=frames, idle_hand=idle_hand
    )
    todo = [spec for spec in specs if not (data / f"{spec.name}.jsonl").is_file()]
    if todo:
        generate_dataset(data, todo, seed, workers=2)
    backbone, weights = build_cache_backbone("efficientnet_lite0", input_size)
    compute_features(find_dataset(data).clips, cache, backbone, weights)
    return data, cache


def check_claims(out: str | Path, *, epochs: int | None = None) -> ClaimsResult:
    """Make the synthetic set, train and evaluate, check the claims; writes `out`/claims.md and .json."""
    from sta_hands.models.train import BEST, TrainSettings

    folder = Path(out)
    data, cache = prepare_synthetic(folder)
    dataset = find_dataset(data)
    settings = TrainSettings.from_dict({**CLAIMS_TRAIN, **({"epochs": epochs} if epochs else {})})
    runs = folder / "runs"
    base = ModelConfig(rgb=RgbStreamConfig(hidden_size=CLAIMS_RGB_HIDDEN))
    # TA-Hands (table 2): STA-Hands without the spatial attention, the hands' glimpses summed
    ta_config = dataclasses.replace(base, rgb=dataclasses.replace(base.rgb, spatial="sum"))
    pose = train_and_evaluate("pose", dataset, cache, runs / "pose", "cs", base, settings)
    sta = train_and_evaluate("rgb", dataset, cache, runs / "rgb-pose-motion", "cs", base, settings)
    ta = train_and_evaluate("rgb", dataset, cache, runs / "rgb-sum-motion", "cs", ta_config, settings)
    both = two_stream_run(dataset, cache, runs / "pose", runs / "rgb-pose-motion", runs, "cs")
    pose_logits = _clip_logits(runs / "pose" / BEST, dataset, cache, "cs", "pose")
    sta_logits = _clip_logits(runs / "rgb-pose-motion" / BEST, dataset, cache, "cs", "rgb")
    claims = _claims(pose, sta, ta, both, pose_logits, sta_logits)
    numbers = {
        "accuracy": {
            "deep_gru": pose["accuracy"]["pose"],
            "sta_hands": sta["accuracy"]["rgb"],
            "ta_hands": ta["accuracy"]["rgb"],
            "two_stream": both["accuracy"]["fused"],
        },
        "attention_score": both["attention_score"],
        "attention_frames": both["attention_frames"],
        "attention_baselines": both.get("attention_baselines"),
        "attention": both.get("attention"),
        "faithfulness": both.get("faithfulness"),
        "test_clips": both["clips"],
        "train_settings": dataclasses.asdict(settings),
        "claims": [dataclasses.asdict(c) for c in claims],
    }
    markdown = _claims_markdown(claims, numbers, dataset)
    (folder / "claims.md").write_text(markdown, encoding="utf-8")
    (folder / "claims.json").write_text(json.dumps(numbers, indent=2) + "\n", encoding="utf-8")
    return ClaimsResult(tuple(claims), markdown, numbers)


def _claims(pose: dict, sta: dict, ta: dict, both: dict, pose_logits: dict, sta_logits: dict) -> list[Claim]:
    """The claims from the reports of Deep GRU, STA-Hands, TA-Hands and the two-stream model, and the
    per-clip logits of Deep GRU and STA-Hands (for the groups of classes that share one motion)."""
    claims = []
    for group in motion_groups():
        chance = 1.0 / len(group)
        pose_acc = within_group_accuracy(pose, pose_logits, group, "pose")
        sta_acc = within_group_accuracy(sta, sta_logits, group, "rgb")
        clips = group_clips(pose, group)
        low, high = chance_band(chance, clips)
        claims.append(
            Claim(
                f"same motion ({' / '.join(group)}): Deep GRU near chance ({chance:.2f}; 95% band for "
                f"{clips} clips {low:.3f}-{high:.3f}), STA-Hands separates (>= 0.90)",
                f"Deep GRU {pose_acc:.3f}, STA-Hands {sta_acc:.3f}",
                near_chance(pose_acc, clips, chance) and sta_acc >= 0.90,
            )
        )
    acc = {
        "pose": pose["accuracy"]["pose"],
        "sta": sta["accuracy"]["rgb"],
        "ta": ta["accuracy"]["rgb"],
        "two": both["accuracy"]["fused"],
    }
    claims += [
        Claim(
            "STA-Hands beats TA-Hands (the hands' glimpses summed, temporal attention kept)",
            f"{acc['sta']:.3f} vs {acc['ta']:.3f}",
            acc["sta"] > acc["ta"],
        ),
        Claim(
            "two-stream (Deep GRU + STA-Hands) beats each stream",
            f"{acc['two']:.3f} vs Deep GRU {acc['pose']:.3f}, STA-Hands {acc['sta']:.3f}",
            acc["two"] > max(acc["pose"], acc["sta"]),
        ),
        Claim(
            f"two-stream test accuracy >= {TWO_STREAM_MIN:.2f}",
            f"{acc['two']:.3f}",
            acc["two"] >= TWO_STREAM_MIN,
        ),
        attention_claim(both),
    ]
    return claims


def attention_claim(report: dict) -> Claim:
    """The pose-conditioned spatial attention beats the fastest-moving-hand rule by `ATTENTION_MARGIN` on
    the same frames, on every class with acting hands (a report without the figures fails)."""
    per_class = {
        name: groups["all"]
        for name, groups in ((report.get("attention") or {}).get("per_class") or {}).items()
        if groups and groups.get("all")
    }
    margins = {name: t["score"] - t["rules"]["fastest_hand"] for name, t in per_class.items()}
    failing = [name for name, margin in margins.items() if margin < ATTENTION_MARGIN - 1e-12]
    score = report.get("attention_score")
    measured = f"{'n/a' if score is None else f'{score:.3f}'} ({report.get('attention_frames', 0)} frames"
    measured += f"{_rules(report)})"
    if margins:
        worst = min(margins, key=margins.__getitem__)
        t = per_class[worst]
        measured += (
            f"; {len(margins) - len(failing)} of {len(margins)} classes by "
            f"{ATTENTION_MARGIN * 100:.0f} points, worst {worst} {t['score']:.3f} vs "
            f"{t['rules']['fastest_hand']:.3f} ({t['frames']} frames)"
        )
    return Claim(
        f"the spatial attention beats the fastest-moving hand by >= {ATTENTION_MARGIN * 100:.0f} points on"
        " every class with acting hands (the highest attention on an acting hand, the same frames)",
        measured,
        bool(margins) and not failing,
    )


def _rules(report: dict) -> str:
    rules = report.get("attention_baselines")
    if not rules:
        return ""
    return (
        f"; same frames: fastest hand {rules['fastest_hand']:.3f}, same slot {rules['same_slot']:.3f}, "
        f"uniform {rules['uniform']:.3f}"
    )


def _claims_markdown(claims: Sequence[Claim], numbers: dict[str, Any], dataset: Dataset) -> str:
    lines = [
        f"### The paper's claims on synthetic data ({len(dataset.clips)} clips, cross-subject test: "
        f"{numbers['test_clips']} clips)",
        "",
        "| claim | measured | |",
        "| --- | --- | --- |",
    ]
    lines += [f"| {c.text} | {c.measured} | {'pass' if c.passed else 'FAIL'} |" for c in claims]
    return "\n".join(lines) + "\n"
