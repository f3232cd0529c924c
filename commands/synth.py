"""`sta-hands synth OUT`: synthetic clips in the NTU layout (tests, the demo, benchmarks)."""

from __future__ import annotations

import argparse
from pathlib import Path

from sta_hands.commands.options import add_seed_option


def run(args: argparse.Namespace) -> int:
    from sta_hands.recordings.synthetic import generate_dataset

    stems = generate_dataset(
        Path(args.out), args.clips, args.seed, workers=args.workers, progress=True, idle_hand=args.idle_hand
    )
    print(f"wrote {len(stems)} clips to {args.out}")
    return 0


def add_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("synth", help="write synthetic clips in the NTU layout (tests, demo, benchmarks)")
    p.add_argument("out", help="output folder")
    p.add_argument("--clips", type=int, default=20, help="number of clips (default 20)")
    add_seed_option(p, "the clips; the same seed gives identical files")
    p.add_argument("--workers", type=int, default=2, help="parallel processes (default 2)")
    p.add_argument(
        "--idle-hand",
        choices=("rest", "busy", "mixed"),
        default="rest",
        help="busy: in one-hand actions the other hand scratches or gestures meanwhile, as fast as the"
        " acting one (the harder case for attention); mixed: every other clip busy (default: it rests)",
    )
    p.set_defaults(func=run)
