"""The `sta-hands` command: one entry point, one module per subcommand (`commands.<name>`).

Library code never exits or prints errors; this module turns the project's errors into one line
on stderr and a non-zero exit code (`--debug` shows the traceback). The subcommand modules import
their library code only when they run, so building the parser stays fast and torch-free.
"""

from __future__ import annotations

import argparse
import logging
import sys
from collections.abc import Sequence

from sta_hands.commands import (
    ablate,
    bench,
    convert,
    demo,
    evaluate,
    export,
    features,
    info,
    run,
    synth,
    teach,
    train,
)
from sta_hands.contract.errors import UserError

EXIT_USER_ERROR = 2
SUBCOMMANDS = (demo, run, info, synth, convert, features, train, ablate, export, evaluate, teach, bench)
log = logging.getLogger("sta-hands")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="sta-hands",
        description="Live, explainable action recognition from a Kinect v2 "
        "(Baradel et al. 2017: pose-based attention draws focus to hands).",
    )
    parser.add_argument("--debug", action="store_true", help="show tracebacks and debug logs")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    for command in SUBCOMMANDS:
        command.add_parser(sub)
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
