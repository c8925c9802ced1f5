r"""Entropy-bounded unmasking (:class:`EntropyBoundStep`): the EB-Sampler of Ben-Hamu et al. 2025
("Accelerated Sampling from Masked Diffusion Models via Entropy Bounded Unmasking", arXiv 2505.24857),
with the acceptance rule as diffusers' ``EntropyBoundScheduler.step`` computes it."""
import dataclasses
import itertools

import numpy as np
from scipy.special import comb, entr

from ...core import validate
from ...core.numerics import sample_categorical
from ...engine.protocol import IF_MASKED
from ..kernels.precision import PRECISIONS, gumbel_law
from ..kernels.subsets import EXCLUDE, HIGHEST, LOWEST, RANDOM
from ..kernels.ties import check_tie
from ..kernels.tokens import temper
from .reveal import PerPatternReveal, Ranked, _eligible_masked, candidate_product, candidate_rows

ACCEPTANCES = ("bound", "below", "at_most")  # the EB-Sampler's budget; d3LLM's entropy threshold, strict or not


def entropy(probs, axis=-1, epsilon=0.0):
    """-sum p log(p + epsilon) along ``axis`` (nats): the exact entropy at ``epsilon`` 0; the originals' code adds 1e-8
    (sglang's EntropyThreshold) or 1e-12 (d3LLM's LLaDA loops, FullAttnMultiBlock) inside the log."""
    if epsilon == 0:
        return entr(probs).sum(axis=axis)
    return -(probs * np.log(probs + epsilon)).sum(axis=axis)


def entropy_bound_accepts(entropy, candidates, gamma, tie=LOWEST, rng=None, acceptance="bound"):
    r"""(..., L) bool: the candidates accepted by the entropy bound (or threshold).

    The candidates sorted by entropy, lowest first (ties: lowest position first; ``tie="highest"``: highest;
    ``"random"``: a uniformly random order, drawn from ``rng``).  ``acceptance="bound"``: the prefix whose
    running sum minus its last (largest) entropy stays within ``gamma`` — diffusers' ``cumulative_entropy
    - sorted_token_entropy <= entropy_bound``, the sum of the entropies before each one.  ``"below"`` /
    ``"at_most"``: every candidate whose entropy is < ``gamma`` / <= ``gamma`` (d3LLM's entropy threshold, sglang's
    ``EntropyThreshold``).  The first candidate is always accepted.
    """
    keyed = np.where(candidates, entropy, np.inf)
    positions = np.broadcast_to(np.arange(entropy.shape[-1]), entropy.shape)
    second = rng.random(entropy.shape) if tie == RANDOM else -positions if tie == HIGHEST else positions
    order = np.lexsort((second, keyed), axis=-1)  # by entropy, then the tie rule
    ranked = np.take_along_axis(keyed, order, axis=-1)
    if acceptance == "bound":
        finite = np.where(np.isinf(ranked), 0.0, ranked)  # non-candidates sort last and add nothing
        accepted = np.cumsum(finite, axis=-1) - finite <= gamma
    else:
        accepted = (ranked < gamma) if acceptance == "below" else (ranked <= gamma)
        accepted[..., 0] = True  # the lowest-entropy candidate, whatever its entropy
    out = np.empty_like(accepted)
    np.put_along_axis(out, order, accepted, axis=-1)
    return out & candidates


def boundary_ties(entropy, accepted):
    """(tied, need): per source (the last axis), the candidates whose entropy equals the largest accepted one,
    and how many of them the bound accepts — the tie rule picks which when ``need`` is less than their number
    (``entropy``, ``accepted`` (e, N), every row a candidate)."""
    boundary = np.where(accepted, entropy, -np.inf).max(axis=0)  # (N,)
    tied = entropy == boundary[None, :]
    need = accepted.sum(axis=0) - (entropy < boundary[None, :]).sum(axis=0)
    return tied, need


@dataclasses.dataclass(frozen=True)
class EntropyBoundStep(Ranked, PerPatternReveal):
    r"""Reveal the lowest-entropy eligible masked positions whose entropies, all but the largest, sum to at
    most ``gamma`` (:func:`entropy_bound_accepts`; at least one) — or, with ``acceptance="below"`` / ``"at_most"``,
    every one whose entropy is below / at most ``gamma`` (at least the lowest), each with a token drawn from
    softmax(logits / T) (argmax at T = 0).  The entropy is that of the model's probabilities, or of the
    tempered ones with ``tempered_entropy`` (as diffusers' scheduler, which divides the logits by its
    temperature before both).  ``tie``: the order of equal entropies (:mod:`refimpl.samplers.kernels.ties`).
    ``precision``: the draw as LLaDA's ``add_gumbel_noise`` with its noise in that dtype
    (:func:`refimpl.samplers.kernels.precision.gumbel_law`; float64: the ideal)."""

    eligible: tuple
    gamma: float
    temperature: float = 0.0
    tempered_entropy: bool = False
    calls: str = IF_MASKED
    tie: str = LOWEST
    precision: str = "float64"
    acceptance: str = "bound"
    entropy_epsilon: float = 0.0  # the originals' epsilon inside the log (entropy); 0: the exact entropy

    def __post_init__(self):
        check_tie(self.tie, "EntropyBoundStep")
        validate.choice(self.precision, PRECISIONS, "EntropyBoundStep precision")
        validate.choice(self.acceptance, ACCEPTANCES, "EntropyBoundStep acceptance")

    def entropies(self, probs, axis=-1):
        """The entropy (nats) at each position, ``axis`` the tokens (removed)."""
        shaped = temper(probs, self.temperature, axis) if self.tempered_entropy else probs
        return entropy(shaped, axis, self.entropy_epsilon)

    def transition(self, states):
        r"""Mass-weighted law of the destinations in block layout: the entropies are functions of the source
        alone, so each source's accepted set A is fixed (under "lowest" and "highest") and the outcome is the
        product over candidates of :math:`q_j(v)` for j in A and the mask otherwise (:func:`candidate_product`).
        Under "random" the number accepted is the same for every order, and the tie rule picks which of the
        candidates at the boundary entropy (:func:`boundary_ties`): each such choice, equally likely, is a
        product of its own.  "exclude" keeps only the sources where no choice is left to the tie rule."""
        vocab_size, sources = states.vocab_size, states.sources
        candidates, rows = candidate_rows(states, self.eligible)  # (e, V, N)
        entropy = self.entropies(rows, axis=1)  # (e, N)
        rule = LOWEST if self.tie in (RANDOM, EXCLUDE) else self.tie
        accepted = entropy_bound_accepts(entropy.T, np.ones((sources, len(candidates)), bool), self.gamma, rule,
                                         acceptance=self.acceptance).T
        q = gumbel_law(rows, self.temperature, self.precision, axis=1)

        def product(accepted):
            def factors():
                for e in range(len(candidates)):
                    factor = states.buffer("factor", (vocab_size + 1, sources))
                    np.multiply(q[e], accepted[e], out=factor[:vocab_size])
                    factor[vocab_size] = ~accepted[e]
                    yield factor
            return candidate_product(states, factors())

        if self.tie in (LOWEST, HIGHEST):
            out = product(accepted)
        else:
            tied, need = boundary_ties(entropy, accepted)
            decided = need == tied.sum(axis=0)
            if self.tie == EXCLUDE:
                out = product(accepted) * decided[None, :]
            else:
                out = self._tie_mixture(product, entropy, tied, need)
        return [states.reveal(states.block_view(out, self.outcome_dims(states.pattern, vocab_size)))]

    @staticmethod
    def _tie_mixture(product, entropy, tied, need):
        """Sum over the accepted sets the random order can give — every ``need``-subset of the tied candidates,
        with those below the boundary — of its product, weighted 1 / C(tied, need) per source."""
        below = entropy < np.where(tied, entropy, np.inf).min(axis=0)[None, :]  # (e, N)
        count = len(entropy)
        out = None
        for size in np.unique(need).tolist():
            for chosen in itertools.combinations(range(count), size):
                pick = np.zeros(count, dtype=bool)
                pick[list(chosen)] = True
                weight = ((need == size) & tied[pick].all(axis=0)) / comb(tied.sum(axis=0), size)  # (N,)
                if not weight.any():
                    continue
                part = product(below | (pick[:, None] & tied)) * weight[None, :]
                out = part if out is None else out + part
        return out

    def outcome_dims(self, pattern, vocab_size):
        """Every candidate may be revealed or stay masked (V+1); other masked positions stay (1)."""
        return [vocab_size + 1 if self.eligible[j] else 1 for j in np.flatnonzero(pattern)]

    def stay_probability(self, pattern):
        """1 when there is no candidate, else 0: at least the lowest-entropy one is revealed."""
        return 0.0 if self.candidates(pattern[None]).any() else 1.0

    def draw(self, z, mu, rng):
        candidates = _eligible_masked(z, self.eligible, mu.shape[-1])
        keep = entropy_bound_accepts(self.entropies(mu), candidates, self.gamma, self.tie, rng, self.acceptance)
        return np.where(keep, sample_categorical(gumbel_law(mu, self.temperature, self.precision), rng), z)
