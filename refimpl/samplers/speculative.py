r"""Self-speculative decoding: Nemotron-Labs-Diffusion's linear speculation as sglang's ``LinearSpec`` ships it
(issue #37, rule R6 of SAMPLERS-2026.md; sglang ``python/sglang/srt/dllm/algorithm/linear_spec.py`` at 4476e1d)."""
import dataclasses

import numpy as np

from ..core import validate
from .params import documented, param
from .plans import prefix_prompt
from .steps.speculative import SpeculationStep


@documented
@dataclasses.dataclass(frozen=True)
class LinearSpec:
    r"""Linear speculation: the diffusion model drafts a block, its causal pass verifies it, and the agreeing prefix
    is kept — two model calls per round.

    Each round starts at the first masked position j and runs to the end of j's block (blocks of ``block_length``
    from position 0; default one block): the seed s at j is the argmax of the causal row for j (the prompt's prefill
    or the previous round's verify pass gives it); a bidirectional pass over [s, mask, ...] drafts d_i as the argmax
    at each later position; a causal pass over [s, d_1, ...] gives :math:`r_{i-1}`, the argmax predicting j+i; the
    leading c positions with :math:`d_i = r_{i-1}` are accepted and s, r_0, ..., r_{c-1} committed.  Every committed
    token is the argmax of the causal row given the tokens before it, so the output is exactly greedy
    autoregressive decoding (the point mass at :math:`g_i = \arg\max_v p(x_i = v \mid g_{<i})`, lowest token on
    ties); only the number of rounds depends on the draft.  The causal row for position i is the model's answer at
    i with i and every later position masked (for the oracle, :math:`p(x_i \mid x_{<i})`).  A prompt must be a prefix.

    Examples
    --------
    >>> import refimpl
    >>> from refimpl.samplers.speculative import LinearSpec
    >>> p = refimpl.datasets.coupled_pairs()          # "AB" or "CD": the seed A, the draft B, verified
    >>> oracle = refimpl.oracle_denoiser(p)
    >>> refimpl.expected_calls(oracle, LinearSpec(), 2, 4)      # one round of two calls
    2.0
    """

    block_length: object = param(None, help="rounds run to the end of these blocks from position 0 (default: one "
                                            "block)", convert=int)

    def __post_init__(self):
        if self.block_length is not None:
            object.__setattr__(self, "block_length", validate.integer(self.block_length, "LinearSpec block_length", 1))

    def plan(self, masked, region):
        masked, start = prefix_prompt(masked, region, "LinearSpec")
        block = len(masked) if self.block_length is None else self.block_length
        return [SpeculationStep(block) for _ in range(int(np.sum(masked)))]
