"""`python -m sta_hands.commands.screenshot OUT.png [--source S] [--model M] [--seconds N] [--size WxH]`: the
real window on a source, saved as a PNG (`app.gui.screenshot`); README's screenshot, under Xvfb:
`xvfb-run -s "-screen 0 1920x1080x24" python -m sta_hands.commands.screenshot docs/screenshot.png`."""

from __future__ import annotations

import argparse

from sta_hands.app.gui.screenshot import take_screenshot
from sta_hands.commands.options import add_model_folder_option, add_window_size_option


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m sta_hands.commands.screenshot",
        description="The real window on a source, saved as a PNG.",
    )
    parser.add_argument("out", help="PNG file to write")
    parser.add_argument("--source", default="demo", help="what to open (default: the demo clip)")
    add_model_folder_option(parser)
    parser.add_argument("--seconds", type=float, default=1.2, help="play this long before the shot")
    add_window_size_option(parser, "1280x720")
    parser.add_argument("--explain", action="store_true", help="shoot the explain dialog instead")
    args = parser.parse_args(argv)
    ok = take_screenshot(args.out, args.source, args.model, args.seconds, args.size, explain=args.explain)
    print(f"wrote {args.out}" if ok else f"could not write {args.out}")
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
