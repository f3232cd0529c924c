"""`python -m sta_hands.commands.teach_bench [--work DIR] [--json FILE] [--pose-stream S]`: the benchmark of
`sta-hands teach` (`teach.bench`: time to a loaded model, accuracy and attention of the taught
model); nothing here is a test, docs/teach.md quotes its figures."""

from __future__ import annotations

import argparse
import tempfile
from pathlib import Path

from sta_hands.commands.options import add_json_file_option, write_json_file
from sta_hands.teach.bench import run_teach_bench


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m sta_hands.commands.teach_bench",
        description="The benchmark of `sta-hands teach` (issue 13's targets).",
    )
    parser.add_argument("--work", help="folder for the examples, models and caches (default: temporary)")
    add_json_file_option(parser, "the figures")
    parser.add_argument(
        "--pose-stream",
        choices=["shift-gcn", "deep-gru"],
        help="teach's pose stream (default: teach's default)",
    )
    args = parser.parse_args(argv)
    work = Path(args.work or tempfile.mkdtemp(prefix="sta-hands-teach-bench-"))
    results = run_teach_bench(work, args.pose_stream)
    write_json_file(args.json, results)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
