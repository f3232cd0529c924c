"""`python -m sta_hands.commands.bench_pose_model [--model FOLDER] [--samples DIR] [--json FILE]`:
`bench --json`'s `pose_model` entry alone (`export.bench.pose_model`: the bundled pretrained pose model on
the live path)."""

from __future__ import annotations

import argparse
from pathlib import Path

from sta_hands.commands.options import add_json_file_option, write_json_file
from sta_hands.export.bench.pose_model import REPEATS, bench_pose_model, format_pose_model


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m sta_hands.commands.bench_pose_model",
        description="The speed of the bundled pretrained pose model (Shift-GCN) on the app's live path.",
    )
    parser.add_argument("--model", type=Path, help="pose model folder (default: the bundled NTU-120 model)")
    parser.add_argument("--samples", type=Path, help="folder of the real NTU samples")
    parser.add_argument("--repeats", type=int, default=REPEATS, help=f"skeleton replays (default {REPEATS})")
    add_json_file_option(parser, "the entry")
    args = parser.parse_args(argv)
    entry = bench_pose_model(args.model, args.samples, repeats=args.repeats)
    write_json_file(args.json, entry)
    print(format_pose_model(entry))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
