r"""The exact law of the action an Info-Gain step commits when its candidates' tokens are drawn at a temperature
(rule R10 of SAMPLERS-2026.md; yks23/Information-Gain-Sampler ``_generate_candidates`` at 0ae2da8).

Arrays are (N, m, V): N sources side by side, the m valid positions of the block (in increasing position), V
tokens.  ``mu`` holds the model's probabilities (untempered: the confidences read them), ``q`` the drawing law at
the token temperature (:func:`refimpl.samplers.kernels.tokens.temper`; one-hot at temperature 0).  Candidate 0 draws
every token from ``q`` and takes the most confident position (:func:`first_candidate_law`); each of the other
candidates draws every token afresh and a position from softmax(confidence / tau) (:func:`drawn_candidate_law`);
repeated positions are dropped, the first occurrence kept with its token, and the first best score is committed
(:func:`committed_law`: a dynamic programme over the candidates in order, with the set of positions seen and the
best action so far as its state — :math:`2^m (mV + 1)` states a source).
"""
import numpy as np
from scipy.special import softmax

from ...core.errors import InvalidParameterError
from ...core.memory import check_memory
from ...core.numerics import value_grid
from .subsets import HIGHEST, LOWEST, RANDOM


def first_candidate_law(mu, q, tie=LOWEST):
    r"""(N, m, V): the probability that candidate 0 is position j with token v — v drawn from ``q`` at j, and j the
    most confident position (confidence :math:`\mu_j(v)`) under ``tie`` (lowest / highest position first, uniform
    among the tied, or ``exclude``: a tie loses the path)."""
    mu, q = np.asarray(mu, dtype=np.float64), np.asarray(q, dtype=np.float64)
    count = mu.shape[1]
    # below[n, k, j, v] = P(position k's drawn confidence < mu_j(v)), same[...]: = mu_j(v)
    level = mu[:, None, None, :, :]  # (N, 1, 1, m, V)
    below = (q[:, :, :, None, None] * (mu[:, :, :, None, None] < level)).sum(axis=2)  # (N, m, m, V)
    same = (q[:, :, :, None, None] * (mu[:, :, :, None, None] == level)).sum(axis=2)
    out = np.empty(mu.shape)
    for j in range(count):
        others = [k for k in range(count) if k != j]
        if tie == RANDOM:
            # P(no other beats and exactly t others tie) / (t + 1), by the generating function prod(below + same x)
            poly = np.zeros((mu.shape[0], mu.shape[2], count))
            poly[:, :, 0] = 1.0
            for k in others:
                poly[:, :, 1:] = poly[:, :, 1:] * below[:, k, j, :, None] + poly[:, :, :-1] * same[:, k, j, :, None]
                poly[:, :, 0] *= below[:, k, j]
            win = (poly / np.arange(1, count + 1)).sum(axis=2)
        else:
            win = np.ones(mu.shape[::2])
            for k in others:
                ties_win = (tie == LOWEST and k > j) or (tie == HIGHEST and k < j)
                win = win * (below[:, k, j] + (same[:, k, j] if ties_win else 0.0))
        out[:, j] = q[:, j] * win
    return out


def drawn_candidate_law(mu, q, position_temperature):
    r"""(N, m, V): the probability that one of candidates 1..N-1 is position j with token v — every token drawn from
    ``q``, the position from softmax(:math:`\mu_k(y_k)` / ``position_temperature``) over the m positions (the
    original's Gumbel-top-1) — by enumerating the :math:`V^m` token vectors."""
    mu, q = np.asarray(mu, dtype=np.float64), np.asarray(q, dtype=np.float64)
    sources, count, vocab_size = mu.shape
    check_memory(8 * 3 * sources * vocab_size ** count * count, "the Info-Gain candidates' token vectors")
    grid = value_grid(vocab_size, count)  # (G, m)
    at = np.arange(count)
    weight = np.prod(q[:, at, grid], axis=2)  # (N, G)
    chosen = softmax(mu[:, at, grid] / position_temperature, axis=2)  # (N, G, m)
    out = np.empty(mu.shape)
    for j in range(count):
        out[:, j] = (weight * chosen[:, :, j]) @ (grid[:, j, None] == np.arange(vocab_size))  # (N, V)
    return out


def committed_law(first, drawn, score, candidates):
    r"""(N, m, V): the probability that action (j, v) is committed — candidate 0 from ``first``, ``candidates`` - 1
    more i.i.d. from ``drawn`` (both (N, m, V)), a repeated position dropped (the first occurrence kept with its
    token) and the first of the highest ``score`` (N, m, V) committed.  Where ``first`` sums below 1 (a tie
    excluded), so does the result."""
    first, drawn, score = (np.asarray(a, dtype=np.float64) for a in (first, drawn, score))
    sources, count, vocab_size = first.shape
    actions = count * vocab_size
    if count > 16:
        raise InvalidParameterError(f"Info-Gain at a token temperature: {count} masked positions in a block need "
                                    f"2^{count} sets of positions seen per source; at most 16")
    check_memory(8 * 3 * sources * 2 ** count * actions, "the Info-Gain candidates' dynamic programme")
    flat_first, flat_drawn, flat_score = (a.reshape(sources, actions) for a in (first, drawn, score))
    seen = np.zeros((sources, 2 ** count, actions))  # (source, set of positions seen, best action so far)
    for a in range(actions):
        seen[:, 1 << (a // vocab_size), a] = flat_first[:, a]
    sets = np.arange(2 ** count)
    better = flat_score[:, :, None] > flat_score[:, None, :]  # (N, a, b): action a beats the best b so far
    for _ in range(candidates - 1):
        nxt = np.zeros(seen.shape)
        for a in range(actions):
            bit = 1 << (a // vocab_size)
            old, new = sets[(sets & bit) != 0], sets[(sets & bit) == 0]
            chance = flat_drawn[:, a, None, None]
            nxt[:, old] += seen[:, old] * chance  # a position already seen: dropped
            moved = seen[:, new] * chance  # (N, s, A)
            wins = better[:, a, None, :]
            nxt[:, new | bit] += np.where(wins, 0.0, moved)
            nxt[:, new | bit, a] += np.where(wins, moved, 0.0).sum(axis=2)
        seen = nxt
    return seen.sum(axis=1).reshape(sources, count, vocab_size)


def expected_distinct(first, drawn, candidates):
    r"""(N,): the expected number of distinct positions among the candidates — the rows of the lookahead batch —
    from the position laws of candidate 0, ``first`` (N, m), and of each of the ``candidates`` - 1 others,
    ``drawn`` (N, m), all independent: :math:`\sum_j [w - (w - f_j)(1 - d_j)^{N-1}]` with w the mass ``first``
    keeps (1 unless a tie rule drops paths; then the expectation is over the kept paths, times their mass)."""
    first, drawn = np.asarray(first, dtype=np.float64), np.asarray(drawn, dtype=np.float64)
    kept = first.sum(axis=1, keepdims=True)
    return (kept - (kept - first) * (1.0 - drawn) ** (candidates - 1)).sum(axis=1)
