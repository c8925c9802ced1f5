r"""Multi-block parallel decoding: d3LLM's ``_sample_multi_block`` as sglang's ``FullAttnMultiBlock`` ships it
(issue #37, rule R3 of SAMPLERS-2026.md; sglang ``python/sglang/srt/dllm/algorithm/full_attn_multi_block.py`` at
26eb1bf, from d3LLM ``d3llm_dream_generate_util.py`` / ``d3llm_llada_generate_util.py`` at e5bfcac)."""
import dataclasses

import numpy as np

from ..core import validate
from ..core.errors import InvalidParameterError
from .kernels.ties import check_tie
from .params import block_length_param, documented, param, temperature_param, tie_param
from .plans import block_length, generation_region, tile_blocks
from .steps.multi_block import MultiBlockStep

ORIGINALS = ("sglang", "d3llm-dream", "d3llm-llada")


@documented
@dataclasses.dataclass(frozen=True)
class MultiBlock:
    r"""Multi-block parallel decoding: later blocks start before earlier ones are done.

    Each model call sees the whole sequence.  Block 0 (the first of the masked region) is active from the start;
    block k is added once block k-1's progress (the fraction of it committed) is at least ``block_add_threshold``
    or it is done, and is *fully active* once that progress is at least ``decoded_token_threshold``.  Every masked
    position up to the end of the rightmost block that is active and fully active or still masked gets a token —
    the argmax (sglang; ``temperature`` > 0: d3LLM's draw from softmax(logits / T)) — and the entropy of the
    model's untempered prediction; all with entropy < ``threshold`` are committed and, if none of them lies in the
    first fully active block with masks, the one of least entropy there (``torch.argmin``: the first position on
    ties; ``tie`` changes that).  Every call commits at least one token, so the loop ends when no mask is left.

    ``original``: ``"sglang"`` (the default) as above; ``"d3llm-dream"`` the same, except that d3LLM creates at
    most one new block per call (the two differ only at ``block_add_threshold=0``, where sglang activates every
    block at the first call); ``"d3llm-llada"`` d3LLM's LLaDA ``generate_multi_block``: one block per call too,
    entropy <= ``threshold``, the least-entropy decodable position always committed (``torch.topk``'s first), and
    the forced position's token re-drawn as the argmax.  sglang computes the entropy in float32 and d3LLM in
    float64, both with 1e-12 inside the log; refimpl's is exact (``entropy_epsilon=1e-12``: the codes' epsilon, which
    decides a step only where an entropy lies within about 1e-11 nats of the threshold).

    Calls: one per iteration; sglang's final forward runs only if a mask is left (never, since every call commits),
    though SAMPLERS-2026.md says it always runs.  A region with no mask costs no call here (sglang's fast path: one).

    Examples
    --------
    >>> import refimpl
    >>> from refimpl.samplers.multi_block import MultiBlock
    >>> p = refimpl.datasets.coupled_pairs()          # "AB" or "CD": ln 2 at each position, then 0
    >>> oracle = refimpl.oracle_denoiser(p)
    >>> refimpl.expected_calls(oracle, MultiBlock(), 2, 4)   # ln 2 > 0.4: one forced, then the other (entropy 0)
    2.0
    >>> refimpl.expected_calls(oracle, MultiBlock(threshold=0.7), 2, 4)   # both at once
    1.0
    """

    threshold: float = param(0.4, help="commit every decodable position whose entropy (nats) is below this")
    block_length: object = block_length_param()
    block_add_threshold: float = param(0.1, help="add a block once its predecessor's progress reaches this")
    decoded_token_threshold: float = param(0.95, help="a block is fully active (forced progress) once its "
                                                      "predecessor's progress reaches this")
    temperature: float = temperature_param(0.0)
    original: str = param("sglang", help="sglang's FullAttnMultiBlock, d3LLM's Dream or LLaDA loop", choices=ORIGINALS)
    tie: object = tie_param()
    entropy_epsilon: float = param(0.0, help="the code's epsilon inside the entropy's log (1e-12; 0: the exact "
                                             "entropy)")

    def __post_init__(self):
        object.__setattr__(self, "threshold", validate.nonnegative(self.threshold, "MultiBlock threshold"))
        block_length(self.block_length, "MultiBlock")
        for name in ("block_add_threshold", "decoded_token_threshold"):
            object.__setattr__(self, name, validate.probability(getattr(self, name), f"MultiBlock {name}"))
        object.__setattr__(self, "temperature", validate.temperature(self.temperature))
        validate.choice(self.original, ORIGINALS, "MultiBlock original")
        if self.original == "sglang" and self.temperature != 0:
            raise InvalidParameterError("MultiBlock: sglang's FullAttnMultiBlock takes the argmax; a temperature is "
                                        "d3LLM's (original='d3llm-dream' or 'd3llm-llada')")
        check_tie(self.tie, "MultiBlock")
        object.__setattr__(self, "entropy_epsilon", validate.nonnegative(self.entropy_epsilon,
                                                                         "MultiBlock entropy_epsilon"))

    def plan(self, masked, region):
        blocks = tuple(tile_blocks(masked, region, self.block_length, "MultiBlock"))
        start, end = generation_region(masked, region)
        llada = self.original == "d3llm-llada"
        steps = int(np.sum(np.asarray(masked)[start:end] & np.asarray(region)[start:end]))  # each call commits >= 1
        return [MultiBlockStep(tuple(bool(r) for r in region), blocks, self.threshold, self.block_add_threshold,
                               self.decoded_token_threshold, self.temperature, "<=" if llada else "<",
                               lowest_always=llada, forced_argmax=llada,
                               created=None if self.original == "sglang" else t + 2, tie=self.tie,
                               entropy_epsilon=self.entropy_epsilon)
                for t in range(steps)]
