r"""A step that reveals and re-masks (:class:`RemaskStep`): ReMDM's update (Wang et al. 2025, "Remasking
discrete diffusion models with inference-time scaling", kuleshov-group/remdm ``_ddpm_caching_update``).
Its kernel maps a partial sequence to partial sequences whose masks may grow."""
import dataclasses
import itertools

import numpy as np

from ...core.numerics import sample_categorical
from ...engine.layout import reach_by_dims
from ...engine.moves import BlockMove
from ...engine.protocol import ALWAYS, PatternStep, ScoredStep
from .reveal import candidate_product


@dataclasses.dataclass(frozen=True)
class RemaskStep(PatternStep):
    r"""Each ``eligible`` masked position is revealed independently with probability ``unmask``, its token
    drawn from the denoiser; each ``eligible`` clean position is masked again with probability ``remask``,
    independently — both from the same model call on the sequence before the step."""

    eligible: tuple
    unmask: float
    remask: float
    calls: str = ALWAYS

    def candidates(self, patterns):
        """The eligible positions that may change: the masked ones, and the clean ones when ``remask`` > 0."""
        patterns = np.asarray(patterns, dtype=bool)
        eligible = np.asarray(self.eligible, dtype=bool)[None, :]
        return eligible & (patterns | (self.remask > 0))

    def reach(self, patterns, vocab_size):
        """Listed when nothing is re-masked (then a reveal step); else None — the engine scans the table."""
        if self.remask > 0:
            return None
        return reach_by_dims(self._dims, patterns, vocab_size)

    def _dims(self, pattern, vocab_size):
        """The outcome axis of each masked position: V+1, V (revealed for sure) or 1 (stays)."""
        def dim(j):
            if not self.eligible[j] or self.unmask == 0:
                return 1
            return vocab_size if self.unmask == 1 else vocab_size + 1

        return [dim(j) for j in np.flatnonzero(pattern)]

    def work(self, pattern, vocab_size):
        """Entries this step computes for one pattern (the engine deals patterns to threads by it): every
        masked candidate and every clean one that may be masked again has V+1 outcomes."""
        eligible = np.asarray(self.eligible, dtype=bool)
        grown = int(np.sum(eligible & (pattern | (self.remask > 0))))
        return (vocab_size + 1) ** grown * vocab_size ** int(np.sum(~pattern & ~(eligible & (self.remask > 0))))

    def outcomes(self, candidates, vocab_size):
        return (vocab_size + 1) ** candidates

    def stay_probability(self, pattern):
        """Every masked candidate stays masked and every clean one stays: the same for all the pattern's sequences."""
        eligible = np.asarray(self.eligible, dtype=bool)
        masked, clean = int(np.sum(eligible & pattern)), int(np.sum(eligible & ~pattern))
        return (1.0 - self.unmask) ** masked * (1.0 - self.remask) ** clean

    def transition(self, states):
        r"""The reveal product over the masked candidates (:func:`candidate_product`) in block layout, then the
        remasking of the c eligible clean positions: the set R masked again with probability
        :math:`r^{|R|} (1 - r)^{c - |R|}`, the product summed over R's tokens, landing with R masked — all sets
        in one move (:meth:`_remask_move`), about two passes over :math:`(V+1)^{c}` times the reveal product."""
        vocab_size, sources, pattern = states.vocab_size, states.sources, states.pattern
        dims = self._dims(pattern, vocab_size)
        revealing = [j for j, d in zip(states.masked, dims) if d > 1]

        def factors():
            for j in revealing:
                q = states.rows(j)  # (V, N)
                if self.unmask == 1.0:
                    yield q
                    continue
                factor = states.buffer("factor", (vocab_size + 1, sources))
                np.multiply(q, self.unmask, out=factor[:vocab_size])
                factor[vocab_size] = 1.0 - self.unmask
                yield factor

        compact = candidate_product(states, factors()).reshape(tuple(dims) + (vocab_size,) * len(states.clean))
        order = states.masked + states.clean  # the compact axes: the masked positions' outcomes, then the sources
        to_blocks = [order.index(a) for a in range(states.length)]
        sizes = {vocab_size + 1: slice(None), vocab_size: slice(0, vocab_size), 1: slice(vocab_size, vocab_size + 1)}
        base = [sizes[dims[states.masked.index(a)]] if pattern[a] else slice(0, vocab_size) for a in range(states.length)]
        remaskable = [a for a in states.clean if self.eligible[a]] if self.remask > 0 else []
        if not remaskable:
            return [BlockMove(pattern, tuple(base), compact.transpose(to_blocks), vocab_size)]
        return [self._remask_move(states, compact, order, base, remaskable)]

    def _remask_move(self, states, compact, order, base, remaskable):
        """One move for every set of ``remaskable`` positions at once: each such axis of the product grows from
        its V source tokens to V + 1 outcomes — the token kept, times 1 - r, and the mask, the sum over the
        tokens times r — so the outcome lands on the whole axis of the table (token or mask) in one block.
        Its entries are those of the moves of every remasked set together; one strided add instead of
        :math:`2^c` of them, the Python per move gone."""
        vocab_size, keep, again = states.vocab_size, 1.0 - self.remask, self.remask
        current = compact.transpose([order.index(a) for a in range(states.length)])
        for depth, axis in enumerate(remaskable):
            before = (slice(None),) * axis
            grown = states.buffer(f"remask {depth % 2}", current.shape[:axis] + (vocab_size + 1,)
                               + current.shape[axis + 1:])
            masked = grown[before + (slice(vocab_size, vocab_size + 1),)]
            if vocab_size == 1:
                np.copyto(masked, current)
            else:
                np.add(current[before + (slice(0, 1),)], current[before + (slice(1, 2),)], out=masked)
                for k in range(2, vocab_size):
                    np.add(masked, current[before + (slice(k, k + 1),)], out=masked)
            masked *= again
            np.multiply(current, keep, out=grown[before + (slice(0, vocab_size),)])
            current = grown
        index = list(base)
        for axis in remaskable:
            index[axis] = slice(None)
        return BlockMove(states.pattern, tuple(index), current, vocab_size)

    def draw(self, z, mu, rng):
        vocab_size = mu.shape[-1]
        eligible = np.asarray(self.eligible, dtype=bool)[None, :]
        masked = z == vocab_size
        u = rng.random(z.shape)
        values = sample_categorical(mu, rng)
        out = np.where(masked & eligible & (u < self.unmask), values, z)
        return np.where(~masked & eligible & (u < self.remask), vocab_size, out)


CHUNK_ENTRIES = 1 << 18  # (state, outcome) pairs formed at once by ConfidenceRemaskStep.successors


def remask_weights(scores, eligible):
    r"""ReMDM-conf's :math:`\eta`: the softmax of the negated scores over the ``eligible`` positions that hold
    one (B, L), 0 elsewhere and on rows where none does."""
    held = eligible & ~np.isnan(scores)
    weights = np.where(held, np.exp(-np.where(held, scores, 0.0)), 0.0)
    total = weights.sum(axis=-1, keepdims=True)
    return np.divide(weights, total, out=np.zeros_like(weights), where=total > 0)


@dataclasses.dataclass(frozen=True)
class ConfidenceRemaskStep(ScoredStep):
    r"""ReMDM's confidence schedule (``remdm-conf``, kuleshov-group/remdm ``_ddpm_caching_update``) on
    (sequence, scores) states (:mod:`refimpl.engine.scored`).

    A generated clean position j holds a score :math:`c_j`, the model's probability of its token at the step
    that revealed it; it is masked again with probability :math:`\sigma_{\max}\,\eta_j`,
    :math:`\eta_j = e^{-c_j} / \sum_k e^{-c_k}` over the positions that hold a score (the least confident most
    likely), independently.  Each eligible masked position is revealed with probability ``unmask``
    (:math:`(\alpha_s - \alpha_t)/(1 - \alpha_t)`: the code's :math:`\sigma` is 0 at a masked position), its
    token drawn from the denoiser, and takes that token's probability as its score; a masked-again position
    loses its score.  ``greedy``: MDLM's noise removal instead — every eligible masked position takes the
    denoiser's argmax (lowest token on ties, as ``argmax``), no remasking."""

    eligible: tuple
    unmask: float
    sigma_max: float
    calls: str = ALWAYS
    greedy: bool = False

    def candidates(self, patterns):
        patterns = np.asarray(patterns, dtype=bool)
        eligible = np.asarray(self.eligible, dtype=bool)[None, :]
        return eligible & (patterns | (self.sigma_max > 0 and not self.greedy))

    def successors(self, z, scores, mu):
        """Every (parent, z', scores', probability) of N states: per mask pattern, the product over the positions
        of their outcomes — each masked eligible one revealed (token v with probability ``unmask`` mu[j, v]) or
        left masked, each scored one masked again or kept — as one grid of outcomes for all the pattern's states."""
        vocab_size = mu.shape[-1]
        eligible = np.asarray(self.eligible, dtype=bool)
        if self.greedy:
            return self._greedy(z, scores, mu, eligible)
        weights = remask_weights(scores, eligible[None, :]) * self.sigma_max
        patterns, which = np.unique(z == vocab_size, axis=0, return_inverse=True)
        which = np.asarray(which).reshape(-1)
        parts = []
        for index, pattern in enumerate(patterns):
            rows = np.flatnonzero(which == index)
            revealing = np.flatnonzero(pattern & eligible) if self.unmask > 0 else np.array([], dtype=np.int64)
            again = np.flatnonzero(~pattern & eligible & ~np.isnan(scores[rows[0]])) if self.sigma_max > 0 \
                else np.array([], dtype=np.int64)
            reveal_choices = list(range(vocab_size)) + ([vocab_size] if self.unmask < 1 else [])
            grid = np.array(list(itertools.product(*([reveal_choices] * len(revealing) + [(0, 1)] * len(again)))),
                            dtype=np.int64).reshape(-1, len(revealing) + len(again))
            for chunk in np.array_split(rows, max(1, len(rows) * len(grid) // CHUNK_ENTRIES)):
                parts.append(self._outcomes(chunk, grid, revealing, again, z, scores, mu, weights, vocab_size))
        return tuple(np.concatenate(column) for column in zip(*parts))

    def successor_count(self, z, scores, vocab_size):
        """(N,) successors per state: V + 1 outcomes per masked eligible position (V when revealed for sure),
        2 per scored one that may be masked again (1 each when greedy)."""
        eligible = np.asarray(self.eligible, dtype=bool)[None, :]
        if self.greedy:
            return np.ones(len(z), dtype=np.int64)
        masked = np.sum((z == vocab_size) & eligible, axis=1) if self.unmask > 0 else np.zeros(len(z), dtype=np.int64)
        scored = np.sum((z != vocab_size) & eligible & ~np.isnan(scores), axis=1) if self.sigma_max > 0 else 0
        per_mask = vocab_size if self.unmask == 1 else vocab_size + 1
        return per_mask ** masked.astype(np.float64) * 2.0 ** scored

    def _outcomes(self, rows, grid, revealing, again, z, scores, mu, weights, vocab_size):
        """The (parent, z', scores', probability) of ``rows`` (one mask pattern) over the outcome ``grid``."""
        n, k = len(rows), len(grid)
        after = np.repeat(z[rows][:, None, :], k, axis=1)  # (n, k, L)
        after_scores = np.repeat(scores[rows][:, None, :], k, axis=1)
        chance = np.ones((n, k))
        for column, j in enumerate(revealing):
            choice = grid[:, column]  # (k,) a token, or V: left masked
            token = np.minimum(choice, vocab_size - 1)
            p = mu[rows][:, j, :][:, token]  # (n, k)
            chance *= np.where(choice < vocab_size, self.unmask * p, 1.0 - self.unmask)
            after[:, :, j] = choice
            after_scores[:, :, j] = np.where(choice < vocab_size, p, np.nan)
        for column, j in enumerate(again, start=len(revealing)):
            masked = grid[:, column] == 1  # (k,)
            w = weights[rows, j][:, None]
            chance *= np.where(masked, w, 1.0 - w)
            after[:, masked, j] = vocab_size
            after_scores[:, masked, j] = np.nan
        parent = np.repeat(rows, k)
        return parent, after.reshape(n * k, -1), after_scores.reshape(n * k, -1), chance.reshape(-1)

    def _greedy(self, z, scores, mu, eligible):
        """MDLM's noise removal: one successor per state."""
        vocab_size = mu.shape[-1]
        top = np.argmax(mu, axis=-1)
        reveal = (z == vocab_size) & eligible[None, :]
        after = np.where(reveal, top, z)
        after_scores = np.where(reveal, np.take_along_axis(mu, top[..., None], axis=-1)[..., 0], scores)
        return np.arange(len(z)), after, after_scores, np.ones(len(z))

    def stay_probability(self, pattern):
        return float("nan")  # depends on the scores, not on the pattern alone (the scored runner counts stays)

    def draw_scored(self, z, scores, mu, rng):
        vocab_size = mu.shape[-1]
        eligible = np.asarray(self.eligible, dtype=bool)[None, :]
        masked = z == vocab_size
        if self.greedy:
            values = np.argmax(mu, axis=-1)
            reveal, again = masked & eligible, np.zeros_like(masked)
        else:
            values = sample_categorical(mu, rng)
            u = rng.random(z.shape)
            reveal = masked & eligible & (u < self.unmask)
            again = ~masked & eligible & (u < self.sigma_max * remask_weights(scores, eligible))
        drawn_probability = np.take_along_axis(mu, values[..., None], axis=-1)[..., 0]
        out = np.where(reveal, values, np.where(again, vocab_size, z))
        new_scores = np.where(reveal, drawn_probability, np.where(again, np.nan, scores))
        return out, new_scores
