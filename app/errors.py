"""Errors the command line reports as one line (with --debug, the traceback)."""

from __future__ import annotations


class UserError(Exception):
    """Something the user can fix: a wrong path, a missing optional package, a bad option."""
