"""`sta-hands convert FILE.xef OUT`: a Kinect Studio recording to the app's own (NTU-layout) one."""

from __future__ import annotations

import argparse
from pathlib import Path


def run(args: argparse.Namespace) -> int:
    from sta_hands.recordings.xef.file import convert_xef

    stem = convert_xef(args.path, Path(args.out), overwrite=args.overwrite)
    print(f"wrote {stem}.skeleton, {stem.name}_rgb.avi and {stem.name}.jsonl")
    return 0


def add_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("convert", help="a Kinect Studio .xef file to the app's own (NTU-layout) recording")
    p.add_argument("path", help="the .xef file")
    p.add_argument("out", help="output stem, e.g. recordings/S001C001P001R001A001")
    p.add_argument("--overwrite", action="store_true", help="replace an existing recording of that name")
    p.set_defaults(func=run)
