"""Waiting in a test for something another thread does (a camera reopened, frames arriving)."""

from __future__ import annotations

import time
from collections.abc import Callable


def until(condition: Callable[[], object], seconds: float = 5.0, every: float = 0.005) -> bool:
    """Whether `condition()` became true within `seconds`, checked every `every` s."""
    deadline = time.monotonic() + seconds
    while not condition():
        if time.monotonic() > deadline:
            return False
        time.sleep(every)
    return True
