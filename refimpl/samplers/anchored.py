r"""Blocks with an autoregressive anchor and token shift, decoded sub-block by sub-block: Fast-dLLM v2's hierarchical
blocks as sglang's ``HierarchyBlock`` ships them, and openPangu-Diffusion's shift-confidence as sglang's
``ShiftConfidence`` does (issue #37, rules R4 and R5 of SAMPLERS-2026.md).

The model interfaces (SAMPLERS-2026.md section 1): a token-shifted bidirectional pass inside the block, whose row for
position i is the network's row i-1 — for an oracle the same numbers as refimpl's denoiser at i — and a causal pass
over a finished block whose last row gives the next block's first token, the *anchor*: the argmax of
:math:`p(x_{bB} \mid x_{<bB})`, which refimpl reads as the denoiser's answer at bB with every later position masked
(they are, when the anchor is taken)."""
import dataclasses

import numpy as np

from ..core import validate
from ..core.errors import InvalidParameterError
from ..denoisers.guidance import FirstRowShift
from .kernels.ties import check_tie
from .params import documented, param, temperature_param, tie_param
from .plans import model_call, prefix_prompt
from .steps import ALWAYS, IF_MASKED, AnchorStep, EntropyBoundStep, ThresholdStep

ALGS = ("confidence_threshold", "entropy", "confidence")


def anchored_plan(masked, block, sub_block, first_anchor, make_step, who):
    """Per block of ``block`` positions from 0 that holds a mask: the anchor (its first position, if masked and not
    the very first position without ``first_anchor``), then each sub-block of ``sub_block`` until it holds no mask
    (``make_step(eligible)`` per call), then the causal pass over the block (a call that reveals nothing)."""
    length = len(masked)
    plan = []
    for start in range(0, length, block):
        if not masked[start:start + block].any():
            continue  # the prompt's: prefilled
        left = masked.copy()
        if masked[start] and (start > 0 or first_anchor):
            only = tuple(i == start for i in range(length))
            plan.append(AnchorStep(only, tuple(float(f) for f in only), temperature=0.0, calls=ALWAYS))
            left[start] = False
        for sub in range(start, start + block, sub_block):
            eligible = tuple(sub <= i < sub + sub_block for i in range(length))
            plan.extend(make_step(eligible) for _ in range(int(left[sub:sub + sub_block].sum())))
        plan.append(model_call(length))
    return plan


def _sizes(length, block_length, sub_block_length, who):
    block = length if block_length is None else block_length
    sub = block if sub_block_length is None else sub_block_length
    if length % block or block % sub:
        raise InvalidParameterError(f"{who}: blocks of {block} must tile the length {length} and sub-blocks of {sub} "
                                    f"the block; pick divisors")
    return block, sub


@documented
@dataclasses.dataclass(frozen=True)
class HierarchyBlock:
    r"""Fast-dLLM v2's hierarchical block decoding as sglang's ``HierarchyBlock`` runs it
    (``python/sglang/srt/dllm/algorithm/hierarchy_block.py`` at 79aa3f6; Fast-dLLM v2's ``generate`` in the
    ``Efficient-Large-Model/Fast_dLLM_v2_7B`` model code for the temperature mode).

    Blocks of ``block_length`` from position 0 (default: one block); a block that starts masked first takes the
    anchor (the argmax of the causal pass, no call of its own).  Then each sub-block of ``sub_block_length``
    (default: the block; sglang's default is 8 in blocks of 32) in turn: while it holds a mask, one call; every
    masked position of the sub-block gets the argmax and its probability c; all with c > ``threshold`` are
    committed, and the most probable at least (``argmax``: the first on ties; ``tie``).  After the block, one call
    (the causal pass that gives the next anchor).  ``temperature`` > 0: Fast-dLLM v2's ``generate`` draw from
    softmax(logits / T) truncated to ``top_p`` (its default 0.95; sglang takes the argmax), c the drawn token's
    probability under that law; the anchor stays the argmax.

    Calls per block: its sub-blocks' iterations + 1.  The first block's anchor comes from the prompt's prefill (with
    no prompt, refimpl takes it from p(x_0), as a start token's row would give it); ``first_anchor=False`` is
    sglang's code with nothing before position 0: no anchor, and the token shift hands position 0 the row that
    predicts position 1 (:class:`refimpl.denoisers.guidance.FirstRowShift`).  A prompt must be a prefix.

    Examples
    --------
    >>> import refimpl
    >>> from refimpl.samplers.anchored import HierarchyBlock
    >>> p = refimpl.datasets.coupled_pairs()          # "AB" or "CD"
    >>> oracle = refimpl.oracle_denoiser(p)
    >>> refimpl.expected_calls(oracle, HierarchyBlock(), 2, 4)   # anchor A, then B (p = 1): one call, + 1
    2.0
    """

    threshold: float = param(0.9, help="commit the masked positions of the sub-block whose probability is above this")
    block_length: object = param(None, help="blocks of this length from position 0 (default: one block)", convert=int)
    sub_block_length: object = param(None, help="sub-blocks of this length, decoded in turn (default: the block)",
                                     convert=int)
    temperature: float = temperature_param(0.0)
    top_p: object = param(None, help="Fast-dLLM v2's top-p truncation of the draw at T > 0 (its default: 0.95)",
                          convert=float)
    first_anchor: bool = param(True, help="anchor position 0 from p(x_0) when there is no prompt")
    tie: str = tie_param()

    def __post_init__(self):
        set_ = lambda name, value: object.__setattr__(self, name, value)  # noqa: E731 (a frozen dataclass)
        set_("threshold", validate.nonnegative(self.threshold, "HierarchyBlock threshold"))
        for name in ("block_length", "sub_block_length"):
            if getattr(self, name) is not None:
                set_(name, validate.integer(getattr(self, name), f"HierarchyBlock {name}", 1))
        set_("temperature", validate.temperature(self.temperature))
        if self.top_p is not None:
            set_("top_p", validate.probability(self.top_p, "HierarchyBlock top_p", open_low=True))
        set_("first_anchor", validate.flag(self.first_anchor, "HierarchyBlock first_anchor"))
        check_tie(self.tie, "HierarchyBlock")

    def guide(self, denoiser, prompt, vocab_size):
        """sglang's token shift at position 0 when it is decoded without an anchor (:class:`FirstRowShift`)."""
        if self.first_anchor or prompt[0] != vocab_size:
            return denoiser
        return FirstRowShift(denoiser, vocab_size)

    def plan(self, masked, region):
        masked, _ = prefix_prompt(masked, region, "HierarchyBlock")
        block, sub = _sizes(len(masked), self.block_length, self.sub_block_length, "HierarchyBlock")
        step = lambda eligible: ThresholdStep(eligible, self.threshold, self.temperature, calls=IF_MASKED,  # noqa: E731
                                              tie=self.tie, strict=True, top_p=self.top_p, drawn_confidence=True)
        return anchored_plan(masked, block, sub, self.first_anchor, step, "HierarchyBlock")


@documented
@dataclasses.dataclass(frozen=True)
class ShiftConfidence:
    r"""openPangu-Diffusion's shift-confidence decoding as sglang's ``ShiftConfidence`` runs it
    (``python/sglang/srt/dllm/algorithm/shift_confidence.py`` at 23f8751).

    Blocks of ``block_length`` from position 0 (default: one block), each split into ``num_small_blocks`` sub-blocks;
    a generation block takes the anchor at its first position (the argmax of the causal pass over the block before),
    then each sub-block, while it holds a mask, costs one call: every masked position gets the argmax and ``alg``
    decides — ``"confidence_threshold"`` (the default) commits the most probable (``torch.max``: the first on ties;
    ``tie``) and every one with probability > ``threshold``; ``"entropy"`` the one of least entropy only (sglang
    adds 1e-10 inside the log; refimpl's entropy is exact); any other ``alg`` in the code (``"confidence"`` here)
    the most probable only.  After the block, the causal pass (one call).  Greedy: the law is a point mass.  The
    prompt must end on a block boundary (sglang left-pads prompts so that it does; a block that starts with a token
    is taken for the prompt and not decoded).  ``first_anchor``: as :class:`HierarchyBlock`'s.  Not modelled: the
    ``eos_token_id`` stop after a sub-block.

    Examples
    --------
    >>> import refimpl
    >>> from refimpl.samplers.anchored import ShiftConfidence
    >>> p = refimpl.datasets.coupled_pairs()
    >>> refimpl.expected_calls(refimpl.oracle_denoiser(p), ShiftConfidence(num_small_blocks=1), 2, 4)
    2.0
    """

    threshold: float = param(0.9, help="commit the masked positions of the sub-block whose probability is above this")
    block_length: object = param(None, help="blocks of this length from position 0 (default: one block)", convert=int)
    num_small_blocks: int = param(4, help="sub-blocks per block (the block length must be a multiple)")
    alg: str = param("confidence_threshold", help="the commit rule", choices=ALGS)
    first_anchor: bool = param(True, help="anchor position 0 from p(x_0) when there is no prompt")
    tie: str = tie_param()

    def __post_init__(self):
        set_ = lambda name, value: object.__setattr__(self, name, value)  # noqa: E731 (a frozen dataclass)
        set_("threshold", validate.nonnegative(self.threshold, "ShiftConfidence threshold"))
        if self.block_length is not None:
            set_("block_length", validate.integer(self.block_length, "ShiftConfidence block_length", 1))
        set_("num_small_blocks", validate.integer(self.num_small_blocks, "ShiftConfidence num_small_blocks", 1))
        validate.choice(self.alg, ALGS, "ShiftConfidence alg")
        set_("first_anchor", validate.flag(self.first_anchor, "ShiftConfidence first_anchor"))
        check_tie(self.tie, "ShiftConfidence")

    guide = HierarchyBlock.guide

    def plan(self, masked, region):
        masked, start = prefix_prompt(masked, region, "ShiftConfidence")
        block = len(masked) if self.block_length is None else self.block_length
        if block % self.num_small_blocks:
            raise InvalidParameterError(f"ShiftConfidence: block_length {block} is not a multiple of num_small_blocks "
                                        f"{self.num_small_blocks}")
        block, sub = _sizes(len(masked), block, block // self.num_small_blocks, "ShiftConfidence")
        if start % block and start < len(masked):
            raise InvalidParameterError(f"ShiftConfidence: the prompt ends at {start}, inside a block of {block}; "
                                        f"sglang takes a block that starts with a token for the prompt")
        if self.alg == "entropy":
            step = lambda eligible: EntropyBoundStep(eligible, -1.0, 0.0, calls=IF_MASKED, tie=self.tie,  # noqa: E731
                                                     acceptance="below")
        else:
            threshold = self.threshold if self.alg == "confidence_threshold" else np.inf
            step = lambda eligible: ThresholdStep(eligible, threshold, 0.0, calls=IF_MASKED,  # noqa: E731
                                                  tie=self.tie, strict=True)
        return anchored_plan(masked, block, sub, self.first_anchor, step, "ShiftConfidence")
