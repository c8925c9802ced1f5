r"""The denoiser protocol: validation of what a denoiser returns, and evaluation in chunks.

A denoiser is any callable ``den(z) -> probs`` with ``z`` an int array (B, L) in ``0..V`` (V = mask) and
``probs`` float64 (B, L, V), every row on the simplex and one-hot at clean positions (docs/DESIGN.md,
interop contract).  :func:`evaluate` calls one and validates the answer, naming the offending row;
:func:`evaluate_rows` and :func:`each_chunk` are the one place refimpl feeds a denoiser many rows.
"""
from typing import Iterator

import numpy as np

from ..core import validate
from ..core.errors import InvalidDenoiserOutputError, RefimplError
from ..core.types import ArrayLike, Denoiser
from ..laws import space

ROW_TOLERANCE = 1e-9  # |row sum - 1| and 1 - prob(clean token) allowed in a denoiser's output
CHUNK = 1 << 15  # rows per call of a denoiser


def _row(z, b, i, what):
    return (f"denoiser output row (batch {b}, position {i}) for partial sequence {z[b].tolist()} {what}")


def check_output(z: np.ndarray, probs: ArrayLike, vocab_size: int) -> np.ndarray:
    r"""Validate a denoiser's answer ``probs`` at ``z`` (B, L); returns it as float64 (B, L, V)."""
    try:
        arr = np.asarray(probs)
    except (ValueError, TypeError) as error:
        raise InvalidDenoiserOutputError(f"denoiser output cannot be read as an array: {error}") from None
    if arr.dtype.kind != "f":
        raise InvalidDenoiserOutputError(f"denoiser must return floating probabilities, got dtype {arr.dtype}")
    arr = arr.astype(np.float64, copy=False)
    want = z.shape + (vocab_size,)
    if arr.shape != want:
        hint = " (one column per data token; no mask column)" if arr.shape[:-1] == z.shape else ""
        raise InvalidDenoiserOutputError(f"denoiser must return shape {want}, got {arr.shape}{hint}")
    finite = np.isfinite(arr).all(axis=-1)
    if not finite.all():
        b, i = np.argwhere(~finite)[0]
        raise InvalidDenoiserOutputError(_row(z, b, i, f"holds a non-finite value: {arr[b, i].tolist()}"))
    negative = (arr < 0).any(axis=-1)
    if negative.any():
        b, i = np.argwhere(negative)[0]
        raise InvalidDenoiserOutputError(_row(z, b, i, f"holds a negative probability: {arr[b, i].tolist()}"))
    sums = arr.sum(axis=-1)
    off = np.abs(sums - 1.0) > ROW_TOLERANCE
    if off.any():
        b, i = np.argwhere(off)[0]
        raise InvalidDenoiserOutputError(
            _row(z, b, i, f"sums to {float(sums[b, i])!r}, not 1 (tolerance {ROW_TOLERANCE}); apply a softmax"))
    clean = z != vocab_size
    b_idx, i_idx = np.nonzero(clean)
    kept = arr[b_idx, i_idx, z[b_idx, i_idx]]
    bad = kept < 1.0 - ROW_TOLERANCE
    if bad.any():
        b, i = b_idx[bad][0], i_idx[bad][0]
        raise InvalidDenoiserOutputError(_row(
            z, b, i, f"is not one-hot at clean token {z[b, i]}: {arr[b, i].tolist()}; a denoiser must "
                     f"carry clean positions over"))
    return arr


def evaluate(denoiser: Denoiser, z: ArrayLike, vocab_size: int) -> np.ndarray:
    """Call ``denoiser`` on validated partial sequences ``z`` (B, L) and validate its answer."""
    if not callable(denoiser):
        raise validate.InvalidTypeError(f"a denoiser must be callable, got {type(denoiser).__name__}")
    z = validate.tokens(z, vocab_size, partial=True, name="z", ndim=2)
    try:
        answer = denoiser(z.copy())
    except RefimplError:
        raise
    except Exception as error:  # the denoiser under test failed: say so, keep the cause for --debug
        raise InvalidDenoiserOutputError(f"the denoiser raised {type(error).__name__}: {error}") from error
    return check_output(z, answer, vocab_size)


def evaluate_rows(denoiser: Denoiser, z: ArrayLike, vocab_size: int, chunk: int = CHUNK) -> np.ndarray:
    """:func:`evaluate` on any number of rows ``z`` (B, L), ``chunk`` rows per call: (B, L, V)."""
    if not len(z):
        return np.empty(z.shape + (vocab_size,))
    return np.concatenate([evaluate(denoiser, z[s:s + chunk], vocab_size) for s in range(0, len(z), chunk)])


def each_chunk(denoiser: Denoiser, vocab_size: int, length: int,
               chunk: int = CHUNK) -> Iterator[tuple[np.ndarray, np.ndarray, np.ndarray]]:
    """Yield ``(index, z, mu)`` over all :math:`(V+1)^L` partial sequences in flat (C) order, ``chunk`` at a
    time: ``index`` (B,) their flat indices, ``z`` (B, L) the sequences, ``mu`` (B, L, V) the validated
    answers."""
    count = (vocab_size + 1) ** length
    for start in range(0, count, chunk):
        index = np.arange(start, min(start + chunk, count))
        z = space.decode(index, vocab_size, length, partial=True)
        yield index, z, evaluate(denoiser, z, vocab_size)
