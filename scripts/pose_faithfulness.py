"""The faithfulness of the bundled pose models' explanation on the real NTU skeletons, written beside each
model (`faithfulness.json`, which the explain dialog says in one sentence: `app.faithfulness_note`).

    nice -n 10 python scripts/pose_faithfulness.py [--samples ../shared/samples] [--models ntu120 ntu60]

- Files: every `.skeleton` under SAMPLES (the Kinect's bodies, `models.data.find_dataset`); the NTU-60
  model on the NTU-60 actions (A001-A060) only, the NTU-120 model on all of them. They are samples, not
  either model's test half: some performers are in its training half.
- What is measured is `sta-hands evaluate --model FOLDER`'s (`export.evaluate_onnx.evaluate_exported`:
  5 windows of the model's length per clip, seed 0, each through the app's pose model), whose
  `faithfulness` holds the most relevant joints still against as many random ones
  (`models.faithfulness.joint_holding_drops`). For the NTU-120 model, the same figures as
  `sta-hands evaluate --model models/shiftgcn-ntu120-xsub --data SAMPLES --save-faithfulness`; this
  script names the data in the file (not this machine's path) and also does the NTU-60 model's subset.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]

from sta_hands.export.evaluate_onnx import evaluate_exported, save_faithfulness  # noqa: E402
from sta_hands.models.data import find_dataset  # noqa: E402
from sta_hands.recordings.ntu.clip import NTU60_CLASSES  # noqa: E402

MODELS = {"ntu120": "shiftgcn-ntu120-xsub", "ntu60": "shiftgcn-ntu60-xsub"}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--samples", type=Path, default=REPO.parent / "shared" / "samples")
    parser.add_argument("--models", nargs="+", choices=sorted(MODELS), default=["ntu120", "ntu60"])
    args = parser.parse_args(argv)
    every = find_dataset(args.samples)
    for key in args.models:
        folder = REPO / "models" / MODELS[key]
        dataset = every
        actions = "A001-A120"
        if key == "ntu60":
            clips = tuple(clip for clip in every.clips if clip.label < len(NTU60_CLASSES))
            dataset = dataclasses.replace(every, clips=clips, class_names=NTU60_CLASSES)
            actions = "A001-A060"
        report = evaluate_exported(folder, dataset)
        data = (
            f"{len(dataset.clips)} real NTU RGB+D skeleton files ({actions}, Kinect bodies; samples, not the "
            "model's test half) read from outside the repository: scripts/pose_faithfulness.py"
        )
        path = save_faithfulness(folder, report, data)
        print(f"{MODELS[key]}: accuracy {report['accuracy']['pose']:.3f}; wrote {path}")
        print(json.dumps(report["faithfulness"], indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
