"""`python -m sta_hands.commands.bench_pose [--model FOLDER] [--samples DIR] [--json FILE]`: `bench --json`'s
`pose_estimation` entry alone (`export.bench.pose_estimation`: bodies estimated from the image, per frame
and end to end)."""

from __future__ import annotations

import argparse
from pathlib import Path

from sta_hands.commands.options import add_json_file_option, write_json_file
from sta_hands.export.bench.pose_estimation import FRAMES, bench_pose_estimation, format_pose


def main(argv: list[str] | None = None) -> int:
    from sta_hands.app.runtime import default_model_folder

    parser = argparse.ArgumentParser(
        prog="python -m sta_hands.commands.bench_pose",
        description="The speed of bodies estimated from the image.",
    )
    parser.add_argument("--model", help="exported model folder (default: the bundled demo)")
    parser.add_argument("--samples", help="folder of the real NTU samples (default: $STA_HANDS_NTU_SAMPLES)")
    parser.add_argument(
        "--frames", type=int, default=FRAMES, help=f"frames per measurement (default {FRAMES})"
    )
    add_json_file_option(parser, "the entry")
    args = parser.parse_args(argv)
    samples = Path(args.samples) if args.samples else None
    entry = bench_pose_estimation(args.model or default_model_folder(), samples, args.frames)
    write_json_file(args.json, entry)
    print(format_pose(entry))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
