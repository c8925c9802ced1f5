r"""LLaDA's ``generate`` (Nie et al. 2025, GSAI-ML/LLaDA ``generate.py``)."""
import dataclasses

import numpy as np

from ..core import validate
from ..core.errors import InvalidParameterError
from ..denoisers.guidance import Guided
from .kernels.precision import PRECISIONS
from .kernels.ties import check_tie
from .params import (
    CONFIDENCE_PRECISION,
    LENGTH,
    block_length_param,
    documented,
    param,
    precision_param,
    temperature_param,
    tie_param,
)
from .plans import before, block_length, tile_blocks, transfer_counts
from .steps import FixedCount, TopKStep, UniformKStep

REMASKING = ("low_confidence", "random")
EOS_RULES = ("code", "intent")  # confidence_eos_eot_inf: what the code does, or what its docstring says


@documented
@dataclasses.dataclass(frozen=True)
class LLaDA:
    r"""LLaDA's sampler, with its semantics.

    Blocks of ``block_length`` (default: one block) tile the masked suffix after the prompt prefix;
    ``steps`` are divided evenly over the blocks (``steps`` must be a multiple of the number of blocks).
    In each step every masked position draws :math:`x_0 \sim \mathrm{softmax}(\text{logits}/T)` (argmax at
    T = 0; LLaDA's Gumbel-max), and ``low_confidence`` keeps the k drawn tokens with the highest
    *untempered* probability, ``random`` k uniformly random ones; positions after the current block
    are never chosen.  k follows :func:`transfer_counts`.  Ties: lowest position first.

    The options of ``generate``, as its code runs them:

    - ``cfg_scale`` s > 0: unsupervised classifier-free guidance.  Each step also calls the model on the
      sequence with the prompt's clean positions masked, and draws from and ranks by
      softmax(un + (s + 1)(cond - un)) (:class:`refimpl.denoisers.guidance.Guided`); a step then costs
      two model evaluations (``passes``).  s = 0 is plain LLaDA (the code skips the second call).
    - ``logits_eos_inf``: the logit of token ``eos`` is -inf before the draw: ``eos`` is never drawn.
    - ``confidence_eos_eot_inf``: the code's line ``logits_with_noise[:, :, eos] = logits[:, :, eot] =
      -inf`` runs *after* x0 is drawn, so it cannot stop ``eos`` or ``eot`` from being drawn; what it
      changes is the confidence, read from softmax(logits) with ``eot``'s logit at -inf — and, at T = 0,
      ``eos``'s too, because ``add_gumbel_noise`` then returns the logits themselves, so the first
      assignment writes into them.  A drawn ``eot`` (and at T = 0 a drawn ``eos``) has confidence 0, and
      every other confidence is divided by 1 - p(eot) (1 - p(eos) - p(eot) at T = 0), which reorders
      positions.  That is ``eos_rule="code"`` (the default).  ``eos_rule="intent"`` is what the
      docstring says ("set the confidence of EOS and EoT token to -inf"): a position whose drawn token is
      ``eos`` or ``eot`` ranks after every other candidate (still before positions that are not
      candidates, where the original's ties at -inf would let torch.topk pick a clean position and
      reveal fewer than k).  ``tests/samplers/test_llada_options.py`` shows the two laws differ, exactly.

    ``eos`` and ``eot`` are token ids in 0..V-1 (LLaDA's 126081 and 126348), checked when the sampler
    meets its vocabulary.

    ``tie``: how equal confidences rank (:mod:`refimpl.samplers.kernels.ties`; "lowest" by default).  ``precision``:
    ``add_gumbel_noise`` in that dtype — the logits (log-probabilities) and the noise rounded as torch rounds
    them, the law of every draw exact (:func:`refimpl.samplers.kernels.precision.draw_law`); LLaDA's own code draws in
    "float64" (the default: the ideal law).  For ``low_confidence`` without guidance or the EOS options.
    ``confidence_precision``: the confidences (the softmax probabilities) rounded to that dtype — LLaDA's
    ``F.softmax(logits)`` returns the model's dtype, bfloat16 for LLaDA-8B — so that those within rounding of
    each other (all above 1 - 2^-9 in bfloat16, which round to 1) tie and the tie rule orders them.

    Examples
    --------
    >>> import refimpl
    >>> from refimpl import samplers
    >>> p = refimpl.datasets.coupled_pairs()                 # V = 4, L = 2: only AB and CD
    >>> oracle = refimpl.oracle_denoiser(p)
    >>> q = refimpl.exact_law(oracle, samplers.LLaDA(steps=1, temperature=1.0), 2, 4)
    >>> round(float(refimpl.kl(p, q)), 4)                    # one step for both tokens: TC(p) = ln 2
    0.6931
    >>> refimpl.tie_probability(oracle, samplers.LLaDA(steps=2, temperature=1.0), 2, 4)   # equal confidences
    1.0
    """

    steps: int = param(help="steps, divided evenly over the blocks", cli_default=LENGTH)
    block_length: object = block_length_param()
    temperature: float = temperature_param(0.0)
    remasking: str = param("low_confidence", help="which drawn tokens a step keeps: the most confident, or random ones",
                           choices=REMASKING)
    cfg_scale: float = param(0.0, help="classifier-free guidance scale (0: none; > 0 costs two evaluations a step)")
    logits_eos_inf: bool = param(False, help="never draw the token eos (its logit at -inf)")
    confidence_eos_eot_inf: bool = param(False, help="LLaDA's line setting the eos/eot confidences to -inf (see eos_rule)")
    eos: object = param(None, help="the EOS token id (0..V-1)", convert=int)
    eot: object = param(None, help="the EoT token id (0..V-1)", convert=int)
    eos_rule: str = param("code", help="confidence_eos_eot_inf as LLaDA's code runs it, or as its docstring says",
                          choices=EOS_RULES)
    tie: object = tie_param()
    precision: str = precision_param("add_gumbel_noise in this dtype, its law exact (float64: LLaDA's own)")
    confidence_precision: str = precision_param(CONFIDENCE_PRECISION)

    def __post_init__(self):
        validate.integer(self.steps, "LLaDA steps", 1)
        check_tie(self.tie, "LLaDA", ranking=True)
        validate.choice(self.precision, PRECISIONS, "LLaDA precision")
        validate.choice(self.confidence_precision, PRECISIONS, "LLaDA confidence_precision")
        if self.precision != "float64" and (self.remasking != "low_confidence" or self.cfg_scale > 0
                                            or self.logits_eos_inf or self.confidence_eos_eot_inf):
            raise InvalidParameterError("LLaDA precision below float64 is modelled for low_confidence remasking "
                                        "without guidance or the EOS options")
        block_length(self.block_length, "LLaDA")
        object.__setattr__(self, "temperature", validate.temperature(self.temperature))
        validate.choice(self.remasking, REMASKING, "LLaDA remasking")
        object.__setattr__(self, "cfg_scale", validate.nonnegative(self.cfg_scale, "LLaDA cfg_scale"))
        for name in ("logits_eos_inf", "confidence_eos_eot_inf"):
            object.__setattr__(self, name, validate.flag(getattr(self, name), f"LLaDA {name}"))
        validate.choice(self.eos_rule, EOS_RULES, "LLaDA eos_rule")
        needed = {"eos": self.logits_eos_inf or self.confidence_eos_eot_inf, "eot": self.confidence_eos_eot_inf}
        for name, wanted in needed.items():
            value = getattr(self, name)
            if value is not None:
                object.__setattr__(self, name, validate.integer(value, f"LLaDA {name}", 0))
            elif wanted:
                option = "confidence_eos_eot_inf" if self.confidence_eos_eot_inf else "logits_eos_inf"
                raise InvalidParameterError(f"LLaDA: {option} needs the token id {name}= (in 0..V-1)")

    def guide(self, denoiser, prompt, vocab_size):
        """The denoiser LLaDA's steps read for this prompt (:class:`Guided`, or ``denoiser`` itself when no
        option changes the logits); refuses ``eos``/``eot`` ids outside 0..V-1."""
        for name in ("eos", "eot"):
            value = getattr(self, name)
            if value is not None and value >= vocab_size:
                raise InvalidParameterError(f"LLaDA {name}={value} is not a token id of a vocabulary of size "
                                            f"{vocab_size} (0..{vocab_size - 1})")
        excluded = (self.eos,) if self.logits_eos_inf else ()
        if self.cfg_scale == 0 and not excluded:
            return denoiser
        prompt = np.asarray(prompt)
        return Guided(denoiser, tuple(bool(c) for c in prompt != vocab_size), self.cfg_scale, excluded, vocab_size)

    def _confidence_rule(self):
        """(without, refused): the token ids TopKStep removes from, or refuses in, its confidences."""
        if not self.confidence_eos_eot_inf:
            return (), ()
        if self.eos_rule == "intent":
            return (), tuple(sorted({self.eos, self.eot}))
        return (tuple(sorted({self.eos, self.eot})) if self.temperature == 0 else (self.eot,)), ()

    def plan(self, masked, region):
        blocks = tile_blocks(masked, region, self.block_length, "LLaDA")
        if not blocks:
            return []
        if self.steps % len(blocks):
            raise InvalidParameterError(
                f"LLaDA: steps {self.steps} must be a multiple of the number of blocks {len(blocks)} "
                f"(LLaDA divides the steps evenly over blocks)")
        per_block = self.steps // len(blocks)
        passes = 2 if self.cfg_scale > 0 else 1
        without, refused = self._confidence_rule()
        plan = []
        for start, end in blocks:
            eligible = before(len(masked), end, region)
            for k in transfer_counts(int(np.sum(masked[start:end])), per_block):
                if self.remasking == "low_confidence":
                    plan.append(TopKStep(eligible, FixedCount(k), self.temperature, "drawn", False,
                                         confidence_without=without, confidence_refused=refused, passes=passes,
                                         tie=self.tie, precision=self.precision,
                                         confidence_precision=self.confidence_precision))
                else:
                    plan.append(UniformKStep(eligible, FixedCount(k), self.temperature, passes=passes))
        return plan
