"""`sta-hands bench`: this machine's speed (glimpse CNN, head, streaming, end to end), or with `--soak` the
long run's memory and latency over time."""

from __future__ import annotations

import argparse

from sta_hands.commands.options import add_json_file_option, write_json_file
from sta_hands.contract.errors import UserError


def run(args: argparse.Namespace) -> int:
    if args.soak is not None:  # the long run: memory and latency over time (torch-free)
        from sta_hands.commands.soak import main as soak_main

        return soak_main(["--minutes", str(args.soak), *(["--json", args.json] if args.json else [])])
    from sta_hands.export.bench.speed import format_report, run_bench

    try:
        backbones = tuple((name, int(size)) for name, size in (item.split("@") for item in args.backbones))
    except ValueError:
        raise UserError(
            f"--backbones takes NAME@SIZE items, e.g. efficientnet_lite0@224; got {args.backbones}"
        ) from None
    report = run_bench(backbones, min_seconds=args.seconds)
    write_json_file(args.json, report)
    print(format_report(report))
    return 0


def add_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("bench", help="measure speed here: glimpse CNN, head, streaming, end to end")
    add_json_file_option(p, "the full report")
    p.add_argument(
        "--backbones",
        nargs="+",
        default=["efficientnet_lite0@224", "inception_v3@299"],
        metavar="NAME@SIZE",
        help="backbones and input sizes (default: efficientnet_lite0@224 inception_v3@299)",
    )
    p.add_argument("--seconds", type=float, default=1.0, help="minimum time per measurement (default 1)")
    p.add_argument(
        "--soak", type=float, metavar="MINUTES", help="instead: replay the demo in a loop, memory and latency"
    )
    p.set_defaults(func=run)
