"""Random-k decoding: a given number of positions per step, chosen uniformly among the masked ones."""
import dataclasses

import numpy as np

from ..core import validate
from ..core.errors import InvalidParameterError
from .params import counts, documented, param, temperature_param
from .plans import as_eligible
from .steps import FixedCount, UniformKStep


@documented
@dataclasses.dataclass(frozen=True)
class RandomK:
    """Reveal ``tokens_per_step`` uniformly random masked positions per step.

    An int k reveals k per step (the last step what is left); a list gives each step's count and
    must add up to the number of masked positions.

    Examples
    --------
    >>> import refimpl
    >>> from refimpl import samplers
    >>> p = refimpl.datasets.coupled_pairs()                 # V = 4, L = 2: only AB and CD
    >>> oracle = refimpl.oracle_denoiser(p)
    >>> round(float(refimpl.kl(p, refimpl.exact_law(oracle, samplers.RandomK(2), 2, 4))), 4)   # both at once: ln 2
    0.6931
    >>> float(refimpl.kl(p, refimpl.exact_law(oracle, samplers.RandomK([1, 1]), 2, 4)))
    0.0
    """

    tokens_per_step: object = param(1, help="tokens revealed per step: an int, or each step's count like 1,2,1",
                                    convert=counts)
    temperature: float = temperature_param(1.0)

    def __post_init__(self):
        counts = self.tokens_per_step
        if isinstance(counts, (list, tuple)):
            if not counts:
                raise InvalidParameterError("RandomK tokens_per_step must not be an empty list")
            counts = tuple(validate.integer(k, "RandomK tokens_per_step", 1) for k in counts)
        else:
            counts = validate.integer(counts, "RandomK tokens_per_step", 1)
        object.__setattr__(self, "tokens_per_step", counts)
        object.__setattr__(self, "temperature", validate.temperature(self.temperature))

    def plan(self, masked, region):
        total = int(np.sum(masked & region))
        eligible = as_eligible(region)
        if isinstance(self.tokens_per_step, tuple):
            if sum(self.tokens_per_step) != total:
                raise InvalidParameterError(
                    f"RandomK tokens_per_step {list(self.tokens_per_step)} adds up to "
                    f"{sum(self.tokens_per_step)}, but {total} positions are masked")
            counts = self.tokens_per_step
        else:
            k = self.tokens_per_step
            counts = [k] * (total // k) + ([total % k] if total % k else [])
        return [UniformKStep(eligible, FixedCount(k), self.temperature) for k in counts]
