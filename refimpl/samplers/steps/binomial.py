r"""dllm's stochastic transfer counts (:class:`BinomialTopKStep`; rule R13 of SAMPLERS-2026.md, ZHZisZZ/dllm
``get_num_transfer_tokens(stochastic=True)`` at ca17675): the number a step reveals is drawn, Binomial(M, p) of the
M masks left, and the step's most confident positions are revealed (LLaDA's rule) — a mixture over the count."""
import dataclasses

import numpy as np
from scipy.stats import binom

from ...core.numerics import FRESH
from ...engine.layout import code_patterns, pattern_codes
from .choose_k import TopKStep
from .reveal import FixedCount, SubsetReveal


@dataclasses.dataclass(frozen=True)
class BinomialTopKStep(TopKStep):
    """A :class:`TopKStep` whose count is Binomial(e, ``reveal_probability``) of its e candidates, drawn afresh per
    sequence (``count`` is not read).  It costs no call itself (``passes`` 0): dllm drops the zero counts and calls the
    model only for the others, which a following step that calls if something changed counts."""

    reveal_probability: float = 1.0
    passes: int = 0

    def _count_law(self, e):
        return binom.pmf(np.arange(e + 1), e, self.reveal_probability)

    def stay_probability(self, pattern):
        """P(count 0) = (1 - p)^e: what the following if-changed call reads."""
        return float(self._count_law(int(self.candidates(pattern[None])[0].sum()))[0])

    def reach(self, patterns, vocab_size):
        """Every pattern some count k can reach (the union of the top-k steps' reaches)."""
        out = [SubsetReveal.reach(dataclasses.replace(self, count=FixedCount(k)), patterns, vocab_size)
               for k in range(int(np.asarray(patterns).sum(axis=1).max(initial=0)) + 1)]
        return code_patterns(np.unique(np.concatenate([pattern_codes(r) for r in out])), patterns.shape[1])

    def transition(self, states):
        """One move per count k with positive probability: the stay (k = 0) or the top-k law, times P(k)."""
        e, vocab_size = states.at.shape[1], states.vocab_size
        law = self._count_law(e)
        moves = [states.stay(law[0])] if law[0] > 0 else []
        mu = states.conditionals().reshape(e, vocab_size, -1).copy()  # (e, V, P N)
        for k in range(1, e + 1):
            if law[k] > 0:
                step = dataclasses.replace(self, count=FixedCount(k))
                slots, probs = TopKStep.reveal_probabilities(step, mu, states.weight.reshape(-1) * law[k], FRESH)
                moves.append(states.reveal(slots, probs, fresh=True))
        return moves

    def draw_counts(self, available, rng):
        """A Binomial(e, p) count per row."""
        return rng.binomial(available, self.reveal_probability)
