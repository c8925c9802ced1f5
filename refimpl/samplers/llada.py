r"""LLaDA's ``generate`` (Nie et al. 2025, GSAI-ML/LLaDA ``generate.py``)."""
import dataclasses

import numpy as np

from ..core import validate
from ..core.errors import InvalidParameterError
from .base import before, block_length, temperature, tile_blocks
from .steps import FixedCount, TopKStep, UniformKStep

REMASKING = ("low_confidence", "random")


def transfer_counts(masked_in_block: int, steps: int) -> list[int]:
    """LLaDA's ``get_num_transfer_tokens``: the block's masks split evenly, the remainder to the first steps."""
    base, remainder = divmod(masked_in_block, steps)
    return [base + (1 if i < remainder else 0) for i in range(steps)]


@dataclasses.dataclass(frozen=True)
class LLaDA:
    r"""LLaDA's sampler, with its semantics.

    Blocks of ``block_length`` (default: one block) tile the masked suffix after the prompt prefix;
    ``steps`` are divided evenly over the blocks (``steps`` must be a multiple of the number of blocks).
    In each step every masked position draws :math:`x_0 \sim \mathrm{softmax}(\text{logits}/T)` (argmax at
    T = 0; LLaDA's Gumbel-max), and ``low_confidence`` keeps the k drawn tokens with the highest
    *untempered* probability, ``random`` k uniformly random ones; positions after the current block
    are never chosen.  k follows :func:`transfer_counts`.  Ties: lowest position first.
    """

    steps: int
    block_length: object = None
    temperature: float = 0.0
    remasking: str = "low_confidence"

    def __post_init__(self):
        validate.integer(self.steps, "LLaDA steps", 1)
        block_length(self.block_length, "LLaDA")
        object.__setattr__(self, "temperature", temperature(self.temperature))
        validate.choice(self.remasking, REMASKING, "LLaDA remasking")

    def plan(self, masked, region):
        blocks = tile_blocks(masked, region, self.block_length, "LLaDA")
        if not blocks:
            return []
        if self.steps % len(blocks):
            raise InvalidParameterError(
                f"LLaDA: steps {self.steps} must be a multiple of the number of blocks {len(blocks)} "
                f"(LLaDA divides the steps evenly over blocks)")
        per_block = self.steps // len(blocks)
        plan = []
        for start, end in blocks:
            eligible = before(len(masked), end, region)
            for k in transfer_counts(int(np.sum(masked[start:end])), per_block):
                if self.remasking == "low_confidence":
                    plan.append(TopKStep(eligible, FixedCount(k), self.temperature, "drawn", False))
                else:
                    plan.append(UniformKStep(eligible, FixedCount(k), self.temperature))
        return plan
