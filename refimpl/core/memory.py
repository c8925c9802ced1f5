"""The memory guard: every enumeration asks here before it allocates.

The limit is, in order of precedence: the innermost ``with refimpl.memory_limit(nbytes):`` block,
the environment variable ``REFIMPL_MEMORY_LIMIT`` (bytes, read at call time), or 4 GiB.
The context manager uses a ``contextvars.ContextVar``, so it is scoped to the block and to the
thread or task that entered it; nothing global is mutated.
"""
import contextlib
import contextvars
import os
from typing import Iterator

from .errors import InvalidParameterError, MemoryLimitError

DEFAULT_MEMORY_LIMIT = 4 * 2**30
ENV_VAR = "REFIMPL_MEMORY_LIMIT"
_limit = contextvars.ContextVar("refimpl_memory_limit", default=None)


def _as_limit(value, origin):
    try:
        nbytes = int(value)
    except (TypeError, ValueError, OverflowError):
        raise InvalidParameterError(f"{origin} must be a whole number of bytes, got {value!r}") from None
    if nbytes <= 0:
        raise InvalidParameterError(f"{origin} must be positive, got {nbytes}")
    return nbytes


def get_memory_limit() -> int:
    """The byte limit in force here (context manager, then environment, then 4 GiB).

    Returns
    -------
    int
        Bytes.

    Examples
    --------
    >>> import refimpl
    >>> with refimpl.memory_limit(2**20):
    ...     refimpl.get_memory_limit()
    1048576
    """
    scoped = _limit.get()
    if scoped is not None:
        return scoped
    env = os.environ.get(ENV_VAR)
    if env:
        return _as_limit(env, f"environment variable {ENV_VAR}")
    return DEFAULT_MEMORY_LIMIT


@contextlib.contextmanager
def memory_limit(nbytes: int) -> Iterator[None]:
    """Raise (or lower) the memory limit inside a ``with`` block.

    Parameters
    ----------
    nbytes : int
        The limit in bytes inside the block (the environment variable ``REFIMPL_MEMORY_LIMIT`` sets it outside).

    Examples
    --------
    >>> import refimpl
    >>> with refimpl.memory_limit(10_000):
    ...     try:
    ...         refimpl.oracle_denoiser(refimpl.datasets.parity(2, 12))
    ...     except refimpl.MemoryLimitError as error:
    ...         print("refused before allocating")
    refused before allocating
    """
    token = _limit.set(_as_limit(nbytes, "memory_limit"))
    try:
        yield
    finally:
        _limit.reset(token)


def format_bytes(nbytes: int) -> str:
    """``1536`` -> ``'1.5 KiB'``."""
    value = float(nbytes)
    for unit in ("B", "KiB", "MiB", "GiB", "TiB", "PiB"):
        if value < 1024 or unit == "PiB":
            return f"{value:.1f} {unit}" if unit != "B" else f"{int(value)} B"
        value /= 1024
    raise AssertionError("unreachable")


def check_memory(nbytes: int, what: str) -> None:
    """Refuse, before allocating, anything whose estimated size ``nbytes`` is above the limit."""
    limit = get_memory_limit()
    if nbytes > limit:
        raise MemoryLimitError(
            f"{what} needs an estimated {format_bytes(nbytes)} ({int(nbytes)} bytes), above the memory "
            f"limit of {format_bytes(limit)}; raise it with `with refimpl.memory_limit(nbytes): ...` or "
            f"the environment variable {ENV_VAR}=nbytes, or use a smaller vocabulary or length")
