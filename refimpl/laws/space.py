r"""State spaces: clean sequences (``V**L``) and partial sequences (``(V+1)**L``, mask id = V).

The order is pinned (and tested): C order, position 0 is axis 0 and varies slowest, so the index of
a sequence ``x`` over an alphabet of ``base`` symbols is

.. math::  \mathrm{index}(x) = \sum_{i=0}^{L-1} x_i \, \mathrm{base}^{L-1-i},

which is exactly ``table.ravel()`` order for a law table ``p`` of shape ``(V,)*L``: ``p.ravel()[index(x)]
== p[tuple(x)]``.  Clean sequences use ``base = V``, partial sequences ``base = V + 1``.

Examples
--------
>>> import refimpl
>>> refimpl.space.encode([[0, 1], [1, 0]], vocab_size=2).tolist()   # C order: position 0 varies slowest
[1, 2]
>>> refimpl.space.decode([5], vocab_size=2, length=2, partial=True).tolist()   # base V + 1 = 3, the mask is 2
[[1, 2]]
"""
import numpy as np

from ..core import validate
from ..core.errors import InvalidParameterError, InvalidSequenceError, InvalidTypeError
from ..core.memory import check_memory
from ..core.types import ArrayLike


def _base(vocab_size, partial):
    return vocab_size + 1 if validate.flag(partial, "partial") else vocab_size


def size(vocab_size: int, length: int, partial: bool = False) -> int:
    """Number of clean (``V**L``) or partial (``(V+1)**L``) sequences, as a Python int."""
    vocab_size, length = validate.space(vocab_size, length)
    return _base(vocab_size, partial) ** length


def enumerate_sequences(vocab_size: int, length: int, partial: bool = False) -> np.ndarray:
    r"""All clean (or partial) sequences in index order, shape ``(N, L)`` int64.

    Row ``k`` is ``decode(k, ...)``; for partial sequences token ``V`` is the mask.
    """
    vocab_size, length = validate.space(vocab_size, length)
    base = _base(vocab_size, partial)
    count = base**length
    check_memory(count * length * 8, f"enumerating {count} {'partial' if partial else 'clean'} sequences")
    grids = np.indices((base,) * length, dtype=np.int64)  # (L, base, ..., base)
    return grids.reshape(length, count).T.copy()  # (N, L)


def clean_sequences(vocab_size: int, length: int) -> np.ndarray:
    """All ``V**L`` clean sequences, shape ``(V**L, L)``, in the pinned C order."""
    return enumerate_sequences(vocab_size, length, partial=False)


def partial_sequences(vocab_size: int, length: int) -> np.ndarray:
    """All ``(V+1)**L`` partial sequences, shape ``((V+1)**L, L)``; token V is the mask."""
    return enumerate_sequences(vocab_size, length, partial=True)


def encode(sequences: ArrayLike, vocab_size: int, partial: bool = False) -> np.ndarray:
    r"""Index of each sequence (last axis) in the pinned order; shape ``sequences.shape[:-1]``."""
    vocab_size = validate.integer(vocab_size, "vocab_size", 2)
    seqs = validate.tokens(sequences, vocab_size, partial=validate.flag(partial, "partial"))
    base = _base(vocab_size, partial)
    length = seqs.shape[-1]
    if base**length > np.iinfo(np.int64).max:
        raise InvalidParameterError(
            f"{base}**{length} sequences do not fit an int64 index; use a shorter length")
    weights = base ** np.arange(length - 1, -1, -1, dtype=np.int64)  # (L,)
    return seqs @ weights


def decode(indices: ArrayLike, vocab_size: int, length: int, partial: bool = False) -> np.ndarray:
    r"""Inverse of :func:`encode`: indices of any shape -> sequences of shape ``indices.shape + (L,)``."""
    vocab_size, length = validate.space(vocab_size, length)
    base = _base(vocab_size, partial)
    idx = validate.as_array(indices, "indices")
    if idx.dtype.kind not in "iu":
        raise InvalidTypeError(f"indices must be integers, got dtype {idx.dtype}")
    count = base**length
    if idx.size and (idx.min() < 0 or idx.max() >= count):
        raise InvalidSequenceError(
            f"index {int(idx.max() if idx.max() >= count else idx.min())} is outside 0..{count - 1} "
            f"for {'partial' if partial else 'clean'} sequences with V={vocab_size}, L={length}")
    idx = idx.astype(np.int64)
    weights = base ** np.arange(length - 1, -1, -1, dtype=np.int64)  # (L,)
    return (idx[..., None] // weights) % base


def strides(vocab_size: int, length: int) -> np.ndarray:
    """(L,) int64: the flat stride of each position in the ``(V+1,)*L`` table of partial sequences."""
    return (vocab_size + 1) ** np.arange(length - 1, -1, -1, dtype=np.int64)


def mask_pattern(partial: ArrayLike, vocab_size: int) -> np.ndarray:
    """Boolean array, True where the partial sequence holds the mask token ``V``."""
    return np.asarray(partial) == vocab_size
