r"""Step sizes drawn independently of the tokens (:class:`RandomSizeKStep`; Zhao and Cai's class, ZC1 of
../shared/THEORY.md): with m positions still masked, the step reveals k of them, uniformly at random, with
probability ``law[m - 1][k - 1]`` — a mixture over k of :class:`UniformKStep`'s laws, drawn afresh per sequence."""
import dataclasses

import numpy as np

from ...core.numerics import sample_categorical
from ..kernels.tokens import temper
from .choose_k import UniformKStep
from .reveal import _eligible_masked, count_mixture_moves, reach_any_count


@dataclasses.dataclass(frozen=True)
class RandomSizeKStep(UniformKStep):
    """A :class:`UniformKStep` whose count is drawn from ``law[m - 1]`` (probabilities of k = 1..m) when m candidates
    are masked (``count`` is not read); with none masked it stays."""

    law: tuple = ()

    def _count_law(self, e):
        if e > len(self.law):
            raise ValueError(f"RandomSizeKStep: {e} masked, its law has rows for {len(self.law)}")
        return np.concatenate([[0.0], np.asarray(self.law[e - 1], dtype=np.float64)]) if e > 0 else np.ones(1)

    def stay_probability(self, pattern):
        """1 with nothing masked, else 0: every size is at least 1."""
        return float(self.candidates(pattern[None])[0].sum() == 0)

    def reach(self, patterns, vocab_size):
        """Every pattern some count k can reach."""
        return reach_any_count(self, patterns, vocab_size)

    def transition(self, states):
        """One move per count k with positive probability, the uniform k-subset law times P(k)."""
        return count_mixture_moves(self, states, self._count_law(states.at.shape[1]), UniformKStep.reveal_probabilities)

    def draw(self, z, mu, rng):
        candidates = _eligible_masked(z, self.eligible, mu.shape[-1])
        available = candidates.sum(axis=1)
        k = np.zeros(len(z), dtype=np.int64)
        for m in np.unique(available):  # a count per row, from the law of its number masked
            rows = np.flatnonzero(available == m)
            k[rows] = sample_categorical(np.broadcast_to(self._count_law(int(m)), (rows.size, int(m) + 1)), rng)
        ranks = np.argsort(np.argsort(np.where(candidates, rng.random(z.shape), np.inf), axis=1), axis=1)
        values = sample_categorical(temper(mu, self.temperature), rng)
        return np.where((ranks < k[:, None]) & candidates, values, z)
