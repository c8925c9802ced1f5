r"""Zero-error serial depth (issue #39, build 1; Wen, Liang and Lu, *Conditional total correlation and the serial
depth of adaptive policies*, arXiv 2608.25505, Definitions 1-2 and §V-A): the fewest rounds, in expectation under p
(:math:`D_0`) or in the worst case (:math:`\bar D_0`), of a deterministic value-adaptive policy whose output law is
exactly p — every round reveals a set S whose tokens are conditionally independent given the tokens known,
:math:`TC(X_S \mid x_C) = 0`, each drawn from its exact conditional marginal.

By dynamic programming over the reachable states :math:`(C, x_C)`, :math:`p(x_C) > 0`:

.. math::  v(C, x_C) = \min_{S:\ TC(X_S \mid x_C) = 0} \Big(1 + \sum_{x_S} p(x_S \mid x_C)\, v(C \cup S, x_{C \cup S})\Big),

:math:`v = 0` when C is every position; the worst case takes the max over :math:`x_S` instead of the mean.  Each
state keeps only the support rows consistent with it, so the work follows the support, not :math:`V^L`.
"""
import functools

import numpy as np

from ..core import validate
from ..core.memory import check_memory
from ..core.types import LawLike

ZERO = 1e-12  # a conditional TC at most this (nats) counts as zero


def _entropy(codes, weights):
    _, groups = np.unique(codes, return_inverse=True)
    mass = np.bincount(groups, weights=weights)
    mass = mass[mass > 0]
    return float(-(mass * np.log(mass)).sum())


def _independent_sets(rows, weights, free, vocab_size):
    """The nonempty subsets (bitmasks over ``free``) whose tokens are independent under the rows' law."""
    single = {i: _entropy(rows[:, i], weights) for i in free}
    out = []
    for mask in range(1, 1 << len(free)):
        chosen = [free[k] for k in range(len(free)) if mask >> k & 1]
        if len(chosen) == 1:
            out.append(tuple(chosen))
            continue
        codes = np.zeros(len(rows), dtype=np.int64)
        for i in chosen:
            codes = codes * vocab_size + rows[:, i]
        if sum(single[i] for i in chosen) - _entropy(codes, weights) <= ZERO:
            out.append(tuple(chosen))
    return out


def zero_error_depth(p: LawLike, worst: bool = False) -> float:
    r""":math:`D_0(p)` (``worst``: :math:`\bar D_0(p)`), the fewest rounds of an exact value-adaptive policy.

    Examples
    --------
    >>> import refimpl
    >>> from refimpl.limits.depth import zero_error_depth
    >>> zero_error_depth(refimpl.datasets.product([[0.5, 0.5]] * 3))        # independent tokens: one round
    1.0
    >>> zero_error_depth(refimpl.datasets.parity(2, 3))                    # any two, then the last
    2.0
    """
    table = validate.law_table(p)
    vocab_size, length = table.shape[0], table.ndim
    support = np.argwhere(table > 0)
    check_memory(16 * len(support) * length * (1 << length),
                 f"the zero-error depth of a law with {len(support)} sequences of length {length} (states up to "
                 f"2^L x the support)")
    probs = table[tuple(support.T)]

    @functools.lru_cache(maxsize=None)
    def value(known, values):
        keep = np.all(support[:, list(known)] == np.array(values, dtype=np.int64), axis=1) if known else \
            np.ones(len(support), dtype=bool)
        rows, weights = support[keep], probs[keep] / probs[keep].sum()
        free = [i for i in range(length) if i not in known]
        if not free:
            return 0.0
        best = np.inf
        for chosen in _independent_sets(rows, weights, free, vocab_size):
            after = tuple(sorted(known + chosen))
            outcomes = {}
            for row, w in zip(rows, weights):
                key = tuple(int(row[i]) for i in after)
                outcomes[key] = outcomes.get(key, 0.0) + w
            results = [(w, value(after, key)) for key, w in outcomes.items()]
            cost = 1.0 + (max(v for _, v in results) if worst else sum(w * v for w, v in results))
            best = min(best, cost)
        return best

    return float(value((), ()))


def bisection_schedule(length: int, order: int = 1) -> list:
    r"""Wen-Liang-Lu's recursive bisection by m-blocks (Theorem 2's fixed schedule, m = ``order``): every segment
    longer than m targets its central m-block (:math:`\lfloor(\ell - m)/2\rfloor` positions left of it), shorter ones
    target themselves; a stage's m rounds reveal one not yet revealed position of every target each; then the
    segments split around their blocks.  Exact on any order-m Markov law, in at most
    :math:`m(\lceil\log_2(n/m)\rceil + 1)` rounds.  Returns the rounds' position sets (from 0).

    Examples
    --------
    >>> from refimpl.limits.depth import bisection_schedule
    >>> bisection_schedule(4)           # the middle, then the middles of what is left, then the rest
    [[1], [0, 2], [3]]
    """
    length, order = validate.integer(length, "length", 1), validate.integer(order, "order", 1)
    segments, rounds = [list(range(length))], []
    while segments:
        targets, after = [], []
        for segment in segments:
            if len(segment) > order:
                left = (len(segment) - order) // 2
                targets.append(segment[left:left + order])
                after += [part for part in (segment[:left], segment[left + order:]) if part]
            else:
                targets.append(segment)
        for r in range(order):
            chosen = sorted(target[r] for target in targets if r < len(target))
            if chosen:
                rounds.append(chosen)
        segments = after
    return rounds
