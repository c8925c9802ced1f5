r"""dllm's MDLM sampler: LLaDA's selection with step counts from an alpha schedule, the steps that reveal nothing
skipped (issue #37, rule R13 of SAMPLERS-2026.md; ZHZisZZ/dllm ``dllm/core/samplers/mdlm.py``, ``utils.py``
``get_num_transfer_tokens`` and ``dllm/core/schedulers/alpha.py`` at ca17675)."""
import dataclasses
import math

import numpy as np

from ..core import validate
from ..core.errors import InvalidParameterError
from .kernels.ties import check_tie
from .params import LENGTH, documented, param, temperature_param, tie_param
from .plans import model_call, prefix_prompt
from .steps import ALWAYS, IF_CHANGED, FixedCount, TopKStep, UniformKStep
from .steps.binomial import BinomialTopKStep

SCHEDULES = ("linear", "cosine")
F32 = np.float32


def _alpha32(name, t):
    """dllm's alpha(t) in float32: linear 1 - t, cosine 1 - cos(pi/2 (1 - t))."""
    if name == "linear":
        return F32(1) - t
    return F32(1) - np.cos(F32(math.pi / 2) * (F32(1) - t), dtype=F32)


def reveal_probabilities(steps: int, schedule: str = "linear") -> list:
    """For j = 0..S-1: 1 - (1 - alpha(s)) / (1 - alpha(t)) with t = (S-j)/S, s = (S-j-1)/S, the ratio in float32 as
    dllm's ``reverse_mask_prob`` computes it (the last one is 1)."""
    out = []
    for j in range(steps):
        t, s = F32((steps - j) / steps), F32((steps - j - 1) / steps)
        out.append(1.0 - float((F32(1) - _alpha32(schedule, s)) / (F32(1) - _alpha32(schedule, t))))
    return out


def alpha_counts(masks: int, steps: int, schedule: str = "linear") -> list:
    r"""dllm's ``get_num_transfer_tokens`` (deterministic mode) for one block of ``masks`` masked positions over
    ``steps``: for j = 0..S-1, t = (S-j)/S and s = (S-j-1)/S, the reveal probability 1 - (1 - alpha(s)) / (1 - alpha(t))
    with alpha and the ratio in float32 (``reverse_mask_prob``), k_j = round(M_j x probability) (half to even, as
    ``torch.round``) capped by the M_j masks left; the zero entries removed (dllm skips those steps: no call).

    Examples
    --------
    >>> alpha_counts(4, 4), alpha_counts(1, 2), alpha_counts(5, 3, "cosine")
    ([1, 1, 1, 1], [1], [1, 2, 2])
    """
    left, out = masks, []
    for j, probability in enumerate(reveal_probabilities(steps, schedule)):
        k = min(int(np.round(left * probability)), left)
        out.append(k)
        left -= k
        if left == 0:
            break
    return [k for k in out if k]


@documented
@dataclasses.dataclass(frozen=True)
class DllmMDLM:
    r"""dllm's ``MDLMSampler.sample`` (deterministic counts): blocks of ``block_length`` after the prompt (the last one
    may be shorter; default one block), ``ceil(steps / blocks)`` steps per block, the counts from the alpha schedule
    (``alpha_schedule``, :func:`alpha_counts`; its zero steps make no call), each step LLaDA's: tokens by Gumbel-max at
    ``temperature``, the k most confident masked positions of the block and before it (``remasking="random"``: k at
    random). Calls: the nonzero counts. ``stochastic=True``: dllm's ``stochastic_transfer``, each count drawn
    Binomial(M_j, p_j) of the masks left (:class:`refimpl.samplers.steps.binomial.BinomialTopKStep`), a call only for a
    nonzero one. Not modelled: classifier-free guidance, suppressed tokens, ``right_shift_logits``. The cosine alpha is
    dllm's, 1 - cos(pi/2 (1 - t)) (not :class:`refimpl.diffusion.schedules.Cosine`); float32 cosines here are numpy's,
    which may differ from torch's by an ulp.

    Examples
    --------
    >>> import refimpl
    >>> from refimpl.samplers.dllm_mdlm import DllmMDLM
    >>> p = refimpl.datasets.coupled_pairs()
    >>> refimpl.expected_calls(refimpl.oracle_denoiser(p), DllmMDLM(4), 2, 4)   # counts [1, 1]: two of four steps
    2.0
    """

    steps: int = param(help="steps, divided over the blocks (ceil)", cli_default=LENGTH)
    block_length: object = param(None, help="blocks of this length after the prompt (default: one block)", convert=int)
    temperature: float = temperature_param(0.0)
    remasking: str = param("low_confidence", help="keep the most confident drawn tokens, or random ones",
                           choices=("low_confidence", "random"))
    alpha_schedule: str = param("linear", help="dllm's alpha scheduler", choices=SCHEDULES)
    stochastic: bool = param(False, help="dllm's stochastic_transfer: binomial counts (low_confidence only)")
    tie: str = tie_param()

    def __post_init__(self):
        object.__setattr__(self, "steps", validate.integer(self.steps, "DllmMDLM steps", 1))
        if self.block_length is not None:
            object.__setattr__(self, "block_length", validate.integer(self.block_length, "DllmMDLM block_length", 1))
        object.__setattr__(self, "temperature", validate.temperature(self.temperature))
        validate.choice(self.remasking, ("low_confidence", "random"), "DllmMDLM remasking")
        validate.choice(self.alpha_schedule, SCHEDULES, "DllmMDLM alpha_schedule")
        check_tie(self.tie, "DllmMDLM")
        object.__setattr__(self, "stochastic", validate.flag(self.stochastic, "DllmMDLM stochastic"))
        if self.stochastic and self.remasking != "low_confidence":
            raise InvalidParameterError("DllmMDLM: stochastic counts with random remasking are not modelled")

    def plan(self, masked, region):
        masked, start = prefix_prompt(masked, region, "DllmMDLM")
        length = len(masked)
        if start == length:
            raise InvalidParameterError("DllmMDLM: nothing to generate after the prompt")
        size = length - start if self.block_length is None else self.block_length
        blocks = range(start, length, size)
        per_block = math.ceil(self.steps / len(blocks))
        plan = []
        for lo in blocks:
            eligible = tuple(bool(i < min(lo + size, length)) for i in range(length))
            if self.stochastic:  # a binomial count per step; a call only for a nonzero one (the step after counts it)
                for probability in reveal_probabilities(per_block, self.alpha_schedule):
                    plan.append(BinomialTopKStep(eligible, FixedCount(0), self.temperature, "drawn", False,
                                                 tie=self.tie, reveal_probability=probability))
                    plan.append(model_call(length, IF_CHANGED))
                continue
            for k in alpha_counts(int(masked[lo:lo + size].sum()), per_block, self.alpha_schedule):
                if self.remasking == "low_confidence":
                    plan.append(TopKStep(eligible, FixedCount(k), self.temperature, "drawn", False, calls=ALWAYS,
                                         tie=self.tie))
                else:
                    plan.append(UniformKStep(eligible, FixedCount(k), self.temperature))
        return plan
