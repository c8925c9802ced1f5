"""What an implementation under test returned, checked as its output: each way it can be wrong — not an array, the
wrong shape or dtype, masks left, tokens out of range, calls that are not counts — is an ``AssertionError`` that
names it (how many rows, which positions, an example row, tokens as ids), because a broken sampler is a failing
test, not a bad argument.  Bad arguments from the test's author stay :class:`refimpl.RefimplError`."""
import numpy as np

from ..core.errors import InvalidTypeError, RefimplError
from ..interop.goodness import counts_per_row
from ..reports.tables import tokens


def _row(row, vocab_size, as_letters):
    return "[" + " ".join("M" if t == vocab_size else tokens([t], as_letters=as_letters) if 0 <= t < vocab_size
                          else f"<{int(t)}>" for t in row) + "]"


def samples_of(drawn, vocab_size, length, n=None, what="the samples", as_letters=False):
    """``drawn`` as an int64 (rows, L) array of clean token ids 0..V-1 (``n`` rows when given), else an
    AssertionError saying what is wrong with it."""
    __tracebackhide__ = True
    try:
        array = np.asarray(drawn)
    except (TypeError, ValueError) as error:  # ragged lists and the like
        raise AssertionError(f"{what}: not an array of token ids ({error})") from None
    want = f"({n if n is not None else 'n'}, {length}): {'n' if n is None else n} rows of {length} token ids"
    if array.dtype.kind not in "iu":
        raise AssertionError(f"{what} hold dtype {array.dtype}, shape {array.shape}; expected integers of shape {want}")
    if array.ndim != 2 or array.shape[1] != length or (n is not None and array.shape[0] != n) or not len(array):
        raise AssertionError(f"{what} have shape {array.shape}; expected {want}")
    masked = array == vocab_size
    if masked.any():
        rows = np.flatnonzero(masked.any(axis=1))
        positions = np.flatnonzero(masked.any(axis=0)).tolist()
        raise AssertionError(
            f"{what} leave masks (id {vocab_size}) in {len(rows)} of {len(array)} rows, at positions {positions} "
            f"(counted from 0); e.g. row {rows[0]}: {_row(array[rows[0]], vocab_size, as_letters)}")
    outside = (array < 0) | (array > vocab_size)
    if outside.any():
        rows = np.flatnonzero(outside.any(axis=1))
        raise AssertionError(
            f"{what} hold tokens outside 0..{vocab_size - 1} in {len(rows)} of {len(array)} rows (e.g. "
            f"{int(array[outside][0])}); e.g. row {rows[0]}: {_row(array[rows[0]], vocab_size, as_letters)}")
    return array.astype(np.int64, copy=False)


def calls_of(calls, rows, what="the calls sample_fn returned"):
    """``calls`` as one non-negative finite count per row (``rows`` of them when given), else an AssertionError."""
    __tracebackhide__ = True
    try:
        return counts_per_row(calls, rows, what, "sample")
    except RefimplError as error:
        raise AssertionError(str(error)) from None


def split(drawn, what="sample_fn"):
    """``(samples, calls or None)`` from what a sampler under test returned: samples, or a pair (samples, calls)."""
    __tracebackhide__ = True
    if isinstance(drawn, tuple):
        if len(drawn) != 2:
            raise AssertionError(f"{what} returns samples or (samples, calls), got a tuple of {len(drawn)}")
        return drawn
    return drawn, None


def draw(sample_fn, denoiser, n, seed, length, vocab_size, prompt):
    """Call the sampler under test with ``numpy.random.default_rng(seed)``: ``(samples, calls or None)``."""
    __tracebackhide__ = True
    if not callable(sample_fn):
        raise InvalidTypeError(f"sample_fn must be callable (denoiser, n, rng, length, vocab_size, prompt), "
                               f"got {type(sample_fn).__name__}")
    return split(sample_fn(denoiser, n, np.random.default_rng(seed), length, vocab_size, prompt))
