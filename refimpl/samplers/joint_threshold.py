r"""Joint threshold decoding with token editing: LLaDA2.1's mask-to-token plus token-to-token steps as sglang's
``JointThreshold`` ships it (issue #37, rule R1 of SAMPLERS-2026.md; sglang
``python/sglang/srt/dllm/algorithm/joint_threshold.py`` at 17d5721 driven by ``algorithm/base.py``, and the
LLaDA2.1 ``generate`` of its Hugging Face model code, as copied in ZHZisZZ/dllm
``dllm/pipelines/llada21/models/modeling_llada21_moe.py`` at ca17675)."""
import dataclasses

import numpy as np

from ..core import validate
from ..core.errors import InvalidParameterError
from ..denoisers.guidance import Penalised
from .kernels.ties import check_tie
from .params import documented, param, temperature_param, tie_param
from .steps.refine import MASK_PHASE, POST_PHASE, RefineStep

ORIGINALS = ("sglang", "hf")


@documented
@dataclasses.dataclass(frozen=True)
class JointThreshold:
    r"""Joint threshold decoding: commit masked positions above a confidence threshold and edit committed tokens,
    block by block.

    Blocks of ``block_length`` start at position 0 (default: one block); a block with no masked position is skipped
    (sglang prefills it).  Each step calls the model on the block and takes at every block position the argmax
    token and its probability p (``temperature`` > 0: LLaDA2.1's ``generate`` draw from softmax(logits / T) and
    the drawn token's probability under it).  Then, from the state at the step's start:

    - mask to token: every masked position with p > ``threshold`` if there are at least ``num_to_transfer`` (1 in
      sglang), else the ``num_to_transfer`` most confident (``torch.topk``; ties by ``tie``);
    - token to token: every position committed in this block (not the prompt, not just filled) whose token differs
      from the new one, with p > ``edit_threshold`` — at every step, also while masks remain, as all three codes
      do (sglang's docstring speaks of a post-fill phase only).

    Once the block has no mask, post steps edit only: the block is done after a step that edits nothing or after
    ``max_post_edit_steps`` post steps that did.  ``penalty_lambda`` (sglang only): before anything, the logit of
    the token at the previous position of the block is lowered by that much at every position but the block's
    first.  The prediction at a committed position is the denoiser's answer there with it masked (leave-one-out),
    or with ``substitution_rate`` r that answer weighed by the likelihood of the token seen there under training
    on uniform substitutions (:func:`refimpl.denoisers.substitution.substitution_oracle` is the matching oracle).

    Calls per block, m the steps while masks remain and j the post step that ends the block (j <= E + 1 with E =
    ``max_post_edit_steps``): ``original="sglang"`` m + j + 1 — its base loop calls the model once more after
    the step that finishes (the KV cache), and the budget's end costs a call that changes nothing;
    ``original="hf"`` m + min(j, E) — ``generate`` tests the budget before its call.  The outputs are the same.
    Defaults are sglang's (threshold 0.5, edit threshold 0); LLaDA2.1's ``generate`` has 0.95 and 0.9.
    diffusers' ``BlockRefinementScheduler`` (refimpl's :class:`LLaDA2`) applies edits in E + 1 post steps and
    commits on a step schedule: not this rule when the budget binds.  Not modelled: sglang's own sampled mode (a
    version of ``joint_threshold.py`` of unknown commit, index id 46535117381: positions chosen by the greedy p,
    their tokens then drawn by ``sample_from_logits_dllm``; edits greedy — so at the default edit threshold 0 the
    next step replaces every drawn token by that step's argmax where they differ; after the masks, one draw from the
    post steps' summed logits), nor the guard its tests describe, whose code was not found.

    Examples
    --------
    >>> import refimpl
    >>> from refimpl.samplers.joint_threshold import JointThreshold
    >>> p = refimpl.datasets.coupled_pairs()          # "AB" or "CD"
    >>> oracle = refimpl.oracle_denoiser(p)
    >>> refimpl.expected_calls(oracle, JointThreshold(), 2, 4)   # A (top-1), B (p = 1), a post step, the KV call
    4.0
    >>> refimpl.expected_calls(oracle, JointThreshold(original="hf"), 2, 4)
    3.0
    """

    threshold: float = param(0.5, help="commit the masked positions whose probability is above this")
    edit_threshold: float = param(0.0, help="replace a committed token by a different one whose probability is "
                                            "above this")
    max_post_edit_steps: int = param(16, help="edit-only steps after a block's masks are gone")
    block_length: object = param(None, help="blocks of this length from position 0 (default: one block)", convert=int)
    penalty_lambda: float = param(0.0, help="lower the previous position's token's logit by this (sglang)")
    num_to_transfer: int = param(1, help="commit at least this many per step (LLaDA2.1's generate)")
    temperature: float = temperature_param(0.0)
    original: str = param("sglang", help="whose calls: sglang's JointThreshold or LLaDA2.1's generate",
                          choices=ORIGINALS)
    substitution_rate: "float | None" = param(None, help="predict at committed tokens as a model trained on uniform "
                                                         "substitutions at this rate (default: leave-one-out)",
                                              convert=float)
    tie: str = tie_param()

    def __post_init__(self):
        set_ = lambda name, value: object.__setattr__(self, name, value)  # noqa: E731 (a frozen dataclass)
        set_("threshold", validate.nonnegative(self.threshold, "JointThreshold threshold"))
        set_("edit_threshold", validate.nonnegative(self.edit_threshold, "JointThreshold edit_threshold"))
        set_("max_post_edit_steps", validate.integer(self.max_post_edit_steps, "JointThreshold max_post_edit_steps", 0))
        if self.block_length is not None:
            set_("block_length", validate.integer(self.block_length, "JointThreshold block_length", 1))
        set_("penalty_lambda", validate.nonnegative(self.penalty_lambda, "JointThreshold penalty_lambda"))
        set_("num_to_transfer", validate.integer(self.num_to_transfer, "JointThreshold num_to_transfer", 1))
        set_("temperature", validate.temperature(self.temperature))
        validate.choice(self.original, ORIGINALS, "JointThreshold original")
        if self.substitution_rate is not None:
            rate = validate.probability(self.substitution_rate, "JointThreshold substitution_rate", open_low=True)
            set_("substitution_rate", rate)
        check_tie(self.tie, "JointThreshold")

    def guide(self, denoiser, prompt, vocab_size):
        """The denoiser the steps read: with ``penalty_lambda``, sglang's repetition penalty (:class:`Penalised`)."""
        if self.penalty_lambda == 0:
            return denoiser
        size = len(prompt) if self.block_length is None else self.block_length
        return Penalised(denoiser, size, self.penalty_lambda, vocab_size)

    def plan(self, masked, region):
        masked, length = np.asarray(masked, dtype=bool), len(masked)
        if not np.asarray(region, dtype=bool).all():
            raise InvalidParameterError("JointThreshold runs its own blocks over the whole sequence; it cannot run "
                                        "inside another sampler's region")
        size = length if self.block_length is None else self.block_length
        if length % size:
            raise InvalidParameterError(f"JointThreshold block_length {size} does not divide the length {length}; "
                                        f"pick a divisor of {length}")
        sglang, budget = self.original == "sglang", self.max_post_edit_steps
        plan = []
        for start in range(0, length, size):
            block = (np.arange(length) >= start) & (np.arange(length) < start + size)
            if not masked[block].any():
                continue
            common = dict(block=tuple(block.tolist()), editable=tuple((block & masked).tolist()),
                          threshold=self.threshold, temperature=self.temperature, tie=self.tie,
                          substitution_rate=self.substitution_rate)
            plan.extend(RefineStep(count=self.num_to_transfer, editing=self.edit_threshold, phase=MASK_PHASE,
                                   releases=i == 0, **common) for i in range(int(masked[block].sum())))
            plan.extend(RefineStep(count=None, editing=self.edit_threshold, phase=POST_PHASE,
                                   stop=p == budget and not sglang, **common) for p in range(1, budget + 1))
            if sglang:  # the budget's end: a call that changes nothing; then the call after the finishing step
                plan.append(RefineStep(count=None, editing=None, phase=POST_PHASE, stop=True, **common))
                plan.append(RefineStep(count=None, editing=None, phase=POST_PHASE, stop=True, releases=True, **common))
        return plan
