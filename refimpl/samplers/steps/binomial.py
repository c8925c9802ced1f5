r"""dllm's stochastic transfer counts (:class:`BinomialTopKStep`; rule R13 of SAMPLERS-2026.md, ZHZisZZ/dllm
``get_num_transfer_tokens(stochastic=True)`` at ca17675): the number a step reveals is drawn, Binomial(M, p) of the
M masks left, and the step's most confident positions are revealed (LLaDA's rule) — a mixture over the count."""
import dataclasses

import numpy as np
from scipy.stats import binom

from .choose_k import TopKStep
from .reveal import count_mixture_moves, reach_any_count


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
        return reach_any_count(self, patterns, vocab_size)

    def transition(self, states):
        """One move per count k with positive probability: the stay (k = 0) or the top-k law, times P(k)."""
        return count_mixture_moves(self, states, self._count_law(states.at.shape[1]), TopKStep.reveal_probabilities)

    def draw_counts(self, available, rng):
        """A Binomial(e, p) count per row."""
        return rng.binomial(available, self.reveal_probability)
