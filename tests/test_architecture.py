"""The house rules of docs/architecture.md, checked on the code as it is: each floor imports only the floors
below it, everything is imported by its one distinct name (`sta_hands.*`), no two files import each other
(directly or round a loop), no module is over 400 lines, no code outside the readers asks a reader's class
what it is, no folder holds a family of modules that share a prefix, and every package installs."""

from __future__ import annotations

import ast
import re
import tomllib
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
ROOT = "sta_hands"
TOPS = ("contract", "recordings", "models", "app", "export", "teach", "commands")
# floor -> the floors it may import (docs/architecture.md); the longest matching name decides
FLOORS: dict[str, set[str]] = {
    "contract": set(),
    "recordings": {"contract"},
    "models": {"contract", "recordings"},
    "app": {"contract", "recordings", "teach.gui", "teach.examples_folder"},
    "teach.examples_folder": {"contract", "recordings"},
    "teach.gui": {"contract", "recordings", "app", "teach.examples_folder"},
    "export": {"contract", "recordings", "models", "app"},
    "teach": {"contract", "recordings", "models", "app", "export", "teach.gui", "teach.examples_folder"},
    "commands": {"contract", "recordings", "models", "app", "export", "teach", "teach.gui",
                 "teach.examples_folder"},
}
COMMAND_NAMES = "commands"  # its modules are named after the subcommands, families included
MAX_LINES = 400


def modules() -> dict[str, Path]:
    found = {}
    for top in TOPS:
        for path in sorted((REPO / top).rglob("*.py")):
            name = ".".join(path.relative_to(REPO).with_suffix("").parts)
            found[name.removesuffix(".__init__")] = path
    return found


def floor(name: str) -> str:
    return max((f for f in FLOORS if name == f or name.startswith(f + ".")), key=len)


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


def ours(module: str) -> str | None:
    """`module` without the `sta_hands.` prefix when it is ours, else None."""
    return module.removeprefix(ROOT + ".") if module.startswith(ROOT + ".") else None


def test_floors_import_only_downward() -> None:
    wrong = []
    for name, path in modules().items():
        here = floor(name)
        for line, module in imports(path):
            target = ours(module)
            if target is None:
                continue
            there = floor(target)
            if there != here and there not in FLOORS[here]:
                wrong.append(f"{path.relative_to(REPO)}:{line} ({here}) imports {module} ({there})")
    assert not wrong, "\n".join(sorted(set(wrong)))


def test_everything_is_imported_by_its_distinct_name() -> None:
    """`import app` would be whatever `app` comes first on sys.path: another project's, or this folder twice
    under two names (so two copies of each class)."""
    bare = []
    for folder in (*TOPS, "tests", "scripts"):
        for path in sorted((REPO / folder).rglob("*.py")):
            for line, module in imports(path):
                if module.split(".")[0] in TOPS:
                    bare.append(f"{path.relative_to(REPO)}:{line} imports {module}")
    assert not bare, "\n".join(sorted(set(bare)))


def test_no_import_cycle_between_files() -> None:
    found = modules()
    graph = {name: {t for _, m in imports(path) if (t := ours(m)) in found and t != name}
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


def test_no_module_is_over_400_lines() -> None:
    long = {str(path.relative_to(REPO)): n for path in modules().values()
            if (n := len(path.read_text(encoding="utf-8").splitlines())) > MAX_LINES}  # fmt: skip
    assert not long, long


def reader_classes() -> dict[str, str]:
    """Every class that is a `Reader` (directly or through another), and the module that defines it."""
    bases: dict[str, tuple[str, set[str]]] = {}
    for name, path in modules().items():
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.ClassDef):
                names = {b.id if isinstance(b, ast.Name) else getattr(b, "attr", "") for b in node.bases}
                bases[node.name] = (name, names)
    readers = {"Reader": bases["Reader"][0]}
    while grown := {c: m for c, (m, b) in bases.items() if c not in readers and b & set(readers)}:
        readers.update(grown)
    return readers


def test_no_code_outside_the_readers_asks_a_readers_class() -> None:
    """A source says what it is (`Reader.nature`); `isinstance(x, NtuClip)` elsewhere would decide it
    behind the reader's back, and a new source would silently fall in the wrong branch."""
    readers = reader_classes()
    reader_modules = set(readers.values())
    asked = []
    for name, path in modules().items():
        if name in reader_modules:
            continue
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Call) and getattr(node.func, "id", "") == "isinstance":
                kinds = node.args[1].elts if isinstance(node.args[1], ast.Tuple) else [node.args[1]]
                named = {getattr(k, "id", getattr(k, "attr", "")) for k in kinds} & set(readers)
                if named:
                    where = f"{path.relative_to(REPO)}:{node.lineno}"
                    asked.append(f"{where} isinstance(..., {', '.join(sorted(named))})")
    assert len(readers) >= 8, sorted(readers)  # the check sees the readers at all
    assert not asked, "\n".join(asked)


def test_no_folder_holds_a_family_of_prefixed_modules() -> None:
    """Three modules named `xef_*` in one folder are a subpackage waiting to be made."""
    families = []
    for top in TOPS:
        if top == COMMAND_NAMES:
            continue
        for folder in [REPO / top, *(p.parent for p in (REPO / top).rglob("*/__init__.py"))]:
            prefixes = Counter(re.split(r"_", p.stem)[0] for p in folder.glob("*.py") if p.stem != "__init__")
            where = folder.relative_to(REPO)
            families += [f"{where}/{prefix}_*: {n}" for prefix, n in prefixes.items() if n >= 3]
    assert not families, families


def test_every_package_installs() -> None:
    setup = tomllib.loads((REPO / "pyproject.toml").read_text(encoding="utf-8"))["tool"]["setuptools"]
    listed = set(setup["packages"])
    folders = {f"{ROOT}." + ".".join(init.parent.relative_to(REPO).parts)
               for top in TOPS for init in (REPO / top).rglob("__init__.py")}  # fmt: skip
    assert folders == listed, (sorted(folders - listed), sorted(listed - folders))
    assert setup["package-dir"] == {f"{ROOT}.{top}": top for top in TOPS}
