r"""PC-Sampler's position-aware calibrated confidence (:class:`CalibratedTopKStep`; rule R11 of SAMPLERS-2026.md,
NEUIR/PC-Sampler ``src/generate.py`` ``pc_sampler_function`` at 8b106b0)."""
import dataclasses

import numpy as np

from ...core.numerics import FRESH
from ..kernels.subsets import subset_grid, top_k_reveals
from .choose_k import TopKStep

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

    def draw_scores(self, drawn_conf, drawn, vocab_size):
        """PC-Sampler's score of each drawn token, at every position (offsets from ``origin``)."""
        offsets = np.arange(drawn.shape[1])[None, :] - self.origin
        log_f = self._log_frequencies(vocab_size)[drawn]
        return calibrated_scores(drawn_conf, log_f, offsets, self.lam, self.alpha, self.form)
