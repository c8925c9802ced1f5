r"""Data laws as tables: marginals and conditionals (the information quantities: :mod:`refimpl.laws.quantities`).

A law ``p`` over sequences of length L with V tokens is a float64 array of shape ``(V,)*L``; position
i is axis i (pgmpy's DiscreteFactor convention).  Every function here accepts such an ndarray or a
:class:`Law`.  Marginalising is an axis sum; conditioning is a slice and a renormalisation.
"""
from typing import Sequence

import numpy as np

from ..core import validate
from ..core.errors import InvalidParameterError, ZeroProbabilityError
from ..core.types import ArrayLike, LawLike, Table


class Law(validate.ValidatedLaw):
    r"""A validated, read-only data law ``table`` of shape ``(V,)*L``.

    ``counts`` (same shape, int64) is kept when the law is the empirical law of a data set, and
    ``name`` says where it came from.  ``np.asarray(law)`` gives the table, so a Law goes wherever a
    table does.

    Parameters
    ----------
    table : array_like
    The law, float64 of shape (V,)*L, summing to 1.
    counts : array_like of int, optional
    The counts behind an empirical law (same shape).
    name : str
    Where the law came from.

    Examples
    --------
    >>> import numpy as np, refimpl
    >>> law = refimpl.Law(np.full((2, 2), 0.25), name="two fair bits")
    >>> law.vocab_size, law.length, float(refimpl.entropy(law)) == float(np.log(4))
    (2, 2, True)
    """

    __slots__ = ("table", "counts", "name")

    def __init__(self, table, counts=None, name=""):
        checked = validate.law_table(table, "table")
        frozen = np.array(checked, dtype=np.float64, copy=True)
        frozen.flags.writeable = False
        object.__setattr__(self, "table", frozen)
        if counts is not None:
            counts = validate.as_array(counts, "counts")
            if counts.dtype.kind not in "iu" or counts.shape != frozen.shape or np.any(counts < 0):
                raise InvalidParameterError("counts must be non-negative integers of the law's shape")
            counts = np.array(counts, dtype=np.int64, copy=True)
            counts.flags.writeable = False
        object.__setattr__(self, "counts", counts)
        object.__setattr__(self, "name", str(name))

    def __reduce__(self):
        """Rebuilt from its table, counts and name (so that a process pool can send a Law to its workers)."""
        return (Law, (np.array(self.table), None if self.counts is None else np.array(self.counts), self.name))

    def __setattr__(self, key, value):
        raise AttributeError("Law is immutable; build a new one")

    @property
    def vocab_size(self):
        return self.table.shape[0]

    @property
    def length(self):
        return self.table.ndim

    @property
    def shape(self):
        return self.table.shape

    def __array__(self, dtype=None, copy=None):
        if dtype is not None and np.dtype(dtype) != np.float64:
            return self.table.astype(dtype)
        return self.table.copy() if copy else self.table

    def __repr__(self):
        label = f" {self.name!r}" if self.name else ""
        extra = f", n={int(self.counts.sum())}" if self.counts is not None else ""
        return f"Law{label}(V={self.vocab_size}, L={self.length}{extra})"


def marginal(p: LawLike, positions: Sequence[int]) -> Table:
    r"""The marginal law of ``positions``: axis j of the result is position ``positions[j]``.

    .. math::  p_S(x_S) = \sum_{x_{\bar S}} p(x)

    An empty ``positions`` gives the 0-d array ``1.0``.

    Parameters
    ----------
    p : array_like or Law
        The data law, a float64 table of shape (V,)*L (axis i is position i) summing to 1.
    positions : sequence of int
        The positions kept, in the order of the result's axes.

    Returns
    -------
    ndarray
        (V,)*len(positions).

    Examples
    --------
    >>> import refimpl
    >>> refimpl.marginal(refimpl.datasets.coupled_pairs(), [1])
    array([0. , 0.5, 0. , 0.5])
    """
    table = validate.law_table(p)
    pos = validate.positions(positions, table.ndim)
    others = tuple(i for i in range(table.ndim) if i not in pos)
    summed = table.sum(axis=others) if others else table
    kept = sorted(pos)
    return np.transpose(summed, [kept.index(i) for i in pos])


def marginals(p: LawLike) -> np.ndarray:
    r"""All single-position marginals, shape ``(L, V)``: row i is :math:`p(X_i = \cdot)`.

    Parameters
    ----------
    p : array_like or Law
        The data law, a float64 table of shape (V,)*L (axis i is position i) summing to 1.

    Returns
    -------
    ndarray
        (L, V) float64.

    Examples
    --------
    >>> import refimpl
    >>> refimpl.marginals(refimpl.datasets.coupled_pairs())
    array([[0.5, 0. , 0.5, 0. ],
           [0. , 0.5, 0. , 0.5]])
    """
    table = validate.law_table(p)
    return np.stack([marginal(table, i) for i in range(table.ndim)])


def _slab(table, z):
    """The unnormalised table over the masked positions of z (increasing order), and its mass."""
    vocab_size = table.shape[0]
    index = tuple(slice(None) if token == vocab_size else int(token) for token in z)
    slab = table[index]
    return slab, float(slab.sum())


def _partial(table, partial):
    return validate.tokens(partial, table.shape[0], table.ndim, partial=True, name="partial", ndim=1)


def conditional_law(p: LawLike, partial: ArrayLike) -> Table:
    r"""The law of the masked positions given the clean part of ``partial``.

    .. math::  p(x_M \mid x_C = z_C) = p(x_M, z_C) / p(z_C)

    Axes of the result are the masked positions in increasing order (0-d ``1.0`` if none is
    masked).  Raises :class:`ZeroProbabilityError` when ``p(z_C) = 0``.

    Parameters
    ----------
    p : array_like or Law
        The data law, a float64 table of shape (V,)*L (axis i is position i) summing to 1.
    partial : array_like of int
        (L,) partial sequence: tokens 0..V-1 where clean, V where masked.

    Returns
    -------
    ndarray
        (V,)*|M|: the law of the masked positions, axes in increasing position order.

    Examples
    --------
    >>> import refimpl
    >>> p = refimpl.datasets.coupled_pairs()          # tokens 0..3, only (0, 1) and (2, 3)
    >>> refimpl.conditional_law(p, [0, 4])              # the second token given the first is 0
    array([0., 1., 0., 0.])
    """
    table = validate.law_table(p)
    z = _partial(table, partial)
    slab, mass = _slab(table, z)
    if mass == 0.0:
        raise ZeroProbabilityError(
            f"the clean tokens of partial sequence {z.tolist()} have probability zero under the law, "
            f"so nothing can be conditioned on them; condition on a partial sequence the law can produce")
    return slab / mass


def conditional_marginals(p: LawLike, partial: ArrayLike) -> np.ndarray:
    r"""Per-position conditional marginals, shape ``(L, V)``.

    Row i is :math:`p(X_i = \cdot \mid x_C = z_C)` at a masked position and the one-hot of
    :math:`z_i` at a clean one: exactly what the optimal denoiser returns (docs/DESIGN.md).

    Parameters
    ----------
    p : array_like or Law
        The data law, a float64 table of shape (V,)*L (axis i is position i) summing to 1.
    partial : array_like of int
        (L,) partial sequence: tokens 0..V-1 where clean, V where masked.

    Returns
    -------
    ndarray
        (L, V) float64.

    Examples
    --------
    >>> import refimpl
    >>> p = refimpl.datasets.coupled_pairs()
    >>> refimpl.conditional_marginals(p, [4, 4])
    array([[0.5, 0. , 0.5, 0. ],
           [0. , 0.5, 0. , 0.5]])
    >>> refimpl.conditional_marginals(p, [2, 4])[1]      # the second position, given the first is 2
    array([0., 0., 0., 1.])
    """
    table = validate.law_table(p)
    z = _partial(table, partial)
    vocab_size, length = table.shape[0], table.ndim
    law = conditional_law(table, z)
    masked = [i for i in range(length) if z[i] == vocab_size]
    out = np.zeros((length, vocab_size))  # (L, V)
    for i in range(length):
        if z[i] == vocab_size:
            axis = masked.index(i)
            out[i] = law.sum(axis=tuple(a for a in range(len(masked)) if a != axis))
        else:
            out[i, z[i]] = 1.0
    return out
