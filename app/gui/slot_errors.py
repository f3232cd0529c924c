"""An exception that escapes a Qt slot becomes a banner and a log line while the window runs, not an abort.

PyQt5 (5.5 and later) aborts the process (qFatal) when a Python exception escapes a slot or a virtual
method called by Qt, unless `sys.excepthook` has been replaced: then it calls the hook and Qt goes on.
pyqtgraph replaces it on import with one that only prints the traceback, so until this hook an error
in a slot reached neither the window nor the log (and without pyqtgraph it would abort).
`slot_errors_reported` replaces the hook for the time the window runs (`launch_gui`) and puts the
previous one back afterwards; the full traceback goes to the log, one line to the window.
"""

from __future__ import annotations

import contextlib
import logging
import sys
from collections.abc import Callable, Iterator
from types import TracebackType

log = logging.getLogger(__name__)


def unexpected_error_line(error: BaseException) -> str:
    """The line the window shows for an exception no code caught."""
    text = " ".join(str(error).split()) or "(no message)"
    return f"Unexpected error, the app goes on (the log has the details): {type(error).__name__}: {text}"


@contextlib.contextmanager
def slot_errors_reported(show: Callable[[str], None]) -> Iterator[None]:
    """While inside: an exception escaping a slot is logged with its traceback and `show`n in one line
    (the window's banner), and the event loop goes on. Ctrl+C keeps the previous hook's behaviour."""
    previous = sys.excepthook

    def hook(kind: type[BaseException], error: BaseException, traceback: TracebackType | None) -> None:
        if issubclass(kind, KeyboardInterrupt):
            previous(kind, error, traceback)
            return
        log.error("unexpected error in the window: %s", error, exc_info=(kind, error, traceback))
        try:
            show(unexpected_error_line(error))
        except Exception:  # the banner itself failing must not turn into a second abort
            log.exception("could not show the unexpected error in the window")

    sys.excepthook = hook
    try:
        yield
    finally:
        sys.excepthook = previous
