"""`sta-hands demo`: `run` on the bundled demo model and clip, in real time when it has a window."""

from __future__ import annotations

import argparse

from sta_hands.commands import run as run_command
from sta_hands.commands.options import add_headless_options, add_provider_option, add_still_option


def run(args: argparse.Namespace) -> int:
    args.source, args.data, args.seed, args.model, args.pose = "demo", None, 0, None, "kinect"
    args.mirror = "auto"
    args.realtime = args.realtime or not args.headless
    return run_command.run(args)


def add_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("demo", help="the app on the bundled demo model and clip (synthetic; see README)")
    add_headless_options(
        p, realtime="with --headless: replay at the recorded pace", speed="replay speed (default 1)"
    )
    add_still_option(p)
    add_provider_option(p)
    p.set_defaults(func=run)
