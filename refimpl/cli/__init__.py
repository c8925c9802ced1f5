"""The ``refimpl`` command line: every command prints a table, or JSON with ``--json``."""
from .main import entry_point, main

__all__ = ["entry_point", "main"]
