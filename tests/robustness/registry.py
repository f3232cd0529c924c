"""The table of bad inputs: each test module declares its cases here, and docs/bad-input.md is made from them.

A module makes one `Cases` table per area (``READERS = Cases("Readers", "...")``), adds a
`BadInput` per case (``READERS.add("id", "the bad input", "what the app does")``) and marks the
tests that check it: `Cases.parametrize` runs one test over several cases (the case is its argument
and its id), `Cases.covers` names the cases a single test checks. `scripts/bad_input_table.py`
imports the modules and writes every table, with the tests that check each row.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, TypeVar

import pytest

F = TypeVar("F", bound=Callable[..., Any])


@dataclass(frozen=True, eq=False)
class BadInput:
    """One bad input and what the app does with it; `data` is whatever the test needs to make it."""

    id: str
    bad: str
    outcome: str
    data: Any = None
    slow: bool = False  # runs under `@pytest.mark.slow`
    tests: list[str] = field(default_factory=list)  # the tests that check it (filled by the decorators)


class Cases:
    """The bad inputs of one area, in the order they were added."""

    def __init__(self, area: str, intro: str = "") -> None:
        self.area = area
        self.intro = intro
        self.cases: list[BadInput] = []
        TABLES.append(self)

    def add(self, id: str, bad: str, outcome: str, data: Any = None, *, slow: bool = False) -> BadInput:
        if any(case.id == id for case in self.cases):
            raise ValueError(f"{self.area}: two cases named {id!r}")
        case = BadInput(id, bad, outcome, data, slow)
        self.cases.append(case)
        return case

    def __getitem__(self, id: str) -> BadInput:
        for case in self.cases:
            if case.id == id:
                return case
        raise KeyError(id)

    def select(self, *ids: str) -> list[BadInput]:
        return [self[id] for id in ids]

    def parametrize(self, cases: list[BadInput] | None = None, name: str = "case") -> Callable[[F], F]:
        """`pytest.mark.parametrize(name, cases)` with the case ids, recording the test on each case."""
        chosen = list(self.cases if cases is None else cases)

        def mark(test: F) -> F:
            for case in chosen:
                case.tests.append(test.__name__)
            params = [
                pytest.param(case, id=case.id, marks=[pytest.mark.slow] if case.slow else [])
                for case in chosen
            ]
            return pytest.mark.parametrize(name, params)(test)

        return mark

    def covers(self, *ids: str) -> Callable[[F], F]:
        """Records that the decorated test checks the cases `ids`."""
        chosen = self.select(*ids)

        def mark(test: F) -> F:
            for case in chosen:
                case.tests.append(test.__name__)
            return test

        return mark


TABLES: list[Cases] = []
