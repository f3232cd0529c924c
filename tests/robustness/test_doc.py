"""docs/bad-input.md is generated from the case tables, and every case is checked by some test."""

from __future__ import annotations

import importlib.util
from pathlib import Path
from types import ModuleType

REPO = Path(__file__).resolve().parents[2]


def generator() -> ModuleType:
    spec = importlib.util.spec_from_file_location("bad_input_table", REPO / "scripts" / "bad_input_table.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_every_case_is_checked_by_a_test() -> None:
    tables = generator().collect()
    assert len(tables) >= 8
    unchecked = [f"{table.area}: {case.id}" for table in tables for case in table.cases if not case.tests]
    assert not unchecked


def test_the_committed_doc_is_what_the_generator_writes() -> None:
    script = generator()
    expected = script.render(script.collect())
    assert script.DOC.read_text(encoding="utf-8") == expected, "run: python scripts/bad_input_table.py"
