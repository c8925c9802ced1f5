r"""Fast-dLLM's confidence-threshold parallel decoding (Wu et al. 2025, NVlabs/Fast-dLLM, ``get_transfer_index``)."""
import dataclasses

import numpy as np

from .. import validate
from .base import before, block_length, temperature, tile_blocks
from .steps import ThresholdStep


@dataclasses.dataclass(frozen=True)
class Threshold:
    r"""In the current block, commit every masked position whose drawn token's (untempered) probability
    is >= ``threshold``, and always at least the most confident one; repeat until the block is done.

    Blocks of ``block_length`` (default: one block) tile the masked suffix after the prompt prefix.
    Tokens are drawn from softmax(logits / T) (argmax at T = 0).  Ties: lowest position first.
    """

    threshold: float = 0.9
    block_length: object = None
    temperature: float = 0.0

    def __post_init__(self):
        validate.probability(self.threshold, "Threshold threshold", open_low=True)
        block_length(self.block_length, "Threshold")
        object.__setattr__(self, "temperature", temperature(self.temperature))

    def plan(self, masked, region):
        plan = []
        for start, end in tile_blocks(masked, region, self.block_length, "Threshold"):
            eligible = before(len(masked), end, region)
            plan.extend(ThresholdStep(eligible, self.threshold, self.temperature)
                        for _ in range(int(np.sum(masked[start:end]))))
        return plan
