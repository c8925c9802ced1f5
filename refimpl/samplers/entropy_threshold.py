r"""Entropy threshold decoding: d3LLM's ``entropy_threshold`` as sglang's ``EntropyThreshold`` ships it (issue #37,
rule R2 of SAMPLERS-2026.md; sglang ``python/sglang/srt/dllm/algorithm/entropy_threshold.py`` at 26eb1bf, from d3LLM
``d3llm_dream_generate_util.py`` / ``d3llm_llada_generate_util.py`` at e5bfcac)."""
import dataclasses

import numpy as np

from ..core import validate
from ..engine.protocol import IF_MASKED
from .kernels.ties import check_tie
from .params import block_length_param, documented, param, temperature_param, tie_param
from .plans import before, block_length, model_call, tile_blocks
from .steps import EntropyBoundStep

COMPARISONS = ("<", "<=")  # sglang and d3LLM's Dream: strict; d3LLM's LLaDA: H <= threshold


@documented
@dataclasses.dataclass(frozen=True)
class EntropyThreshold:
    r"""Entropy threshold decoding, block by block until each block is done.

    In each step (one model call) every masked position of the current block gets its token — the argmax, as
    sglang's code always takes it (``temperature=0``, the default), or a draw from softmax(logits / T) as d3LLM's
    Dream ``_sample`` does at T > 0 — and the entropy :math:`H_i` of the model's *untempered* prediction there.
    The positions are ranked by entropy, lowest first; the first is committed whatever its entropy, and every
    other one whose entropy is below ``threshold`` (``comparison="<"``, sglang and d3LLM's Dream; ``"<="``,
    d3LLM's LLaDA).  Positions of later blocks are never chosen.  Ties: ``tie``, lowest position first by default
    (sglang ranks with ``torch.topk(largest=False)``, which gives no tie guarantee).

    Calls: sglang calls the model while the block holds a mask, then once more after the loop (for the KV cache
    and the scheduler's logits), so a block of m masks decoded in s steps costs s + 1 calls (``final_call=False``:
    s, as d3LLM's own loops).  The entropy is exact; sglang's adds 1e-8 inside the log, a difference below 1e-7
    nats at V <= 8, which decides a step only where an entropy is that close to the threshold
    (``entropy_epsilon=1e-8`` reproduces it).  sglang's default threshold is 0.95 nats; d3LLM's reference value is
    0.5.

    Examples
    --------
    >>> import refimpl
    >>> from refimpl import samplers
    >>> from refimpl.samplers.entropy_threshold import EntropyThreshold
    >>> p = refimpl.datasets.coupled_pairs()          # "AB" or "CD": ln 2 at each position, then 0
    >>> oracle = refimpl.oracle_denoiser(p)
    >>> refimpl.expected_calls(oracle, EntropyThreshold(0.95), 2, 4)   # both below 0.95 nats: one step, + 1
    2.0
    >>> refimpl.expected_calls(oracle, EntropyThreshold(0.5), 2, 4)    # one at a time: two steps, + 1
    3.0
    """

    threshold: float = param(0.95, help="commit every position whose entropy (nats) is below this (at least one)")
    block_length: object = block_length_param()
    temperature: float = temperature_param(0.0)
    comparison: str = param("<", help="entropy < threshold (sglang, d3LLM's Dream) or <= (d3LLM's LLaDA)",
                            choices=COMPARISONS)
    final_call: bool = param(True, help="sglang's extra model call after each block's loop")
    tie: object = tie_param()
    entropy_epsilon: float = param(0.0, help="the code's epsilon inside the entropy's log (sglang 1e-8, d3LLM's LLaDA "
                                             "1e-12; 0: the exact entropy)")

    def __post_init__(self):
        object.__setattr__(self, "threshold", validate.nonnegative(self.threshold, "EntropyThreshold threshold"))
        block_length(self.block_length, "EntropyThreshold")
        object.__setattr__(self, "temperature", validate.temperature(self.temperature))
        validate.choice(self.comparison, COMPARISONS, "EntropyThreshold comparison")
        object.__setattr__(self, "final_call", validate.flag(self.final_call, "EntropyThreshold final_call"))
        check_tie(self.tie, "EntropyThreshold")
        object.__setattr__(self, "entropy_epsilon", validate.nonnegative(self.entropy_epsilon,
                                                                         "EntropyThreshold entropy_epsilon"))

    def plan(self, masked, region):
        acceptance = "below" if self.comparison == "<" else "at_most"
        plan = []
        for start, end in tile_blocks(masked, region, self.block_length, "EntropyThreshold"):
            eligible = before(len(masked), end, region)
            step = EntropyBoundStep(eligible, self.threshold, self.temperature, calls=IF_MASKED, tie=self.tie,
                                    acceptance=acceptance, entropy_epsilon=self.entropy_epsilon)
            plan.extend([step] * max(1, int(np.sum(masked[start:end]))))
            if self.final_call:  # a call that reveals nothing
                plan.append(model_call(len(masked)))
        return plan
