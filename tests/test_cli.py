"""The command line: one entry point, every subcommand with its help, errors as one line."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from sta_hands.commands.cli import build_parser, main
from tests.conftest import REPO

COMMANDS = (
    "demo",
    "run",
    "info",
    "synth",
    "features",
    "train",
    "evaluate",
    "ablate",
    "export",
    "bench",
    "teach",
    "convert",
)


def test_help_lists_every_subcommand(capsys) -> None:
    with pytest.raises(SystemExit) as done:
        main(["--help"])
    assert done.value.code == 0
    text = capsys.readouterr().out
    for command in COMMANDS:
        assert command in text


@pytest.mark.parametrize("command", COMMANDS)
def test_every_subcommand_has_help(command: str, capsys) -> None:
    with pytest.raises(SystemExit) as done:
        build_parser().parse_args([command, "--help"])
    assert done.value.code == 0
    assert "usage: sta-hands " + command in capsys.readouterr().out


def test_building_the_command_line_does_not_import_torch() -> None:
    code = (
        "import sys; from sta_hands.commands.cli import build_parser; build_parser(); "
        "print('torch' in sys.modules)"
    )
    done = subprocess.run([sys.executable, "-c", code], cwd=REPO, capture_output=True, text=True, check=True)
    assert done.stdout.strip() == "False"


def test_python_dash_m_commands_runs(tmp_path) -> None:
    done = subprocess.run(
        [sys.executable, "-m", "sta_hands.commands", "info", str(tmp_path)],
        cwd=REPO,
        capture_output=True,
        text=True,
    )
    assert done.returncode == 2
    assert done.stderr.count("\n") == 1 and "a folder" in done.stderr


def test_demo_without_a_display_runs_headless(tmp_path) -> None:
    """README's first command on a machine with no screen: predictions on stdout, no Qt abort."""
    hidden = ("DISPLAY", "WAYLAND_DISPLAY", "QT_QPA_PLATFORM")
    env = {name: value for name, value in os.environ.items() if name not in hidden}
    done = subprocess.run(
        [sys.executable, "-m", "sta_hands.commands", "demo"],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    assert "running headless" in done.stderr
    assert "frames read" in done.stdout and "give object" in done.stdout
