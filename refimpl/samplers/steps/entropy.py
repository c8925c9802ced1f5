r"""Entropy-bounded unmasking (:class:`EntropyBoundStep`): the EB-Sampler of Ben-Hamu et al. 2025
("Accelerated Sampling from Masked Diffusion Models via Entropy Bounded Unmasking", arXiv 2505.24857),
with the acceptance rule as diffusers' ``EntropyBoundScheduler.step`` computes it."""
import dataclasses

import numpy as np
from scipy.special import entr

from ...core.numerics import sample_categorical
from ...engine.protocol import IF_MASKED
from .base import PerPatternReveal, _eligible_masked, candidate_product, candidate_rows
from .tokens import temper


def entropy_bound_accepts(entropy, candidates, gamma):
    r"""(..., L) bool: the candidates accepted by the entropy bound.

    The candidates sorted by entropy, lowest first (ties: lowest position first), the prefix whose
    running sum minus its last (largest) entropy stays within ``gamma`` — diffusers' ``cumulative_entropy
    - sorted_token_entropy <= entropy_bound``, the sum of the entropies before each one.  The first
    candidate is always accepted (its left-hand side is 0).
    """
    keyed = np.where(candidates, entropy, np.inf)
    positions = np.broadcast_to(np.arange(entropy.shape[-1]), entropy.shape)
    order = np.lexsort((positions, keyed), axis=-1)  # by entropy, then position
    ranked = np.take_along_axis(keyed, order, axis=-1)
    finite = np.where(np.isinf(ranked), 0.0, ranked)  # non-candidates sort last and add nothing
    accepted = np.cumsum(finite, axis=-1) - finite <= gamma
    out = np.empty_like(accepted)
    np.put_along_axis(out, order, accepted, axis=-1)
    return out & candidates


@dataclasses.dataclass(frozen=True)
class EntropyBoundStep(PerPatternReveal):
    r"""Reveal the lowest-entropy eligible masked positions whose entropies, all but the largest, sum to at
    most ``gamma`` (:func:`entropy_bound_accepts`; at least one), each with a token drawn from
    softmax(logits / T) (argmax at T = 0).  The entropy is that of the model's probabilities, or of the
    tempered ones with ``tempered_entropy`` (as diffusers' scheduler, which divides the logits by its
    temperature before both)."""

    eligible: tuple
    gamma: float
    temperature: float = 0.0
    tempered_entropy: bool = False
    calls: str = IF_MASKED

    def entropies(self, probs, axis=-1):
        """The entropy (nats) at each position, ``axis`` the tokens (removed)."""
        shaped = temper(probs, self.temperature, axis) if self.tempered_entropy else probs
        return entr(shaped).sum(axis=axis)

    def transition(self, ctx):
        r"""Mass-weighted law of the destinations in block layout: the entropies are functions of the source
        alone, so each source's accepted set A is fixed and the outcome is the product over candidates of
        :math:`q_j(v)` for j in A and the mask otherwise (:func:`candidate_product`)."""
        vocab_size, sources = ctx.vocab_size, ctx.sources
        candidates, rows = candidate_rows(ctx, self.eligible)  # (e, V, N)
        accepted = entropy_bound_accepts(self.entropies(rows, axis=1).T, np.ones((sources, len(candidates)), bool),
                                         self.gamma).T  # (e, N)
        q = temper(rows, self.temperature, axis=1)

        def factors():
            for e in range(len(candidates)):
                factor = ctx.buffer("factor", (vocab_size + 1, sources))
                np.multiply(q[e], accepted[e], out=factor[:vocab_size])
                factor[vocab_size] = ~accepted[e]
                yield factor

        out = candidate_product(ctx, factors())
        return [ctx.reveal(ctx.block_view(out, self.outcome_dims(ctx.pattern, vocab_size)))]

    def outcome_dims(self, pattern, vocab_size):
        """Every candidate may be revealed or stay masked (V+1); other masked positions stay (1)."""
        return [vocab_size + 1 if self.eligible[j] else 1 for j in np.flatnonzero(pattern)]

    def stay_probability(self, pattern):
        """1 when there is no candidate, else 0: at least the lowest-entropy one is revealed."""
        return 0.0 if self.candidates(pattern[None]).any() else 1.0

    def draw(self, z, mu, rng):
        candidates = _eligible_masked(z, self.eligible, mu.shape[-1])
        keep = entropy_bound_accepts(self.entropies(mu), candidates, self.gamma)
        return np.where(keep, sample_categorical(temper(mu, self.temperature), rng), z)
