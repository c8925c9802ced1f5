r"""Threshold decoding as sglang's ``LowConfidence`` ships it, with its per-request sampling (issue #37, rules R12 and
R14 of SAMPLERS-2026.md; sglang ``python/sglang/srt/dllm/algorithm/low_confidence.py`` at 6e97cb5 and
``srt/dllm/sampling.py`` at 0026bd4; the vLLM dllm-plugin's LLaDA2.0 default policy is its ``threshold=0.01,
final_call=False``)."""
import dataclasses

import numpy as np

from ..core import validate
from .kernels.ties import check_tie
from .params import documented, param, temperature_param, tie_param
from .plans import model_call, prefix_prompt
from .steps import IF_MASKED, ThresholdStep


@documented
@dataclasses.dataclass(frozen=True)
class LowConfidence:
    r"""Threshold decoding block by block: while the block holds a mask, one call; every masked position of the block
    gets the argmax and its probability c; all with c > ``threshold`` are committed, else the most confident
    (``torch.topk``: no tie rule in the code; ``tie``).  After the block's loop, one more call (``final_call``; the
    KV cache and the scheduler's logits).  Blocks of ``block_length`` from position 0 (sglang's request blocks;
    default one block); a block without a mask is the prompt's prefill (not counted).

    ``temperature`` > 0: sglang's per-request sampling (``DllmSamplingPlan``): the token is drawn from
    softmax(logits / T) and committed on :math:`c = \min(\max_u \mu(u), (\mu(v)/\max_u \mu(u))^{1/T})` (the argmax's
    probability, capped by the draw's tempered probability relative to the argmax) against the same threshold.
    ``top_k``, ``top_p``, ``min_p``: the request's filters on that draw, as sglang's torch sampler applies them
    (:func:`refimpl.samplers.kernels.tokens.sglang_filter`; FlashInfer's ``joint`` order is the same law); the
    confidence reads the unfiltered logits.  ``top_k`` = 1 makes the request greedy (the plan's predicate is
    ``top_k > 1``), whatever the temperature.

    The vLLM dllm-plugin's LLaDA2.0 default policy (``vllm_dllm_plugin/remasking/llada2_default.py`` at 0c53db5,
    drafts of 32, threshold 0.01, ties to the smallest index, one transfer per step from its schedule's first
    entry) is ``LowConfidence(0.01, block_length=32, final_call=False)``: the same commit rule and one call per step.

    Examples
    --------
    >>> import refimpl
    >>> from refimpl.samplers.low_confidence import LowConfidence
    >>> p = refimpl.datasets.coupled_pairs()          # "AB" or "CD"
    >>> oracle = refimpl.oracle_denoiser(p)
    >>> refimpl.expected_calls(oracle, LowConfidence(), 2, 4)   # A (top-1), B (p = 1 > 0.95), the final call
    3.0
    """

    threshold: float = param(0.95, help="commit the masked positions whose probability is above this")
    block_length: object = param(None, help="blocks of this length from position 0 (default: one block)", convert=int)
    temperature: float = temperature_param(0.0)
    final_call: bool = param(True, help="sglang's call after each block's loop (the vLLM plugin has none)")
    tie: str = tie_param()
    top_k: object = param(None, help="sglang's top-k filter on the draw (T > 0; 1: greedy)", convert=int)
    top_p: object = param(None, help="sglang's top-p filter on the draw (T > 0)", convert=float)
    min_p: float = param(0.0, help="sglang's min-p filter on the draw (T > 0)")

    def __post_init__(self):
        object.__setattr__(self, "threshold", validate.nonnegative(self.threshold, "LowConfidence threshold"))
        if self.block_length is not None:
            object.__setattr__(self, "block_length", validate.integer(self.block_length, "LowConfidence block_length",
                                                                      1))
        object.__setattr__(self, "temperature", validate.temperature(self.temperature))
        object.__setattr__(self, "final_call", validate.flag(self.final_call, "LowConfidence final_call"))
        check_tie(self.tie, "LowConfidence")
        if self.top_k is not None:
            object.__setattr__(self, "top_k", validate.integer(self.top_k, "LowConfidence top_k", 1))
        if self.top_p is not None:
            object.__setattr__(self, "top_p", validate.probability(self.top_p, "LowConfidence top_p", open_low=True))
        object.__setattr__(self, "min_p", validate.probability(self.min_p, "LowConfidence min_p"))

    def plan(self, masked, region):
        masked, _ = prefix_prompt(masked, region, "LowConfidence")
        length = len(masked)
        size = length if self.block_length is None else self.block_length
        plan = []
        for lo in range(0, length, size):
            block = (np.arange(length) >= lo) & (np.arange(length) < lo + size)
            if not masked[block].any():
                continue
            temperature = 0.0 if self.top_k == 1 else self.temperature  # (top_k 1: the greedy path)
            step = ThresholdStep(tuple(block.tolist()), self.threshold, temperature, calls=IF_MASKED, tie=self.tie,
                                 strict=True, relative_confidence=True, filters=(self.top_k, self.top_p, self.min_p))
            plan.extend([step] * int(masked[block].sum()))
            if self.final_call:
                plan.append(model_call(length))
        return plan
