"""A stand-in for `python -m sta_hands.commands teach ... --progress-jsonl`: prints the contract's lines, no
training.

What it does is chosen by $TEACH_STAND_IN: "ok" (copy the model folder $TEACH_STAND_IN_MODEL to --out,
then the done line), "fail" (an error line, exit 2), "hang" (progress, then wait to be stopped; on
SIGTERM it exits without writing --out). The Teach panel's tests drive the real QProcess with it.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import sys
import time
from pathlib import Path


def say(**record: object) -> None:
    print(json.dumps(record), flush=True)


def main(argv: list[str]) -> int:
    assert argv[0] == "teach" and "--progress-jsonl" in argv, argv
    examples, out = Path(argv[1]), Path(argv[argv.index("--out") + 1])
    mode = os.environ.get("TEACH_STAND_IN", "ok")
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    print("a library's chatter, not JSON", flush=True)
    say(stage="features", done=1, total=2, eta_s=None, message=f"features of {examples.name}")
    say(stage="features", done=2, total=2, eta_s=3.0, message="features")
    if mode == "fail":
        say(stage="error", message=f"{examples}/wave 01.jsonl: frame 3: expected a body, found none")
        return 2
    say(stage="training", done=5, total=10, eta_s=1.5, message="epoch 5/10")
    if mode == "hang":
        while True:
            time.sleep(0.05)
    shutil.copytree(os.environ["TEACH_STAND_IN_MODEL"], out)
    say(stage="export", done=1, total=1, eta_s=0.0, message="export")
    counts = {"drink": 2, "wave": 2}
    say(stage="done", model=str(out), classes=list(counts), examples=counts, seconds=1.5,
        validation_accuracy=None, message="done")  # fmt: skip
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
