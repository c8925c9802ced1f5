r"""What every reveal step shares: its candidates are its eligible masked positions; how many tokens a
step reveals (:class:`FixedCount`, :class:`FractionCount`).  Tie rules: :mod:`refimpl.samplers.kernels.ties`."""
import dataclasses
import math

import numpy as np

from ...core.float32 import count32
from ...core.numerics import FRESH
from ...engine.layout import code_patterns, pattern_codes, positions, reach_by_dims
from ...engine.protocol import CountStep, PatternStep
from ..kernels.subsets import EXCLUDE, subset_grid

NEG_INF = -np.inf


@dataclasses.dataclass(frozen=True)
class FixedCount:
    """Reveal ``k`` tokens (at most the number available)."""

    k: int

    def __call__(self, available):
        return min(self.k, available)


@dataclasses.dataclass(frozen=True)
class FractionCount:
    """Dream's count: ``int(available * fraction)``, or everything on the last step; ``float32``: the product
    formed in float32, as Dream's tensors do (:func:`refimpl.core.float32.count32`)."""

    fraction: float
    last: bool
    float32: bool = False

    def __call__(self, available):
        if self.last:
            return available
        return count32(available, self.fraction) if self.float32 else int(available * self.fraction)


def _eligible_masked(z, eligible, vocab_size):
    return (z == vocab_size) & np.asarray(eligible)[None, :]  # (B, L)


class Reveals:
    """A reveal step's candidates: its ``eligible`` positions that are masked."""

    def candidates(self, patterns):
        return np.asarray(patterns, dtype=bool) & np.asarray(self.eligible, dtype=bool)[None, :]  # (P, L)


class Ranked:
    """A step that ranks its candidates by a score, with a tie rule ``tie`` (:mod:`refimpl.samplers.kernels.ties`)."""

    def without_ties(self):
        """The same step with ``tie="exclude"``: the draws whose kept set a tie decides are dropped."""
        return dataclasses.replace(self, tie=EXCLUDE)


class PerPatternReveal(Reveals, PatternStep):
    """A reveal step the engine runs one mask pattern at a time; it lists what it reaches from
    ``outcome_dims`` (:func:`refimpl.engine.layout.reach_by_dims`)."""


    def reach(self, patterns, vocab_size):
        return reach_by_dims(self.outcome_dims, patterns, vocab_size)

    def outcomes(self, candidates, vocab_size):
        """Outcomes per source: each candidate a token or still masked."""
        return (vocab_size + 1) ** candidates


def candidate_rows(states, eligible):
    """``(candidates, mu)``: a per-pattern step's candidates (its eligible masked positions, in order) and the
    denoiser's answers there as a fresh (e, V, N) array (``states.rows`` hands out a workspace array that its
    next call overwrites)."""
    candidates = [j for j in states.masked if eligible[j]]  # (the engine calls only with some)
    mu = np.empty((len(candidates), states.vocab_size, states.sources))
    for e, j in enumerate(candidates):
        mu[e] = states.rows(j)
    return candidates, mu


def candidate_product(states, factors):
    r"""The product over candidates of per-candidate outcome factors, each (V+1, N) — rows 0..V-1 the
    probability that the candidate is revealed with that token, row V that it stays masked — as
    (outcomes, N), the first candidate's axis outermost, times the sources' mass; formed in the
    engine's workspace (``states`` a :class:`refimpl.engine.states.PatternStates`)."""
    out = states.mass.reshape(1, states.sources)  # (outcomes of the candidates so far, N)
    for e, factor in enumerate(factors):
        grown = states.buffer(e % 2, (len(out), len(factor), states.sources))
        out = np.multiply(out[:, None, :], factor[None], out=grown).reshape(-1, states.sources)
    return out


class SubsetReveal(Reveals, CountStep):
    """A step that reveals ``count(e)`` of its e candidates (which ones: ``reveal_probabilities``); the engine runs it
    on many mask patterns at once.  ``positional``: its ranking reads the candidates' positions (handed to
    ``reveal_probabilities`` as ``positions``, as for a ranking function)."""

    positional = False


    def reach(self, patterns, vocab_size):
        """Every pattern left by revealing some ``count(e)``-subset of the candidates (C order)."""
        length = patterns.shape[1]
        candidates = self.candidates(patterns)
        counts = candidates.sum(axis=1)
        reached = []
        for e in np.unique(counts).tolist():
            chosen = counts == e
            slots, _ = subset_grid(e, self.count(e) if e else 0, vocab_size)
            bits = np.int64(1) << (length - 1 - positions(candidates[chosen])[:, slots])  # (P, n_sub, k)
            reached.append((pattern_codes(patterns[chosen])[:, None] - bits.sum(axis=2)).ravel())
        return code_patterns(np.unique(np.concatenate(reached)), length) if reached else patterns[:0]

    def outcomes(self, candidates, vocab_size):
        """Outcomes per source: a k-subset and its k tokens."""
        k = self.count(candidates)
        return math.comb(candidates, k) * vocab_size**k

    def transition(self, states):
        """The reveal move of ``reveal_probabilities`` (or, if ``count(e)`` is 0, the mass stays)."""
        e, vocab_size = states.at.shape[1], states.vocab_size
        if self.count(e) == 0:
            return [states.stay()]
        mu = states.conditionals()  # (e, V, P, N)
        where = {}
        if self.positional or callable(getattr(self, "tie", None)):  # the ranking reads the candidates' positions
            where = {"positions": np.repeat(states.at, mu.shape[-1], axis=0), "length": states.length}
        slots, probs = self.reveal_probabilities(mu.reshape(e, vocab_size, -1), states.weight.reshape(-1), states.work,
                                                 **where)
        return [states.reveal(slots, probs)]

    def stay_probability(self, pattern):
        """1 when there is nothing to reveal, else 0: a fixed number of positions is revealed."""
        count = int(self.candidates(pattern[None])[0].sum())
        return 1.0 if count == 0 or self.count(count) == 0 else 0.0


def reach_any_count(step, patterns, vocab_size):
    """Every pattern a k-subset step reaches for some count k (a step whose count is drawn: the union over k)."""
    out = [SubsetReveal.reach(dataclasses.replace(step, count=FixedCount(k)), patterns, vocab_size)
           for k in range(int(np.asarray(patterns).sum(axis=1).max(initial=0)) + 1)]
    return code_patterns(np.unique(np.concatenate([pattern_codes(r) for r in out])), patterns.shape[1])


def count_mixture_moves(step, states, law, reveal_probabilities):
    """The moves of a k-subset step whose count is drawn with probabilities ``law`` (k = 0..e): the stay for k = 0,
    then ``reveal_probabilities(step with count k, mu, weight)`` times P(k) for each k > 0 with positive probability."""
    e, vocab_size = states.at.shape[1], states.vocab_size
    moves = [states.stay(law[0])] if law[0] > 0 else []
    mu = states.conditionals().reshape(e, vocab_size, -1).copy()  # (e, V, P N)
    for k in range(1, e + 1):
        if law[k] > 0:
            counted = dataclasses.replace(step, count=FixedCount(k))
            slots, probs = reveal_probabilities(counted, mu, states.weight.reshape(-1) * law[k], FRESH)
            moves.append(states.reveal(slots, probs, fresh=True))
    return moves
