"""`sta-hands info PATH`: what a clip or recording holds, and which model `run` would use on it."""

from __future__ import annotations

import argparse
import json

from sta_hands.commands.options import add_body_options


def run(args: argparse.Namespace) -> int:
    from sta_hands.app.model_choice import default_model_line
    from sta_hands.recordings.info import describe, format_info

    info = describe(args.path, pose=args.pose, mirror=args.mirror)
    info["model"] = default_model_line(args.path, pose=args.pose, mirror=args.mirror)
    print(json.dumps(info, indent=2) if args.json else f"{format_info(info)}\n  model:   {info['model']}")
    return 0


def add_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("info", help="what a clip or recording holds: name, class, frames, bodies, video")
    p.add_argument(
        "path", help="an NTU .skeleton or _rgb.avi, a recording (.jsonl/.skeleton/_rgb.avi), a video"
    )
    p.add_argument("--json", action="store_true", help="one JSON object instead of text")
    add_body_options(p)
    p.set_defaults(func=run)
