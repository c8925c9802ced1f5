r"""The information a law holds between its positions, as decoding with the oracle meets it (issue #23).

Positions are bits: a set A of positions is the integer :math:`\sum_{i \in A} 2^i`.

- :func:`subset_entropies`: :math:`H(X_A)` for every set A, from the marginal lattice
  (:func:`refimpl.laws.lattice.marginal_lattice`) in :math:`O((V+1)^L)`.
- :func:`information_curve`: :math:`\bar H_m`, the average of :math:`H(X_A)` over the sets of m positions.
- :func:`information_profile`: :math:`e(j, k)`, the expected loss of revealing k uniformly chosen masked
  positions in one step with the oracle when j uniformly chosen positions are known — the conditional total
  correlation :math:`TC(X_S \mid X_C)` averaged over the disjoint sets :math:`|C| = j`, :math:`|S| = k`:

  .. math::  e(j, k) = k\,(\bar H_{j+1} - \bar H_j) - (\bar H_{j+k} - \bar H_j)

  (proofs/limits.md: each :math:`C \cup \{i\}` and :math:`C \cup S` is a uniform set of its size).
"""
import numpy as np
from scipy.special import comb, entr

from ..core import validate
from ..core.types import LawLike
from ..laws.lattice import marginal_lattice


def set_positions(bits: int, length: int) -> tuple:
    """The positions of the set ``bits`` (increasing)."""
    return tuple(i for i in range(length) if bits >> i & 1)


def subset_entropies(p: LawLike, lattice: np.ndarray | None = None) -> np.ndarray:
    r"""(2^L,): :math:`H(X_A)` in nats for every set A (index: its bits); H of the empty set is 0."""
    table = validate.law_table(p)
    vocab_size, length = table.shape[0], table.ndim
    lattice = marginal_lattice(table) if lattice is None else lattice
    out = np.empty(1 << length)
    for bits in range(1 << length):
        index = tuple(slice(0, vocab_size) if bits >> i & 1 else vocab_size for i in range(length))
        out[bits] = float(entr(lattice[index]).sum())
    return out


def set_sizes(length: int) -> np.ndarray:
    """(2^L,): the number of positions in each set."""
    bits = np.arange(1 << length)
    return sum((bits >> i) & 1 for i in range(length))


def information_curve(p: LawLike, entropies: np.ndarray | None = None) -> np.ndarray:
    r"""(L+1,): :math:`\bar H_m`, the mean entropy of the sets of m positions, m = 0 .. L."""
    table = validate.law_table(p)
    length = table.ndim
    entropies = subset_entropies(table) if entropies is None else entropies
    sizes = set_sizes(length)
    return np.array([entropies[sizes == m].sum() / comb(length, m, exact=True) for m in range(length + 1)])


def information_profile(p: LawLike, curve: np.ndarray | None = None) -> np.ndarray:
    r"""(L+1, L+1): ``e[j, k]`` (module docstring) for k = 1 .. L - j; 0 at k = 0 and k = 1, NaN where
    j + k > L.  Nonnegative (a conditional TC); the order-averaged KL of a schedule is its sum along the path."""
    table = validate.law_table(p)
    length = table.ndim
    h = information_curve(table) if curve is None else np.asarray(curve, dtype=np.float64)
    out = np.full((length + 1, length + 1), np.nan)
    for j in range(length + 1):
        for k in range(length - j + 1):
            out[j, k] = 0.0 if k <= 1 else max(0.0, k * (h[j + 1] - h[j]) - (h[j + k] - h[j]))
    return out


def submasks(bits: int) -> list:
    """The nonempty subsets of ``bits``, largest first."""
    out, s = [], bits
    while s:
        out.append(s)
        s = (s - 1) & bits
    return out
