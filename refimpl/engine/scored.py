r"""The exact law of a plan whose state is a partial sequence *and a score per position*.

ReMDM's confidence schedule (``remdm-conf``) remasks a clean token with a probability that depends on the
model's confidence in it *when it was revealed*: two paths to the same partial sequence may carry
different scores, so the state is not a partial sequence and the mass table of :mod:`refimpl.engine.exact`
cannot hold it.  Here the state is the pair (z, scores) — ``scores`` an (L,) float64 array, NaN where a
position has no score — and the exact law is the forward recursion over the states that can be reached,
held as arrays and merged after each step (paths that reach the same z with equal scores add their mass).
Nothing is approximated; the cost is the number of reachable states, which grows with the histories, so
this runner is for small problems (it refuses past :data:`MAX_ENTRIES` pairs or :data:`MAX_STATES` states).

A step of such a plan has ``batching`` = :data:`SCORED` and answers, besides ``candidates`` and ``calls``
(:mod:`refimpl.engine.protocol`):

- ``successors(z, scores, mu)`` — for N states (z (N, L), scores (N, L)) and the denoiser's answers ``mu``
  (N, L, V) at them, every state each can move to: ``(parent (K,), z' (K, L), scores' (K, L), probability
  (K,))``, the probabilities of each parent summing to 1;
- ``successor_count(z, scores, vocab_size)`` — (N,) how many successors each state has, at most (the runner
  refuses a step that would form more than :data:`MAX_ENTRIES` before it forms them);
- ``draw_scored(z, scores, mu, rng)`` — the Monte Carlo side: (z', scores') for a batch (B, L), written
  independently of ``successors``.

A plan is scored in all its steps or in none (the engine refuses a mix).
"""
import math

import numpy as np

from ..core.errors import InvalidParameterError
from ..core.memory import check_memory
from ..denoisers.evaluation import evaluate_rows
from .protocol import call_probability

MAX_STATES = 2_000_000  # reachable (z, scores) states one step may hold
MAX_ENTRIES = 1 << 23  # (state, outcome) pairs one step may form


def scored_law_and_calls(steps, denoiser, prompt, vocab_size, stats=None, reveals=None):
    """``(law (V,)*L, calls (T,))``: the exact output law of a scored plan started at ``prompt`` (no scores)
    and the probability that the original loop calls the model at each step (times the step's passes)."""
    z, scores, mass = prompt[None, :].copy(), np.full((1, len(prompt)), np.nan), np.ones(1)
    calls, changed = [], 1.0  # nothing is cached before the first step
    for step in steps:
        if stats is not None:
            stats.steps += 1
        acting = step.candidates(z == vocab_size).any(axis=1)
        calls.append(call_probability(step.calls, math.fsum(mass[acting]), changed) * step.passes)
        sources = np.flatnonzero(acting)
        forming = int(np.sum(step.successor_count(z[sources], scores[sources], vocab_size), dtype=np.float64))
        if forming > MAX_ENTRIES:
            raise InvalidParameterError(
                f"{type(step).__name__}: step {len(calls)} would form {forming} (state, outcome) pairs from "
                f"{len(sources)} reachable (sequence, scores) states, more than {MAX_ENTRIES}; the exact law of a "
                f"scored plan is for small problems (fewer steps or positions)")
        check_memory(forming * (2 * len(prompt) + 2) * 8, f"{type(step).__name__}: {forming} (state, outcome) pairs")
        distinct, where = np.unique(z[acting], axis=0, return_inverse=True)
        mu = evaluate_rows(denoiser, distinct, vocab_size)[np.asarray(where).reshape(-1)]
        parent, after, after_scores, chance = step.successors(z[sources], scores[sources], mu)
        parent, kept = sources[parent], chance > 0.0
        parent, after, after_scores, chance = parent[kept], after[kept], after_scores[kept], chance[kept]
        moved = mass[parent] * chance
        if stats is not None:
            stats.patterns += len(distinct)
            stats.entries += len(chance)
        if reveals is not None:
            reveals.append(_revealed(z[parent] == vocab_size, after != vocab_size, moved))
        stays = (after == z[parent]).all(axis=1)
        changed = 1.0 - math.fsum(mass[~acting]) - math.fsum(moved[stays])
        z, scores, mass = _merge(np.concatenate([z[~acting], after]), np.concatenate([scores[~acting], after_scores]),
                                 np.concatenate([mass[~acting], moved]))
        if len(mass) > MAX_STATES:
            raise InvalidParameterError(
                f"{type(step).__name__}: {len(mass)} reachable (sequence, scores) states after step {len(calls)}, "
                f"more than {MAX_STATES}; the exact law of a scored plan is for small problems")
    law = np.zeros((vocab_size,) * len(prompt))
    done = ~(z == vocab_size).any(axis=1)
    np.add.at(law, tuple(z[done].T), mass[done])
    return law, np.array(calls, dtype=np.float64)


def _merge(z, scores, mass):
    """The states with equal sequence and equal scores (no score, NaN, equal to no score) merged, their masses
    added."""
    if len(mass) <= 1:
        return z, scores, mass
    columns = np.concatenate([z.astype(np.float64), np.where(np.isnan(scores), -1.0, scores)], axis=1)
    order = np.lexsort(columns.T[::-1])
    ordered = columns[order]
    first = np.concatenate([[True], (ordered[1:] != ordered[:-1]).any(axis=1)])
    group = np.cumsum(first) - 1
    total = np.bincount(group, weights=mass[order])
    keep = order[first]
    return z[keep], scores[keep], total


def _revealed(before, clean_after, moved):
    """``{(masked positions before, positions revealed): probability}`` of one step's moves."""
    out = {}
    pairs = np.concatenate([before, before & clean_after], axis=1)
    distinct, where = np.unique(pairs, axis=0, return_inverse=True)
    sums = np.bincount(np.asarray(where).reshape(-1), weights=moved, minlength=len(distinct))
    length = before.shape[1]
    for pair, probability in zip(distinct, sums):
        key = (tuple(int(i) for i in np.flatnonzero(pair[:length])), tuple(int(i) for i in np.flatnonzero(pair[length:])))
        out[key] = out.get(key, 0.0) + float(probability)
    return out
