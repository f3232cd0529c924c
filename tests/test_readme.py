"""README's test command is what CI runs."""

from __future__ import annotations

import re

from tests.conftest import REPO


def _readme_commands() -> list[str]:
    text = (REPO / "README.md").read_text(encoding="utf-8")
    return re.findall(r"```bash\n(.+?)\n```", text)


def test_readme_starts_with_demo_then_test_command() -> None:
    commands = _readme_commands()
    assert "sta-hands demo" in commands[0]
    assert "pytest" in commands[1]


def test_ci_runs_readme_test_command() -> None:
    ci_lines = (REPO / ".ci" / "run").read_text(encoding="utf-8").splitlines()
    assert _readme_commands()[1] in ci_lines
