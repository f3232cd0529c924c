"""`python -m sta_hands.commands.teach_screenshot OUT_FOLDER [--size WxH] [--tiny]`: the Teach panel before
and after training, as PNGs (`teach.gui.screenshot`); under Xvfb:
``xvfb-run -a -s "-screen 0 1920x1080x24" python -m sta_hands.commands.teach_screenshot docs``."""

from __future__ import annotations

import argparse
from pathlib import Path

from sta_hands.commands.options import add_window_size_option
from sta_hands.teach.gui.screenshot import teach_screenshots


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m sta_hands.commands.teach_screenshot",
        description="The Teach panel before and after training, as PNGs.",
    )
    parser.add_argument("out", help="folder for teach-before.png and teach-after.png")
    add_window_size_option(parser, "1920x1080")
    parser.add_argument("--tiny", action="store_true", help="train with `teach --tiny` (quick, for a check)")
    args = parser.parse_args(argv)
    out = Path(args.out)
    ok = teach_screenshots(out, args.size, args.tiny)
    print(f"wrote {out / 'teach-before.png'} and {out / 'teach-after.png'}" if ok else "failed")
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
