r"""Tie rules of the ranking steps (issue #22, ties): which of several candidates of equal confidence a
ranking keeps first.

``"lowest"`` (refimpl's default) and ``"highest"`` position first, ``"random"`` (a uniformly random order,
independent of everything else), or — for the top-k steps of LLaDA and Dream, on small problems — a
*ranking function*: ``ranking(confidence, k)``, ``confidence`` an (n, L) float64 array (the candidates'
confidences, -inf at every other position, as LLaDA and Dream fill theirs before ``torch.topk``), returning
an (n, >= k) integer array whose first k entries are the positions kept, distinct candidates — for example
torch.topk's own order::

    def torch_topk(confidence, k):
        return torch.topk(torch.from_numpy(confidence), k).indices.numpy()

The exact law under a ranking function enumerates every draw of the candidates' tokens
(:func:`ranked_reveals`); under the three rules it is closed-form (:mod:`refimpl.samplers.kernels.subsets`).
"""
from typing import Callable

import numpy as np

from ...core.errors import InvalidParameterError
from ...core.memory import check_memory
from ...core.numerics import value_grid
from ...core.types import ArrayLike
from .subsets import EXCLUDE, HIGHEST, LOWEST, RANDOM, TIES

NEG_INF = -np.inf
RANKED_BATCH = 1 << 16  # draws passed to a ranking function per call


def check_tie(tie: object, owner: str, ranking: bool = False) -> object:
    """``tie`` if it is a tie rule (or, where ``ranking``, a callable), else a clear error."""
    if callable(tie) and ranking:
        return tie
    if isinstance(tie, str) and tie in TIES + (EXCLUDE,):
        return tie
    kinds = f"one of {TIES}" + (" or a ranking function ranking(confidence, k)" if ranking else "")
    raise InvalidParameterError(f"{owner} tie must be {kinds}, got {tie!r}")


def rank_order(conf: ArrayLike, candidates: ArrayLike, tie: str = LOWEST,
               rng: np.random.Generator | None = None) -> np.ndarray:
    """Per row, the candidates sorted by confidence descending, ties by the rule, then the other positions
    (so a candidate of confidence -inf still ranks before them).  ``"random"`` needs ``rng``; ``"exclude"``
    ranks as ``"lowest"`` (it is for exact laws)."""
    keyed = np.where(candidates, conf, NEG_INF)
    positions = np.broadcast_to(np.arange(conf.shape[1]), conf.shape)
    if tie == RANDOM:
        second = rng.random(conf.shape)
    else:
        second = -positions if tie == HIGHEST else positions
    return np.lexsort((second, -keyed, ~candidates), axis=1)  # (B, L)


def ranked_positions(ranking: Callable, confidence: np.ndarray, k: int, candidates: np.ndarray) -> np.ndarray:
    """(n, k): the positions ``ranking`` keeps for each row of ``confidence`` (n, L), checked: integers, k of
    them per row, distinct, each a candidate of its row."""
    n, length = confidence.shape
    try:
        out = np.asarray(ranking(np.ascontiguousarray(confidence, dtype=np.float64), k))
    except InvalidParameterError:
        raise
    except Exception as error:  # a user's function: say whose error it is
        raise InvalidParameterError(f"the ranking function failed on a ({n}, {length}) confidence array with "
                                    f"k={k}: {type(error).__name__}: {error}") from error
    if out.ndim != 2 or out.shape[0] != n or out.shape[1] < k or out.dtype.kind not in "iu":
        raise InvalidParameterError(f"the ranking function must return an ({n}, >= {k}) integer array of positions "
                                    f"for a ({n}, {length}) confidence array, got {out.dtype} {out.shape}")
    kept = out[:, :k].astype(np.int64)
    bad = (kept < 0) | (kept >= length)
    if not bad.any():
        ordered = np.sort(kept, axis=1)
        bad = np.zeros_like(kept, dtype=bool)
        bad[:, 1:] = ordered[:, 1:] == ordered[:, :-1]
        bad |= ~np.take_along_axis(candidates, kept, axis=1)
    if bad.any():
        row = int(np.flatnonzero(bad.any(axis=1))[0])
        raise InvalidParameterError(
            f"the ranking function did not return a permutation of the positions: for confidences "
            f"{confidence[row].tolist()} and k={k} its first k positions are {kept[row].tolist()} (they must be "
            f"distinct candidates, positions {np.flatnonzero(candidates[row]).tolist()})")
    return kept


def ranked_keep(conf: np.ndarray, candidates: np.ndarray, counts: ArrayLike, ranking: Callable) -> np.ndarray:
    """(B, L) bool: the positions kept by ``ranking`` in each row, ``counts`` (B,) of them."""
    keyed = np.where(candidates, conf, NEG_INF)
    keep = np.zeros(conf.shape, dtype=bool)
    for k in np.unique(counts).tolist():
        rows = np.flatnonzero(counts == k)
        if k > 0:
            kept = ranked_positions(ranking, keyed[rows], k, candidates[rows])
            keep[rows[:, None], kept] = True
    return keep


def ranked_reveals(q: np.ndarray, conf: np.ndarray, slots: np.ndarray, ranking: Callable, positions: np.ndarray,
                   length: int, weight: np.ndarray | None = None) -> np.ndarray:
    r"""Exact law of (S, x_S) — as :func:`refimpl.samplers.kernels.subsets.top_k_reveals` — when the k kept are those
    ``ranking`` returns: every draw :math:`x` of the e candidates is enumerated, its confidences handed to the
    ranking function (the candidates at ``positions`` (S, e) of a length-``length`` sequence, -inf elsewhere),
    and :math:`\prod_i q_i(x_i)` added to the kept set with its tokens.  ``q``, ``conf`` (e, V, S); ``slots``
    (n_sub, k) from :func:`refimpl.samplers.kernels.subsets.subset_grid`.  Returns a fresh (n_sub, V**k, S)."""
    count, vocab_size, sources = q.shape
    n_sub, k = slots.shape
    draws = vocab_size ** count
    check_memory(draws * sources * (length + count + 4) * 8,
                 f"the exact law under a ranking function, enumerating {draws} draws of {count} candidates")
    grid = value_grid(vocab_size, count)  # (V**e, e)
    code = np.full(1 << count, -1, dtype=np.int64)  # a kept subset (bitmask of candidate indices) -> its slot
    for s, chosen in enumerate(slots.tolist()):
        code[sum(1 << c for c in chosen)] = s
    prob = np.ones((draws, sources)) if weight is None else np.broadcast_to(weight, (draws, sources)).copy()
    for i in range(count):
        prob *= q[i, grid[:, i]]
    confidence = np.full((draws, sources, length), NEG_INF)
    rows = np.arange(sources)
    for i in range(count):
        confidence[:, rows, positions[:, i]] = conf[i, grid[:, i]]  # (V**e, S) at each source's position
    candidates = np.zeros((sources, length), dtype=bool)
    candidates[rows[:, None], positions] = True
    flat_conf = confidence.reshape(-1, length)
    flat_candidates = np.broadcast_to(candidates[None], (draws, sources, length)).reshape(-1, length)
    kept = np.concatenate([ranked_positions(ranking, flat_conf[start:start + RANKED_BATCH], k,
                                            flat_candidates[start:start + RANKED_BATCH])
                           for start in range(0, len(flat_conf), RANKED_BATCH)])  # (V**e S, k) positions
    index_of = np.full((sources, length), -1, dtype=np.int64)  # position -> candidate index, per source
    index_of[rows[:, None], positions] = np.arange(count)[None, :]
    source = np.tile(rows, draws)
    chosen = np.sort(index_of[source[:, None], kept], axis=1)  # (V**e S, k) candidate indices, increasing
    slot = code[(np.int64(1) << chosen).sum(axis=1)]
    draw = np.repeat(np.arange(draws), sources)
    tokens = grid[draw[:, None], chosen]  # (V**e S, k): the kept candidates' tokens, slot order
    token_index = (tokens * vocab_size ** np.arange(k - 1, -1, -1)).sum(axis=1)
    out = np.zeros((n_sub, vocab_size ** k, sources))
    np.add.at(out, (slot, token_index, source), prob.reshape(-1))
    return out
