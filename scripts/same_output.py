"""Same output before and after a restructuring: `run --headless --json` lines (timings aside) and the
bytes the writers produce, saved once and compared after.

    python scripts/same_output.py save  /tmp/before          # on the old code
    python scripts/same_output.py check /tmp/before          # on the new code: exit 1 on any difference

`--model DIR` pins the two-stream model used for the demo and synthetic sources, so that a retrained demo
does not count as a change of code. Real NTU files go through the bundled pretrained pose model, the
video through estimated bodies. The writers are `synth` (the own recording format, the NTU layout)
hashed file by file.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

SHARED = Path(__file__).resolve().parents[2] / "shared" / "samples"
TIMING_KEYS = {"timings_ms", "latency_ms_p50", "latency_ms_p95", "seconds", "age", "first_guess_s",
               "startup_s"}
ATTEMPTS = {  # name -> (source, extra options, needs the pinned two-stream model)
    "demo": ("demo", [], True),
    "synthetic": ("synthetic", ["--seed", "7"], True),
    "ntu-skeleton": (str(SHARED / "ntu" / "S001C001P001R001A001.skeleton"), [], False),
    "ntu120-skeleton": (str(SHARED / "ntu" / "S017C003P020R002A054.skeleton"), [], False),
    "video-estimated": (str(SHARED / "ntu" / "S004C002P003R001A055_rgb.avi"), [], False),
}


def without_timings(value: object) -> object:
    if isinstance(value, dict):
        return {k: without_timings(v) for k, v in value.items() if k not in TIMING_KEYS}
    if isinstance(value, list):
        return [without_timings(v) for v in value]
    return value


def headless_lines(source: str, options: list[str], model: str | None) -> list[str]:
    command = ["sta-hands", "run", source, "--headless", "--json", *options]
    if model:
        command += ["--model", model]
    done = subprocess.run(command, capture_output=True, text=True, timeout=900, check=False)
    lines = [json.dumps(without_timings(json.loads(line)), sort_keys=True)
             for line in done.stdout.splitlines() if line.startswith("{")]  # fmt: skip
    return [*lines, f"exit {done.returncode}"]


def writer_hashes() -> list[str]:
    folder = Path(tempfile.mkdtemp(prefix="same-output-"))
    try:
        subprocess.run(["sta-hands", "synth", str(folder), "--clips", "3", "--seed", "11"],
                       capture_output=True, check=True, timeout=600)  # fmt: skip
        return [f"{path.relative_to(folder)} {hashlib.sha256(path.read_bytes()).hexdigest()}"
                for path in sorted(folder.rglob("*")) if path.is_file()]  # fmt: skip
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def outputs(model: str | None) -> dict[str, list[str]]:
    found = {"writers": writer_hashes()}
    for name, (source, options, pinned) in ATTEMPTS.items():
        if source.startswith("/") and not Path(source).exists():
            print(f"skipped {name}: {source} is absent", file=sys.stderr)
            continue
        found[name] = headless_lines(source, options, model if pinned else None)
        print(f"{name}: {len(found[name])} lines", file=sys.stderr)
    return found


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("action", choices=("save", "check"))
    parser.add_argument("folder", type=Path)
    parser.add_argument("--model", help="the two-stream model folder for the demo and synthetic sources")
    args = parser.parse_args()
    found = outputs(args.model)
    if args.action == "save":
        args.folder.mkdir(parents=True, exist_ok=True)
        for name, lines in found.items():
            (args.folder / f"{name}.txt").write_text("\n".join(lines) + "\n", encoding="utf-8")
        return 0
    differing = []
    for name, lines in found.items():
        before = (args.folder / f"{name}.txt").read_text(encoding="utf-8").splitlines()
        if before != lines:
            first = next((i for i, (a, b) in enumerate(zip(before, lines, strict=False)) if a != b),
                         min(len(before), len(lines)))  # fmt: skip
            differing.append(f"{name}: differs from line {first + 1} "
                             f"({len(before)} lines before, {len(lines)} now)")
    print("\n".join(differing) or f"same output: {', '.join(found)}")
    return 1 if differing else 0


if __name__ == "__main__":
    sys.exit(main())
