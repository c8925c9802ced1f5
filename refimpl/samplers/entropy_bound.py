r"""The EB-Sampler: entropy-bounded unmasking (Ben-Hamu et al. 2025, arXiv 2505.24857)."""
import dataclasses

from ..core import validate
from .kernels.precision import PRECISIONS
from .kernels.ties import check_tie
from .params import block_length_param, documented, param, precision_param, temperature_param, tie_param
from .plans import block_length, until_done
from .steps import EntropyBoundStep


@documented
@dataclasses.dataclass(frozen=True)
class EntropyBound:
    r"""Entropy-bounded unmasking, block by block until each block is done.

    In each step the eligible masked positions (those of the current block and before it) are sorted by
    the entropy of the model's prediction, lowest first, and the largest prefix whose summed entropy
    minus its largest entropy is at most ``gamma`` is revealed — at least one position (the EB-Sampler's
    rule, as diffusers' ``EntropyBoundScheduler`` computes it: ``cumsum(H) - H <= gamma`` on the sorted
    entropies).  Tokens are drawn from softmax(logits / T) (argmax at T = 0).  ``gamma = 0`` reveals one
    token per step (unless several have entropy exactly 0); larger ``gamma`` reveals more per call.

    Where refimpl differs: diffusers' scheduler is written for uniform corruption (rejected positions are
    renoised with random tokens) and anneals its temperature from ``t_max`` to ``t_min``; refimpl
    applies the rule to masked diffusion, as the EB-Sampler paper does on LLaDA and Dream, with one
    temperature.  The entropy is that of the untempered probabilities (the paper's error proxy), or of
    the tempered ones with ``tempered_entropy=True`` (diffusers).  Blocks of ``block_length`` (default:
    one block) tile the masked suffix after the prompt prefix, as LLaDA's; a block costs one model call
    per step while it holds a mask (the loop of the paper's Algorithm 1).  ``tie``: how equal entropies rank —
    "lowest" position first (default), "highest", "random" (a uniformly random order) (:mod:`refimpl.samplers.kernels.ties`;
    the probability that a run meets a tie that decides something: :func:`refimpl.tie_probability`).
    ``precision``: the draw as LLaDA's ``add_gumbel_noise`` (the EB-Sampler run inside LLaDA's loop) with its
    noise in that dtype, exactly (:mod:`refimpl.samplers.kernels.precision`; diffusers' scheduler draws with
    ``torch.multinomial`` from a float32 softmax instead, which refimpl does not follow, above).

    Examples
    --------
    >>> import refimpl
    >>> from refimpl import samplers
    >>> p = refimpl.datasets.coupled_pairs()                 # V = 4, L = 2: only AB and CD
    >>> oracle = refimpl.oracle_denoiser(p)
    >>> [round(float(refimpl.kl(p, refimpl.exact_law(oracle, samplers.EntropyBound(g, temperature=1.0), 2, 4))), 4)
    ...  for g in (0.5, 1.0)]                                  # each position has entropy ln 2 = 0.69
    [0.0, 0.6931]
    """

    gamma: float = param(0.1, help="the entropy budget in nats: reveal the lowest-entropy prefix within it")
    block_length: object = block_length_param()
    temperature: float = temperature_param(0.0)
    tempered_entropy: bool = param(False, help="the entropy of the tempered law (diffusers), not the model's")
    tie: str = tie_param()
    precision: str = precision_param("the Gumbel noise (LLaDA's add_gumbel_noise) in this dtype, its law exact")

    def __post_init__(self):
        check_tie(self.tie, "EntropyBound")
        validate.choice(self.precision, PRECISIONS, "EntropyBound precision")
        object.__setattr__(self, "gamma", validate.nonnegative(self.gamma, "EntropyBound gamma"))
        block_length(self.block_length, "EntropyBound")
        object.__setattr__(self, "temperature", validate.temperature(self.temperature))
        object.__setattr__(self, "tempered_entropy", validate.flag(self.tempered_entropy, "EntropyBound tempered_entropy"))

    def plan(self, masked, region):
        return until_done(masked, region, self.block_length, "EntropyBound",
                          lambda eligible, calls: EntropyBoundStep(eligible, self.gamma, self.temperature,
                                                                   self.tempered_entropy, tie=self.tie,
                                                                   precision=self.precision))
