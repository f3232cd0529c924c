"""The `sta-hands` command: one entry point, one thin function per subcommand.

Library code never exits or prints errors; this module turns the project's errors into one line
on stderr and a non-zero exit code (`--debug` shows the traceback).
"""

from __future__ import annotations

import argparse
import json
import logging
import math
import os
import sys
from collections.abc import Callable, Sequence
from pathlib import Path

from recordings.errors import UserError

EXIT_USER_ERROR = 2
log = logging.getLogger("sta-hands")


def cmd_info(args: argparse.Namespace) -> int:
    from app.model_choice import default_model_line
    from recordings.info import describe, format_info

    info = describe(args.path, pose=args.pose, mirror=args.mirror)
    info["model"] = default_model_line(args.path, pose=args.pose, mirror=args.mirror)
    print(json.dumps(info, indent=2) if args.json else f"{format_info(info)}\n  model:   {info['model']}")
    return 0


def cmd_synth(args: argparse.Namespace) -> int:
    from recordings.synthetic import generate_dataset

    stems = generate_dataset(
        Path(args.out), args.clips, args.seed, workers=args.workers, progress=True, idle_hand=args.idle_hand
    )
    print(f"wrote {len(stems)} clips to {args.out}")
    return 0


def display_available() -> bool:
    """False on a Linux machine with no screen, where Qt would abort instead of opening a window."""
    if not sys.platform.startswith("linux"):
        return True
    return any(os.environ.get(name) for name in ("DISPLAY", "WAYLAND_DISPLAY", "QT_QPA_PLATFORM"))


def _open_model(args: argparse.Namespace, source=None):
    """`--model`, else the default for `source` (`app.model_choice`: the demo model for synthetic clips, the
    pretrained pose model for real sources)."""
    from app.model_choice import default_model_folder_for, open_model

    return open_model(args.model or default_model_folder_for(source), provider=args.provider)


def check_replay_options(args: argparse.Namespace) -> None:
    """--speed above 0 (it divides the recorded times) and --still-crops 0 or more, both finite."""
    if not (math.isfinite(args.speed) and args.speed > 0):
        raise UserError(f"--speed {args.speed:g}: expected a finite number above 0 (1 is the recorded pace)")
    still = args.still_crops
    if still is not None and not (math.isfinite(still) and still >= 0):
        raise UserError(f"--still-crops {still:g}: expected a finite number of grey levels, 0 or more")


def cmd_run(args: argparse.Namespace) -> int:
    from app.headless import prediction_line, run_headless, summary_json
    from recordings.sources import open_reader
    from recordings.webcam import parse_size

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
        from app.gui.launch import launch_gui

        return launch_gui(args.source, model_folder=args.model, provider=args.provider, source=source)
    model = _open_model(args, source)
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


def cmd_demo(args: argparse.Namespace) -> int:
    args.source, args.data, args.seed, args.model, args.pose = "demo", None, 0, None, "kinect"
    args.mirror = "auto"
    args.realtime = args.realtime or not args.headless
    return cmd_run(args)


def _add_demo(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("demo", help="the app on the bundled demo model and clip (synthetic; see README)")
    p.add_argument("--headless", action="store_true", help="no window: one line per prediction")
    p.add_argument("--json", action="store_true", help="with --headless: JSON lines and a JSON summary")
    p.add_argument("--realtime", action="store_true", help="with --headless: replay at the recorded pace")
    p.add_argument("--speed", type=float, default=1.0, help="replay speed (default 1)")
    _add_still_option(p)
    p.add_argument(
        "--provider", choices=["cpu", "cuda", "tensorrt", "directml"], help="force an execution provider"
    )
    p.set_defaults(func=cmd_demo)


def _add_model_options(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--model",
        help="model folder (two-stream: glimpse.onnx + head.onnx; pose only: pose_model.onnx); default: the "
        "bundled demo for the demo and synthetic clips, the pretrained pose model for real sources",
    )
    p.add_argument(
        "--provider", choices=["cpu", "cuda", "tensorrt", "directml"], help="force an execution provider"
    )


def _add_still_option(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--still-crops", type=float, metavar="GREY",
        help="with --headless: a still hand's crop reuses its features while it differs from the last "
        "computed one by at most GREY grey levels; 0 computes every crop (default: 3, measured not to move "
        "predictions, for a camera or Kinect; 0 for a file, so a replay's predictions never depend on "
        "where it started)",
    )  # fmt: skip


def _add_pose_option(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--pose", choices=["auto", "kinect", "estimate"], default="auto",
        help="where the bodies come from: auto (the recorded skeleton, else estimated from the image; "
        "default), kinect (recorded only), estimate (always estimated, to compare)",
    )  # fmt: skip
    p.add_argument(
        "--mirror", choices=["auto", "yes", "no"], default="auto",
        help="flip the images left-right as read, so sides follow the Kinect's mirror image: auto (the "
        "webcam and videos not named NAME_rgb.avi; default), yes (any source), no (none)",
    )  # fmt: skip


def _add_run(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("run", help="recognise actions in a clip, a recording, a video, a camera or the demo")
    p.add_argument(
        "source",
        help="a path (a clip, a recording, any .mp4/.mov/.mkv/.avi video), an NTU sample name, "
        "'demo', 'synthetic', 'kinect' or 'webcam[:N]'",
    )
    p.add_argument("--headless", action="store_true", help="no window: one line per prediction")
    p.add_argument("--json", action="store_true", help="with --headless: JSON lines and a JSON summary")
    p.add_argument("--realtime", action="store_true", help="replay at the recorded timestamps")
    p.add_argument("--speed", type=float, default=1.0, help="replay speed with --realtime (default 1)")
    p.add_argument("--data", help="folder of NTU clips, for a sample name (default $STA_HANDS_NTU_ROOT or .)")
    p.add_argument("--seed", type=int, default=0, help="seed of the 'synthetic' source")
    p.add_argument(
        "--size", metavar="WxH", help="with webcam: the resolution to ask the camera for, e.g. 640x480"
    )
    _add_pose_option(p)
    _add_model_options(p)
    _add_still_option(p)
    p.set_defaults(func=cmd_run)


def cmd_bench(args: argparse.Namespace) -> int:
    if args.soak is not None:  # the long run: memory and latency over time (torch-free)
        from app.soak import main as soak_main

        return soak_main(["--minutes", str(args.soak), *(["--json", args.json] if args.json else [])])
    from export.bench import format_report, run_bench

    try:
        backbones = tuple((name, int(size)) for name, size in (item.split("@") for item in args.backbones))
    except ValueError:
        raise UserError(
            f"--backbones takes NAME@SIZE items, e.g. efficientnet_lite0@224; got {args.backbones}"
        ) from None
    report = run_bench(backbones, min_seconds=args.seconds)
    if args.json:
        Path(args.json).write_text(json.dumps(report, indent=2) + "\n", encoding="utf-8")
    print(format_report(report))
    return 0


def _add_bench(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("bench", help="measure speed here: glimpse CNN, head, streaming, end to end")
    p.add_argument("--json", metavar="FILE", help="also write the full report as JSON")
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
    p.set_defaults(func=cmd_bench)


def cmd_convert(args: argparse.Namespace) -> int:
    from recordings.xef import convert_xef

    stem = convert_xef(args.path, Path(args.out), overwrite=args.overwrite)
    print(f"wrote {stem}.skeleton, {stem.name}_rgb.avi and {stem.name}.jsonl")
    return 0


def _add_convert(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("convert", help="a Kinect Studio .xef file to the app's own (NTU-layout) recording")
    p.add_argument("path", help="the .xef file")
    p.add_argument("out", help="output stem, e.g. recordings/S001C001P001R001A001")
    p.add_argument("--overwrite", action="store_true", help="replace an existing recording of that name")
    p.set_defaults(func=cmd_convert)


def _add_info(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("info", help="what a clip or recording holds: name, class, frames, bodies, video")
    p.add_argument(
        "path", help="an NTU .skeleton or _rgb.avi, a recording (.jsonl/.skeleton/_rgb.avi), a video"
    )
    p.add_argument("--json", action="store_true", help="one JSON object instead of text")
    _add_pose_option(p)
    p.set_defaults(func=cmd_info)


def _add_synth(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("synth", help="write synthetic clips in the NTU layout (tests, demo, benchmarks)")
    p.add_argument("out", help="output folder")
    p.add_argument("--clips", type=int, default=20, help="number of clips (default 20)")
    p.add_argument("--seed", type=int, default=0, help="random seed; the same seed gives identical files")
    p.add_argument("--workers", type=int, default=2, help="parallel processes (default 2)")
    p.add_argument(
        "--idle-hand",
        choices=("rest", "busy", "mixed"),
        default="rest",
        help="busy: in one-hand actions the other hand scratches or gestures meanwhile, as fast as the"
        " acting one (the harder case for attention); mixed: every other clip busy (default: it rests)",
    )
    p.set_defaults(func=cmd_synth)


def _add_training(sub: argparse._SubParsersAction) -> None:
    """features, train, evaluate, ablate: from models.commands (torch is imported only when they run)."""
    from models.commands import add_subcommands

    add_subcommands(sub)


def _add_export(sub: argparse._SubParsersAction) -> None:
    """export: from export.commands (torch is imported only when it runs)."""
    from export.commands import add_subcommands

    add_subcommands(sub)


SUBCOMMANDS: tuple[Callable[[argparse._SubParsersAction], None], ...] = (
    _add_demo,
    _add_run,
    _add_info,
    _add_synth,
    _add_convert,
    _add_training,
    _add_export,
    _add_bench,
)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="sta-hands",
        description="Live, explainable action recognition from a Kinect v2 "
        "(Baradel et al. 2017: pose-based attention draws focus to hands).",
    )
    parser.add_argument("--debug", action="store_true", help="show tracebacks and debug logs")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    for add in SUBCOMMANDS:
        add(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    logging.basicConfig(
        level=logging.DEBUG if args.debug else logging.WARNING, format="%(levelname)s %(name)s: %(message)s"
    )
    try:
        return args.func(args)
    except (UserError, OSError) as error:  # RecordingError, ModelError, ... are UserErrors
        if args.debug:
            raise
        print(f"sta-hands {args.command}: {error}", file=sys.stderr)
        return EXIT_USER_ERROR
    except KeyboardInterrupt:
        print(f"sta-hands {args.command}: interrupted", file=sys.stderr)
        return 130
    except Exception as error:  # the last resort: still one line, the traceback only with --debug
        if args.debug:
            raise
        print(
            f"sta-hands {args.command}: {type(error).__name__}: {error} (--debug shows where)",
            file=sys.stderr,
        )
        return 1
