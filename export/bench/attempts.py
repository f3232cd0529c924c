"""One failing sub-measurement of `sta-hands bench` is recorded and the run goes on (issue 23).

A run takes minutes and dozens of figures; a child process that hangs, an engine that is missing or a
file that will not export must cost its own figure only. `attempt` runs one measurement: what it returns,
or `{"error": "Type: message"}` in its place, the same line also kept in the run's `errors` under the
figure's name, so the JSON says what failed and why beside everything that was measured.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

log = logging.getLogger(__name__)
ERROR_KEY = "error"


def attempt(
    errors: dict[str, str], figure: str, measure: Callable[..., Any], *args: Any, **kwargs: Any
) -> Any:
    """`measure(*args, **kwargs)`, or `{"error": ...}` (also recorded as `errors[figure]`) when it raises.
    Ctrl+C and exits still stop the run (only `Exception`s are kept)."""
    try:
        return measure(*args, **kwargs)
    except Exception as error:
        text = f"{type(error).__name__}: {' '.join(str(error).split())}"[:1000]
        log.warning("bench: %s not measured: %s", figure, text)
        errors[figure] = text
        return {ERROR_KEY: text}


def failed(value: object) -> bool:
    """Whether `value` is what `attempt` put in place of a figure that failed."""
    return isinstance(value, dict) and ERROR_KEY in value


def not_measured(value: object) -> str:
    """The words a text report shows for a figure that failed."""
    return f"not measured ({value[ERROR_KEY]})" if failed(value) else "not measured"  # type: ignore[index]
