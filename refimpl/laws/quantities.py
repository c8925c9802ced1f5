r"""The exact information quantities of a law, in nats: entropy, mutual information, total and dual total
correlation (of a marginal, pointwise under a conditional law, or averaged: the conditional quantities), KL
and total variation.  Every function accepts a ``(V,)*L`` ndarray or a :class:`refimpl.Law`."""
from typing import Sequence

import numpy as np
from scipy.special import entr, rel_entr

from ..core import validate
from ..core.errors import InvalidParameterError
from ..core.types import ArrayLike, LawLike
from .joint import _partial, conditional_law, marginal


def entropy(p: LawLike) -> float:
    r"""Shannon entropy :math:`H(p) = -\sum_x p(x) \log p(x)` in nats.

    Parameters
    ----------
    p : array_like or Law
        The data law, a float64 table of shape (V,)*L (axis i is position i) summing to 1.

    Returns
    -------
    float
        Nats.

    Examples
    --------
    >>> import numpy as np, refimpl
    >>> float(refimpl.entropy(np.full((2, 2), 0.25))) == float(np.log(4))
    True
    """
    return float(entr(validate.law_table(p)).sum())


def _entropy_of(table):
    return float(entr(table).sum())


def mutual_information(p: LawLike, a: Sequence[int], b: Sequence[int]) -> float:
    r"""Mutual information :math:`I(X_a; X_b) = H(X_a) + H(X_b) - H(X_{a \cup b})` in nats.

    Parameters
    ----------
    p : array_like or Law
        The data law, a float64 table of shape (V,)*L (axis i is position i) summing to 1.
    a, b : sequence of int
        Two sets of positions.

    Returns
    -------
    float
        Nats.

    Examples
    --------
    >>> import numpy as np, refimpl
    >>> float(refimpl.mutual_information(refimpl.datasets.coupled_pairs(), [0], [1])) == float(np.log(2))
    True
    """
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

    Parameters
    ----------
    p : array_like or Law
        The data law, a float64 table of shape (V,)*L (axis i is position i) summing to 1.
    partial : array_like of int, optional
        (L,) partial sequence whose clean tokens condition the law (V where masked).
    positions : sequence of int, optional
        The positions S (default: all, or the masked ones of ``partial``).
    average : bool
        With ``partial``: the conditional TC given the clean positions, averaged over their tokens.

    Returns
    -------
    float
        Nats.

    Examples
    --------
    >>> import numpy as np, refimpl
    >>> p = refimpl.datasets.coupled_pairs()
    >>> float(refimpl.total_correlation(p)) == float(np.log(2))   # what one step revealing both loses
    True
    >>> float(refimpl.total_correlation(p, [0, 4]))                 # nothing left to couple once one is known
    0.0
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

    Parameters
    ----------
    p : array_like or Law
        The data law, a float64 table of shape (V,)*L (axis i is position i) summing to 1.
    partial : array_like of int, optional
        (L,) partial sequence; see :func:`total_correlation`.
    positions : sequence of int, optional
        The positions S (default: all, or the masked ones of ``partial``).
    average : bool
        Average over the clean tokens (the conditional DTC given the clean positions).

    Returns
    -------
    float
        Nats.

    Examples
    --------
    >>> import numpy as np, refimpl
    >>> parity = refimpl.datasets.parity(2, 3)                 # three bits with even parity
    >>> float(np.round(refimpl.dual_total_correlation(parity), 6)), float(np.round(refimpl.total_correlation(parity), 6))
    (1.386294, 0.693147)
    """
    def averaged(h, given, pos):
        whole = h(given + pos)
        return whole - h(given) - sum(whole - h(given + tuple(j for j in pos if j != i)) for i in pos)

    return _dependence(p, partial, positions, average, _dtc_of, averaged)


def kl(p: LawLike, q: LawLike) -> float:
    r""":math:`KL(p \| q) = \sum_x p(x) \log(p(x)/q(x))` in nats; ``inf`` when q misses p's support.

    Parameters
    ----------
    p, q : array_like or Law
    Two laws on the same space.

    Returns
    -------
    float
        Nats (``inf`` where q is 0 and p is not).

    Examples
    --------
    >>> import numpy as np, refimpl
    >>> p = refimpl.datasets.coupled_pairs()
    >>> q = np.outer(*refimpl.marginals(p))           # the product of its marginals
    >>> float(refimpl.kl(p, q)) == float(np.log(2))
    True
    """
    p, q = validate.same_space(p, q)
    return float(rel_entr(p, q).sum())


def tv(p: LawLike, q: LawLike) -> float:
    r"""Total variation :math:`\tfrac12 \sum_x |p(x) - q(x)|`, in [0, 1].

    Parameters
    ----------
    p, q : array_like or Law
    Two laws on the same space.

    Returns
    -------
    float

    Examples
    --------
    >>> import numpy as np, refimpl
    >>> p = refimpl.datasets.coupled_pairs()
    >>> float(refimpl.tv(p, np.outer(*refimpl.marginals(p))))      # a parallel step is wrong half the time
    0.5
    """
    p, q = validate.same_space(p, q)
    return 0.5 * float(np.abs(p - q).sum())
