r"""(c): the best deterministic adaptive policy with the oracle, exactly (issue #23).

A policy picks the next reveal set from the partial sequence z it has reached; the tokens of the set are drawn
from the oracle's conditional marginals.  Its KL from p is the expected sum of the pointwise conditional total
correlations it meets (proofs/limits.md), so with t steps left the best value is

.. math::  v_t(z) = \min_{\emptyset \ne S \subseteq M(z)} TC(X_S \mid z) + \mathbb E_{x_S \sim p(\cdot \mid z)}
           v_{t-1}(z \text{ with } x_S), \qquad v_t(\text{complete}) = 0,\ v_0(\text{incomplete}) = \infty.

The partial sequences are grouped by their clean set C; :math:`p(x_S \mid z_C)` is read from the marginal
lattice, for every :math:`z_C` at once.  Clean sets are taken by decreasing size, so every value a set needs
(of its supersets) is known, and each pair (C, S) is visited once for all t: :math:`O((2V+1)^L\,T)` work over
:math:`3^L` pairs, :math:`O((V+1)^L\,T)` memory.
"""
import numpy as np
from scipy.special import entr

from ..core import validate
from ..core.memory import check_memory
from ..core.types import LawLike
from ..laws.lattice import lattice_bytes, marginal_lattice
from .information import set_positions, set_sizes, submasks


def adaptive_bytes(vocab_size: int, length: int, steps: int) -> int:
    """The estimated memory of (c): the lattice, the values and choices per t, the largest pair's arrays."""
    return lattice_bytes(vocab_size, length) * (2 * steps + 3) + 8 * vocab_size ** length * (steps + 3)


class AdaptiveOptimum:
    """The result of :func:`adaptive_optima`: ``kls[T - 1]`` the least KL of a deterministic adaptive policy of
    T steps; :meth:`choice` its next set; :meth:`law` the law it produces."""

    def __init__(self, table, lattice, values, choices):
        self.table, self.lattice, self._values, self._choices = table, lattice, values, choices
        self.length, self.vocab_size = table.ndim, table.shape[0]
        self.kls = [float(values[0][t]) for t in range(1, len(values[0]))]

    def choice(self, z, steps: int) -> tuple:
        """The positions the best policy with ``steps`` left reveals next from the partial sequence ``z``."""
        z = validate.tokens(z, self.vocab_size, self.length, partial=True, name="z")
        known = sum(1 << i for i in range(self.length) if z[i] != self.vocab_size)
        index = tuple(int(z[i]) for i in set_positions(known, self.length))
        return set_positions(int(self._choices[known][steps][index]), self.length)

    def law(self, steps: int) -> np.ndarray:
        """(V,)*L: the law the best T-step policy produces with the oracle (its KL from p is ``kls[T - 1]``)."""
        vocab_size, length = self.vocab_size, self.length
        out = np.zeros((vocab_size,) * length)
        stack = [(np.full(length, vocab_size), 1.0, steps)]
        while stack:
            z, mass, left = stack.pop()
            if (z != vocab_size).all():
                out[tuple(z)] += mass
                continue
            revealed = self.choice(z, left)
            known = tuple(np.flatnonzero(z != vocab_size))
            marginals = []
            for i in revealed:
                index = tuple(int(z[j]) if j in known else (slice(None) if j == i else vocab_size) for j in range(length))
                row = self.lattice[index][:vocab_size]
                marginals.append(row / row.sum())
            for tokens in np.ndindex(*(vocab_size,) * len(revealed)):
                weight = mass * float(np.prod([m[v] for m, v in zip(marginals, tokens)]))
                if weight > 0:
                    nxt = z.copy()
                    nxt[list(revealed)] = tokens
                    stack.append((nxt, weight, left - 1))
        return out


def adaptive_optima(p: LawLike, max_steps: "int | None" = None) -> AdaptiveOptimum:
    """(c) for every T = 1 .. ``max_steps`` (default L), in one pass (module docstring)."""
    table = validate.law_table(p)
    vocab_size, length = table.shape[0], table.ndim
    steps = length if max_steps is None else validate.integer(max_steps, "max_steps", 1)
    steps = min(steps, length)
    check_memory(adaptive_bytes(vocab_size, length, steps),
                 f"the best adaptive policy for V={vocab_size}, L={length}, T <= {steps} "
                 f"(about {(2 * vocab_size + 1) ** length * steps:.3g} operations)")
    lattice = marginal_lattice(table)
    full = (1 << length) - 1
    sizes = set_sizes(length)

    def marginal(bits):
        return lattice[tuple(slice(0, vocab_size) if bits >> i & 1 else vocab_size for i in range(length))]

    values = [None] * (full + 1)  # values[C]: (steps + 1,) + (V,)*|C|, t = 0 .. steps
    choices = [None] * (full + 1)
    complete = np.zeros((steps + 1,) + (vocab_size,) * length)
    values[full], choices[full] = complete, np.zeros(complete.shape, dtype=np.int64)
    for known in sorted(range(full), key=lambda b: -sizes[b]):
        m_known = marginal(known)
        shape = (steps + 1,) + m_known.shape
        best = np.full(shape, np.inf)
        best_set = np.zeros(shape, dtype=np.int64)
        free = full & ~known
        singles = {}
        for i in set_positions(free, length):
            singles[i] = _conditional_entropy(marginal(known | 1 << i), m_known, known, 1 << i, length)
        for revealed in submasks(free):
            union = known | revealed
            cond, axes = _conditional(marginal(union), m_known, known, revealed, length)
            tc = sum(singles[i] for i in set_positions(revealed, length)) - entr(cond).sum(axis=axes)
            tc = np.maximum(tc, 0.0)
            if revealed == free:  # the only choice with one step left (the complete sequence is worth 0)
                _improve(best, best_set, 1, tc[None], revealed)
            if steps >= 2:  # t = 2 .. steps read v_{t-1} of the union, t - 1 = 1 .. steps - 1
                ahead = (cond[None] * values[union][1:steps]).sum(axis=tuple(a + 1 for a in axes))
                _improve(best, best_set, 2, tc[None] + ahead, revealed)
        values[known], choices[known] = best, best_set
    return AdaptiveOptimum(table, lattice, values, choices)


def _improve(best, best_set, first, total, revealed):
    """Keep ``total`` (t = first ..) where it is below the best so far (the first set found wins ties)."""
    better = total < best[first:]
    best[first:] = np.where(better, total, best[first:])
    best_set[first:] = np.where(better, revealed, best_set[first:])


def _conditional(m_union, m_known, known, revealed, length):
    """``(p(x_S | z_C), the S axes)`` in the union's position order (0 where p(z_C) = 0)."""
    union = known | revealed
    axes = tuple(r for r, i in enumerate(set_positions(union, length)) if revealed >> i & 1)
    below = np.expand_dims(m_known, axes)
    cond = np.divide(m_union, below, out=np.zeros_like(m_union), where=below > 0)
    return cond, axes


def _conditional_entropy(m_union, m_known, known, revealed, length):
    """:math:`H(X_S \\mid z_C)` for every z_C."""
    cond, axes = _conditional(m_union, m_known, known, revealed, length)
    return entr(cond).sum(axis=axes)
