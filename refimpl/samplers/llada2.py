r"""LLaDA 2.x block refinement with editing: diffusers' ``LLaDA2Pipeline`` (``pipelines/llada2/pipeline_llada2.py``)
driving its ``BlockRefinementScheduler`` (``schedulers/scheduling_block_refinement.py``)."""
import dataclasses

import numpy as np

from ..core import validate
from ..core.errors import InvalidParameterError
from .kernels.precision import PRECISIONS
from .kernels.ties import check_tie
from .params import documented, param, precision_param, temperature_param, tie_param
from .steps.refine import MASK_PHASE, POST_PHASE, RefineStep

EDIT_RULES = ("code", "intent")


@documented
@dataclasses.dataclass(frozen=True)
class LLaDA2:
    r"""Block refinement as diffusers' ``LLaDA2Pipeline.__call__`` runs it with ``BlockRefinementScheduler``
    (mask-token mode, one sequence, ``eos_early_stop`` off).

    Blocks of ``block_length`` (default: the whole sequence) start at position 0, as the pipeline's do; a
    block that holds no masked position is skipped (the pipeline starts at the first block past the prompt).
    The steps per block are ``min(steps, masked // minimal_topk)`` (``masked``: the positions to generate,
    the pipeline's ``gen_length``), and step i commits :math:`n_i` of the block — ``block_length``
    spread evenly, the first ``block_length % steps`` steps one more (``get_num_transfer_tokens``).  Each
    iteration calls the model once and draws a token at every block position from softmax(logits / T)
    (argmax at T = 0); its confidence is the drawn token's probability under that law (the model's
    probability of the argmax at T = 0).  Then:

    - commit: the masked positions with confidence above ``threshold`` when there are at least
      :math:`n_i` of them, else the :math:`n_i` most confident (``threshold > 1``: always the top
      :math:`n_i`; ties: lowest position first);
    - edit (when ``editing_threshold`` is above 0): every clean position of the block that is not the prompt
      takes its drawn token when that differs from the current one with confidence above
      ``editing_threshold`` (both comparisons strict, as the code).

    The loop goes on while the block holds a mask, until its last scheduled step; when the masks run out
    earlier, it continues with *post* iterations (edits only) until one edits nothing or
    ``max_post_steps`` + 1 have run — with editing off, exactly one post iteration, a model call that
    changes nothing (the pipeline tests for remaining masks before its call).  These stops depend on the
    path, not on the partial sequence; refimpl's plan parks the sequences whose loop stopped
    (:mod:`refimpl.engine.protocol`), and every step calls the model only for the sequences it acts on.

    ``edit_rule="code"`` edits at every iteration, as ``BlockRefinementScheduler.step`` does;
    ``edit_rule="intent"`` only in post iterations, "after all mask tokens are resolved", as its docstring
    and the pipeline's ``editing_threshold`` documentation say.

    Where refimpl differs: the model's prediction at a clean position is the denoiser's answer there with
    that position masked (a refimpl denoiser carries clean positions over; for the oracle this is the law
    of the token given all others; LLaDA 2.x models are trained to predict at clean positions in the same
    pass).  Not offered: ``top_k``/``top_p`` filtering, ``sampling_method="greedy"`` at T > 0 (it is T = 0),
    ``eos_early_stop`` (it leaves later blocks masked, and refimpl's laws are over complete sequences), the
    uniform-corruption mode (no mask token).  ``precision``: the model's logits in that dtype, the scheduler's
    own arithmetic on them (its softmax of ``.float()`` in float32, ``torch.multinomial`` from it; float32 is the
    code with a float32 model), exactly (:func:`refimpl.samplers.steps.refine.drawn_confidence`); float64 (the
    default) is the ideal.  ``block_length`` must divide the length (the pipeline pads
    the last block with masked positions that compete for commits and are cut off).

    Examples
    --------
    >>> import refimpl
    >>> from refimpl import samplers
    >>> p = refimpl.datasets.coupled_pairs()                 # V = 4, L = 2: only AB and CD
    >>> oracle = refimpl.oracle_denoiser(p)
    >>> run = refimpl.run(refimpl.problem(oracle, samplers.LLaDA2(2, temperature=1.0), 2, 4))
    >>> float(refimpl.kl(p, run.law)), run.expected_calls
    (0.0, 2.0)
    """

    steps: int = param(32, help="scheduled steps per block (at most masked // minimal_topk)")
    block_length: object = param(None, help="blocks of this length from position 0 (default: one block)", convert=int)
    threshold: float = param(0.7, help="commit the masked positions above this confidence (at least the step's count)")
    editing_threshold: "float | None" = param(0.5, help="replace a committed token whose redraw is above this confidence "
                                                       "(0 or None: editing off)", convert=float)
    max_post_steps: int = param(16, help="edit-only iterations after a block's masks are gone")
    minimal_topk: int = param(1, help="caps the steps at masked // this")
    temperature: float = temperature_param(0.0)
    edit_rule: str = param("code", help="edit at every iteration, as the scheduler's code, or only after the masks are "
                                             "gone, as its docstring", choices=EDIT_RULES)
    tie: str = tie_param()  # among equal confidences in the top-n commit (refimpl.samplers.kernels.ties)
    precision: str = precision_param("the model's logits in this dtype with the scheduler's float32 softmax, exact")

    def __post_init__(self):
        check_tie(self.tie, "LLaDA2")
        validate.choice(self.precision, PRECISIONS, "LLaDA2 precision")
        set_ = lambda name, value: object.__setattr__(self, name, value)  # noqa: E731 (a frozen dataclass)
        set_("steps", validate.integer(self.steps, "LLaDA2 steps", 1))
        if self.block_length is not None:
            set_("block_length", validate.integer(self.block_length, "LLaDA2 block_length", 1))
        set_("threshold", validate.nonnegative(self.threshold, "LLaDA2 threshold"))
        if self.editing_threshold is not None:
            try:
                editing = float(self.editing_threshold)
            except (TypeError, ValueError):
                editing = float("nan")
            if not np.isfinite(editing):
                raise InvalidParameterError(
                    f"LLaDA2 editing_threshold must be a finite number or None, got {self.editing_threshold!r}")
            set_("editing_threshold", editing)
        set_("max_post_steps", validate.integer(self.max_post_steps, "LLaDA2 max_post_steps", 0))
        set_("minimal_topk", validate.integer(self.minimal_topk, "LLaDA2 minimal_topk", 1))
        set_("temperature", validate.temperature(self.temperature))
        if self.edit_rule not in EDIT_RULES:
            raise InvalidParameterError(f"LLaDA2 edit_rule must be one of {EDIT_RULES}, got {self.edit_rule!r}")

    @property
    def editing(self):
        """The editing threshold in force, or None: the pipeline edits only with a positive one."""
        threshold = self.editing_threshold
        return threshold if threshold is not None and threshold > 0 else None

    def schedule(self, masked_count, block_length):
        """The commits per step of a block, ``get_num_transfer_tokens(block_length, steps)`` with the
        pipeline's ``steps = min(steps, gen_length // minimal_topk)``."""
        steps = min(self.steps, masked_count // self.minimal_topk)
        if steps == 0:
            raise InvalidParameterError(
                f"LLaDA2 minimal_topk {self.minimal_topk} leaves no step for {masked_count} masked positions "
                f"(the pipeline runs min(steps, gen_length // minimal_topk) steps per block)")
        base, extra = divmod(block_length, steps)
        return [base + (1 if i < extra else 0) for i in range(steps)]

    def plan(self, masked, region):
        masked, length = np.asarray(masked, dtype=bool), len(masked)
        if not np.asarray(region, dtype=bool).all():
            raise InvalidParameterError("LLaDA2 runs its own blocks over the whole sequence; it cannot run inside "
                                        "another sampler's region")
        size = length if self.block_length is None else self.block_length
        if length % size:
            raise InvalidParameterError(
                f"LLaDA2 block_length {size} does not divide the length {length} (the pipeline pads the last "
                f"block with masked positions it cuts off afterwards); pick a divisor of {length}")
        if not masked.any():
            return []
        counts = self.schedule(int(masked.sum()), size)
        editing, post_steps = self.editing, (self.max_post_steps + 1 if self.editing is not None else 1)
        plan = []
        for start in range(0, length, size):
            block = (np.arange(length) >= start) & (np.arange(length) < start + size)
            if not masked[block].any():
                continue
            flags, editable = tuple(block.tolist()), tuple((block & masked).tolist())
            common = dict(block=flags, editable=editable, threshold=self.threshold, temperature=self.temperature,
                          tie=self.tie, precision=self.precision)
            mask_editing = editing if self.edit_rule == "code" else None
            plan.extend(RefineStep(count=count, editing=mask_editing, phase=MASK_PHASE, stop=i == len(counts) - 1,
                                   releases=i == 0, **common) for i, count in enumerate(counts))
            plan.extend(RefineStep(count=None, editing=editing, phase=POST_PHASE, stop=p == post_steps - 1, **common)
                        for p in range(post_steps))
        return plan
