r"""dllm's stochastic transfer counts (:class:`BinomialTopKStep`; rule R13 of SAMPLERS-2026.md, ZHZisZZ/dllm
``get_num_transfer_tokens(stochastic=True)`` at ca17675): the number a step reveals is drawn, Binomial(M, p) of the
M masks left, and the step's most confident positions are revealed (LLaDA's rule) — a mixture over the count."""
import dataclasses

import numpy as np
from scipy.stats import binom

from ...core.numerics import FRESH, sample_categorical
from ...engine.layout import code_patterns, pattern_codes, reveal_offsets
from ...engine.moves import ScatterMove
from ..kernels.ties import rank_order
from .choose_k import TopKStep
from .reveal import FixedCount, _eligible_masked


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
        from .reveal import SubsetReveal
        out = []
        for k in range(int(np.asarray(patterns).sum(axis=1).max(initial=0)) + 1):
            out.append(SubsetReveal.reach(dataclasses.replace(self, count=FixedCount(k)), patterns, vocab_size))
        return code_patterns(np.unique(np.concatenate([pattern_codes(r) for r in out])), patterns.shape[1])

    def transition(self, states):
        """One move per count k with positive probability: the stay (k = 0) or the top-k law, times P(k)."""
        e, vocab_size = states.at.shape[1], states.vocab_size
        law = self._count_law(e)
        moves = []
        if law[0] > 0:
            shape = (1, 1) + states.index.shape
            moves.append(ScatterMove(states.patterns, lambda: states.patterns[None], states.index.reshape(shape).copy(),
                                     (states.weight * law[0]).reshape(shape)))
        mu = states.conditionals().reshape(e, vocab_size, -1).copy()  # (e, V, P N)
        for k in range(1, e + 1):
            if law[k] == 0:
                continue
            step = dataclasses.replace(self, count=FixedCount(k))
            slots, probs = TopKStep.reveal_probabilities(step, mu, states.weight.reshape(-1) * law[k], FRESH)
            offsets = reveal_offsets(states.at, slots, vocab_size, states.length).transpose(1, 2, 0)[..., None]
            shape = probs.shape[:2] + states.index.shape
            destination = states.index + offsets  # (n_sub, G, P, N), fresh

            def after(slots=slots):
                bits = np.int64(1) << (states.length - 1 - states.at[:, slots])
                codes = (pattern_codes(states.patterns)[:, None] - bits.sum(axis=2)).T
                return code_patterns(codes.ravel(), states.length).reshape(codes.shape + (states.length,))

            moves.append(ScatterMove(states.patterns, after, destination, np.array(probs).reshape(shape)))
        return moves

    def draw(self, z, mu, rng):
        vocab_size = mu.shape[-1]
        candidates = _eligible_masked(z, self.eligible, vocab_size)
        q, conf = self._probs_and_confidence(mu)
        drawn = sample_categorical(q, rng)
        drawn_conf = np.take_along_axis(conf, drawn[..., None], axis=-1)[..., 0]
        k = rng.binomial(candidates.sum(axis=1), self.reveal_probability)
        ranks = np.argsort(rank_order(drawn_conf, candidates, self.tie, rng), axis=1)
        return np.where((ranks < k[:, None]) & candidates, drawn, z)
