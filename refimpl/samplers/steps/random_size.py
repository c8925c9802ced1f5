r"""Step sizes drawn independently of the tokens (:class:`RandomSizeKStep`; Zhao and Cai's class, ZC1 of
../shared/THEORY.md): with m positions still masked, the step reveals k of them, uniformly at random, with
probability ``law[m - 1][k - 1]`` — a mixture over k of :class:`UniformKStep`'s laws, drawn afresh per sequence."""
import dataclasses

import numpy as np

from ...core.numerics import FRESH, sample_categorical
from ...engine.layout import code_patterns, pattern_codes
from ..kernels.tokens import temper
from .choose_k import UniformKStep
from .reveal import FixedCount, SubsetReveal, _eligible_masked


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
        out = [SubsetReveal.reach(dataclasses.replace(self, count=FixedCount(k)), patterns, vocab_size)
               for k in range(int(np.asarray(patterns).sum(axis=1).max(initial=0)) + 1)]
        return code_patterns(np.unique(np.concatenate([pattern_codes(r) for r in out])), patterns.shape[1])

    def transition(self, states):
        """One move per count k with positive probability, the uniform k-subset law times P(k)."""
        e, vocab_size = states.at.shape[1], states.vocab_size
        law = self._count_law(e)
        moves = [states.stay(law[0])] if law[0] > 0 else []
        mu = states.conditionals().reshape(e, vocab_size, -1).copy()
        for k in range(1, e + 1):
            if law[k] > 0:
                step = dataclasses.replace(self, count=FixedCount(k))
                slots, probs = UniformKStep.reveal_probabilities(step, mu, states.weight.reshape(-1) * law[k], FRESH)
                moves.append(states.reveal(slots, probs, fresh=True))
        return moves

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
