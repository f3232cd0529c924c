"""`sta-hands run SOURCE`: recognise actions in a clip, a recording, a video, a camera or the demo."""

from __future__ import annotations

import argparse
import math
import os
import sys

from sta_hands.commands.options import (
    add_body_options,
    add_headless_options,
    add_model_folder_option,
    add_provider_option,
    add_seed_option,
    add_still_option,
)
from sta_hands.contract.errors import UserError
from sta_hands.recordings.sources import size_help, source_help


def display_available() -> bool:
    """False on a Linux machine with no screen, where Qt would abort instead of opening a window."""
    if not sys.platform.startswith("linux"):
        return True
    return any(os.environ.get(name) for name in ("DISPLAY", "WAYLAND_DISPLAY", "QT_QPA_PLATFORM"))


def open_model_for(args: argparse.Namespace, source=None):
    """`--model`, else the default for `source` (`app.model_choice`: the demo model for synthetic clips, the
    pretrained pose model for real sources)."""
    from sta_hands.app.model_choice import default_model_folder_for, open_model

    return open_model(args.model or default_model_folder_for(source), provider=args.provider)


def check_replay_options(args: argparse.Namespace) -> None:
    """--speed above 0 (it divides the recorded times) and --still-crops 0 or more, both finite."""
    if not (math.isfinite(args.speed) and args.speed > 0):
        raise UserError(f"--speed {args.speed:g}: expected a finite number above 0 (1 is the recorded pace)")
    still = args.still_crops
    if still is not None and not (math.isfinite(still) and still >= 0):
        raise UserError(f"--still-crops {still:g}: expected a finite number of grey levels, 0 or more")


def run(args: argparse.Namespace) -> int:
    from sta_hands.app.headless import prediction_line, run_headless, summary_json
    from sta_hands.recordings.camera.webcam import parse_size
    from sta_hands.recordings.sources import open_reader

    check_replay_options(args)
    size = parse_size(args.size) if getattr(args, "size", None) else None
    source = open_reader(
        args.source, args.data, seed=args.seed, pose=args.pose, camera_size=size, mirror=args.mirror
    )
    if not args.headless and not display_available():
        print("sta-hands: no display ($DISPLAY is not set): running headless; for the window use a desktop "
              "session or xvfb-run", file=sys.stderr)  # fmt: skip
        args.headless = True
    if not args.headless:
        from sta_hands.app.gui.launch import launch_gui

        return launch_gui(args.source, model_folder=args.model, provider=args.provider, source=source)
    model = open_model_for(args, source)
    summary = run_headless(
        source,
        model,
        lambda p: print(prediction_line(p, args.json, model), flush=True),
        realtime=args.realtime,
        speed=args.speed,
        still_threshold=args.still_crops,
    )
    print(summary_json(summary) if args.json else summary.to_text())
    return 0 if summary.error is None else 1


def add_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("run", help="recognise actions in a clip, a recording, a video, a camera or the demo")
    p.add_argument("source", help=source_help())
    add_headless_options(
        p, realtime="replay at the recorded timestamps", speed="replay speed with --realtime (default 1)"
    )
    p.add_argument("--data", help="folder of NTU clips, for a sample name (default $STA_HANDS_NTU_ROOT or .)")
    add_seed_option(p, "the 'synthetic' source")
    p.add_argument("--size", metavar="WxH", help=size_help())
    add_body_options(p)
    add_model_folder_option(p)
    add_provider_option(p)
    add_still_option(p)
    p.set_defaults(func=run)
