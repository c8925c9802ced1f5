r"""d3LLM's multi-block parallel decoding (:class:`MultiBlockStep`): every block whose predecessor has made enough
progress is decoded at once, by an entropy threshold, with forced progress in the first unfinished block — as
sglang's ``FullAttnMultiBlock`` and d3LLM's ``_sample_multi_block`` / ``generate_multi_block`` compute it (rule R3
of SAMPLERS-2026.md)."""
import dataclasses

import numpy as np

from ...core.numerics import sample_categorical
from ...engine.protocol import IF_MASKED
from ..kernels.subsets import EXCLUDE, HIGHEST, LOWEST, RANDOM
from ..kernels.ties import check_tie
from ..kernels.tokens import temper
from .entropy import entropy as entropy_of
from .reveal import PerPatternReveal, Ranked, candidate_product, candidate_rows


def block_layout(masked, blocks, add_threshold, full_threshold, created=None):
    r"""``(decodable, forced_block)``, both (B, L) bool, for a batch of mask patterns ``masked`` (B, L).

    Blocks ``blocks`` [(start, end)] in generation order; each block's progress is 1 - masks / size.  Block 0 is
    active and fully active; block k >= 1 is *active* once block k-1's progress is >= ``add_threshold`` or it holds
    no mask, and *fully active* once it is active and that progress is >= ``full_threshold`` (sglang keeps both as
    sticky flags; the masks only decrease, so they are these functions of the pattern).  ``created``: only the
    first ``created`` blocks exist (d3LLM adds at most one block per model call).  ``decodable``: the masked
    positions before the end of the rightmost block that is active and either fully active or still masked;
    ``forced_block``: the positions of the first fully active block that still holds a mask.
    """
    masked = np.asarray(masked, dtype=bool)
    sizes = np.array([end - start for start, end in blocks], dtype=np.int64)
    counts = np.stack([masked[:, start:end].sum(axis=1) for start, end in blocks], axis=1)  # (B, K)
    progress = 1 - counts / sizes  # Python's 1 - m / total, in float64 as the originals compute it
    active = np.ones_like(counts, dtype=bool)
    active[:, 1:] = (progress[:, :-1] >= add_threshold) | (counts[:, :-1] == 0)
    if created is not None:
        active[:, created:] = False
    fully = active.copy()
    fully[:, 1:] &= progress[:, :-1] >= full_threshold
    counting = active & (fully | (counts > 0))
    ends = np.array([end for _, end in blocks], dtype=np.int64)
    rightmost = counting.shape[1] - 1 - np.argmax(counting[:, ::-1], axis=1)  # block 0 always counts
    decodable = masked & (np.arange(masked.shape[1])[None, :] < ends[rightmost][:, None])
    first = fully & (counts > 0)
    block_of = np.full(masked.shape[1], -1)  # each position's block (-1: none)
    for k, (start, end) in enumerate(blocks):
        block_of[start:end] = k
    chosen = np.where(first.any(axis=1), np.argmax(first, axis=1), -2)  # (B,): the first such block, or none
    forced_block = masked & (block_of[None, :] == chosen[:, None])
    return decodable, forced_block


def _nth(tied, n):
    """(one_hot, share): per column (the last axis) the n-th of the ``tied`` candidates (e, N) as a one-hot (n < 0:
    counted from the last) and the probability 1 / #tied that a uniformly random order puts it first (0 where there
    are fewer than n + 1)."""
    count = tied.sum(axis=0)
    if n >= 0:
        one_hot = tied & (np.cumsum(tied, axis=0) == n + 1)
    else:
        one_hot = tied & (np.cumsum(tied[::-1], axis=0)[::-1] == -n)
    return one_hot, np.where(count > max(n, -n - 1), 1.0 / np.maximum(count, 1), 0.0)


@dataclasses.dataclass(frozen=True)
class MultiBlockStep(Ranked, PerPatternReveal):
    r"""One call of multi-block decoding.

    The candidates are the decodable positions of :func:`block_layout` (``blocks``, ``add_threshold``,
    ``full_threshold``, ``created``; ``region`` the positions the sampler works on).  Each candidate gets a
    token drawn from softmax(logits / T) (argmax at T = 0) and the entropy of the model's untempered prediction.
    Committed: every candidate whose entropy is < ``threshold`` (``comparison="<="``: at most); with
    ``lowest_always``, also the candidate of least entropy (d3LLM's LLaDA, ``torch.topk(largest=False)``'s first);
    then, if no committed position lies in the first fully active block with masks, the one of least entropy
    there (``torch.argmin``: the first index; ``forced_argmax``: with the argmax token, as d3LLM's LLaDA re-draws
    it).  Ties: ``tie`` for both choices, lowest position first by default.
    """

    region: tuple
    blocks: tuple
    threshold: float
    add_threshold: float
    full_threshold: float
    temperature: float = 0.0
    comparison: str = "<"
    lowest_always: bool = False
    forced_argmax: bool = False
    created: object = None
    tie: str = LOWEST
    entropy_epsilon: float = 0.0  # the code's epsilon inside the log (1e-12); 0: the exact entropy
    calls: str = IF_MASKED

    def __post_init__(self):
        check_tie(self.tie, "MultiBlockStep")

    def layout(self, patterns):
        """(decodable, forced_block) of :func:`block_layout` for mask patterns (P, L), within the region."""
        masked = np.asarray(patterns, dtype=bool) & np.asarray(self.region, dtype=bool)[None, :]
        return block_layout(masked, self.blocks, self.add_threshold, self.full_threshold, self.created)

    def candidates(self, patterns):
        return self.layout(patterns)[0]

    def outcome_dims(self, pattern, vocab_size):
        """Every decodable position may be revealed or stay masked (V+1); other masked positions stay (1)."""
        decodable = self.candidates(pattern[None])[0]
        return [vocab_size + 1 if decodable[j] else 1 for j in np.flatnonzero(pattern)]

    def stay_probability(self, pattern):
        """1 when nothing is decodable, else 0: at least one position is committed."""
        return 0.0 if self.candidates(pattern[None]).any() else 1.0

    def _accepted(self, entropy, in_block, first, then):
        r"""(accepted, forced, weight) for entropies (e, N) of the candidates, ``in_block`` (e,) those in the forced
        block: the ``first``-th of the tied least-entropy candidates taken (``lowest_always``), then — where no
        accepted candidate is in the block — the ``then``-th of the block's tied least ones; ``weight`` (N,) the
        probability of these two choices under a uniformly random order (0 where there is no such tied one)."""
        accepted = entropy < self.threshold if self.comparison == "<" else entropy <= self.threshold
        weight = np.ones(entropy.shape[1])
        if self.lowest_always:
            lowest, share = _nth(entropy == entropy.min(axis=0)[None, :], first)
            accepted, weight = accepted | lowest, weight * share
        need = ~(accepted & in_block[:, None]).any(axis=0)  # (N,)
        keyed = np.where(in_block[:, None], entropy, np.inf)
        forced, share = _nth((keyed == keyed.min(axis=0)[None, :]) & in_block[:, None] & need[None, :], then)
        weight = weight * np.where(need, share, then == 0)
        return accepted | forced, forced, weight

    def transition(self, states):
        r"""Mass-weighted law of the destinations in block layout: the entropies are functions of the source, so
        each source's committed set is fixed under "lowest" and "highest" and the outcome is the product over the
        candidates of their token laws (or the mask); under "random" a mixture over the tied choices, each a
        product of its own; "exclude" keeps only the sources whose committed set no tie decides."""
        vocab_size = states.vocab_size
        decodable, forced_block = self.layout(states.pattern[None])
        candidates, rows = candidate_rows(states, decodable[0])  # (e, V, N)
        in_block = forced_block[0, candidates]
        entropy = entropy_of(rows, 1, self.entropy_epsilon)  # (e, N)
        q = temper(rows, self.temperature, axis=1)
        top = temper(rows, 0.0, axis=1) if self.forced_argmax else q

        def product(accepted, forced):
            def factors():
                for e in range(len(candidates)):
                    factor = states.buffer("factor", (vocab_size + 1, states.sources))
                    law = np.where(forced[e][None, :], top[e], q[e])
                    np.multiply(law, accepted[e], out=factor[:vocab_size])
                    factor[vocab_size] = ~accepted[e]
                    yield factor
            return candidate_product(states, factors())

        if self.tie in (LOWEST, HIGHEST, EXCLUDE):
            pick = -1 if self.tie == HIGHEST else 0
            accepted, forced, _ = self._accepted(entropy, in_block, pick, pick)
            out = product(accepted, forced)
            if self.tie == EXCLUDE:
                out = out * self._decided(entropy, in_block, accepted, forced)[None, :]
        else:
            out = None
            for first in range(len(candidates) if self.lowest_always else 1):
                for then in range(len(candidates)):
                    accepted, forced, weight = self._accepted(entropy, in_block, first, then)
                    if weight.any():
                        part = product(accepted, forced) * weight[None, :]
                        out = part if out is None else out + part
        return [states.reveal(states.block_view(out, self.outcome_dims(states.pattern, vocab_size)))]

    def _decided(self, entropy, in_block, accepted, forced):
        """(N,) bool: the sources where every tied choice commits the same set with the same token laws."""
        same = np.ones(entropy.shape[1], dtype=bool)
        count = len(entropy)
        for first in range(count if self.lowest_always else 1):
            for then in range(count):
                other, other_forced, weight = self._accepted(entropy, in_block, first, then)
                differs = (other != accepted).any(axis=0) | (self.forced_argmax & (other_forced != forced).any(axis=0))
                same &= ~((weight > 0) & differs)
        return same

    def draw(self, z, mu, rng):
        vocab_size = mu.shape[-1]
        decodable, forced_block = self.layout(z == vocab_size)
        entropy = np.where(decodable, entropy_of(mu, -1, self.entropy_epsilon), np.inf)  # (B, L)
        commit = decodable & ((entropy < self.threshold) if self.comparison == "<" else (entropy <= self.threshold))
        if self.lowest_always:
            commit |= self._least(entropy, decodable, rng)
        need = decodable.any(axis=1) & ~(commit & forced_block).any(axis=1)
        forced = self._least(np.where(forced_block, entropy, np.inf), forced_block, rng) & need[:, None]
        tokens = sample_categorical(temper(mu, self.temperature), rng)
        if self.forced_argmax:
            tokens = np.where(forced, np.argmax(mu, axis=-1), tokens)
        return np.where(commit | forced, tokens, z)

    def _least(self, keyed, allowed, rng):
        """(B, L) one-hot: per row the allowed position of least ``keyed``, ties by the rule."""
        positions = np.broadcast_to(np.arange(keyed.shape[1]), keyed.shape)
        second = rng.random(keyed.shape) if self.tie == RANDOM else -positions if self.tie == HIGHEST else positions
        order = np.lexsort((second, keyed), axis=-1)
        out = np.zeros_like(allowed)
        np.put_along_axis(out, order[:, :1], True, axis=1)
        return out & allowed
