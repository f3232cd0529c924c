"""The house rules of docs/architecture.md, checked on the code as it is: packages import only downward,
no two files import each other (directly or round a loop), no module is over 500 lines."""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
PACKAGES = ("recordings", "models", "app", "export", "commands")
ALLOWED = {  # package -> the packages it may import (docs/architecture.md)
    "recordings": set(),
    "models": {"recordings"},
    "app": {"recordings"},
    "export": {"models", "recordings", "app"},
    "commands": {"recordings", "models", "app", "export"},  # the top: the command line, over all
}
MAX_LINES = 500


def modules() -> dict[str, Path]:
    found = {}
    for package in PACKAGES:
        for path in sorted((REPO / package).rglob("*.py")):
            name = ".".join(path.relative_to(REPO).with_suffix("").parts)
            found[name.removesuffix(".__init__")] = path
    return found


def imports(path: Path) -> Iterator[tuple[int, str]]:
    """(line, module) of every absolute import in the file, at any depth (function-local ones too)."""
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            yield node.lineno, node.module
            for alias in node.names:
                yield node.lineno, f"{node.module}.{alias.name}"
        elif isinstance(node, ast.Import):
            for alias in node.names:
                yield node.lineno, alias.name


def test_packages_import_only_downward() -> None:
    wrong = []
    for name, path in modules().items():
        package = name.split(".")[0]
        allowed = ALLOWED[package]
        for line, module in imports(path):
            target = module.split(".")[0]
            if target in PACKAGES and target != package and target not in allowed:
                wrong.append(f"{path.relative_to(REPO)}:{line} imports {module}")
    assert not wrong, "\n".join(sorted(set(wrong)))


def test_no_import_cycle_between_files() -> None:
    found = modules()
    graph = {name: {module for _, module in imports(path) if module in found and module != name}
             for name, path in found.items()}  # fmt: skip
    state: dict[str, int] = {}  # 1 on the current path, 2 done

    def visit(name: str, path: list[str]) -> list[str] | None:
        state[name] = 1
        for target in sorted(graph[name]):
            if state.get(target) == 1:
                return [*path, name, target]
            if target not in state and (loop := visit(target, [*path, name])):
                return loop
        state[name] = 2
        return None

    for name in sorted(graph):
        if name not in state:
            loop = visit(name, [])
            assert loop is None, " -> ".join(loop[loop.index(loop[-1]) :])


def test_no_module_is_over_500_lines() -> None:
    long = {str(path.relative_to(REPO)): n for path in modules().values()
            if (n := len(path.read_text(encoding="utf-8").splitlines())) > MAX_LINES}  # fmt: skip
    assert not long, long
