r"""PC-Sampler's position-aware calibrated confidence (:class:`CalibratedTopKStep`; rule R11 of SAMPLERS-2026.md,
NEUIR/PC-Sampler ``src/generate.py`` ``pc_sampler_function`` at 8b106b0)."""
import dataclasses

import numpy as np

from ...core.numerics import FRESH, sample_categorical
from ..kernels.subsets import subset_grid, top_k_reveals
from ..kernels.ties import rank_order
from .choose_k import TopKStep
from .reveal import _eligible_masked

FORMS = ("code", "readme")


def calibrated_scores(conf, tokens_axis_scores, offsets, lam, alpha, form="code"):
    r"""PC-Sampler's score of a drawn token: :math:`e^{-\lambda j} \min(\alpha, -p \log(f(v) + 10^{-9}))` (``form="code"``)
    or the README's :math:`e^{-\lambda j} \min(\alpha, p \log(f(v) + 10^{-9}))`; ``conf`` p, ``tokens_axis_scores``
    :math:`\log(f(v) + 10^{-9})` broadcast against it, ``offsets`` j (the position's offset) broadcast too."""
    sign = -1.0 if form == "code" else 1.0
    return np.exp(-lam * offsets) * np.minimum(alpha, sign * conf * tokens_axis_scores)


@dataclasses.dataclass(frozen=True)
class CalibratedTopKStep(TopKStep):
    """LLaDA's step with PC-Sampler's score in place of the confidence: the drawn token v at position i scores
    exp(-lam (i - origin)) min(alpha, -p log(f(v) + 1e-9)) — p the token's untempered probability, f the background
    frequency table ``frequencies`` (V,; empty: uniform), ``origin`` the block's first position (the code; the README's: the
    prompt's end) — and the ``count`` highest scores are kept (ties: ``tie``)."""

    frequencies: tuple = ()
    lam: float = 1.0
    alpha: float = 1.0
    origin: int = 0
    form: str = "code"
    positional = True

    def _log_frequencies(self, vocab_size):
        """log(f + 1e-9) over the V tokens (``frequencies`` empty: uniform 1/V)."""
        f = np.asarray(self.frequencies, dtype=np.float64) if self.frequencies else np.full(vocab_size, 1.0 / vocab_size)
        return np.log(f + 1e-9)

    def reveal_probabilities(self, mu, weight, work=FRESH, positions=None, length=None):
        q, conf = self._probs_and_confidence(mu, axis=1)  # (e, V, N)
        offsets = (positions.T - self.origin)[:, None, :]  # (e, 1, N)
        log_f = self._log_frequencies(mu.shape[1])[None, :, None]
        score = calibrated_scores(conf, log_f, offsets, self.lam, self.alpha, self.form)
        slots, _ = subset_grid(mu.shape[0], self.count(mu.shape[0]), mu.shape[1])
        return slots, top_k_reveals(q, score, slots, weight, work, tie=self.tie)

    def draw(self, z, mu, rng):
        vocab_size = mu.shape[-1]
        candidates = _eligible_masked(z, self.eligible, vocab_size)
        q, conf = self._probs_and_confidence(mu)
        drawn = sample_categorical(q, rng)
        p = np.take_along_axis(conf, drawn[..., None], axis=-1)[..., 0]
        offsets = np.arange(z.shape[1])[None, :] - self.origin
        score = calibrated_scores(p, self._log_frequencies(vocab_size)[drawn], offsets, self.lam, self.alpha, self.form)
        k = np.array([self.count(int(c)) for c in candidates.sum(axis=1)])
        ranks = np.argsort(rank_order(score, candidates, self.tie, rng), axis=1)
        return np.where((ranks < k[:, None]) & candidates, drawn, z)
