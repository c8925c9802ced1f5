r"""Nemotron-Labs-Diffusion's diffusion mode: AR-anchored blocks as dllm's ``NemotronDiffusionSampler`` runs them, and
sglang's ``FastDiffuser`` (issue #37, rule R7 of SAMPLERS-2026.md; dllm
``dllm/pipelines/nemotron_diffusion/sampler.py`` at 6149652, sglang ``python/sglang/srt/dllm/algorithm/fastdiffuser.py``
in hutm/sglang at ce4286e)."""
import dataclasses

import numpy as np

from ..core import validate
from ..core.errors import InvalidParameterError
from .kernels.ties import check_tie
from .params import documented, param, temperature_param, tie_param
from .plans import model_call, prefix_prompt, transfer_counts
from .steps import ALWAYS, IF_MASKED, AnchorStep, FixedCount, ThresholdStep, TopKStep

ORIGINALS = ("dllm", "fastdiffuser")


@documented
@dataclasses.dataclass(frozen=True)
class Nemotron:
    r"""Nemotron-Labs-Diffusion's block decoding.

    ``original="dllm"`` (the default), dllm's ``NemotronDiffusionSampler``: blocks of ``block_length`` from the end
    of the prompt (default: one block), each starting with an anchor — the causal row's token for its first
    position, the argmax at T = 0 and a draw from softmax(logits / T) at T > 0 (the only shipped anchor that is
    sampled), read from the prompt's prefill or the causal pass after the block before (no call of its own) — then,
    while the block holds a mask, one call: each masked position draws a token by LLaDA's Gumbel-max at
    ``temperature`` with its untempered probability c; with a ``threshold``, the most confident and every other one
    with c >= threshold are committed (``torch.topk`` then dropping c < threshold); with ``threshold=None``, the
    top k of LLaDA's even split of the block's masks over ``block_length`` steps.  After the block, its causal pass
    (one call).  No prompt: the first anchor from p(x_0), as a start token's row would give it.

    ``original="fastdiffuser"``, sglang's ``FastDiffuser``: blocks of ``block_length`` from position 0 with no anchor,
    up to ``max_steps`` calls per block (default: the block length), the same threshold rule (``max(1, #{c >=
    threshold})`` most confident) or the even split of the block's masks over ``max_steps``, then one more call (the
    causal pass).  Its force-fill of masks left after ``max_steps`` is not modelled: such settings are refused.

    Not modelled: EOS stops and dllm's ``max_thinking_tokens`` (a forced ``</think>``).  Ties: ``tie``, lowest
    position first (``torch.topk`` gives none).  A prompt must be a prefix.

    Examples
    --------
    >>> import refimpl
    >>> from refimpl.samplers.nemotron import Nemotron
    >>> p = refimpl.datasets.coupled_pairs()          # "AB" or "CD"
    >>> oracle = refimpl.oracle_denoiser(p)
    >>> refimpl.expected_calls(oracle, Nemotron(), 2, 4)       # anchor A, then B (one call), the causal pass
    2.0
    >>> refimpl.expected_calls(oracle, Nemotron(original="fastdiffuser"), 2, 4)   # no anchor: A (1/2 < 0.9), B, + 1
    3.0
    """

    threshold: "float | None" = param(0.9, help="commit the most confident and every one at least this confident "
                                                "(None: an even schedule)", convert=float)
    block_length: object = param(None, help="blocks of this length (default: one block)", convert=int)
    temperature: float = temperature_param(0.0)
    original: str = param("dllm", help="dllm's NemotronDiffusionSampler or sglang's FastDiffuser", choices=ORIGINALS)
    max_steps: object = param(None, help="FastDiffuser's calls per block (default: the block length)", convert=int)
    tie: str = tie_param()

    def __post_init__(self):
        set_ = lambda name, value: object.__setattr__(self, name, value)  # noqa: E731 (a frozen dataclass)
        if self.threshold is not None:
            set_("threshold", validate.nonnegative(self.threshold, "Nemotron threshold"))
        for name in ("block_length", "max_steps"):
            if getattr(self, name) is not None:
                set_(name, validate.integer(getattr(self, name), f"Nemotron {name}", 1))
        set_("temperature", validate.temperature(self.temperature))
        validate.choice(self.original, ORIGINALS, "Nemotron original")
        if self.max_steps is not None and self.original != "fastdiffuser":
            raise InvalidParameterError("Nemotron max_steps is FastDiffuser's (original='fastdiffuser'); dllm's loop "
                                        "runs at most block_length calls per block")
        check_tie(self.tie, "Nemotron")

    def _step(self, eligible, count=None):
        if count is None:
            return ThresholdStep(eligible, self.threshold, self.temperature, calls=IF_MASKED, tie=self.tie)
        return TopKStep(eligible, FixedCount(count), self.temperature, "drawn", False, calls=IF_MASKED, tie=self.tie)

    def plan(self, masked, region):
        masked, start = prefix_prompt(masked, region, "Nemotron")
        length = len(masked)
        dllm = self.original == "dllm"
        first = start if dllm else 0
        size = length - first if self.block_length is None else self.block_length
        if size == 0 or (length - first) % size:
            raise InvalidParameterError(f"Nemotron: blocks of {size} from position {first} must tile the "
                                        f"{length - first} positions after it; pick a divisor")
        steps = size if self.max_steps is None else self.max_steps
        plan = []
        for lo in range(first, length, size):
            block = np.zeros(length, dtype=bool)
            block[lo:lo + size] = True
            left = int(masked[block].sum())
            if left == 0:
                continue  # the prompt's
            if dllm:
                plan.append(AnchorStep(tuple(block & (np.arange(length) == lo)), tuple(float(i == lo) for i in
                                                                                     range(length)),
                                       temperature=self.temperature, calls=ALWAYS))
                left -= 1
            eligible = tuple(block.tolist())
            if self.threshold is not None:
                if not dllm and steps < left:
                    raise InvalidParameterError(f"Nemotron: FastDiffuser's max_steps {steps} may leave masks of a "
                                                f"block of {left} (it then force-fills them); give max_steps >= {left}")
                plan.extend(self._step(eligible) for _ in range(left))
            else:
                plan.extend(self._step(eligible, k) for k in transfer_counts(left, steps) if k)
            plan.append(model_call(length))
        return plan
