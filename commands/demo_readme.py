"""`python -m sta_hands.commands.demo_readme REPORT.json`: README's figures for the demo model from an
evaluation report (`export.demo_readme.readme_figures`), printed as README shows them."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from sta_hands.export.demo_readme import readme_figures


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m sta_hands.commands.demo_readme", description="README's figures for the demo model."
    )
    parser.add_argument("report", help="an evaluation report (sta-hands evaluate --json)")
    args = parser.parse_args(argv)
    print(readme_figures(json.loads(Path(args.report).read_text(encoding="utf-8"))))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
