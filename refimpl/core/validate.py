"""One home for input validation at refimpl's public boundaries.

Each function takes what a user passed, checks it, and returns it in refimpl's canonical form
(float64 table, int64 token array, tuple of positions) without mutating or copying more than needed.
Failures raise a :class:`refimpl.RefimplError` subclass whose message names the problem and the fix.
"""
import math
import numbers
import operator

import numpy as np

from .errors import InvalidLawError, InvalidParameterError, InvalidSequenceError, InvalidTypeError

SUM_TOLERANCE = 1e-9  # |sum(p) - 1| allowed for a probability table


def integer(value, name, minimum=None):
    """A Python int (bools refused) at least ``minimum``."""
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, numbers.Integral):
        raise InvalidParameterError(f"{name} must be an integer, got {value!r}")
    value = operator.index(value)
    if minimum is not None and value < minimum:
        raise InvalidParameterError(f"{name} must be at least {minimum}, got {value}")
    return value


MAX_STATE_BITS = 62  # at most 2**62 partial sequences: every index fits an int64


def space(vocab_size, length):
    """Validated ``(V, L)``: V >= 2 data tokens, L >= 1 positions, at most 2**62 partial sequences."""
    vocab_size, length = integer(vocab_size, "vocab_size", 2), integer(length, "length", 1)
    if length * math.log2(vocab_size + 1) > MAX_STATE_BITS:
        raise InvalidParameterError(
            f"V={vocab_size}, L={length} has about 2**{length * math.log2(vocab_size + 1):.0f} partial sequences; "
            f"refimpl enumerates at most 2**{MAX_STATE_BITS} (use a smaller vocabulary or length)")
    return vocab_size, length


class ValidatedLaw:
    """Base of :class:`refimpl.Law`: an object whose ``table`` was validated by :func:`law_table` when it was
    made and is read-only, so it is not checked again (defined here so that validation needs no import
    from the layers above)."""

    __slots__ = ()


def law_table(p, name="p"):
    r"""A data law as a float64 ndarray of shape ``(V,)*L``: finite, non-negative, summing to 1.

    Accepts a :class:`refimpl.Law` or anything ``np.asarray`` turns into such a table.
    """
    if isinstance(p, ValidatedLaw):
        return p.table
    table = as_array(p, name)
    if table.dtype != np.float64:
        raise InvalidTypeError(
            f"{name} must be a float64 table, got dtype {table.dtype}; convert with "
            f"np.asarray({name}, dtype=np.float64) (and renormalise if it came from float32)")
    if table.ndim < 1:
        raise InvalidLawError(f"{name} must have one axis per position (shape (V,)*L), got a scalar")
    vocab_size = table.shape[0]
    if any(axis != vocab_size for axis in table.shape):
        raise InvalidLawError(
            f"{name} must have shape (V,)*L with every axis the vocabulary size, got shape {table.shape}")
    if vocab_size < 2:
        raise InvalidLawError(f"{name} has vocabulary size {vocab_size}; refimpl needs V >= 2")
    if not np.all(np.isfinite(table)):
        bad = tuple(int(i) for i in np.argwhere(~np.isfinite(table))[0])
        raise InvalidLawError(f"{name} has a non-finite entry {float(table[bad])} at sequence {bad}")
    if np.any(table < 0):
        bad = tuple(int(i) for i in np.argwhere(table < 0)[0])
        raise InvalidLawError(f"{name} has a negative entry {float(table[bad])!r} at sequence {bad}")
    total = float(table.sum())
    if abs(total - 1.0) > SUM_TOLERANCE:
        raise InvalidLawError(
            f"{name} sums to {total!r}, not 1 (tolerance {SUM_TOLERANCE}); divide it by its sum first")
    return table


def as_array(value, name):
    """``np.asarray`` that turns ragged or unconvertible input into a clear :class:`InvalidTypeError`."""
    try:
        return np.asarray(value)
    except (ValueError, TypeError, OverflowError) as error:
        raise InvalidTypeError(f"{name} cannot be read as an array ({error}); pass a rectangular numpy array") from None


def number(value, name):
    """A real, finite Python float."""
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, (numbers.Real, np.floating, np.integer)):
        raise InvalidParameterError(f"{name} must be a real number, got {value!r}")
    value = float(value)
    if not math.isfinite(value):
        raise InvalidParameterError(f"{name} must be finite, got {value!r}")
    return value


def flag(value, name):
    """A bool (numpy bools too); anything else is refused rather than judged truthy."""
    if not isinstance(value, (bool, np.bool_)):
        raise InvalidParameterError(f"{name} must be True or False, got {value!r}")
    return bool(value)


def temperature(value, name="temperature"):
    """A finite float >= 0 (a sampling temperature); anything else is refused."""
    try:
        t = float(value)
    except (TypeError, ValueError):
        raise InvalidParameterError(f"{name} must be a number >= 0, got {value!r}") from None
    if not (np.isfinite(t) and t >= 0):
        raise InvalidParameterError(f"{name} must be finite and >= 0, got {value!r}")
    return t


def nonnegative(value, name):
    """A finite float >= 0 (a guidance scale, an entropy budget); anything else is refused."""
    try:
        number = float(value)
    except (TypeError, ValueError):
        number = float("nan")
    if not (np.isfinite(number) and number >= 0):
        raise InvalidParameterError(f"{name} must be a finite number >= 0, got {value!r}")
    return number


def choice(value, options, name):
    """One of ``options`` (strings), compared safely whatever ``value`` is."""
    if not isinstance(value, str) or value not in options:
        raise InvalidParameterError(f"{name} must be one of {tuple(options)}, got {value!r}")
    return value


def same_space(p, q, names=("p", "q")):
    """Two validated laws over the same (V, L)."""
    p, q = law_table(p, names[0]), law_table(q, names[1])
    if p.shape != q.shape:
        raise InvalidLawError(
            f"{names[0]} and {names[1]} live on different spaces: shapes {p.shape} and {q.shape}")
    return p, q


def positions(pos, length, name="positions", allow_empty=True):
    """A tuple of distinct positions in ``0..length-1`` (an int is one position), order kept."""
    if isinstance(pos, numbers.Integral) and not isinstance(pos, (bool, np.bool_)):
        pos = (pos,)
    try:
        items = list(pos)
    except TypeError:
        raise InvalidParameterError(f"{name} must be an int or a sequence of ints, got {pos!r}") from None
    result = tuple(integer(i, name) for i in items)
    for i in result:
        if not 0 <= i < length:
            raise InvalidParameterError(f"{name} holds position {i}, outside 0..{length - 1}")
    if len(set(result)) != len(result):
        raise InvalidParameterError(f"{name} repeats a position: {result}")
    if not allow_empty and not result:
        raise InvalidParameterError(f"{name} must name at least one position")
    return result


def tokens(x, vocab_size, length=None, *, partial, name=None, ndim=None):
    r"""Integer token array with values in ``0..V-1`` (clean) or ``0..V`` (partial, V = mask).

    ``ndim`` fixes the number of axes (1 for one sequence, 2 for a batch); the last axis is the
    sequence and must have ``length`` entries when given.
    """
    kind = "partial" if partial else "clean"
    name = name or f"{kind} sequence"
    arr = as_array(x, name)
    if arr.dtype.kind not in "iu":
        raise InvalidTypeError(
            f"{name} must hold integers (tokens 0..{vocab_size - 1}"
            f"{', mask = ' + str(vocab_size) if partial else ''}), got dtype {arr.dtype}")
    if ndim is not None and arr.ndim != ndim:
        want = "one sequence of shape (L,)" if ndim == 1 else "a batch of shape (B, L)"
        raise InvalidSequenceError(f"{name} must be {want}, got shape {arr.shape}")
    if arr.ndim == 0:
        raise InvalidSequenceError(f"{name} must have a sequence axis, got a scalar")
    if length is not None and arr.shape[-1] != length:
        raise InvalidSequenceError(f"{name} must have length {length}, got shape {arr.shape}")
    top = vocab_size if partial else vocab_size - 1
    if arr.size and (arr.min() < 0 or arr.max() > top):
        bad = np.argwhere((arr < 0) | (arr > top))[0]
        where = tuple(int(i) for i in bad)
        hint = f"mask is {vocab_size}" if partial else f"masks ({vocab_size}) are not allowed here"
        raise InvalidSequenceError(
            f"{name} holds token {int(arr[where])} at index {where}, outside 0..{top} ({hint})")
    return arr.astype(np.int64, copy=False)


def probability(value, name, *, open_low=False, open_high=False):
    """A float in [0, 1] (ends optionally open)."""
    try:
        v = float(value)
    except (TypeError, ValueError):
        raise InvalidParameterError(f"{name} must be a number in [0, 1], got {value!r}") from None
    low_ok = v > 0 if open_low else v >= 0
    high_ok = v < 1 if open_high else v <= 1
    if not (np.isfinite(v) and low_ok and high_ok):
        interval = f"{'(' if open_low else '['}0, 1{')' if open_high else ']'}"
        raise InvalidParameterError(f"{name} must lie in {interval}, got {value!r}")
    return v


def rate(value, name="alpha"):
    """A false-alarm rate: a float strictly between 0 and 1 (at 0 no sample size decides, at 1 every test fails)."""
    if isinstance(value, (bool, np.bool_)):
        raise InvalidParameterError(f"{name} (the false-alarm rate) must lie in (0, 1), got {value!r}")
    try:
        return probability(value, name, open_low=True, open_high=True)
    except InvalidParameterError:
        raise InvalidParameterError(f"{name} (the false-alarm rate) must lie in (0, 1), got {value!r}") from None


def generator(rng):
    """An explicit ``numpy.random.Generator``; seeds and the legacy RandomState are refused."""
    if not isinstance(rng, np.random.Generator):
        raise InvalidTypeError(
            f"rng must be a numpy.random.Generator, got {type(rng).__name__}; "
            f"pass numpy.random.default_rng(seed)")
    return rng
