r"""Fast-dLLM's confidence rules: :class:`ThresholdStep` (every candidate at or above a threshold, at least
the most confident) and :class:`FactorStep` (the factor rule of ``get_transfer_index_dynamic``)."""
import dataclasses

import numpy as np

from ...core import validate
from ...core.numerics import sample_categorical
from ...engine.protocol import ALWAYS
from ..kernels.precision import PRECISIONS, gumbel_law, rounded
from ..kernels.subsets import LOWEST, grid_product, grid_sum, subset_grid, top_k_reveals
from ..kernels.ties import check_tie, rank_order
from ..kernels.tokens import sglang_filter, truncate
from .reveal import NEG_INF, PerPatternReveal, Ranked, _eligible_masked, candidate_product, candidate_rows


def relative_confidence(probs, temperature, axis=-1):
    r"""sglang's confidence of a sampled token v (``DllmSamplingPlan.sample``, ``python/sglang/srt/dllm/sampling.py``
    at 0026bd4): :math:`\min(\max_u \mu(u),\ (\mu(v) / \max_u \mu(u))^{1/T})` — the argmax's probability, capped by
    the draw's tempered probability relative to the argmax token (``exp((z_v - z_max) / T)``), per token along
    ``axis``."""
    top = np.max(probs, axis=axis, keepdims=True)
    with np.errstate(divide="ignore", invalid="ignore"):
        relative = np.where(probs > 0, (probs / top) ** (1.0 / temperature), 0.0)
    return np.minimum(top, relative)


class GumbelDraws:
    """Fast-dLLM's draw (LLaDA's ``add_gumbel_noise``, then ``argmax``) with its noise in ``precision`` and the
    confidences (the drawn token's untempered probability) rounded to ``confidence_precision``
    (:mod:`refimpl.samplers.kernels.precision`; float64: the ideal law); checks the tie rule and both dtypes."""

    def __post_init__(self):
        who = type(self).__name__
        check_tie(self.tie, who)
        validate.choice(self.precision, PRECISIONS, f"{who} precision")
        validate.choice(self.confidence_precision, PRECISIONS, f"{who} confidence_precision")

    def _drawn(self, probs, axis=-1):
        """(q, conf): the law of the draw and the confidences, ``axis`` the tokens."""
        q = gumbel_law(probs, self.temperature, self.precision, axis)
        if getattr(self, "top_p", None) is not None and self.temperature > 0:
            q = truncate(q, self.top_p, None, axis)
        if getattr(self, "filters", None) is not None and self.temperature > 0:
            q = sglang_filter(q, *self.filters, axis=axis)
        if getattr(self, "drawn_confidence", False) and self.temperature > 0:
            return q, q
        if getattr(self, "relative_confidence", False) and self.temperature > 0:
            return q, relative_confidence(probs, self.temperature, axis)
        conf = probs if self.confidence_precision == "float64" else rounded(probs, self.confidence_precision)
        return q, conf


@dataclasses.dataclass(frozen=True)
class ThresholdStep(Ranked, GumbelDraws, PerPatternReveal):
    """Fast-dLLM: reveal every eligible masked position whose drawn token has confidence >= ``threshold``,
    and always at least the most confident one (``tie``: among equal confidences, :mod:`refimpl.samplers.kernels.ties`).

    ``strict``: confidence > ``threshold`` (Fast-dLLM v2, sglang's HierarchyBlock and ShiftConfidence).  ``top_p``
    (T > 0): the draw's law truncated as Fast-dLLM v2's ``sample_with_top_p`` (:func:`truncate`).
    ``drawn_confidence`` (T > 0): the confidence is the drawn token's probability under the draw's law (Fast-dLLM
    v2's ``p_1t``), not under the model's.  ``relative_confidence`` (T > 0): sglang's per-request sampling
    (:func:`relative_confidence`), and ``filters`` its top-k, top-p and min-p (:func:`sglang_filter`)."""

    eligible: tuple
    threshold: float
    temperature: float = 1.0
    calls: str = ALWAYS
    tie: str = LOWEST
    precision: str = "float64"  # the Gumbel noise's dtype (refimpl.samplers.kernels.precision)
    confidence_precision: str = "float64"  # the confidences rounded to this dtype (ties where they saturate)
    strict: bool = False
    top_p: object = None
    drawn_confidence: bool = False
    relative_confidence: bool = False
    filters: object = None  # (top_k, top_p, min_p) of sglang's sampling (T > 0): kernels.tokens.sglang_filter

    def transition(self, states):
        r"""Mass-weighted law of the destinations as a block-layout view (see
        :meth:`IndependentStep.transition`): each candidate j either reaches the threshold with its
        drawn token, :math:`q_j(v)\,[\mathrm{conf}_j(v) \ge \tau]`, or does not, with probability
        :math:`\sum_u q_j(u)\,[\mathrm{conf}_j(u) < \tau]` — a product over candidates, formed with the
        sources last — except that when none reaches it, the most confident of the drawn tokens (all
        below tau) is revealed instead (:func:`top_k_reveals` with k = 1 on q restricted to them).
        Other masked positions stay masked (axes of size 1).
        """
        vocab_size, sources, tau = states.vocab_size, states.sources, self.threshold
        candidates, rows = candidate_rows(states, self.eligible)  # (e, V, N)
        q, conf = self._drawn(rows, axis=1)  # conf: the untempered confidence
        below = q * ((conf <= tau) if self.strict else (conf < tau))  # (e, V, N): drawn and not past the threshold
        def factors():
            for e in range(len(candidates)):
                factor = states.buffer("factor", (vocab_size + 1, sources))
                np.subtract(q[e], below[e], out=factor[:vocab_size])  # q where conf >= tau (exactly: q - 0)
                np.sum(below[e], axis=0, out=factor[vocab_size])  # does not reach tau: stays masked here
                yield factor

        out = candidate_product(states, factors())
        blocked = out.reshape((vocab_size + 1,) * len(candidates) + (sources,))
        blocked[(vocab_size,) * len(candidates)] = 0.0  # nobody reaches tau: replaced by the top-1 below
        slots = np.arange(len(candidates))[:, None]  # every single candidate
        top = top_k_reveals(below, conf, slots, states.mass.reshape(-1), tie=self.tie)  # (e, V, N)
        for e in range(len(candidates)):
            at = [vocab_size] * len(candidates)
            at[e] = slice(0, vocab_size)
            blocked[tuple(at)] += top[e]
        return [states.reveal(states.block_view(blocked, self.outcome_dims(states.pattern, vocab_size)))]

    def outcome_dims(self, pattern, vocab_size):
        """As :meth:`IndependentStep.outcome_dims`: every candidate may be revealed or stay masked."""
        return [vocab_size + 1 if self.eligible[j] else 1 for j in np.flatnonzero(pattern)]

    def stay_probability(self, pattern):
        """1 when there is no candidate, else 0: at least the most confident is revealed."""
        return 0.0 if self.candidates(pattern[None]).any() else 1.0

    def draw(self, z, mu, rng):
        vocab_size = mu.shape[-1]
        candidates = _eligible_masked(z, self.eligible, vocab_size)
        q, conf = self._drawn(mu)
        drawn = sample_categorical(q, rng)
        drawn_conf = np.take_along_axis(conf, drawn[..., None], axis=-1)[..., 0]
        ranks = np.argsort(rank_order(drawn_conf, candidates, self.tie, rng), axis=1)
        past = (drawn_conf > self.threshold) if self.strict else (drawn_conf >= self.threshold)
        keep = candidates & ((ranks == 0) | past)
        return np.where(keep, drawn, z)


@dataclasses.dataclass(frozen=True)
class FactorStep(Ranked, GumbelDraws, PerPatternReveal):
    r"""Fast-dLLM's factor rule (``get_transfer_index_dynamic``): tokens are drawn at the n eligible masked
    positions and their (untempered) confidences sorted down, :math:`c_{(0)} \ge c_{(1)} \ge \dots`; the
    top r are revealed for the first rank r >= 1 with :math:`c_{(r)} < t_r = 1 - \mathrm{factor}/(r+2)`,
    and all n when no rank fails.  As in Fast-dLLM, all n are revealed also when the first rank to fail
    is the last one (its ``top_i == len(threshs) - 1`` case), so n - 1 is never the count: two masked
    positions are always revealed together.  Ties in ranking: lowest position first, or ``tie``
    (:mod:`refimpl.samplers.kernels.ties`).
    """

    eligible: tuple
    factor: float
    temperature: float = 1.0
    calls: str = ALWAYS
    tie: str = LOWEST
    precision: str = "float64"  # the Gumbel noise's dtype (refimpl.samplers.kernels.precision)
    confidence_precision: str = "float64"  # the confidences rounded to this dtype (ties where they saturate)

    def thresholds(self, count):
        """:math:`t_r = 1 - \\mathrm{factor}/(r + 2)` for the ranks r = 0 .. count - 1 (rank 0 is never tested)."""
        return 1.0 - self.factor / (np.arange(count) + 2.0)

    @staticmethod
    def counts(count):
        """How many of ``count`` candidates the rule can reveal: 1 .. count - 2, or all."""
        return list(range(1, count - 1)) + [count] if count > 2 else [count]

    def transition(self, states):
        r"""Mass-weighted law of the destinations as a block-layout view (see :meth:`ThresholdStep.transition`).

        Revealing the set S of k candidates with tokens :math:`x_S` (k <= n - 2) has probability
        :math:`\prod_{i \in S} q_i(x_i)\,[c_{(r)}(x_S) \ge t_r,\ r = 1..k-1] \prod_{j \notin S} \sum_u q_j(u)
        [\mathrm{key}_j(u) < w][\mathrm{conf}_j(u) < t_k]`, w the weakest key in S: the ranks inside S pass
        and every candidate left out draws a lower key whose confidence fails :math:`t_k` — the top-k law
        of :func:`top_k_reveals` with the left-out candidates held to the tokens under :math:`t_k`.  Revealing
        all n needs only ranks 1 .. n - 2 to pass.
        """
        candidates, rows = candidate_rows(states, self.eligible)  # (e, V, N)
        vocab_size, sources, count = states.vocab_size, states.sources, len(candidates)
        q, conf = self._drawn(rows, axis=1)  # conf: the untempered confidence
        limits = self.thresholds(count)
        weight = states.mass.reshape(-1)
        blocked = states.buffer("factor outcomes", (vocab_size + 1,) * count + (sources,))
        blocked.fill(0.0)
        for k in self.counts(count):
            slots, _ = subset_grid(count, k, vocab_size)
            if k == count:
                probs = grid_product(q, slots, weight)
            else:
                probs = top_k_reveals(q, conf, slots, weight, left_out=q * (conf < limits[k]), tie=self.tie)
            tested = k - 1 if k < count else count - 2  # ranks 1 .. tested must pass
            for rank in range(1, tested + 1):  # c_(r) >= t_r: at least r + 1 of S's confidences reach t_r
                probs *= grid_sum((conf >= limits[rank]).astype(np.float64), slots) >= rank + 1
            for s, chosen in enumerate(slots):
                at = [vocab_size] * count
                for c in chosen:
                    at[c] = slice(0, vocab_size)
                blocked[tuple(at)] += probs[s].reshape((vocab_size,) * k + (sources,))
        return [states.reveal(states.block_view(blocked, self.outcome_dims(states.pattern, vocab_size)))]

    outcome_dims = ThresholdStep.outcome_dims  # every candidate may be revealed or stay masked
    stay_probability = ThresholdStep.stay_probability  # at least one is revealed

    def draw(self, z, mu, rng):
        vocab_size, length = mu.shape[-1], z.shape[1]
        candidates = _eligible_masked(z, self.eligible, vocab_size)
        q, conf = self._drawn(mu)
        drawn = sample_categorical(q, rng)
        drawn_conf = np.take_along_axis(conf, drawn[..., None], axis=-1)[..., 0]
        order = rank_order(drawn_conf, candidates, self.tie, rng)  # positions by key, strongest first
        ranked = np.take_along_axis(np.where(candidates, drawn_conf, NEG_INF), order, axis=1)
        n = candidates.sum(axis=1)
        rank = np.arange(length)
        fails = (ranked < self.thresholds(length)) & (rank >= 1) & (rank < n[:, None])
        first = np.where(fails.any(axis=1), fails.argmax(axis=1), n)  # the first rank to fail, or n
        k = np.where(first >= n - 1, n, first)  # failing first at the last rank reveals all (Fast-dLLM)
        keep = candidates & (np.argsort(order, axis=1) < k[:, None])
        return np.where(keep, drawn, z)
