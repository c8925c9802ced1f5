r"""The outcomes of steps that reveal a k-subset of the candidates: which (subset, tokens) pairs can
happen, where they land, and — for a confidence ranking — their exact probabilities.

Used by :class:`refimpl.samplers.steps.UniformKStep` (uniform subsets), ``TopKStep`` (the k most
confident: LLaDA low_confidence, Dream's confidence algorithms) and ``ThresholdStep`` (Fast-dLLM's
fallback to the most confident one).  Arrays of candidates' rows are (e, V, S): e candidates (in
increasing position), V tokens, S sources (last and long — the sources of many mask patterns side
by side — so that array operations run along it).  Outcome laws are (n_sub, V**k, S): subsets in
:func:`subset_grid` order, tokens in ``value_grid`` order (the first slot most significant).
"""
import itertools

import numpy as np

from ..numerics import value_grid


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


def grid_product(rows, slots, weight=None):
    r"""(n_sub, V**k, S): :math:`w_s \prod_t \mathrm{rows}_{a_t}(x_t)` for every subset :math:`a` = ``slots[s]``
    and tokens x, from ``rows`` (e, V, S) and ``weight`` (S,) (default 1)."""
    count, k = slots.shape
    sources = rows.shape[-1]
    out = np.ones((count, 1, sources)) if k == 0 else rows[slots[:, 0]]  # a copy
    if weight is not None:
        out *= weight
    for t in range(1, k):
        out = np.multiply(out[:, :, None], rows[slots[:, t]][:, None]).reshape(count, -1, sources)
    return out


def mass_below(q, conf):
    r"""(e, e, V, S): ``below[j, i, v]`` :math:`= B_j(i, v) = P(\mathrm{key}_j < \mathrm{key}_i(v)) = \sum_u q_j(u)
    [\mathrm{key}_j(u) < \mathrm{key}_i(v)]` for candidates j != i (the diagonal is left at 0), from
    ``q``, ``conf`` (e, V, S).

    :math:`\mathrm{key}_i(v) = (\mathrm{conf}_i(v), -\mathrm{position}_i)`: on equal confidence the later
    candidate (larger position) is below, so for j after i the comparison is ``<=``, before i ``<``.
    """
    count, vocab_size, sources = q.shape
    below = np.empty((count, count, vocab_size, sources))
    under = np.empty((vocab_size, count, vocab_size, sources), dtype=bool)  # u, i, v, s
    for j in range(count):
        c_j = conf[j][:, None, None, :]  # (V_u, 1, 1, S)
        np.less_equal(c_j, conf[:j], out=under[:, :j])  # i before j: ties put j below
        np.less(c_j, conf[j:], out=under[:, j:])  # (the diagonal: j is never below itself)
        np.sum(np.multiply(under, q[j][:, None, None, :]), axis=0, out=below[j])
    return below


def _select(mask, if_true, if_false):
    """``np.where(mask, if_true, if_false)`` for finite values, branch-free (a product with 0 or 1 is exact)."""
    return np.multiply(mask, if_true) + np.multiply(~mask, if_false)


def top_k_laws(q, conf, slots, weight=None):
    r"""Exact law of (S, x_S) when every candidate draws :math:`x_i \sim q_i` and the k with the highest key
    (confidence of the drawn token, then lower position) are kept.

    .. math::  P(S, x_S) = \prod_{i \in S} q_i(x_i) \prod_{j \notin S} B_j(w, x_w),

    w the weakest chosen candidate and :math:`B_j` from :func:`mass_below`: the kept set is S exactly
    when every other candidate's key is below the weakest kept key.  The weakest is found slot by slot
    (slots go by position, so on equal confidence the later slot is the weaker).  ``q``, ``conf``
    (e, V, S) for S sources; ``slots`` (n_sub, k) from :func:`subset_grid`; ``weight`` (S,) multiplies
    each source.  Returns (n_sub, V**k, S).
    """
    count, vocab_size, sources = q.shape
    n_sub, k = slots.shape
    if k in (0, count):
        return grid_product(q, slots, weight)
    below = mass_below(q, conf)
    others = np.array([[j for j in range(count) if j not in chosen] for chosen in slots.tolist()], dtype=np.int64)

    def outside(t):  # (n_sub, V, S): prod_{j not in S} B_j(a_t, v)
        out = below[others[:, 0], slots[:, t]]
        for u in range(1, count - k):
            out *= below[others[:, u], slots[:, t]]
        return out

    prob = q[slots[:, 0]]  # (n_sub, V**t, S) over the first t slots
    if weight is not None:
        prob *= weight
    weakest, factor = conf[slots[:, 0]], outside(0)  # the weakest's confidence and its outside product
    for t in range(1, k):
        c_t = conf[slots[:, t]][:, None]  # (n_sub, 1, V, S)
        weaker = c_t <= weakest[:, :, None]  # ties: the later slot is the weaker
        factor = _select(weaker, outside(t)[:, None], factor[:, :, None]).reshape(n_sub, -1, sources)
        if t + 1 < k:
            weakest = np.minimum(weakest[:, :, None], c_t).reshape(n_sub, -1, sources)
        prob = np.multiply(prob[:, :, None], q[slots[:, t]][:, None]).reshape(n_sub, -1, sources)
    prob *= factor
    return prob


def top_k_outcomes(ctx, candidates, q, conf, k):
    """:func:`top_k_laws` for one mask pattern from (e, N, V) rows: the flat outcome indices
    (n_sub * G,) and their probabilities (N, n_sub * G)."""
    slots, grid = subset_grid(len(candidates), k, ctx.vocab_size)
    prob = top_k_laws(q.transpose(0, 2, 1), conf.transpose(0, 2, 1), slots)  # (n_sub, G, N)
    return outcome_index(ctx, candidates, slots, grid).ravel(), prob.reshape(-1, ctx.sources).T
