r"""Data laws as tables, and the exact information quantities refimpl is built on.

A law ``p`` over sequences of length L with V tokens is a float64 array of shape ``(V,)*L``; position
i is axis i (pgmpy's DiscreteFactor convention).  Every function here accepts such an ndarray or a
:class:`Law`.  Marginalising is an axis sum; conditioning is a slice and a renormalisation.
All information quantities are in nats.
"""
from typing import Sequence

import numpy as np
from scipy.special import entr, rel_entr

from ..core import validate
from ..core.errors import InvalidParameterError, ZeroProbabilityError
from ..core.types import ArrayLike, LawLike, Table


class Law(validate.ValidatedLaw):
    r"""A validated, read-only data law ``table`` of shape ``(V,)*L``.

    ``counts`` (same shape, int64) is kept when the law is the empirical law of a data set, and
    ``name`` says where it came from.  ``np.asarray(law)`` gives the table, so a Law goes wherever a
    table does.
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
    """
    table = validate.law_table(p)
    pos = validate.positions(positions, table.ndim)
    others = tuple(i for i in range(table.ndim) if i not in pos)
    summed = table.sum(axis=others) if others else table
    kept = sorted(pos)
    return np.transpose(summed, [kept.index(i) for i in pos])


def marginals(p: LawLike) -> np.ndarray:
    r"""All single-position marginals, shape ``(L, V)``: row i is :math:`p(X_i = \cdot)`."""
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


def entropy(p: LawLike) -> float:
    r"""Shannon entropy :math:`H(p) = -\sum_x p(x) \log p(x)` in nats."""
    return float(entr(validate.law_table(p)).sum())


def _entropy_of(table):
    return float(entr(table).sum())


def mutual_information(p: LawLike, a: Sequence[int], b: Sequence[int]) -> float:
    r"""Mutual information :math:`I(X_a; X_b) = H(X_a) + H(X_b) - H(X_{a \cup b})` in nats."""
    table = validate.law_table(p)
    pa = validate.positions(a, table.ndim, "a", allow_empty=False)
    pb = validate.positions(b, table.ndim, "b", allow_empty=False)
    union = tuple(sorted(set(pa) | set(pb)))
    return (_entropy_of(marginal(table, pa)) + _entropy_of(marginal(table, pb))
            - _entropy_of(marginal(table, union)))


def _tc_of(table):
    """Total correlation of a table over all its axes (any number of axes)."""
    if table.ndim == 0:
        return 0.0
    singles = sum(_entropy_of(table.sum(axis=tuple(a for a in range(table.ndim) if a != i)))
                  for i in range(table.ndim))
    return singles - _entropy_of(table)


def total_correlation(p: LawLike, partial: ArrayLike | None = None, *, positions: Sequence[int] | None = None,
                      average: bool = False) -> float:
    r"""Total correlation :math:`TC(X_S) = \sum_{i \in S} H(X_i) - H(X_S)` in nats.

    - ``partial=None``: TC of ``positions`` (default: all) under ``p``.
    - ``partial`` given, ``average=False`` (pointwise): TC of the masked positions (or the subset
      ``positions`` of them) under the conditional law :math:`p(\cdot \mid x_C = z_C)` at the clean
      tokens of ``partial``; raises :class:`ZeroProbabilityError` if :math:`p(z_C) = 0`.
    - ``partial`` given, ``average=True``: the conditional total correlation
      :math:`TC(X_S \mid X_C) = \mathbb{E}_{x_C \sim p}[TC(X_S \mid X_C = x_C)]
      = \sum_{i \in S} H(X_i \mid X_C) - H(X_S \mid X_C)`, where C is the set of clean positions of
      ``partial``; only its mask pattern matters, not its clean tokens.

    TC is zero exactly when the positions are (conditionally) independent, and it is the loss
    :math:`KL(p(x_S \mid z) \| \prod_i p(x_i \mid z))` of sampling them in one parallel step.
    """
    def averaged(h, given, pos):
        return sum(h(given + (i,)) - h(given) for i in pos) - (h(given + pos) - h(given))

    return _dependence(p, partial, positions, average, _tc_of, averaged)


def _dependence(p, partial, positions, average, of_table, averaged):
    """The three forms :func:`total_correlation` and :func:`dual_total_correlation` share: ``of_table`` of the
    marginal on ``positions``; of the conditional law at ``partial`` (pointwise); or, with ``average``,
    ``averaged(h, given, pos)`` from the entropies ``h`` of the marginals (the conditional quantity)."""
    table = validate.law_table(p)
    vocab_size, length = table.shape[0], table.ndim
    if partial is None:
        pos = tuple(range(length)) if positions is None else validate.positions(positions, length)
        return of_table(marginal(table, tuple(sorted(pos))))
    z = _partial(table, partial)
    masked = [i for i in range(length) if z[i] == vocab_size]
    pos = tuple(masked) if positions is None else validate.positions(positions, length)
    if any(i not in masked for i in pos):
        raise InvalidParameterError(
            f"positions {pos} must be masked in the partial sequence {z.tolist()} (masked: {masked})")
    pos = tuple(sorted(pos))
    if not validate.flag(average, "average"):
        law = conditional_law(table, z)
        return of_table(marginal(law, tuple(masked.index(i) for i in pos)) if law.ndim else law)
    given = tuple(i for i in range(length) if z[i] != vocab_size)
    return averaged(lambda positions: _entropy_of(marginal(table, tuple(sorted(positions)))), given, pos)


def _dtc_of(table):
    """Dual total correlation of a table over all its axes: H(X) - sum_i H(X_i | X_rest)."""
    if table.ndim <= 1:
        return 0.0
    joint = _entropy_of(table)
    return joint - sum(joint - _entropy_of(table.sum(axis=i)) for i in range(table.ndim))


def dual_total_correlation(p: LawLike, partial: ArrayLike | None = None, *, positions: Sequence[int] | None = None,
                           average: bool = False) -> float:
    r"""Dual total correlation :math:`DTC(X_S) = H(X_S) - \sum_{i \in S} H(X_i \mid X_{S \setminus i})` in nats,
    with the same forms as :func:`total_correlation`: of ``positions`` under ``p``; pointwise under the
    conditional law at ``partial``'s clean tokens; with ``average=True`` the conditional
    :math:`DTC(X_S \mid X_C) = H(X_S \mid X_C) - \sum_{i \in S} H(X_i \mid X_{S \setminus i}, X_C)`.

    DTC is zero exactly when the positions are (conditionally) independent; for two positions it equals TC
    (their mutual information); in general :math:`DTC \le (|S| - 1)\,TC` and :math:`TC \le (|S| - 1)\,DTC`.
    """
    def averaged(h, given, pos):
        whole = h(given + pos)
        return whole - h(given) - sum(whole - h(given + tuple(j for j in pos if j != i)) for i in pos)

    return _dependence(p, partial, positions, average, _dtc_of, averaged)


def kl(p: LawLike, q: LawLike) -> float:
    r""":math:`KL(p \| q) = \sum_x p(x) \log(p(x)/q(x))` in nats; ``inf`` when q misses p's support."""
    p, q = validate.same_space(p, q)
    return float(rel_entr(p, q).sum())


def tv(p: LawLike, q: LawLike) -> float:
    r"""Total variation :math:`\tfrac12 \sum_x |p(x) - q(x)|`, in [0, 1]."""
    p, q = validate.same_space(p, q)
    return 0.5 * float(np.abs(p - q).sum())
