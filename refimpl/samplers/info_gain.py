r"""The Info-Gain and LookUM lookahead samplers (issue #37, rule R10 of SAMPLERS-2026.md; yks23/Information-Gain-Sampler
``src/samplers/info_gain.py`` ``InfoGainSampler.sample`` at 0ae2da8)."""
import dataclasses

from ..core import validate
from ..core.errors import InvalidParameterError
from .kernels.ties import check_tie
from .params import LENGTH, documented, param, temperature_param, tie_param
from .plans import model_call, prefix_prompt
from .steps.bypass import BypassStep, CallStep
from .steps.lookahead import VARIANTS, InfoGainStep

ORIGINALS = ("standalone", "dllm")


@documented
@dataclasses.dataclass(frozen=True)
class InfoGain:
    r"""Info-Gain decoding (``variant="info_gain"``) or LookUM (``"lookum"``), one token per step, at token
    ``temperature`` 0 (the default of its ``sample`` and configs) or above.

    Blocks of ``block_length`` after the prompt (default one block), ``steps // blocks`` iterations each (at least the
    block's length: masks left over stay masked in the original, which refimpl refuses).  Per block one call; then per
    iteration: if ``threshold`` > 0 and every masked position of the block has a maximal probability >= threshold, all
    of them take their argmax and the block ends (no call: the logits held); else the Info-Gain step
    (:class:`refimpl.samplers.steps.lookahead.InfoGainStep`): ``candidates`` actions, one batched lookahead call, the
    best score committed — one call.  Calls count the batched lookahead pass once (its rows are the distinct
    candidates).  ``original="dllm"``: dllm's port (``dllm/pipelines/infogain/llada/sampler.py`` at 6550086), the
    same law with its calls — a forward at every iteration (the bypass's too), the lookahead one more, no first
    forward per block — and ``ceil(steps / blocks)`` iterations (its threshold's default is off: set 0).
    ``temperature`` T > 0: every token the sampler writes is drawn from softmax(logits / T) (the original's
    ``argmax(logits + T * Gumbel)``; dllm's ``info_gain_ops`` at 0306f52 the same): the bypass draws the block's
    tokens, and each candidate draws all its tokens afresh and ranks positions by the untempered probability of its
    own draws (:class:`refimpl.samplers.steps.lookahead.InfoGainStep`: the committed action's law is then a dynamic
    programme over the candidates, :math:`2^m` sets of positions seen for m masked positions in the block).

    Examples
    --------
    >>> import refimpl
    >>> from refimpl.samplers.info_gain import InfoGain
    >>> p = refimpl.datasets.coupled_pairs()          # "AB" or "CD"
    >>> oracle = refimpl.oracle_denoiser(p)
    >>> refimpl.expected_calls(oracle, InfoGain(2), 2, 4)   # the block's call, one lookahead (B then has p = 1: bypass)
    2.0
    """

    steps: int = param(help="iterations, divided over the blocks (floor)", cli_default=LENGTH)
    block_length: object = param(None, help="blocks of this length after the prompt (default: one block)", convert=int)
    candidates: int = param(8, help="candidate actions per step (repeats dropped)")
    position_temperature: float = param(0.2, help="the temperature of the candidates' positions, softmax(c / this)")
    threshold: float = param(0.8, help="bypass: fill the block at once when every masked position's top probability "
                                       "is at least this (0: off)")
    variant: str = param("info_gain", help="the score: -entropy here - mean entropy after, or only the latter",
                         choices=VARIANTS)
    tie: str = tie_param()
    original: str = param("standalone", help="the Information-Gain-Sampler's sample, or dllm's port (its calls)",
                          choices=ORIGINALS)
    temperature: float = temperature_param(0.0)

    def __post_init__(self):
        set_ = lambda name, value: object.__setattr__(self, name, value)  # noqa: E731 (a frozen dataclass)
        set_("steps", validate.integer(self.steps, "InfoGain steps", 1))
        if self.block_length is not None:
            set_("block_length", validate.integer(self.block_length, "InfoGain block_length", 1))
        set_("candidates", validate.integer(self.candidates, "InfoGain candidates", 1))
        set_("position_temperature", validate.nonnegative(self.position_temperature, "InfoGain position_temperature"))
        set_("threshold", validate.nonnegative(self.threshold, "InfoGain threshold"))
        validate.choice(self.variant, VARIANTS, "InfoGain variant")
        check_tie(self.tie, "InfoGain")
        set_("temperature", validate.temperature(self.temperature, "InfoGain temperature"))
        validate.choice(self.original, ORIGINALS, "InfoGain original")

    def plan(self, masked, region):
        masked, start = prefix_prompt(masked, region, "InfoGain")
        length = len(masked)
        size = length - start if self.block_length is None else self.block_length
        if (length - start) % size:
            raise InvalidParameterError(f"InfoGain: block_length {size} does not divide the {length - start} positions "
                                        f"after the prompt (the original leaves the rest masked)")
        blocks = range(start, length, size)
        per_block = max(1, self.steps // len(blocks) if self.original == "standalone" else -(-self.steps // len(blocks)))
        if per_block < size:
            raise InvalidParameterError(f"InfoGain: {per_block} iterations per block may leave masks in a block of "
                                        f"{size} (the original leaves them); give steps >= {size * len(blocks)}")
        plan = []
        dllm = self.original == "dllm"
        for lo in blocks:
            block = tuple(lo <= i < lo + size for i in range(length))
            if not dllm:  # the standalone sampler's first forward of the block
                plan.append(model_call(length))
            for _ in range(size):  # each iteration reveals at least one: the rest find the block done
                if dllm:  # dllm's port calls the model at every iteration, and again for the lookahead
                    plan.append(CallStep(block))
                if self.threshold > 0:
                    plan.append(BypassStep(block, self.threshold, temperature=self.temperature))
                if dllm and not (self.candidates <= 1 or self.position_temperature <= 0):
                    plan.append(CallStep(block, least=2))
                # dllm's port: the iteration's forward and the lookahead are the CallSteps; the step itself no call
                plan.append(InfoGainStep(block, self.candidates, self.position_temperature, self.variant, self.tie,
                                         passes=0 if dllm else 1, temperature=self.temperature))
        return plan
