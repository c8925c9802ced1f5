r"""Dream's ``diffusion_generate`` (Ye et al. 2025, Dream-org/Dream ``generation_utils.py``, ``_sample``)."""
import dataclasses

import numpy as np

from ..core import validate
from ..core.errors import InvalidParameterError
from ..core.float32 import linspace32, reveal_fraction32
from .kernels.precision import PRECISIONS
from .kernels.ties import check_tie
from .params import LENGTH, documented, grid_param, param, precision_param, temperature_param, tie_param
from .plans import GRIDS, as_eligible
from .steps import FractionCount, IndependentStep, TopKStep

ALGORITHMS = {"maskgit_plus": "drawn", "topk_margin": "margin", "entropy": "neg_entropy"}


@documented
@dataclasses.dataclass(frozen=True)
class Dream:
    r"""Dream's sampler, with its semantics.

    Time grid ``linspace(1, eps, steps + 1)``; at step i from t to s:

    - ``origin``: every masked position is revealed independently with probability 1 - s/t (1 on the
      last step), its token drawn from the tempered probabilities;
    - ``maskgit_plus`` / ``topk_margin`` / ``entropy``: tokens are drawn at every masked position and the
      ``int(n * (1 - s/t))`` most confident are kept (all that remain on the last step), n the number
      of masked positions; confidence is the *tempered* probability of the drawn token, the margin
      between the two largest tempered probabilities, or the negative entropy of the tempered
      probabilities.  ``tie``: how equal confidences rank — "lowest" position first (default),
      "highest", "random" (a uniformly random order), or a ranking function such as torch.topk's order
      (:mod:`refimpl.samplers.kernels.ties`; the probability that a run meets a tie that decides something:
      :func:`refimpl.tie_probability`); not read with ``alg_temp``.

    ``top_p`` / ``top_k`` truncate those probabilities as Dream's ``sample_tokens`` does
    (:func:`refimpl.samplers.steps.truncate`), at every temperature: tokens are drawn from, and
    confidences computed on, the truncated and renormalised law (at T = 0 the argmax is unchanged, its
    confidence is not).

    ``alg_temp`` > 0 (confidence algorithms only, as in Dream): the positions are drawn instead of
    ranked — ``torch.multinomial`` without replacement from softmax(confidence / alg_temp) over the
    masked positions (:func:`refimpl.samplers.kernels.subsets.plackett_luce_reveals`; its exact law enumerates all
    V^n draws of the n masked positions, so it is for small problems).

    Not modelled: the 1e-10 Dream adds inside its entropy's log (modelled with ``precision``).

    ``precision``: ``sample_tokens`` in that dtype, as Dream runs it in its model's (bfloat16): the logits
    (log-probabilities) rounded, divided by T, softmax in the dtype; tokens drawn from those probabilities
    normalised (torch's ``Categorical``, measured consistent), the first maximum at T = 0, and the
    confidences computed from them in the dtype (:func:`refimpl.samplers.kernels.precision.dream_confidences`).
    "float64" (default): the ideal.  For the confidence algorithms without top_p, top_k or alg_temp.

    ``grid="float32"`` (default): the grid, 1 - s/t and the count are computed as Dream's code computes
    them on the CPU — ``torch.linspace`` in float32 (the default dtype), bit for bit
    (:func:`refimpl.core.float32.linspace32`), and ``int(num_mask * (1 - s/t))`` in float32 — and
    ``origin``'s reveal probability is that float32 fraction.  ``grid="float64"``: the ideal float64 grid
    (refimpl's before issue #22).  Where ``n * (1 - s/t)`` lies within rounding of an integer the two give
    counts one token apart (docs/DESIGN.md, "Where refimpl differs from the originals"); a GPU's
    ``linspace`` may round differently again.

    Examples
    --------
    >>> import refimpl
    >>> from refimpl import samplers
    >>> p = refimpl.datasets.coupled_pairs()                 # V = 4, L = 2: only AB and CD
    >>> oracle = refimpl.oracle_denoiser(p)
    >>> q = refimpl.exact_law(oracle, samplers.Dream(2, "maskgit_plus", temperature=1.0), 2, 4)
    >>> round(float(refimpl.kl(p, q)), 4)    # int(2 (1 - s/t)) = 0 on the first step: both on the last
    0.6931
    """

    steps: int = param(help="steps on the grid linspace(1, eps, steps + 1)", cli_default=LENGTH)
    alg: str = param("origin", help="origin (independent reveals) or the confidence that ranks the positions",
                     choices=("origin",) + tuple(sorted(ALGORITHMS)))
    temperature: float = temperature_param(0.0)
    eps: float = param(1e-3, help="where the time grid ends")
    top_p: object = param(None, help="nucleus truncation of the token law", convert=float)
    top_k: object = param(None, help="keep the k most probable tokens", convert=int)
    alg_temp: float = param(0.0, help="draw the positions from softmax(confidence / alg_temp) instead of ranking")
    grid: str = grid_param()
    tie: object = tie_param()
    precision: str = precision_param("sample_tokens in this dtype, its law exact (float64: the ideal)")

    def __post_init__(self):
        validate.integer(self.steps, "Dream steps", 1)
        check_tie(self.tie, "Dream", ranking=True)
        validate.choice(self.precision, PRECISIONS, "Dream precision")
        if self.precision != "float64" and (self.alg == "origin" or self.top_p is not None or self.top_k is not None
                                            or self.alg_temp):
            raise InvalidParameterError("Dream precision below float64 is modelled for the confidence algorithms "
                                        "without top_p, top_k or alg_temp")
        validate.choice(self.alg, ("origin",) + tuple(sorted(ALGORITHMS)), "Dream alg")
        object.__setattr__(self, "temperature", validate.temperature(self.temperature))
        validate.probability(self.eps, "Dream eps", open_low=True, open_high=True)
        if self.top_p is not None:
            object.__setattr__(self, "top_p", validate.probability(self.top_p, "Dream top_p", open_low=True))
        if self.top_k is not None:
            object.__setattr__(self, "top_k", validate.integer(self.top_k, "Dream top_k", 1))
        alg_temp = 0.0 if self.alg_temp is None else validate.temperature(self.alg_temp, "Dream alg_temp")
        object.__setattr__(self, "alg_temp", alg_temp)
        validate.choice(self.grid, GRIDS, "Dream grid")

    def fractions(self):
        """1 - s/t for every step of the grid (the last one's is not used: every mask is revealed there)."""
        if self.grid == "float32":
            grid = linspace32(1.0, self.eps, self.steps + 1)
            return [float(reveal_fraction32(grid[i], grid[i + 1])) for i in range(self.steps)]
        grid = np.linspace(1.0, self.eps, self.steps + 1)
        return [float(1.0 - grid[i + 1] / grid[i]) for i in range(self.steps)]

    def plan(self, masked, region):
        eligible = as_eligible(region)
        plan = []
        for i, fraction in enumerate(self.fractions()):
            last = i == self.steps - 1
            if self.alg == "origin":
                reveal = 1.0 if last else fraction
                plan.append(IndependentStep(eligible, tuple(np.where(region, reveal, 0.0)), self.temperature,
                                            self.top_p, self.top_k))
            else:
                plan.append(TopKStep(eligible, FractionCount(fraction, last, self.grid == "float32"), self.temperature,
                                     ALGORITHMS[self.alg], tempered_confidence=True, top_p=self.top_p,
                                     top_k=self.top_k, position_temperature=self.alg_temp, tie=self.tie,
                                     probs_precision=self.precision))
        return plan
