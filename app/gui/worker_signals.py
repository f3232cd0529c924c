"""Emitting a Qt signal from a worker thread: Qt queues it to the thread its owner lives in; an owner
deleted meanwhile (the window closed while a worker finished) drops the result instead of raising."""

from __future__ import annotations

import logging
from typing import Any

from PyQt5.QtCore import QObject

log = logging.getLogger(__name__)


def post(owner: QObject, signal: Any, *args: Any) -> None:
    """From any thread: emit `signal` (a class attribute of `owner`'s class) of `owner` with `args`.

    The signal is bound here, inside the guard: a deleted owner raises on binding as on emitting."""
    try:
        signal.__get__(owner, type(owner)).emit(*args)
    except RuntimeError:  # the owner was deleted (window closed) while a worker finished
        log.debug("dropped a worker's result: %s is gone", type(owner).__name__)
