r"""The outcomes of steps that reveal a k-subset of the candidates: which (subset, tokens) pairs can
happen, where they land, and — for a confidence ranking — their exact probabilities.

Used by :class:`refimpl.samplers.steps.UniformKStep` (uniform subsets), ``TopKStep`` (the k most
confident: LLaDA low_confidence, Dream's confidence algorithms) and ``ThresholdStep`` (Fast-dLLM's
fallback to the most confident one).  Outcomes are indexed in base V+1 over the masked positions
(V = still masked), subset-major.
"""
import itertools

import numpy as np

from ..numerics import value_grid


def subsets(ctx, candidates, k):
    """All k-subsets of the candidates with every token assignment: the revealed sets and their outcomes.

    Returns ``slots`` (n_sub, k) candidate indices, ``grid`` (G, k) tokens, and the flat outcome index
    (base V+1 over the masked positions) of each (subset, tokens) pair, shape (n_sub, G).
    """
    slots, grid = subset_grid(len(candidates), k, ctx.vocab_size)
    return slots, grid, outcome_index(ctx, candidates, slots, grid)


def subset_grid(count, k, vocab_size):
    """``slots`` (n_sub, k): the k-subsets of ``range(count)``; ``grid`` (G, k): every token assignment."""
    combos = list(itertools.combinations(range(count), k))
    return np.array(combos, dtype=np.int64).reshape(len(combos), k), value_grid(vocab_size, k)


def outcome_index(ctx, candidates, slots, grid):
    """(n_sub, G): the flat outcome index (base V+1 over the masked positions) of each (subset, tokens)."""
    vocab_size, masked = ctx.vocab_size, ctx.masked
    weights = (vocab_size + 1) ** np.arange(len(masked) - 1, -1, -1)
    where = np.array([masked.index(j) for j in candidates], dtype=np.int64)  # candidate -> masked slot
    index = np.full((len(slots), len(grid)), vocab_size * weights.sum())
    for slot in range(slots.shape[1]):
        column = weights[where[slots[:, slot]]]  # (n_sub,)
        index = index + column[:, None] * (grid[None, :, slot] - vocab_size)
    return index


def chosen(rows, slots, grid, t):
    """``rows`` (P, e, N, V) -> (P, n_sub, N, G): each subset's t-th chosen candidate's row at its token."""
    return rows[:, slots[:, t]][..., grid[:, t]]


def chosen_product(rows, slots, grid):
    """(P, n_sub, N, G): the product over each subset's chosen candidates of their row at their token."""
    prob = np.ones((rows.shape[0], len(slots), rows.shape[2], len(grid)))
    for t in range(slots.shape[1]):
        prob *= chosen(rows, slots, grid, t)
    return prob


def top_k_outcomes(ctx, candidates, q, conf, k):
    """:func:`top_k_laws` for one mask pattern: the flat outcome indices (n_sub * G,) and their
    probabilities (N, n_sub * G)."""
    slots, grid, index = subsets(ctx, candidates, k)
    return index.ravel(), top_k_laws(q[None], conf[None], slots, grid)[0]


def top_k_laws(q, conf, slots, grid):
    r"""Exact law of (S, x_S) when the k candidates with the highest key (confidence, -position) are
    kept, for P mask patterns with the same numbers of sources and candidates at once.

    .. math::  P(S, x_S) = \prod_{i \in S} q_i(x_i) \prod_{j \notin S} B_j(w, x_w),
               \quad B_j(i, v) = P(\mathrm{key}_j < \mathrm{key}_i(v)) = \sum_u q_j(u) [\mathrm{key}_j(u) < \mathrm{key}_i(v)],

    w the weakest chosen candidate (lowest confidence; on ties the largest position).  The products
    :math:`\prod_{j \notin S} B_j(w, v)` depend on (S, w, v) only, so they are formed once per subset,
    weakest slot and token, and each outcome then takes one of them.  ``q`` and ``conf`` are
    (P, e, N, V) for the e candidates (increasing positions); ``slots`` and ``grid`` from
    :func:`subset_grid`.  Returns the probabilities (P, N, n_sub * G), subset-major.
    """
    patterns, count, sources, vocab_size = q.shape
    k = slots.shape[1]
    prob = chosen_product(q, slots, grid)  # (P, n_sub, N, G)
    if 0 < k < count:
        weakest_conf = np.full(prob.shape, np.inf)
        weakest = np.zeros(prob.shape, dtype=np.int64)  # slot of the weakest; slots go by position
        for t in range(k):
            chosen_conf = chosen(conf, slots, grid, t)
            at_or_below = chosen_conf <= weakest_conf  # ties go to the later slot: the larger position
            weakest[at_or_below] = t
            np.minimum(weakest_conf, chosen_conf, out=weakest_conf)
        later = np.greater.outer(np.arange(count), np.arange(count))[:, :, None, None]  # (e, e, 1, 1): j after i
        pair = np.zeros((patterns, count, count, sources, vocab_size))  # (P, e, e, N, V): B_j(i, v)
        for u in range(vocab_size):
            c_j = conf[:, :, None, :, None, u]  # (P, e, 1, N, 1): candidate j's confidence for token u
            c_i = conf[:, None, :, :, :]  # (P, 1, e, N, V): candidate i's confidence for token v
            pair += q[:, :, None, :, None, u] * ((c_j < c_i) | ((c_j == c_i) & later))
        inside = np.zeros((count, len(slots)), dtype=bool)  # candidate j is in subset s
        inside[slots.T, np.arange(len(slots))[None, :]] = True
        outside = np.ones((patterns, len(slots), k, sources, vocab_size))  # prod_{j not in S} B_j(w, v)
        for j in range(count):
            outside *= np.where(inside[j][None, :, None, None, None], 1.0, pair[:, j][:, slots])
        factor = np.zeros(prob.shape)
        for t in range(k):
            factor += np.where(weakest == t, outside[:, :, t][..., grid[:, t]], 0.0)
        prob *= factor
    return prob.transpose(0, 2, 1, 3).reshape(patterns, sources, -1)
