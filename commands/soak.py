"""`python -m sta_hands.commands.soak ...` (and `sta-hands bench --soak MINUTES`): `app.soak.loop.run_soak`
from the command line, its report printed and, with `--json FILE`, written.

    python -m sta_hands.commands.soak --minutes 30 --model models/demo CLIP [CLIP ...] [--gui] [--json R.json]
    python -m sta_hands.commands.soak --minutes 120 --speed 4 --sensor --gui demo     # docs/soak.md
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable, Sequence

from sta_hands.app.soak.loop import SensorPlan, format_report, run_soak
from sta_hands.app.soak.sensor import OUTAGE, UNPLUG_EVERY
from sta_hands.commands.options import (
    add_json_file_option,
    add_pose_option,
    add_provider_option,
    write_json_file,
)
from sta_hands.contract.errors import RecordingError, UserError


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m sta_hands.commands.soak",
        description="Replay clips in a loop; report memory and latency over time.",
    )
    parser.add_argument(
        "clips", nargs="*", help="clips or recordings (default: the demo clip, else 'synthetic')"
    )
    parser.add_argument(
        "--minutes", type=float, default=30.0, help="how long, in minutes of the source (default 30)"
    )
    parser.add_argument(
        "--speed", type=float, default=1.0, help="replay this many times faster than real time (default 1)"
    )
    parser.add_argument("--model", help="exported model folder (default: the bundled demo model)")
    add_provider_option(parser)
    parser.add_argument(
        "--gui", action="store_true", help="run the window too (offscreen unless a display is set)"
    )
    parser.add_argument(
        "--sensor", action="store_true", help="send the clip through a replayed Kinect v2 that is unplugged "
        "and plugged back in (app.soak.sensor), read by the app's KinectSource",
    )  # fmt: skip
    parser.add_argument(
        "--unplug-every", type=float, default=UNPLUG_EVERY / 60.0, metavar="MINUTES",
        help=f"with --sensor: minutes of the source between disconnects (default {UNPLUG_EVERY / 60:g})",
    )  # fmt: skip
    parser.add_argument(
        "--outage", type=float, default=OUTAGE, metavar="SECONDS",
        help=f"with --sensor: seconds of the source it stays unplugged (default {OUTAGE:g})",
    )  # fmt: skip
    add_pose_option(parser)
    add_json_file_option(parser, "the report")
    return parser


def default_clips() -> list[str]:
    """The demo clip where it is built, else the 'synthetic' source."""
    from sta_hands.recordings.sources import demo_clip_path

    try:
        demo_clip_path()
    except UserError:
        return ["synthetic"]
    return ["demo"]


def main(argv: Sequence[str] | None = None, out: Callable[[str], None] = print) -> int:
    """0, or 1 when the run hit errors."""
    args = build_parser().parse_args(argv)
    from sta_hands.app.runtime import default_model_folder

    model = args.model or default_model_folder()
    for name, value in (("--speed", args.speed), ("--unplug-every", args.unplug_every)):
        if not value > 0:  # NaN included
            raise UserError(f"{name} {value}: expected a positive number")
    sensor = SensorPlan(args.unplug_every * 60.0, args.outage) if args.sensor else None
    report = run_soak(
        args.minutes, model, args.clips or default_clips(), args.gui,
        provider=args.provider, speed=args.speed, sensor=sensor, pose=args.pose,
    )  # fmt: skip
    write_json_file(args.json, report)
    out(format_report(report))
    return 1 if report["errors"] else 0


if __name__ == "__main__":
    try:
        sys.exit(main())
    except (UserError, RecordingError, OSError) as error:
        print(f"soak: {error}", file=sys.stderr)
        sys.exit(2)
