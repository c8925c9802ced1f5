r"""Fast-dLLM's parallel decoding (Wu et al. 2025, NVlabs/Fast-dLLM): the confidence threshold
(``get_transfer_index``) and the factor rule (``get_transfer_index_dynamic``)."""
import dataclasses

import numpy as np

from ..core import validate
from ..core.errors import InvalidParameterError
from .kernels.precision import PRECISIONS
from .kernels.ties import check_tie
from .params import (
    CONFIDENCE_PRECISION,
    block_length_param,
    documented,
    param,
    precision_param,
    temperature_param,
    tie_param,
)
from .plans import block_length, until_done
from .steps import FactorStep, ThresholdStep


@documented
@dataclasses.dataclass(frozen=True)
class Threshold:
    r"""In the current block, commit every masked position whose drawn token's (untempered) probability
    is >= ``threshold``, and always at least the most confident one; repeat until the block is done.

    Blocks of ``block_length`` (default: one block) tile the masked suffix after the prompt prefix.
    Tokens are drawn from softmax(logits / T) (argmax at T = 0).  ``tie``: how equal confidences rank — "lowest"
    position first (default), "highest", "random" (a uniformly random order) (:mod:`refimpl.samplers.kernels.ties`; the
    probability that a run meets a tie that decides something: :func:`refimpl.tie_probability`).
    ``precision``: the Gumbel noise's dtype (Fast-dLLM draws with LLaDA's ``add_gumbel_noise``, in float64; some
    forks lower it, e.g. to float16), ``confidence_precision``: the confidences rounded to that dtype — both
    exact (:mod:`refimpl.samplers.kernels.precision`, as :class:`refimpl.samplers.LLaDA`'s).

    Examples
    --------
    >>> import refimpl
    >>> from refimpl import samplers
    >>> p = refimpl.datasets.coupled_pairs()                 # V = 4, L = 2: only AB and CD
    >>> oracle = refimpl.oracle_denoiser(p)
    >>> run = refimpl.run(refimpl.problem(oracle, samplers.Threshold(0.9, temperature=1.0), 2, 4), ties=True)
    >>> float(refimpl.kl(p, run.law)), run.expected_calls, run.tie_probability   # 0.5 < 0.9: one token per call
    (0.0, 2.0, 1.0)
    """

    threshold: float = param(0.9, help="commit every drawn token whose confidence reaches this (at least one)")
    block_length: object = block_length_param()
    temperature: float = temperature_param(0.0)
    tie: str = tie_param()
    precision: str = precision_param("the Gumbel noise (LLaDA's add_gumbel_noise) in this dtype, its law exact")
    confidence_precision: str = precision_param(CONFIDENCE_PRECISION)

    def __post_init__(self):
        check_tie(self.tie, "Threshold")
        validate.choice(self.precision, PRECISIONS, "Threshold precision")
        validate.choice(self.confidence_precision, PRECISIONS, "Threshold confidence_precision")
        validate.probability(self.threshold, "Threshold threshold", open_low=True)
        block_length(self.block_length, "Threshold")
        object.__setattr__(self, "temperature", validate.temperature(self.temperature))

    def plan(self, masked, region):
        return until_done(masked, region, self.block_length, "Threshold",
                          lambda eligible, calls: ThresholdStep(eligible, self.threshold, self.temperature, calls,
                                                                         self.tie, self.precision,
                                                                         self.confidence_precision))


@documented
@dataclasses.dataclass(frozen=True)
class Factor:
    r"""Fast-dLLM's factor rule, block by block until each block is done: with the current block's drawn
    tokens ranked by (untempered) confidence, commit the top r for the first rank r >= 1 whose confidence
    is below :math:`1 - \mathrm{factor}/(r+2)`, or all of them when none is — and, as Fast-dLLM's code
    does, all of them also when the first to fall below is the last (so the last two masks of a block
    are always committed together).  See :class:`refimpl.samplers.steps.FactorStep`.

    Blocks of ``block_length`` (default: one block) tile the masked suffix after the prompt prefix.
    Tokens are drawn from softmax(logits / T) (argmax at T = 0).  ``tie``, ``precision`` and
    ``confidence_precision``: as :class:`Threshold`'s.

    Examples
    --------
    >>> import refimpl
    >>> from refimpl import samplers
    >>> p = refimpl.datasets.coupled_pairs()                 # V = 4, L = 2: only AB and CD
    >>> oracle = refimpl.oracle_denoiser(p)
    >>> q = refimpl.exact_law(oracle, samplers.Factor(1.0, temperature=1.0), 2, 4)
    >>> round(float(refimpl.kl(p, q)), 4)                     # the last two masks always go together
    0.6931
    """

    factor: float = param(1.0, help="Fast-dLLM's factor rule: commit the top r while r-th confidence >= 1 - factor/(r+2)")
    block_length: object = block_length_param()
    temperature: float = temperature_param(0.0)
    tie: str = tie_param()
    precision: str = precision_param("the Gumbel noise (LLaDA's add_gumbel_noise) in this dtype, its law exact")
    confidence_precision: str = precision_param(CONFIDENCE_PRECISION)

    def __post_init__(self):
        check_tie(self.tie, "Factor")
        validate.choice(self.precision, PRECISIONS, "Factor precision")
        validate.choice(self.confidence_precision, PRECISIONS, "Factor confidence_precision")
        try:
            factor = float(self.factor)
        except (TypeError, ValueError):
            factor = float("nan")
        if not (np.isfinite(factor) and factor > 0):
            raise InvalidParameterError(f"Factor factor must be a finite number > 0, got {self.factor!r}")
        object.__setattr__(self, "factor", factor)
        block_length(self.block_length, "Factor")
        object.__setattr__(self, "temperature", validate.temperature(self.temperature))

    def plan(self, masked, region):
        return until_done(masked, region, self.block_length, "Factor",
                          lambda eligible, calls: FactorStep(eligible, self.factor, self.temperature, calls, self.tie,
                                                                 self.precision, self.confidence_precision))
