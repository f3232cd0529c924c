"""`python -m sta_hands.commands.make_demo [--work DIR] [--check]`: build the bundled demo model and clip
(`export.make_demo`: one command, fixed seed), or rebuild them aside and compare; exit 1 on a difference."""

from __future__ import annotations

import argparse
from pathlib import Path

from sta_hands.export.make_demo import build_or_check


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m sta_hands.commands.make_demo",
        description="Build the bundled demo (one command, fixed seed).",
    )
    parser.add_argument("--work", help="folder for the synthetic set, features and runs (default: temporary)")
    parser.add_argument(
        "--check",
        action="store_true",
        help="rebuild into a temporary folder and compare with the shipped files (exit 1 on a difference)",
    )
    args = parser.parse_args(argv)
    problems = build_or_check(Path(args.work) if args.work else None, args.check)
    return 1 if problems else 0


if __name__ == "__main__":
    raise SystemExit(main())
