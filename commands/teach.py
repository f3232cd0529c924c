"""`sta-hands teach EXAMPLES --out MODEL`: a model taught the user's own actions from a few examples.

Its options are the contract with the GUI's Teach panel, which runs it as a child process
(`teach.gui.process`).
"""

from __future__ import annotations

import argparse


def run(args: argparse.Namespace) -> int:
    from sta_hands.teach.teaching import run_teach

    return run_teach(args)


def add_parser(sub: argparse._SubParsersAction) -> None:
    """`sta-hands teach`: its options are the contract with the GUI's Teach panel (`teach.teaching`)."""
    p = sub.add_parser("teach", help="teach a model your own actions from a few examples (a minute on a CPU)")
    p.add_argument(
        "examples", help="folder of examples: recordings with an 'action' in their sidecar, or NTU clips"
    )
    p.add_argument(
        "--out", required=True, help="model folder to write (replaced only once the new one is whole)"
    )
    p.add_argument(
        "--base", help="model whose glimpse CNN and pose/attention weights to start from (default: demo)"
    )
    p.add_argument(
        "--seconds-budget", type=float, help="stop training early to finish in about this many seconds"
    )
    p.add_argument(
        "--json", metavar="FILE", help="write classes, examples per class, seconds, validation accuracy"
    )
    p.add_argument(
        "--progress-jsonl", action="store_true", help="progress as JSON lines on stdout (for the GUI)"
    )
    p.add_argument("--tiny", action="store_true", help="the smallest settings (tests)")
    p.add_argument("--cache", help="feature cache folder (default: ~/.cache/sta-hands/teach)")
    p.add_argument(
        "--pose-stream",
        choices=["shift-gcn", "deep-gru"],
        help="shift-gcn: a head taught on the frozen bundled Shift-GCN (the default where it is bundled); "
        "deep-gru: the paper's pose stream, taught with the RGB stream",
    )
    p.set_defaults(func=run)
