"""The status of a long command on stderr: on a terminal one line rewritten in place (``[refimpl law 3.2s] 4 of 9
settings``); elsewhere (a CI log, a notebook cell, a file) or with ``--progress``, a plain line per stage, and per
step at most every few seconds; nothing with ``--quiet``.  stdout (the tables, ``--json``) never receives any of it.

Nothing is shown in a command's first second (:attr:`Status.DELAY`): a quick command, and every error found while
setting up, stays one line on stderr; a stage still running then is shown at that moment (a timer thread).
"""
import sys
import threading
import time


class Status:
    """``status(message)`` reports a stage; ``status(message, detail=True)`` a step within one (throttled);
    ``status.close()`` ends the terminal line.  ``mode``: "line" (rewritten in place), "plain" or "off"."""

    PLAIN_DETAIL_EVERY = 5.0  # seconds between two plain detail lines
    LINE_EVERY = 0.1
    DELAY = 1.0  # seconds before the first line

    def __init__(self, command, mode, stream=None):
        if mode not in ("line", "plain", "off"):
            raise ValueError(f"mode must be line, plain or off, got {mode!r}")
        self.command, self.mode = command, mode
        self.stream = sys.stderr if stream is None else stream
        self.start = time.perf_counter()
        self._last = float("-inf")
        self._open = False
        self._pending = None  # a message not shown yet (before DELAY)
        self._lock = threading.Lock()
        self._timer = None

    @classmethod
    def for_arguments(cls, command, args, stream=None):
        """The convention of every command: ``--quiet`` off, ``--progress`` plain, else by whether stderr is a
        terminal (line) or not (plain)."""
        stream = sys.stderr if stream is None else stream
        if getattr(args, "quiet", False):
            return cls(command, "off", stream)
        if getattr(args, "progress", False):
            return cls(command, "plain", stream)
        return cls(command, "line" if _is_terminal(stream) else "plain", stream)

    def __call__(self, message, detail=False):
        if self.mode == "off":
            return
        with self._lock:
            now = time.perf_counter()
            if now - self.start < self.DELAY:
                self._pending = message
                if self._timer is None:
                    self._timer = threading.Timer(self.DELAY - (now - self.start), self._show_pending)
                    self._timer.daemon = True
                    self._timer.start()
                return
            every = self.LINE_EVERY if self.mode == "line" else self.PLAIN_DETAIL_EVERY
            if detail and now - self._last < every:
                self._pending = message
                return
            self._write(message, now)

    def _show_pending(self):
        with self._lock:
            if self._pending is not None and self._timer is not None:
                self._write(self._pending, time.perf_counter())

    def _write(self, message, now):
        self._pending, self._last = None, now
        text = f"[refimpl {self.command} {now - self.start:5.1f}s] {message}"
        if self.mode == "line":
            self.stream.write(f"\r{text:<79}")
            self._open = True
        else:
            self.stream.write(text + "\n")
        self.stream.flush()

    def close(self):
        """Stop the timer and end the rewritten line (so that what follows starts on its own line)."""
        with self._lock:
            if self._timer is not None:
                self._timer.cancel()
                self._timer = None
            if self._open:
                self.stream.write("\n")
                self.stream.flush()
                self._open = False


def _is_terminal(stream):
    try:
        return stream.isatty()
    except (AttributeError, ValueError):
        return False
