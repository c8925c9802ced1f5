r"""Steps that reveal a k-subset of their candidates, many mask patterns per array operation: uniformly
(:class:`UniformKStep`: random-k, LLaDA ``random``) or by confidence (:class:`TopKStep`: LLaDA
``low_confidence``, Dream's confidence algorithms, Dream's ``alg_temp``)."""
import dataclasses

import numpy as np

from ...core import validate
from ...core.numerics import FRESH, per_count, sample_categorical
from ...engine.protocol import ALWAYS
from ..kernels.precision import PRECISIONS, dream_confidences, dream_probabilities, rounded, rows_law
from ..kernels.subsets import LOWEST, grid_product, plackett_luce_reveals, subset_grid, top_k_reveals
from ..kernels.ties import check_tie, rank_order, ranked_keep, ranked_reveals
from ..kernels.tokens import confidences, excluded_confidences, temper, truncate
from .reveal import Ranked, SubsetReveal, _eligible_masked


@dataclasses.dataclass(frozen=True)
class UniformKStep(SubsetReveal):
    """Reveal ``count(available)`` of the eligible masked positions, uniformly at random; values ~ q."""

    eligible: tuple
    count: object
    temperature: float = 1.0
    calls: str = ALWAYS
    passes: int = 1  # model evaluations per call (2 with LLaDA's classifier-free guidance)

    def reveal_probabilities(self, mu, weight, work=FRESH, positions=None, length=None):
        """Mass-weighted law of (revealed subset, tokens) for S sources (of any mask patterns with e
        candidates): ``mu`` (e, V, S) at the candidates, ``weight`` (S,) the sources' mass -> ``slots``
        (n_sub, k) and the law (n_sub, V**k, S), which may live in the workspace ``work``.  (``positions``,
        ``length``: where the candidates are, for a ranking function; not read here.)"""
        slots, _ = subset_grid(mu.shape[0], self.count(mu.shape[0]), mu.shape[1])
        return slots, grid_product(temper(mu, self.temperature, axis=1), slots, weight / len(slots), work)

    def draw(self, z, mu, rng):
        vocab_size = mu.shape[-1]
        candidates = _eligible_masked(z, self.eligible, vocab_size)
        order = rank_order(rng.random(z.shape), candidates)  # uniform scores: a uniform random subset
        k = per_count(self.count, candidates.sum(axis=1))
        ranks = np.argsort(order, axis=1)
        values = sample_categorical(temper(mu, self.temperature), rng)
        return np.where((ranks < k[:, None]) & candidates, values, z)


@dataclasses.dataclass(frozen=True)
class TopKStep(Ranked, SubsetReveal):
    """Draw x_i ~ q_i at every eligible masked position; reveal the ``count`` most confident — or, with
    ``position_temperature`` tau > 0, ``count`` of them drawn without replacement with probabilities
    proportional to exp(confidence / tau).  ``tie``: how candidates of equal confidence rank (lowest position
    first by default; :mod:`refimpl.samplers.kernels.ties`: "highest", "random" or a ranking function; not read when
    the positions are drawn)."""

    eligible: tuple
    count: object
    temperature: float = 1.0
    confidence: str = "drawn"
    tempered_confidence: bool = False
    top_p: object = None  # Dream's truncation (:func:`truncate`); None: none
    top_k: object = None
    position_temperature: float = 0.0  # Dream's alg_temp: > 0 draws the k positions (plackett_luce_reveals)
    calls: str = ALWAYS
    confidence_without: tuple = ()  # token ids removed (logits -inf) before confidences are read (LLaDA's code)
    confidence_refused: tuple = ()  # token ids whose drawn confidence is -inf (LLaDA's documented intent)
    passes: int = 1  # model evaluations per call (2 with LLaDA's classifier-free guidance)
    tie: object = LOWEST
    precision: str = "float64"  # LLaDA's Gumbel-max draw in this dtype (refimpl.samplers.kernels.precision)
    confidence_precision: str = "float64"  # the confidences rounded to this dtype (ties where they saturate)
    probs_precision: str = "float64"  # Dream's sample_tokens in this dtype: probabilities and confidences

    def __post_init__(self):
        check_tie(self.tie, "TopKStep", ranking=True)
        validate.choice(self.precision, PRECISIONS, "TopKStep precision")
        validate.choice(self.confidence_precision, PRECISIONS, "TopKStep confidence_precision")
        validate.choice(self.probs_precision, PRECISIONS, "TopKStep probs_precision")

    def _probs_and_confidence(self, probs, axis=-1):
        """(q, confidences).  Dream's ``sample_tokens`` forms probabilities from logits / T (T > 0) or the
        logits (T = 0), truncated; it draws from them (argmax at T = 0) and, with ``tempered_confidence``,
        takes confidences from them too.  LLaDA takes them from the untempered probabilities.  With
        ``probs_precision`` below float64, Dream's probabilities and confidences in that dtype
        (:func:`refimpl.samplers.kernels.precision.dream_probabilities`, ``dream_confidences``)."""
        if self.probs_precision != "float64":
            shaped = dream_probabilities(probs, self.temperature, self.probs_precision, axis)
            if self.temperature > 0:
                q = shaped / shaped.sum(axis=axis, keepdims=True)
            else:  # probs.max: the first of the rounded maxima
                first = np.argmax(shaped, axis=axis)
                q = np.moveaxis(np.eye(shaped.shape[axis])[first], -1, axis)
            return q, dream_confidences(shaped, self.confidence, self.probs_precision, axis)
        shaped = truncate(temper(probs, self.temperature, axis) if self.temperature > 0 else probs,
                          self.top_p, self.top_k, axis)
        q = shaped if self.temperature > 0 else temper(probs, 0.0, axis)
        if self.precision != "float64":  # LLaDA's add_gumbel_noise in that dtype, exactly
            q = rows_law(probs, self.temperature, self.precision, axis)
        conf = confidences(shaped if self.tempered_confidence else probs, self.confidence, axis)
        if self.confidence_precision != "float64":
            conf = rounded(conf, self.confidence_precision)
        return q, excluded_confidences(conf, self.confidence_without, self.confidence_refused, axis)

    def reveal_probabilities(self, mu, weight, work=FRESH, positions=None, length=None):
        """As :meth:`UniformKStep.reveal_probabilities`, for the ``count`` most confident (:func:`top_k_reveals`;
        under a ranking function :func:`refimpl.samplers.kernels.ties.ranked_reveals`, which reads the candidates'
        ``positions`` (S, e) in a sequence of ``length``), or ``count`` drawn by confidence
        (:func:`plackett_luce_reveals`) when ``position_temperature`` > 0."""
        q, conf = self._probs_and_confidence(mu, axis=1)
        slots, _ = subset_grid(mu.shape[0], self.count(mu.shape[0]), mu.shape[1])
        if self.position_temperature > 0:
            return slots, plackett_luce_reveals(q, conf, slots, self.position_temperature, weight)
        if callable(self.tie):
            if slots.shape[1] in (0, mu.shape[0]):  # nothing or everything is kept: no ranking to ask
                return slots, grid_product(q, slots, weight, work)
            return slots, ranked_reveals(q, conf, slots, self.tie, positions, length, weight)
        return slots, top_k_reveals(q, conf, slots, weight, work, tie=self.tie)

    def draw_scores(self, drawn_conf, drawn, vocab_size):
        """(B, L): what the Monte Carlo side ranks by, given the drawn tokens and their confidences (their own
        here)."""
        return drawn_conf

    def draw_counts(self, available, rng):
        """(B,): how many of each row's ``available`` candidates a draw reveals (``count``)."""
        return per_count(self.count, available)

    def draw(self, z, mu, rng):
        vocab_size = mu.shape[-1]
        candidates = _eligible_masked(z, self.eligible, vocab_size)
        q, conf = self._probs_and_confidence(mu)
        drawn = sample_categorical(q, rng)
        drawn_conf = self.draw_scores(np.take_along_axis(conf, drawn[..., None], axis=-1)[..., 0], drawn, vocab_size)
        k = self.draw_counts(candidates.sum(axis=1), rng)
        if self.position_temperature > 0:  # Gumbel-top-k of conf / tau: k draws without replacement
            drawn_conf = drawn_conf / self.position_temperature - np.log(-np.log(rng.random(z.shape)))
        elif callable(self.tie):
            return np.where(ranked_keep(drawn_conf, candidates, k, self.tie), drawn, z)
        tie = LOWEST if self.position_temperature > 0 else self.tie
        ranks = np.argsort(rank_order(drawn_conf, candidates, tie, rng), axis=1)
        return np.where((ranks < k[:, None]) & candidates, drawn, z)
